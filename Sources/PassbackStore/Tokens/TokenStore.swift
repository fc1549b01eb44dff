import Foundation
import GRDB
import PassbackCore

/// API tokens: created (returned once, stored as a hash), checked, listed, revoked.
public struct TokenStore: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    /// A token as listed (never its secret).
    public struct TokenInfo: Sendable, Hashable {
        public var id: Int64
        public var prefix: String
        public var connectionID: String
        public var userSourcedId: String
        public var role: Principal.Role
        public var orgSourcedId: String?
        public var label: String?
        public var createdAt: Date
        public var expiresAt: Date?
        public var revokedAt: Date?
        /// `issued` (by `passback token create`) or `lti` (a launch's session).
        public var origin: String
    }

    /// Why a token cannot be created, saying what to do.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// How long a launch's session is kept after it can no longer be renewed (for `token list`).
    public static let ltiSessionKeep: TimeInterval = 24 * 3600

    /// Creates a token and returns it; this is the only time the token itself exists outside
    /// the caller. Teachers and admins must be rostered users; an admin's org must exist.
    ///
    /// A launch's session (`renewUntil` given) is a token of origin `lti`, which `renew` may
    /// extend up to that time.
    public func create(
        connection: String, user: String, role: Principal.Role, org: String?, expiresAt: Date?, label: String?,
        randomBytes: [UInt8], at now: Date, renewUntil: Date? = nil
    ) throws -> (id: Int64, token: String) {
        let token = APIToken.make(randomBytes: randomBytes)
        return try pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM connection WHERE id = ?", arguments: [connection]) == true else {
                throw Refusal(description: "no connection '\(connection)' in this database; roster it first (passback roster sync)")
            }
            if role != .integration {
                guard
                    let personRole = try String.fetchOne(
                        db, sql: "SELECT role FROM person WHERE connection_id = ? AND sourced_id = ? AND status = 'active'",
                        arguments: [connection, user])
                else {
                    throw Refusal(description: "no active user '\(user)' in the roster of \(connection): a \(role.rawValue) token acts as a rostered user")
                }
                if role == .teacher, !["teacher", "administrator", "aide"].contains(personRole) {
                    throw Refusal(description: "user '\(user)' is rostered as \(personRole), not as staff; a teacher token would reach no section")
                }
            }
            switch (role, org) {
            case (.admin, nil):
                throw Refusal(description: "an admin token needs --org: the org (district or school) whose subtree it may read")
            case (.admin, let org?):
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM org WHERE connection_id = ? AND sourced_id = ?", arguments: [connection, org]) == true else {
                    throw Refusal(description: "no org '\(org)' in the roster of \(connection)")
                }
            case (_, .some):
                throw Refusal(description: "--org applies to admin tokens only")
            default:
                break
            }
            if let expiresAt, expiresAt <= now { throw Refusal(description: "the expiry is in the past") }
            if renewUntil != nil {
                // Launches' sessions that can no longer be renewed are of no use to anyone: each
                // launch makes one, so those a day past their end go as new ones are made.
                try db.execute(
                    sql: "DELETE FROM api_token WHERE origin = 'lti' AND COALESCE(renew_until, expires_at) < ?",
                    arguments: [Timestamp.text(now.addingTimeInterval(-Self.ltiSessionKeep))])
            }
            try db.execute(
                sql: """
                    INSERT INTO api_token (token_hash, prefix, connection_id, user_sourced_id, role, org_sourced_id, label, created_at, expires_at,
                        origin, renew_until)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    APIToken.hash(token), String(token.prefix(10)), connection, user, role.rawValue, org, label, Timestamp.text(now),
                    expiresAt.map(Timestamp.text), renewUntil == nil ? "issued" : "lti", renewUntil.map(Timestamp.text)
                ])
            return (db.lastInsertedRowID, token)
        }
    }

    /// Who a token acts as; nil for an unknown, revoked or expired token.
    public func principal(for token: String, at now: Date) throws -> Principal? {
        guard APIToken.looksValid(token) else { return nil }
        return try database.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT revoked_at, expires_at, id, connection_id, user_sourced_id, role, org_sourced_id FROM api_token WHERE token_hash = ?")
            guard let r = try Row.fetchOne(statement, arguments: [APIToken.hash(token)]) else { return nil }
            if (r["revoked_at"] as String?) != nil { return nil }
            if let expires = (r["expires_at"] as String?).flatMap(Timestamp.date), expires <= now { return nil }
            return Principal(
                tokenID: r["id"], connectionID: r["connection_id"], userSourcedId: r["user_sourced_id"],
                role: Principal.Role(rawValue: r["role"]) ?? .teacher, orgSourcedId: r["org_sourced_id"])
        }
    }

    /// Extends a launch's session to `lifetime` from now, never past the time its launch allows;
    /// returns its new expiry, or nil for a token that is not a live launch session.
    public func renew(_ token: String, lifetime: TimeInterval, at now: Date) throws -> Date? {
        guard APIToken.looksValid(token) else { return nil }
        // Read first: an unknown token takes no write lock.
        let known = try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM api_token WHERE token_hash = ? AND origin = 'lti'", arguments: [APIToken.hash(token)]) == true
        }
        guard known else { return nil }
        return try pool.write { db in
            guard
                let r = try Row.fetchOne(
                    db, sql: "SELECT id, expires_at, renew_until FROM api_token WHERE token_hash = ? AND origin = 'lti' AND revoked_at IS NULL",
                    arguments: [APIToken.hash(token)]),
                let expires = (r["expires_at"] as String?).flatMap(Timestamp.date), expires > now,
                let limit = (r["renew_until"] as String?).flatMap(Timestamp.date)
            else { return nil }
            let renewed = max(expires, min(now.addingTimeInterval(lifetime), limit))
            try db.execute(sql: "UPDATE api_token SET expires_at = ? WHERE id = ?", arguments: [Timestamp.text(renewed), r["id"] as Int64])
            return renewed
        }
    }

    /// Revokes by id or by the prefix shown in lists; returns how many were revoked.
    @discardableResult
    public func revoke(_ idOrPrefix: String, at now: Date) throws -> Int {
        try pool.write { db in
            if let id = Int64(idOrPrefix) {
                try db.execute(sql: "UPDATE api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [Timestamp.text(now), id])
            } else {
                try db.execute(sql: "UPDATE api_token SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL", arguments: [Timestamp.text(now), idOrPrefix])
            }
            return db.changesCount
        }
    }

    public func list() throws -> [TokenInfo] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_token ORDER BY id").map {
                TokenInfo(
                    id: $0["id"], prefix: $0["prefix"], connectionID: $0["connection_id"], userSourcedId: $0["user_sourced_id"],
                    role: Principal.Role(rawValue: $0["role"]) ?? .teacher, orgSourcedId: $0["org_sourced_id"], label: $0["label"],
                    createdAt: Timestamp.date($0["created_at"]) ?? .distantPast, expiresAt: ($0["expires_at"] as String?).flatMap(Timestamp.date),
                    revokedAt: ($0["revoked_at"] as String?).flatMap(Timestamp.date), origin: $0["origin"])
            }
        }
    }
}
