import Foundation
import GRDB
import PassbackCore

/// A roster pull asked for through the API, and where it stands.
public struct RosterRequest: Sendable, Hashable {
    public enum State: String, Sendable {
        /// Waiting for the serve process's roster runner.
        case queued
        case running, succeeded, failed
    }

    public var id: Int64
    public var connectionID: String
    /// A full pull was asked for (the run may be full anyway: the first pull of a connection is).
    public var full: Bool
    public var requestedBy: String?
    public var requestedAt: Date
    public var state: State
    /// The run that carries it out, once started.
    public var run: RosterRunSummary?
    /// Why it failed: the run's error, or why it never started.
    public var error: String?
}

extension RosterStore {
    /// Queues a pull of `connection`. A pull already queued for it is returned instead of a
    /// second one (made full if this asks for full), so repeated clicks do not stack pulls.
    public func queueRequest(connection: String, full: Bool, by user: String?, at now: Date) throws -> Int64 {
        try pool.write { db in
            if let queued = try Int64.fetchOne(db, sql: """
                SELECT id FROM roster_request WHERE connection_id = ? AND run_id IS NULL AND error IS NULL ORDER BY id LIMIT 1
                """, arguments: [connection]) {
                if full { try db.execute(sql: "UPDATE roster_request SET full = 1 WHERE id = ?", arguments: [queued]) }
                return queued
            }
            try db.execute(sql: "INSERT INTO roster_request (connection_id, full, requested_by, requested_at) VALUES (?, ?, ?, ?)",
                           arguments: [connection, full, user, Timestamp.text(now)])
            return db.lastInsertedRowID
        }
    }

    /// The oldest queued request, if any.
    public func nextQueuedRequest() throws -> RosterRequest? {
        try pool.read { db in
            try Self.request(db, where: "r.run_id IS NULL AND r.error IS NULL ORDER BY r.id LIMIT 1", arguments: [])
        }
    }

    public func request(_ id: Int64) throws -> RosterRequest? {
        try pool.read { db in try Self.request(db, where: "r.id = ?", arguments: [id]) }
    }

    /// Starts the run that carries out a queued request, linked to it in the same transaction
    /// (a crash leaves the request either queued or with its run). Nil if the request is no
    /// longer queued, or was made full since the runner read it (`full` is what it read).
    public func startRun(for request: Int64, full: Bool, connection: String, source: String, mode: String, at now: Date) throws -> Int64? {
        try pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT run_id IS NULL AND error IS NULL AND full = ? FROM roster_request WHERE id = ?",
                                    arguments: [full, request]) == true else {
                return nil
            }
            try db.execute(sql: "INSERT INTO roster_run (connection_id, source, mode, state, started_at) VALUES (?, ?, ?, 'running', ?)",
                           arguments: [connection, source, mode, Timestamp.text(now)])
            let run = db.lastInsertedRowID
            try db.execute(sql: "UPDATE roster_request SET run_id = ? WHERE id = ?", arguments: [run, request])
            return run
        }
    }

    /// Ends a queued request that cannot start, with the reason.
    public func refuseRequest(_ id: Int64, error: String, at now: Date) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE roster_request SET error = ?, refused_at = ? WHERE id = ? AND run_id IS NULL AND error IS NULL",
                           arguments: [error, Timestamp.text(now), id])
        }
    }

    static func request(_ db: Database, where clause: String, arguments: StatementArguments) throws -> RosterRequest? {
        guard let r = try Row.fetchOne(db, sql: "SELECT r.* FROM roster_request r WHERE \(clause)", arguments: arguments) else { return nil }
        let runID: Int64? = r["run_id"]
        var run: RosterRunSummary?
        if let runID, let row = try Row.fetchOne(db, sql: "SELECT * FROM roster_run WHERE id = ?", arguments: [runID]) {
            run = Self.runSummary(row)
        }
        let state: RosterRequest.State
        if let run {
            state = RosterRequest.State(rawValue: run.state) ?? .failed
        } else {
            state = (r["error"] as String?) == nil ? .queued : .failed
        }
        return RosterRequest(id: r["id"], connectionID: r["connection_id"], full: r["full"], requestedBy: r["requested_by"],
                             requestedAt: Timestamp.date(r["requested_at"]) ?? .distantPast, state: state, run: run,
                             error: run?.error ?? r["error"])
    }
}

extension RosterStore {
    /// The ids of the connections this database has rostered or been given, sorted.
    public func connectionIDs() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM connection ORDER BY id") }
    }
}
