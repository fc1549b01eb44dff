import Foundation
import GRDB

/// Takes a streamed import batch by batch inside one transaction (see
/// ``RosterStore/applyStream(connection:runID:_:)``), so an import of any size is stored with
/// memory bounded by one batch and is still all or nothing.
public final class RosterImportSink {
    let db: Database
    let connection: String
    let runID: Int64
    /// What was applied so far, per collection.
    public private(set) var counts: [RosterCollection: RosterCounts] = [:]
    /// Collections given by a bulk file: what they did not list is marked deleted at the end.
    private(set) var bulk: [RosterCollection] = []

    init(db: Database, connection: String, runID: Int64) {
        self.db = db
        self.connection = connection
        self.runID = runID
    }

    /// Stores one batch of a collection's rows; `location(i)` says where `rows[i]` came from
    /// (asked only of a row the database refuses).
    public func apply(_ rows: [RosterRow], collection: RosterCollection, bulk isBulk: Bool, location: (Int) -> String) throws {
        if isBulk, !bulk.contains(collection) { bulk.append(collection) }
        let (applied, refused) = try RosterWriter.upsert(rows, collection: collection, connection: connection, runID: runID,
                                                         location: location, db: db)
        counts[collection, default: RosterCounts()] = counts[collection, default: RosterCounts()] + applied
        try RosterStore.insertRejects(refused, runID: runID, db: db)
    }

    /// Records rows refused before they reached the store (a bad field, a ragged row), counted
    /// under their own collection.
    public func reject(_ rejects: [RosterReject]) throws {
        for r in rejects { counts[r.collection, default: RosterCounts()].rejected += 1 }
        try RosterStore.insertRejects(rejects, runID: runID, db: db)
    }

    /// After the last batch: each bulk collection's rows that the import did not list are gone.
    func finish() throws {
        for collection in bulk {
            counts[collection, default: RosterCounts()].deleted += try RosterWriter.markUnseenDeleted(
                collection: collection, connection: connection, runID: runID, db: db)
        }
    }
}

extension RosterStore {
    /// A whole import in one transaction, fed batch by batch by `body` (the CSV zip as it is
    /// read): every collection's rows, the rejects, and the deletions a bulk file implies.
    /// Nothing is written if `body` or anything else throws.
    public func applyStream(connection: String, runID: Int64, _ body: (RosterImportSink) throws -> Void) throws -> [RosterCollection: RosterCounts] {
        try pool.write { db in
            // A large import touches more pages than SQLite's default 2 MB cache holds; spilling
            // them to the WAL mid-transaction and reading them back cost more than the memory.
            let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = -32768")
            defer { try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)") }
            let sink = RosterImportSink(db: db, connection: connection, runID: runID)
            try body(sink)
            try sink.finish()
            return sink.counts
        }
    }
}
