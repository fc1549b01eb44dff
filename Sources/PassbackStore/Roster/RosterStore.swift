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

    /// Creates or updates the connection's row (never its secret: that stays in the environment).
    public func saveConnection(_ settings: ConnectionSettings, at now: Date) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO connection (id, base_url, profile, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET base_url = excluded.base_url, profile = excluded.profile, updated_at = excluded.updated_at
                """, arguments: [settings.id, settings.baseURL.absoluteString, settings.profile, Timestamp.text(now), Timestamp.text(now)])
        }
    }

    /// Starts a run.
    public func startRun(connection: String, source: String, mode: String, at now: Date) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO roster_run (connection_id, source, mode, state, started_at) VALUES (?, ?, ?, 'running', ?)",
                           arguments: [connection, source, mode, Timestamp.text(now)])
            return db.lastInsertedRowID
        }
    }

    /// Ends a run with its counts per collection.
    public func finishRun(_ id: Int64, succeeded: Bool, counts: [RosterCollection: RosterCounts], error: String?, at now: Date) throws {
        let json = String(decoding: try JSONEncoder().encode(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })), as: UTF8.self)
        try pool.write { db in
            try db.execute(sql: "UPDATE roster_run SET state = ?, finished_at = ?, counts = ?, error = ? WHERE id = ?",
                           arguments: [succeeded ? "succeeded" : "failed", Timestamp.text(now), json, error, id])
        }
    }

    /// Runs that never finished (the process died): marked failed, their cursors kept so the
    /// next pull resumes where they stopped.
    public func failAbandonedRuns(connection: String, at now: Date) throws -> [Int64] {
        try pool.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM roster_run WHERE connection_id = ? AND state = 'running'", arguments: [connection])
            try db.execute(sql: "UPDATE roster_run SET state = 'failed', finished_at = ?, error = 'interrupted' WHERE connection_id = ? AND state = 'running'",
                           arguments: [Timestamp.text(now), connection])
            return ids
        }
    }

    public func run(_ id: Int64) throws -> RosterRunSummary? {
        try pool.read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM roster_run WHERE id = ?", arguments: [id]) else { return nil }
            let raw = (r["counts"] as String?) ?? "{}"
            let decoded = (try? JSONDecoder().decode([String: RosterCounts].self, from: Data(raw.utf8))) ?? [:]
            return RosterRunSummary(
                id: r["id"], connectionID: r["connection_id"], source: r["source"], mode: r["mode"], state: r["state"],
                startedAt: Timestamp.date(r["started_at"]) ?? .distantPast, finishedAt: (r["finished_at"] as String?).flatMap(Timestamp.date),
                counts: decoded.mapValues { $0 }, error: r["error"])
        }
    }

    public func cursor(connection: String, collection: RosterCollection) throws -> RosterCursor {
        try pool.read { db in
            let r = try Row.fetchOne(db, sql: "SELECT * FROM roster_cursor WHERE connection_id = ? AND collection = ?", arguments: [connection, collection.rawValue])
            return RosterCursor(
                collection: collection, lastSuccessStartedAt: (r?["last_success_started_at"] as String?).flatMap(Timestamp.date),
                activeRunID: r?["active_run_id"], activeMode: r?["active_mode"], activeSince: (r?["active_since"] as String?).flatMap(Timestamp.date),
                activeOffset: r?["active_offset"] ?? 0)
        }
    }

    /// Stores one page of a pull and moves the collection's resume point past it, in one
    /// transaction: a crash leaves either both or neither.
    public func applyPage(_ rows: [RosterRow], rejects: [RosterReject], collection: RosterCollection, connection: String, runID: Int64,
                          mode: String, since: Date?, nextOffset: Int, pageOffset: Int) throws -> RosterCounts {
        try pool.write { db in
            var (counts, refused) = try RosterWriter.upsert(rows, collection: collection, connection: connection, runID: runID,
                                                            location: { "GET \(collection.rawValue) offset \(pageOffset + $0)" }, db: db)
            refused += rejects
            counts.rejected += rejects.count
            try Self.insertRejects(refused, runID: runID, db: db)
            try Self.refreshStatuses(db, collection: collection, rows: rows, changed: counts.created + counts.updated + counts.deleted, connection: connection)
            try db.execute(sql: """
                INSERT INTO roster_cursor (connection_id, collection, active_run_id, active_mode, active_since, active_offset) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(connection_id, collection) DO UPDATE SET active_run_id = excluded.active_run_id, active_mode = excluded.active_mode,
                    active_since = excluded.active_since, active_offset = excluded.active_offset
                """, arguments: [connection, collection.rawValue, runID, mode, since.map(Timestamp.text), nextOffset])
            return counts
        }
    }

    /// Closes a collection's pull: after a full pull, what it did not see is marked deleted;
    /// the delta mark moves to this pull's start.
    public func completeCollection(_ collection: RosterCollection, connection: String, runID: Int64, fullPull: Bool, startedAt: Date) throws -> Int {
        try pool.write { db in
            let deleted = fullPull ? try RosterWriter.markUnseenDeleted(collection: collection, connection: connection, runID: runID, db: db) : 0
            try Self.refreshStatuses(db, collection: collection, rows: nil, changed: deleted, connection: connection)
            try db.execute(sql: """
                INSERT INTO roster_cursor (connection_id, collection, last_success_started_at) VALUES (?, ?, ?)
                ON CONFLICT(connection_id, collection) DO UPDATE SET last_success_started_at = excluded.last_success_started_at,
                    active_run_id = NULL, active_mode = NULL, active_since = NULL, active_offset = 0
                """, arguments: [connection, collection.rawValue, Timestamp.text(startedAt)])
            return deleted
        }
    }

    /// A whole import in one transaction (the CSV zip): every collection's rows, the deletions
    /// a bulk file implies, and the rejects. Nothing is written if anything throws.
    public func applyBatch(_ batches: [(collection: RosterCollection, rows: [RosterRow], lines: [String], bulk: Bool)], rejects: [RosterReject],
                           connection: String, runID: Int64) throws -> [RosterCollection: RosterCounts] {
        try pool.write { db in
            var result: [RosterCollection: RosterCounts] = [:]
            var refused = rejects
            for r in rejects { result[r.collection, default: RosterCounts()].rejected += 1 }
            for batch in batches {
                var (counts, rowRejects) = try RosterWriter.upsert(batch.rows, collection: batch.collection, connection: connection, runID: runID,
                                                                   location: { batch.lines.indices.contains($0) ? batch.lines[$0] : "row \($0 + 1)" }, db: db)
                if batch.bulk {
                    counts.deleted += try RosterWriter.markUnseenDeleted(collection: batch.collection, connection: connection, runID: runID, db: db)
                }
                refused += rowRejects
                result[batch.collection, default: RosterCounts()] = result[batch.collection, default: RosterCounts()] + counts
                try Self.refreshStatuses(db, collection: batch.collection, rows: batch.bulk ? nil : batch.rows,
                                         changed: counts.created + counts.updated + counts.deleted, connection: connection)
            }
            try Self.insertRejects(refused, runID: runID, db: db)
            return result
        }
    }

    /// The roster is an input of the rules (who is enrolled where, grading periods, SIS
    /// categories): statuses of the linked sections it touched are recomputed in the same
    /// transaction. Enrollment rows name their sections (and a linked course's other sections
    /// follow: its grades go where the roster enrolls each student); any other change, or
    /// deletions of unseen rows (`rows` nil), recomputes every linked section of the connection.
    static func refreshStatuses(_ db: Database, collection: RosterCollection, rows: [RosterRow]?, changed: Int, connection: String) throws {
        guard changed > 0, [.enrollments, .classes, .academicSessions, .categories].contains(collection) else { return }
        let t = Timestamp.text(Date())
        var classIDs: [Int64]
        if collection == .enrollments, let rows {
            // A teacher's enrollment decides no status.
            let sections = Set(rows.compactMap { row -> String? in
                guard case .text("student")? = row.columns["role"], case .text(let id)? = row.columns["class_sourced_id"] else { return nil }
                return id
            })
            guard !sections.isEmpty else { return }
            classIDs = try Int64.fetchAll(db, sql: """
                SELECT c.id FROM class c JOIN linked_section ls ON ls.class_id = c.id WHERE c.connection_id = ? AND c.sourced_id IN (SELECT value FROM json_each(?))
                """, arguments: [connection, String(decoding: try JSONEncoder().encode(sections.sorted()), as: UTF8.self)])
        } else {
            classIDs = try Int64.fetchAll(db, sql: "SELECT c.id FROM class c JOIN linked_section ls ON ls.class_id = c.id WHERE c.connection_id = ?",
                                          arguments: [connection])
        }
        try EngineStore.refresh(db, coursesOfSections: classIDs, at: t)
    }

    public func rejects(runID: Int64) throws -> [RosterReject] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM roster_reject WHERE run_id = ? ORDER BY id", arguments: [runID]).map {
                RosterReject(collection: RosterCollection(rawValue: $0["collection"]) ?? .orgs, sourcedId: $0["sourced_id"], location: $0["location"], reason: $0["reason"])
            }
        }
    }

    static func insertRejects(_ rejects: [RosterReject], runID: Int64, db: Database) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO roster_reject (run_id, collection, sourced_id, location, reason) VALUES (?, ?, ?, ?, ?)")
        for r in rejects { try statement.execute(arguments: [runID, r.collection.rawValue, r.sourcedId, r.location, r.reason]) }
    }

    /// Every row of a collection as column → text, by sourcedId: for reports and for tests that
    /// compare the cache with the SIS row by row. Child references come as `children`.
    public func snapshot(connection: String, collection: RosterCollection) throws -> [String: [String: String]] {
        try pool.read { db in
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
        try pool.read { db in
            if let status {
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM \(collection.table) WHERE connection_id = ? AND status = ?", arguments: [connection, status.rawValue]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM \(collection.table) WHERE connection_id = ?", arguments: [connection]) ?? 0
        }
    }
}
