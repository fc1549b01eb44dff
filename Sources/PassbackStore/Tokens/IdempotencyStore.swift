import Foundation
import GRDB
import PassbackCore

/// Mutations sent with an idempotency key: the first answer is kept, and a repeat gets it back.
public struct IdempotencyStore: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    /// How long a key is remembered.
    public static let lifetime: TimeInterval = 24 * 3600
    /// A key claimed this long ago with no answer belongs to a request that died: it may be claimed again.
    public static let abandonedAfter: TimeInterval = 300

    public init(_ database: PassbackDatabase) { self.database = database }

    /// What a key holds when a request arrives.
    public enum Claim: Sendable, Equatable {
        /// The key is new: act, then `finish` it with the answer.
        case claimed
        /// The key answered before: return this.
        case answered(String)
        /// The same key is still being answered by another request.
        case inProgress
        /// The key was used for another operation, input or selection (`inputHash` covers both).
        case mismatch
    }

    public func claim(connection: String, user: String, key: String, operation: String, inputHash: String, at now: Date) throws -> Claim {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM idempotency_key WHERE created_at < ?", arguments: [Timestamp.text(now.addingTimeInterval(-Self.lifetime))])
            if let r = try Row.fetchOne(
                db, sql: "SELECT operation, input_hash, outcome, created_at FROM idempotency_key WHERE connection_id = ? AND user_sourced_id = ? AND key = ?",
                arguments: [connection, user, key])
            {
                guard (r["operation"] as String) == operation, (r["input_hash"] as String) == inputHash else { return .mismatch }
                if let outcome = r["outcome"] as String? { return .answered(outcome) }
                guard let claimed = Timestamp.date(r["created_at"]), now.timeIntervalSince(claimed) > Self.abandonedAfter else { return .inProgress }
                try db.execute(
                    sql: "UPDATE idempotency_key SET created_at = ? WHERE connection_id = ? AND user_sourced_id = ? AND key = ?",
                    arguments: [Timestamp.text(now), connection, user, key])
                return .claimed
            }
            try db.execute(
                sql: """
                    INSERT INTO idempotency_key (connection_id, user_sourced_id, key, operation, input_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [connection, user, key, operation, inputHash, Timestamp.text(now)])
            return .claimed
        }
    }

    /// Stores the answer of a claimed key.
    public func finish(connection: String, user: String, key: String, outcome: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE idempotency_key SET outcome = ? WHERE connection_id = ? AND user_sourced_id = ? AND key = ?",
                arguments: [outcome, connection, user, key])
        }
    }

    /// Gives a key back when its request failed before answering, so a retry can act.
    public func release(connection: String, user: String, key: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "DELETE FROM idempotency_key WHERE connection_id = ? AND user_sourced_id = ? AND key = ? AND outcome IS NULL",
                arguments: [connection, user, key])
        }
    }
}
