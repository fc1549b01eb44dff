import Foundation
import GRDB
import PassbackCore

/// Where an interrupted pull of one collection stands, and where the next delta starts.
public struct RosterCursor: Sendable, Hashable {
    public var collection: RosterCollection
    /// Start of the last complete pull of this collection.
    public var lastSuccessStartedAt: Date?
    /// The run that was pulling it when the process stopped, if any.
    public var activeRunID: Int64?
    public var activeMode: String?
    public var activeSince: Date?
    /// Offset of the first record not yet stored.
    public var activeOffset: Int
}

/// A roster run as recorded.
public struct RosterRunSummary: Sendable, Hashable {
    public var id: Int64
    public var connectionID: String
    public var source: String
    public var mode: String
    public var state: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var counts: [String: RosterCounts]
    public var error: String?
}

/// The roster side of the store: connections, runs, cursors and rostered rows. Each method is
/// one transaction.
public struct RosterStore: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    /// Creates or updates the connection's row (never its secret: that stays in the environment),
    /// with its time zones and limit overrides (`ConnectionCalendar`).
    public func saveConnection(_ settings: ConnectionSettings, at now: Date) throws {
        try pool.write { db in try Self.saveConnection(settings, at: now, db: db) }
    }

    static func saveConnection(_ settings: ConnectionSettings, at now: Date, db: Database) throws {
        let orgZones = String(decoding: try ConnectionCalendar.encoder.encode(settings.orgTimeZones), as: UTF8.self)
        let limits = String(decoding: try ConnectionCalendar.encoder.encode(settings.limits), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO connection (id, base_url, profile, time_zone, org_time_zones, profile_limits, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET base_url = excluded.base_url, profile = excluded.profile, time_zone = excluded.time_zone,
                    org_time_zones = excluded.org_time_zones, profile_limits = excluded.profile_limits, updated_at = excluded.updated_at
                """,
            arguments: [
                settings.id, settings.baseURL.absoluteString, settings.profile, settings.timeZone, orgZones, limits,
                Timestamp.text(now), Timestamp.text(now)
            ])
    }

    /// Starts a run.
    public func startRun(connection: String, source: String, mode: String, at now: Date) throws -> Int64 {
        try pool.write { db in try Self.startRun(connection: connection, source: source, mode: mode, at: now, db: db) }
    }

    static func startRun(connection: String, source: String, mode: String, at now: Date, db: Database) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO roster_run (connection_id, source, mode, state, started_at) VALUES (?, ?, ?, 'running', ?)",
            arguments: [connection, source, mode, Timestamp.text(now)])
        return db.lastInsertedRowID
    }

    /// Ends a run with its counts per collection.
    public func finishRun(_ id: Int64, succeeded: Bool, counts: [RosterCollection: RosterCounts], error: String?, at now: Date) throws {
        let json = String(decoding: try JSONEncoder().encode(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })), as: UTF8.self)
        try pool.write { db in
            try db.execute(
                sql: "UPDATE roster_run SET state = ?, finished_at = ?, counts = ?, error = ? WHERE id = ?",
                arguments: [succeeded ? "succeeded" : "failed", Timestamp.text(now), json, error, id])
        }
    }

    /// Runs that never finished (the process died): marked failed, their cursors kept so the
    /// next pull resumes where they stopped.
    public func failAbandonedRuns(connection: String, at now: Date) throws -> [Int64] {
        try pool.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM roster_run WHERE connection_id = ? AND state = 'running'", arguments: [connection])
            try db.execute(
                sql: "UPDATE roster_run SET state = 'failed', finished_at = ?, error = 'interrupted' WHERE connection_id = ? AND state = 'running'",
                arguments: [Timestamp.text(now), connection])
            return ids
        }
    }

    public func run(_ id: Int64) throws -> RosterRunSummary? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM roster_run WHERE id = ?", arguments: [id]).map(Self.runSummary)
        }
    }

    static func runSummary(_ r: Row) -> RosterRunSummary {
        let raw = (r["counts"] as String?) ?? "{}"
        let decoded = (try? JSONDecoder().decode([String: RosterCounts].self, from: Data(raw.utf8))) ?? [:]
        return RosterRunSummary(
            id: r["id"], connectionID: r["connection_id"], source: r["source"], mode: r["mode"], state: r["state"],
            startedAt: Timestamp.date(r["started_at"]) ?? .distantPast, finishedAt: (r["finished_at"] as String?).flatMap(Timestamp.date),
            counts: decoded, error: r["error"])
    }

    public func cursor(connection: String, collection: RosterCollection) throws -> RosterCursor {
        try database.read { db in
            let r = try Row.fetchOne(
                db, sql: "SELECT * FROM roster_cursor WHERE connection_id = ? AND collection = ?", arguments: [connection, collection.rawValue])
            return RosterCursor(
                collection: collection, lastSuccessStartedAt: (r?["last_success_started_at"] as String?).flatMap(Timestamp.date),
                activeRunID: r?["active_run_id"], activeMode: r?["active_mode"], activeSince: (r?["active_since"] as String?).flatMap(Timestamp.date),
                activeOffset: r?["active_offset"] ?? 0)
        }
    }

    /// Stores one page of a pull and moves the collection's resume point past it, in one
    /// transaction: a crash leaves either both or neither. A rejected row keeps the record it
    /// names as it was (and, in a full pull, counts as seen); the rejects come back saying so.
    public func applyPage(
        _ rows: [RosterRow], rejects: [RosterReject], collection: RosterCollection, connection: String, runID: Int64,
        mode: String, since: Date?, nextOffset: Int, pageOffset: Int, at now: Date
    ) throws -> (counts: RosterCounts, rejects: [RosterReject]) {
        try pool.write { db in
            var (counts, refused) = try RosterWriter.upsert(
                rows, collection: collection, connection: connection, runID: runID,
                location: { "GET \(collection.rawValue) offset \(pageOffset + $0)" }, db: db)
            refused = try RosterWriter.keep(rejects, collection: collection, connection: connection, runID: runID, complete: mode == "full", db: db) + refused
            counts.rejected += rejects.count
            try Self.insertRejects(refused, runID: runID, db: db)
            try Self.refreshStatuses(
                db, collection: collection, rows: rows, changed: counts.created + counts.updated + counts.deleted, connection: connection,
                at: now)
            try db.execute(
                sql: """
                    INSERT INTO roster_cursor (connection_id, collection, active_run_id, active_mode, active_since, active_offset) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(connection_id, collection) DO UPDATE SET active_run_id = excluded.active_run_id, active_mode = excluded.active_mode,
                        active_since = excluded.active_since, active_offset = excluded.active_offset
                    """, arguments: [connection, collection.rawValue, runID, mode, since.map(Timestamp.text), nextOffset])
            return (counts, refused)
        }
    }

    /// Closes a collection's pull: after a full pull, what it did not see is marked deleted;
    /// the delta mark moves to this pull's start.
    ///
    /// When those deletions exceed `limit`, nothing is marked deleted and the delta mark does
    /// not move: it throws ``MassDeletionRefused``. The rows the pull stored stay (they are
    /// what the SIS sent); the collection's pull stays open under its run, rewound to the
    /// start, so the next pull reads the whole collection again before it sweeps.
    public func completeCollection(
        _ collection: RosterCollection, connection: String, runID: Int64, fullPull: Bool, startedAt: Date,
        limit: RosterDeletionLimit = RosterDeletionLimit(), at now: Date
    ) throws -> Int {
        let outcome: Result<Int, MassDeletionRefused> = try pool.write { db in
            var deleted = 0
            if fullPull {
                let listed =
                    try Bool.fetchOne(
                        db,
                        sql: """
                            SELECT EXISTS (SELECT 1 FROM \(collection.table) WHERE connection_id = ? AND seen_run_id = ?)
                                OR EXISTS (SELECT 1 FROM roster_reject WHERE run_id = ? AND collection = ?)
                            """, arguments: [connection, runID, runID, collection.rawValue]) ?? false
                let check = try RosterWriter.deletionCheck(
                    collection: collection, connection: connection, runID: runID, listedNothing: !listed,
                    limit: limit, db: db)
                if check.refusal != nil {
                    try db.execute(
                        sql: "UPDATE roster_cursor SET active_offset = 0 WHERE connection_id = ? AND collection = ?",
                        arguments: [connection, collection.rawValue])
                    return .failure(MassDeletionRefused(checks: [check], limit: limit))
                }
                deleted = try RosterWriter.markUnseenDeleted(collection: collection, connection: connection, runID: runID, db: db)
            }
            try Self.refreshStatuses(db, collection: collection, rows: nil, changed: deleted, connection: connection, at: now)
            try db.execute(
                sql: """
                    INSERT INTO roster_cursor (connection_id, collection, last_success_started_at) VALUES (?, ?, ?)
                    ON CONFLICT(connection_id, collection) DO UPDATE SET last_success_started_at = excluded.last_success_started_at,
                        active_run_id = NULL, active_mode = NULL, active_since = NULL, active_offset = 0
                    """, arguments: [connection, collection.rawValue, Timestamp.text(startedAt)])
            return .success(deleted)
        }
        return try outcome.get()
    }

    /// A whole import in one transaction (the CSV zip): every collection's rows, the deletions
    /// a bulk file implies, and the rejects. Nothing is written if anything throws, and nothing
    /// at all when a bulk file would delete more than `limit` allows (``MassDeletionRefused``).
    public func applyBatch(
        _ batches: [(collection: RosterCollection, rows: [RosterRow], lines: [String], bulk: Bool)], rejects: [RosterReject],
        connection: String, runID: Int64, limit: RosterDeletionLimit = RosterDeletionLimit(), at now: Date
    ) throws -> [RosterCollection: RosterCounts] {
        try applyStream(connection: connection, runID: runID, limit: limit, now: { now }) { sink in
            try sink.reject(rejects)
            for batch in batches {
                try sink.apply(batch.rows, collection: batch.collection, bulk: batch.bulk) {
                    batch.lines.indices.contains($0) ? batch.lines[$0] : "row \($0 + 1)"
                }
            }
        }
    }

    /// What one page of a pull would change, read without writing (for a dry run): counts, and
    /// the rejects saying whether their record would be kept.
    public func previewPage(
        _ rows: [RosterRow], rejects: [RosterReject], collection: RosterCollection, connection: String,
        complete: Bool
    ) throws -> (counts: RosterCounts, rejects: [RosterReject]) {
        try database.read { db in
            var counts = RosterCounts()
            counts.rejected = rejects.count
            let ids = rows.map(\.header.sourcedId) + rejects.compactMap(\.sourcedId)
            var existing: [String: (fingerprint: String, status: String)] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for r in try Row.fetchAll(
                    db, sql: "SELECT sourced_id, fingerprint, status FROM \(collection.table) WHERE connection_id = ? AND sourced_id IN (\(marks))",
                    arguments: StatementArguments([connection] + chunk))
                {
                    existing[r["sourced_id"]] = (r["fingerprint"], r["status"])
                }
            }
            for row in rows {
                let h = row.header
                if let old = existing[h.sourcedId] {
                    if old.fingerprint == h.fingerprint && old.status == h.status.rawValue {
                        counts.unchanged += 1
                    } else if h.status == .toBeDeleted && old.status != RosterStatus.toBeDeleted.rawValue {
                        counts.deleted += 1
                    } else {
                        counts.updated += 1
                    }
                } else if h.status == .toBeDeleted {
                    counts.deleted += 1
                } else {
                    counts.created += 1
                }
            }
            let noted = rejects.map { r -> RosterReject in
                var r = r
                if let sid = r.sourcedId {
                    if existing[sid] != nil { r.reason += RosterWriter.keptNote }
                } else if complete {
                    r.reason += RosterWriter.noIDNote
                }
                return r
            }
            return (counts, noted)
        }
    }

    /// What the sweep after a full pull would mark deleted, given every sourcedId the pull
    /// listed (rejected rows included), read without writing.
    public func previewDeletions(
        _ collection: RosterCollection, connection: String, listed: Set<String>, listedNothing: Bool,
        limit: RosterDeletionLimit
    ) throws -> RosterDeletionCheck {
        try database.read { db in
            let active = try String.fetchAll(
                db, sql: "SELECT sourced_id FROM \(collection.table) WHERE connection_id = ? AND status = 'active' ORDER BY sourced_id",
                arguments: [connection])
            let gone = active.filter { !listed.contains($0) }
            return RosterDeletionCheck(
                collection: collection, active: active.count, deleting: gone.count,
                sample: Array(gone.prefix(RosterDeletionCheck.sampleSize)), listedNothing: listedNothing,
                refusal: limit.refusal(deleting: gone.count, active: active.count, listedNothing: listedNothing))
        }
    }

    /// The roster is an input of the rules (who is enrolled where, grading periods, SIS
    /// categories): statuses of the linked sections it touched are recomputed in the same
    /// transaction. Enrollment rows name their sections (and a linked course's other sections
    /// follow: its grades go where the roster enrolls each student); any other change, or
    /// deletions of unseen rows (`rows` nil), recomputes every linked section of the connection.
    /// The statuses are stamped `now`: the caller's time when it writes the change (not the run's
    /// start, which would back-date a resumed or long pull).
    static func refreshStatuses(
        _ db: Database, collection: RosterCollection, rows: [RosterRow]?, changed: Int, connection: String, at now: Date
    ) throws {
        guard changed > 0, [.enrollments, .classes, .academicSessions, .categories].contains(collection) else { return }
        let t = Timestamp.text(now)
        var classIDs: [Int64]
        if collection == .enrollments, let rows {
            // A teacher's enrollment decides no status.
            let sections = Set(
                rows.compactMap { row -> String? in
                    guard case .text("student")? = row[column: "role"], case .text(let id)? = row[column: "class_sourced_id"] else { return nil }
                    return id
                })
            guard !sections.isEmpty else { return }
            classIDs = try Int64.fetchAll(
                db,
                sql: """
                    SELECT c.id FROM class c JOIN linked_section ls ON ls.class_id = c.id WHERE c.connection_id = ? AND c.sourced_id IN (SELECT value FROM json_each(?))
                    """, arguments: [connection, String(decoding: try JSONEncoder().encode(sections.sorted()), as: UTF8.self)])
        } else {
            classIDs = try Int64.fetchAll(
                db, sql: "SELECT c.id FROM class c JOIN linked_section ls ON ls.class_id = c.id WHERE c.connection_id = ?",
                arguments: [connection])
        }
        try EngineStore.refresh(db, coursesOfSections: classIDs, at: t)
    }

    public func rejects(runID: Int64) throws -> [RosterReject] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM roster_reject WHERE run_id = ? ORDER BY id", arguments: [runID]).map {
                RosterReject(
                    collection: RosterCollection(rawValue: $0["collection"]) ?? .orgs, sourcedId: $0["sourced_id"], location: $0["location"],
                    reason: $0["reason"])
            }
        }
    }

    /// A page of a run's rejected rows, in the order the pull found them, and how many it rejected.
    public func rejects(runID: Int64, first: Int, after: String?) throws -> (page: KeysetPage<RosterReject>, total: Int) {
        // A cursor of another pull's rejects is refused, not read as a place in this one.
        let ordering = "rosterRejects:\(runID)"
        var arguments: StatementArguments = [runID, Int64.min, first + 1]
        if let after { arguments = [runID, try Keyset.decode(after, ordering: ordering).id, first + 1] }
        return try database.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM roster_reject WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?"), arguments: arguments)
            let kept = Array(rows.prefix(first))
            let ids: [Int64] = kept.map { $0["id"] }
            let items = kept.map {
                RosterReject(
                    collection: RosterCollection(rawValue: $0["collection"]) ?? .orgs, sourcedId: $0["sourced_id"], location: $0["location"],
                    reason: $0["reason"])
            }
            let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM roster_reject WHERE run_id = ?"), arguments: [runID]) ?? 0
            return (KeysetPage(items: items, hasNextPage: rows.count > first) { Keyset.encode(ordering: ordering, key: nil, id: ids[$0]) }, total)
        }
    }

    static func insertRejects(_ rejects: [RosterReject], runID: Int64, db: Database) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO roster_reject (run_id, collection, sourced_id, location, reason) VALUES (?, ?, ?, ?, ?)")
        for r in rejects { try statement.execute(arguments: [runID, r.collection.rawValue, r.sourcedId, r.location, r.reason]) }
    }

    /// Every row of a collection as column → text, by sourcedId: for reports and for tests that
    /// compare the cache with the SIS row by row. Child references come as `children`.
    public func snapshot(connection: String, collection: RosterCollection) throws -> [String: [String: String]] {
        try database.read { db in
            var out: [String: [String: String]] = [:]
            var byID: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM \(collection.table) WHERE connection_id = ?", arguments: [connection]) {
                var fields: [String: String] = [:]
                for (column, value) in row {
                    switch value.storage {
                    case .null: continue
                    case .int64(let i): fields[column] = String(i)
                    case .double(let d): fields[column] = String(d)
                    case .string(let s): fields[column] = s
                    case .blob(let b): fields[column] = b.base64EncodedString()
                    }
                }
                for bookkeeping in ["id", "connection_id", "fingerprint", "seen_run_id"] { fields[bookkeeping] = nil }
                let sid: String = row["sourced_id"]
                byID[row["id"]] = sid
                out[sid] = fields
            }
            if let child = collection.childTable {
                for r in try Row.fetchAll(db, sql: "SELECT \(child.parentColumn) AS p, \(child.valueColumn) AS v FROM \(child.table) ORDER BY v") {
                    guard let sid = byID[r["p"]] else { continue }
                    let v: String = r["v"]
                    let before = out[sid]?["children"]
                    out[sid]?["children"] = before.map { $0 + "," + v } ?? v
                }
            }
            return out
        }
    }

    /// How many rows a collection holds for a connection, by status.
    public func count(connection: String, collection: RosterCollection, status: RosterStatus? = nil) throws -> Int {
        try database.read { db in
            if let status {
                return try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM \(collection.table) WHERE connection_id = ? AND status = ?", arguments: [connection, status.rawValue]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM \(collection.table) WHERE connection_id = ?", arguments: [connection]) ?? 0
        }
    }
}

/// What an import would change, worked out without writing (`--dry-run`).
public struct RosterPreview: Sendable {
    public var counts: [RosterCollection: RosterCounts]
    /// The rows it would reject, saying what would become of their records.
    public var rejects: [RosterReject]
    /// What each complete listing would mark deleted, and whether a real run would stop there.
    public var deletions: [RosterDeletionCheck]
}
