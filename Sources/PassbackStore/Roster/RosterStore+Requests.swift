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

    /// Who queued it.
    public enum Origin: String, Sendable, CaseIterable {
        /// An admin, with `refreshRoster`.
        case requested
        /// The connection's `rosterRefreshMinutes` schedule.
        case scheduled
    }

    public var id: Int64
    public var connectionID: String
    /// A full pull was asked for (the run may be full anyway: the first pull of a connection is).
    public var full: Bool
    public var requestedBy: String?
    public var requestedAt: Date
    public var origin: Origin
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
        try pool.write { db in try Self.queueRequest(connection: connection, full: full, by: user, origin: .requested, at: now, db: db) }
    }

    static func queueRequest(connection: String, full: Bool, by user: String?, origin: RosterRequest.Origin, at now: Date, db: Database) throws -> Int64 {
        if let queued = try Int64.fetchOne(
            db,
            sql: """
                SELECT id FROM roster_request WHERE connection_id = ? AND run_id IS NULL AND error IS NULL ORDER BY id LIMIT 1
                """, arguments: [connection])
        {
            if full { try db.execute(sql: "UPDATE roster_request SET full = 1 WHERE id = ?", arguments: [queued]) }
            // An admin asking while the schedule's pull waits makes it theirs: shown as asked for, by them.
            if origin == .requested {
                try db.execute(
                    sql: "UPDATE roster_request SET origin = 'requested', requested_by = coalesce(requested_by, ?) WHERE id = ?",
                    arguments: [user, queued])
            }
            return queued
        }
        try db.execute(
            sql: "INSERT INTO roster_request (connection_id, full, requested_by, requested_at, origin) VALUES (?, ?, ?, ?, ?)",
            arguments: [connection, full, user, Timestamp.text(now), origin.rawValue])
        return db.lastInsertedRowID
    }

    /// Queues the scheduled pull of `connection` when one is due, and returns its id: a delta
    /// pull when the connection's last pull (of any kind, from any process) started `every` ago,
    /// or `retryAfterFailure` after that pull failed (counted from when it ended, or from its
    /// start if it never ended: a process killed during it); at once for a connection never
    /// pulled. Nothing while a pull of it is queued, or before the connection is saved.
    public func queueScheduledPull(connection: String, every: TimeInterval, retryAfterFailure: TimeInterval, at now: Date) throws -> Int64? {
        func due(_ db: Database) throws -> Bool {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM connection WHERE id = ?", arguments: [connection]) == true,
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM roster_request WHERE connection_id = ? AND run_id IS NULL AND error IS NULL",
                    arguments: [connection]) == nil
            else { return false }
            // The last attempt: a run (a succeeded one from its start, others from their end), or
            // a request refused before it could start.
            if let last = try Row.fetchOne(
                db,
                sql: """
                    SELECT CASE state WHEN 'succeeded' THEN started_at ELSE coalesce(finished_at, started_at) END AS at,
                           state <> 'succeeded' AS failed FROM roster_run WHERE connection_id = :c
                    UNION ALL SELECT refused_at, 1 FROM roster_request WHERE connection_id = :c AND refused_at IS NOT NULL
                    ORDER BY at DESC LIMIT 1
                    """, arguments: ["c": connection]), let at = Timestamp.date(last["at"])
            {
                let wait = (last["failed"] as Bool? ?? false) ? min(every, retryAfterFailure) : every
                return now.timeIntervalSince(at) >= wait
            }
            return true
        }
        // Looked at by a read first: the runner asks every 2 s, and a pull is due once a day, so
        // the write lock (which the worker and the API's mutations need) is taken only then,
        // and the answer checked again under it.
        guard try database.read(due) else { return nil }
        return try pool.write { db in
            guard try due(db) else { return nil }
            return try Self.queueRequest(connection: connection, full: false, by: nil, origin: .scheduled, at: now, db: db)
        }
    }

    /// The oldest queued request, if any.
    public func nextQueuedRequest() throws -> RosterRequest? {
        try database.read { db in
            try Self.request(db, where: "r.run_id IS NULL AND r.error IS NULL ORDER BY r.id LIMIT 1", arguments: [])
        }
    }

    public func request(_ id: Int64) throws -> RosterRequest? {
        try database.read { db in try Self.request(db, where: "r.id = ?", arguments: [id]) }
    }

    /// Starts the run that carries out a queued request, linked to it in the same transaction
    /// (a crash leaves the request either queued or with its run). Nil if the request is no
    /// longer queued, or was made full since the runner read it (`full` is what it read).
    public func startRun(for request: Int64, full: Bool, connection: String, source: String, mode: String, at now: Date) throws -> Int64? {
        try pool.write { db in
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT run_id IS NULL AND error IS NULL AND full = ? FROM roster_request WHERE id = ?",
                    arguments: [full, request]) == true
            else {
                return nil
            }
            try db.execute(
                sql: "INSERT INTO roster_run (connection_id, source, mode, state, started_at) VALUES (?, ?, ?, 'running', ?)",
                arguments: [connection, source, mode, Timestamp.text(now)])
            let run = db.lastInsertedRowID
            try db.execute(sql: "UPDATE roster_request SET run_id = ? WHERE id = ?", arguments: [run, request])
            return run
        }
    }

    /// Ends a queued request that cannot start, with the reason.
    public func refuseRequest(_ id: Int64, error: String, at now: Date) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE roster_request SET error = ?, refused_at = ? WHERE id = ? AND run_id IS NULL AND error IS NULL",
                arguments: [error, Timestamp.text(now), id])
        }
    }

    static func request(_ db: Database, where clause: String, arguments: StatementArguments) throws -> RosterRequest? {
        try requests(db, where: clause, arguments: arguments).first
    }

    /// The requests `clause` selects, in its order, with their runs (read together).
    static func requests(_ db: Database, where clause: String, arguments: StatementArguments) throws -> [RosterRequest] {
        let rows = try Row.fetchAll(db, sql: "SELECT r.* FROM roster_request r WHERE \(clause)", arguments: arguments)
        let runIDs = rows.compactMap { $0["run_id"] as Int64? }
        var runs: [Int64: RosterRunSummary] = [:]
        if !runIDs.isEmpty {
            for row in try Row.fetchAll(db, sql: "SELECT * FROM roster_run WHERE id IN (\(runIDs.map(String.init).joined(separator: ",")))") {
                let run = Self.runSummary(row)
                runs[run.id] = run
            }
        }
        return rows.map { r in
            let run = (r["run_id"] as Int64?).flatMap { runs[$0] }
            let state: RosterRequest.State
            if let run {
                state = RosterRequest.State(rawValue: run.state) ?? .failed
            } else {
                state = (r["error"] as String?) == nil ? .queued : .failed
            }
            return RosterRequest(
                id: r["id"], connectionID: r["connection_id"], full: r["full"], requestedBy: r["requested_by"],
                requestedAt: Timestamp.date(r["requested_at"]) ?? .distantPast,
                origin: RosterRequest.Origin(rawValue: r["origin"]) ?? .requested, state: state, run: run,
                error: run?.error ?? r["error"])
        }
    }

    /// A page of the connection's roster pulls asked for or scheduled, newest first, and how
    /// many there are in all (`states` and `origins` narrow both; empty means any).
    public func requests(
        connection: String, states: Set<RosterRequest.State>, origins: Set<RosterRequest.Origin>, first: Int, after: String?
    ) throws
        -> (page: KeysetPage<RosterRequest>, total: Int)
    {
        let ordering = "rosterRuns:id:desc"
        var conditions = "r.connection_id = :connection"
        let args: [String: (any DatabaseValueConvertible)?] = ["connection": connection]
        if !states.isEmpty {
            // A request's state is its run's, or queued / failed before it started.
            let stateSQL =
                "CASE WHEN r.run_id IS NOT NULL THEN (SELECT state FROM roster_run WHERE id = r.run_id) WHEN r.error IS NULL THEN 'queued' ELSE 'failed' END"
            conditions += " AND \(stateSQL) IN (\(states.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")))"
        }
        if !origins.isEmpty {
            conditions += " AND r.origin IN (\(origins.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")))"
        }
        var pageArgs = args
        var clause = conditions
        if let after {
            clause += " AND r.id < :after"
            pageArgs["after"] = try Keyset.decode(after, ordering: ordering).id
        }
        clause += " ORDER BY r.id DESC LIMIT :limit"
        pageArgs["limit"] = first + 1
        return try database.read { db in
            let rows = try Self.requests(db, where: clause, arguments: StatementArguments(pageArgs))
            let items = Array(rows.prefix(first))
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM roster_request r WHERE \(conditions)", arguments: StatementArguments(args)) ?? 0
            return (
                KeysetPage(items: items, hasNextPage: rows.count > first) { Keyset.encode(ordering: ordering, key: nil, id: items[$0].id) },
                total
            )
        }
    }
}

extension RosterStore {
    /// The ids of the connections this database has rostered or been given, sorted.
    public func connectionIDs() throws -> [String] {
        try database.read { db in try String.fetchAll(db, sql: "SELECT id FROM connection ORDER BY id") }
    }
}
