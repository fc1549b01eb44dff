import Foundation
import GRDB
import PassbackCore

/// Takes a streamed import batch by batch inside one transaction (see
/// ``RosterStore/applyStream(connection:runID:limit:alone:now:_:)``), so an import of any size is stored
/// with memory bounded by one batch and is still all or nothing.
///
/// The roster's safety rules hold batch by batch: a rejected row keeps the record it meant to
/// change (it counts as listed, so a bulk file's sweep passes it by), and before a bulk
/// collection's unlisted rows are marked deleted the deletion limit is checked.
public final class RosterImportSink {
    let db: Database
    let connection: String
    let runID: Int64
    let limit: RosterDeletionLimit
    /// The time, read each time the import recomputes statuses (a large import takes minutes:
    /// its start would back-date them).
    let now: () -> Date
    /// What was applied so far, per collection.
    public private(set) var counts: [RosterCollection: RosterCounts] = [:]
    /// Collections given by a bulk file: what they did not list is marked deleted at the end.
    private(set) var bulk: [RosterCollection] = []
    /// Collections of which the import listed at least one row (stored or rejected).
    private var listed: Set<RosterCollection> = []
    /// Rejects of the batch being taken, held until its rows are stored (see ``apply``).
    private var pending: [RosterReject] = []
    /// The upsert's statements, kept from batch to batch.
    private let statements = BatchStatement.Cache()
    /// Every reject, kept only for a preview (a real import reads them back from the store).
    private let keepRejects: Bool
    private(set) var rejects: [RosterReject] = []
    /// What each bulk collection's sweep would mark deleted, once ``finish`` has run.
    private(set) var checks: [RosterDeletionCheck] = []

    init(db: Database, connection: String, runID: Int64, limit: RosterDeletionLimit, now: @escaping () -> Date, keepRejects: Bool = false) {
        self.db = db
        self.now = now
        self.connection = connection
        self.runID = runID
        self.limit = limit
        self.keepRejects = keepRejects
    }

    /// Stores one batch of a collection's rows; `location(i)` says where `rows[i]` came from
    /// (asked only of a row the database refuses). The batch's rejects are written after its
    /// rows, each keeping the record it names (so a record another row stored is not "kept").
    public func apply(_ rows: [RosterRow], collection: RosterCollection, bulk isBulk: Bool, location: (Int) -> String) throws {
        if isBulk, !bulk.contains(collection) { bulk.append(collection) }
        if !rows.isEmpty { listed.insert(collection) }
        let (applied, refused) = try RosterWriter.upsert(
            rows, collection: collection, connection: connection, runID: runID,
            location: location, statements: statements, db: db)
        counts[collection, default: RosterCounts()] = counts[collection, default: RosterCounts()] + applied
        // A bulk file's statuses are refreshed once, after its sweep (``finish``).
        if !isBulk {
            try RosterStore.refreshStatuses(
                db, collection: collection, rows: rows, changed: applied.created + applied.updated + applied.deleted, connection: connection, at: now())
        }
        let mine = pending.filter { $0.collection == collection }
        pending.removeAll { $0.collection == collection }
        try record(try RosterWriter.keep(mine + refused, collection: collection, connection: connection, runID: runID, complete: isBulk, db: db))
    }

    /// Rows refused before they reached the store (a bad field, a ragged row), counted under
    /// their own collection; written with the next ``apply`` of the batch, or at ``finish``.
    public func reject(_ rejects: [RosterReject]) throws {
        for r in rejects {
            counts[r.collection, default: RosterCounts()].rejected += 1
            listed.insert(r.collection)
        }
        pending += rejects
    }

    func record(_ rejects: [RosterReject]) throws {
        try RosterStore.insertRejects(rejects, runID: runID, db: db)
        if keepRejects { self.rejects += rejects }
    }

    /// After the last batch: each bulk collection's rows the import did not list are gone, unless
    /// that would delete more than the limit allows (then nothing is marked, and ``MassDeletionRefused``
    /// is thrown so the transaction writes nothing; a preview gets the checks instead).
    func finish(throwing: Bool = true) throws {
        for collection in Set(pending.map(\.collection)) {
            let mine = pending.filter { $0.collection == collection }
            try record(try RosterWriter.keep(mine, collection: collection, connection: connection, runID: runID, complete: bulk.contains(collection), db: db))
        }
        pending = []
        for collection in bulk {
            let check = try RosterWriter.deletionCheck(
                collection: collection, connection: connection, runID: runID,
                listedNothing: !listed.contains(collection), limit: limit, db: db)
            checks.append(check)
            // The check counted what the sweep would mark: none, and the sweep has nothing to do.
            if check.refusal == nil, check.deleting > 0 {
                counts[collection, default: RosterCounts()].deleted += try RosterWriter.markUnseenDeleted(
                    collection: collection, connection: connection, runID: runID, db: db)
            }
            let c = counts[collection] ?? RosterCounts()
            try RosterStore.refreshStatuses(
                db, collection: collection, rows: nil, changed: c.created + c.updated + c.deleted, connection: connection, at: now())
        }
        let refused = checks.filter { $0.refusal != nil }
        if throwing, !refused.isEmpty { throw MassDeletionRefused(checks: refused, limit: limit) }
    }
}

extension RosterStore {
    /// A whole import in one transaction, fed batch by batch by `body` (the CSV zip as it is
    /// read): every collection's rows, the rejects, and the deletions a bulk file implies.
    /// Nothing is written if `body` or anything else throws, nor when a bulk file would delete
    /// more than `limit` allows (``MassDeletionRefused``).
    ///
    /// `alone`: the caller is a command of its own (`passback roster import`), not a server, and
    /// the import may take the database alone if no other process has it open (see
    /// ``withImportSettings(_:alone:_:)``): this process's idle readers are closed first.
    public func applyStream(
        connection: String, runID: Int64, limit: RosterDeletionLimit = RosterDeletionLimit(), alone: Bool = false, now: @escaping () -> Date,
        _ body: (RosterImportSink) throws -> Void
    ) throws -> [RosterCollection: RosterCounts] {
        if alone {
            pool.releaseMemory()
            database.readers.closeAll()
        }
        return try pool.writeWithoutTransaction { db in
            try Self.withImportSettings(db, alone: alone) {
                var counts: [RosterCollection: RosterCounts] = [:]
                try db.inTransaction {
                    let sink = RosterImportSink(db: db, connection: connection, runID: runID, limit: limit, now: now)
                    try body(sink)
                    try sink.finish()
                    counts = sink.counts
                    return .commit
                }
                return counts
            }
        }
    }

    /// What ``applyStream`` would do, worked out in a transaction that is then rolled back:
    /// nothing is written (not even the connection or a run).
    public func previewStream(
        connection: ConnectionSettings, limit: RosterDeletionLimit, at now: Date,
        _ body: (RosterImportSink) throws -> Void
    ) throws -> RosterPreview {
        struct Rollback: Error { var preview: RosterPreview }
        do {
            try pool.writeWithoutTransaction { db in
                try Self.withImportSettings(db, alone: false) {
                    try db.inTransaction {
                        try Self.saveConnection(connection, at: now, db: db)
                        let runID = try Self.startRun(connection: connection.id, source: "csv", mode: "full", at: now, db: db)
                        let sink = RosterImportSink(db: db, connection: connection.id, runID: runID, limit: limit, now: { now }, keepRejects: true)
                        try body(sink)
                        try sink.finish(throwing: false)
                        throw Rollback(preview: RosterPreview(counts: sink.counts, rejects: sink.rejects, deletions: sink.checks))
                    }
                }
            }
        } catch let rollback as Rollback {
            return rollback.preview
        }
        preconditionFailure("previewStream's transaction always rolls back")
    }

    /// Set for an import's transaction, on its connection, and put back after it. A large
    /// import touches more pages than SQLite's default 2 MB cache holds; spilling them to the
    /// WAL mid-transaction and reading them back cost more than the memory. New rows go in by
    /// chunks of one statement each, whose statement journal (what undoes a chunk a row of
    /// which is refused) is kept in memory instead of a temporary file (`temp_store`, which
    /// SQLite reads when a transaction begins: temporary data only, nothing of what commits).
    ///
    /// With `alone` (a command of its own, never the server), a database no other connection has
    /// open takes the import in rollback-journal mode: its new pages are written once, to the
    /// database, where in WAL mode they go to the WAL and then again to the database when it is
    /// checkpointed, after the import, on the import's time (a third of the time of a large first
    /// import). The rollback journal keeps the transaction all or nothing; `synchronous` is FULL
    /// meanwhile, as a rollback journal needs to survive a power loss. A process that opens the
    /// database during such an import waits for it (a reader while it writes its pages, a
    /// writer, the server starting, until it ends). With another connection open SQLite keeps WAL
    /// mode and the import runs as before. WAL mode is put back at the end; should another process
    /// have opened the database meanwhile and hold it past the busy timeout, the database stays in
    /// rollback mode until it is next opened by Passback, which sets WAL mode again.
    static func withImportSettings<T>(_ db: Database, alone: Bool, _ body: () throws -> T) throws -> T {
        let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
        let tempStore = try Int.fetchOne(db, sql: "PRAGMA temp_store") ?? 0
        let synchronous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 1
        try db.execute(sql: "PRAGMA cache_size = -32768")
        try db.execute(sql: "PRAGMA temp_store = MEMORY")
        // Refused (busy) or answered "wal" while other connections have the database open.
        let rollbackJournal = alone && (try? String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")) == "delete"
        if rollbackJournal { try db.execute(sql: "PRAGMA synchronous = FULL") }
        defer {
            if rollbackJournal {
                // Waits the busy timeout for a process that opened the database meanwhile; past it,
                // the next open by Passback sets WAL mode (GRDB's pool does at every open).
                _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                try? db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            }
            try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)")
            try? db.execute(sql: "PRAGMA temp_store = \(tempStore)")
        }
        return try body()
    }
}
