import Foundation
import GRDB
import GRDBSQLite
import PassbackCore

/// The SQL of rostering, run inside a caller's transaction.
enum RosterWriter {
    /// Upserts rows of one collection. New rows are inserted; rows whose fingerprint changed
    /// are updated; all are stamped as seen by `runID` (so a full pull can find what vanished).
    /// A row the database refuses (a CHECK on an enum column) is rejected, the rest go on.
    static func upsert(
        _ rows: [RosterRow], collection: RosterCollection, connection: String, runID: Int64, location: (Int) -> String,
        statements: BatchStatement.Cache? = nil, db: Database
    ) throws -> (RosterCounts, [RosterReject]) {
        var counts = RosterCounts()
        var rejects: [RosterReject] = []
        guard !rows.isEmpty else { return (counts, rejects) }
        let table = collection.table
        let columnNames = rows[0].names
        let allColumns = ["connection_id", "sourced_id", "status", "date_last_modified", "metadata", "fingerprint", "seen_run_id"] + columnNames
        // A row the table holds already is left to the update below: the insert does nothing
        // on its sourcedId (only on that: a CHECK or NOT NULL fails as it would for an update).
        let insertSQL =
            "INSERT INTO \(table) (\(allColumns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: allColumns.count).joined(separator: ", ")))"
            + " ON CONFLICT (connection_id, sourced_id) DO NOTHING"
        /// A plain INSERT of `rows` rows: it fails, changing nothing, if any of them is refused or there already.
        func chunkInsertSQL(rows: Int) -> String {
            let one = "(" + Array(repeating: "?", count: allColumns.count).joined(separator: ", ") + ")"
            return "INSERT INTO \(table) (\(allColumns.joined(separator: ", "))) VALUES " + Array(repeating: one, count: rows).joined(separator: ", ")
        }
        let findSQL = "SELECT id, fingerprint, status FROM \(table) WHERE connection_id = ? AND sourced_id = ?"
        let updateSQL = "UPDATE \(table) SET " + allColumns.dropFirst(2).map { "\($0) = ?" }.joined(separator: ", ") + " WHERE id = ?"
        let touchSQL = "UPDATE \(table) SET seen_run_id = ? WHERE id = ?"
        // The batch's own statements, values bound straight to SQLite. A statement whose last
        // step failed reports that failure again when reused, so after a refused row they are
        // made anew.
        var touch = try BatchStatement.cached(db, sql: touchSQL, in: statements)
        var insert = try BatchStatement.cached(db, sql: insertSQL, in: statements)
        var update = try BatchStatement.cached(db, sql: updateSQL, in: statements)
        var find = try BatchStatement.cached(db, sql: findSQL, in: statements)
        /// The stored row with this sourcedId, if any.
        func existing(_ sourcedId: String) throws -> (id: Int64, fingerprint: String, status: String)? {
            find.begin()
            find.bind(connection)
            find.bind(sourcedId)
            return try find.fetchOne().map { ($0[0], $0[1], $0[2]) }
        }
        let child = collection.childTable
        let childDeleteSQL = child.map { "DELETE FROM \($0.table) WHERE \($0.parentColumn) = ?" } ?? ""
        let childInsertSQL = child.map { "INSERT INTO \($0.table) (\($0.parentColumn), \($0.valueColumn)) VALUES (?, ?)" } ?? ""
        var childDelete = child == nil ? nil : try BatchStatement.cached(db, sql: childDeleteSQL, in: statements)
        var childInsert = child == nil ? nil : try BatchStatement.cached(db, sql: childInsertSQL, in: statements)

        /// Binds what an insert and an update both set, in `allColumns` order from `status`.
        func bindContent(_ row: RosterRow, _ statement: inout BatchStatement) {
            let h = row.header
            statement.bind(h.status.rawValue)
            statement.bind(h.dateLastModified)
            statement.bind(h.metadata)
            statement.bind(h.fingerprint)
            statement.bind(runID)
            if row.names == columnNames {
                for value in row.values { statement.bind(value) }
            } else {
                for name in columnNames { statement.bind(row[column: name]) }
            }
        }

        /// Upserts one row: inserted if new, else updated or only stamped as seen; a row the
        /// database refuses is rejected, keeping the record it names.
        func upsertOne(_ index: Int) throws {
            let row = rows[index]
            let h = row.header
            do {
                let id: Int64
                let isNew: Bool
                insert.begin()
                insert.bind(connection)
                insert.bind(h.sourcedId)
                bindContent(row, &insert)
                try insert.execute()
                if insert.changes > 0 {
                    id = insert.lastInsertedRowID
                    isNew = true
                    if h.status == .toBeDeleted { counts.deleted += 1 } else { counts.created += 1 }
                } else {
                    guard let old = try existing(h.sourcedId) else {
                        throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "\(table) \(h.sourcedId): neither inserted nor found")
                    }
                    id = old.id
                    isNew = false
                    if old.fingerprint == h.fingerprint && old.status == h.status.rawValue {
                        touch.begin()
                        touch.bind(runID)
                        touch.bind(id)
                        try touch.execute()
                        counts.unchanged += 1
                        return
                    }
                    update.begin()
                    bindContent(row, &update)
                    update.bind(id)
                    try update.execute()
                    if h.status == .toBeDeleted && old.status != RosterStatus.toBeDeleted.rawValue { counts.deleted += 1 } else { counts.updated += 1 }
                }
                if var delete = childDelete, var add = childInsert {
                    // A new row has no children yet.
                    if !isNew {
                        delete.begin()
                        delete.bind(id)
                        try delete.execute()
                    }
                    // Each value once: the child table's key is (parent, value).
                    for value in row.children.count > 1 ? Array(Set(row.children)) : row.children {
                        add.begin()
                        add.bind(id)
                        add.bind(value)
                        try add.execute()
                    }
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                touch = try BatchStatement.fresh(db, sql: touchSQL, in: statements)
                insert = try BatchStatement.fresh(db, sql: insertSQL, in: statements)
                update = try BatchStatement.fresh(db, sql: updateSQL, in: statements)
                find = try BatchStatement.fresh(db, sql: findSQL, in: statements)
                if child != nil {
                    childDelete = try BatchStatement.fresh(db, sql: childDeleteSQL, in: statements)
                    childInsert = try BatchStatement.fresh(db, sql: childInsertSQL, in: statements)
                }
                counts.rejected += 1
                var reason = constraintReason(error, table: table)
                if let old = try existing(h.sourcedId) {
                    // The refused update left the row as it was; it still counts as listed.
                    touch.begin()
                    touch.bind(runID)
                    touch.bind(old.id)
                    try touch.execute()
                    reason += keptNote
                }
                rejects.append(RosterReject(collection: collection, sourcedId: h.sourcedId, location: location(index), reason: reason))
            }
        }

        // New rows go in by chunks of one INSERT each: SQLite's work per statement (a
        // statement transaction, and the lookup table a CHECK's IN list is built into) is
        // done once for the chunk instead of once per row. A chunk that fails in any way a
        // row could (a row already there, a CHECK, a NOT NULL) changes nothing (the statement
        // is undone) and its rows are taken one by one as above. Once a chunk meets a row
        // already stored, the rest go one by one: the collection is being updated, not filled.
        // At most 64 rows, and never more parameters than this SQLite takes in one statement
        // (999 before 3.32; a person row has 16).
        let chunkSize = max(1, min(64, Int(sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_VARIABLE_NUMBER, -1)) / allColumns.count))
        var chunked = rows.count >= chunkSize
        var chunkInsert = chunked ? try BatchStatement.cached(db, sql: chunkInsertSQL(rows: chunkSize), in: statements) : nil
        let childLookupSQL = child.map {
            "INSERT INTO \($0.table) (\($0.parentColumn), \($0.valueColumn)) SELECT id, ? FROM \(table) WHERE connection_id = ? AND sourced_id = ?"
        }
        let childLookup = try childLookupSQL.map { try BatchStatement.cached(db, sql: $0, in: statements) }
        var index = 0
        while index < rows.count {
            let end = min(index + chunkSize, rows.count)
            if chunked, end - index == chunkSize, var statement = chunkInsert,
                rows[index..<end].allSatisfy({ $0.names == columnNames })
            {
                statement.begin()
                for i in index..<end {
                    statement.bind(connection)
                    statement.bind(rows[i].header.sourcedId)
                    bindContent(rows[i], &statement)
                }
                var inserted = false
                do {
                    try statement.execute()
                    inserted = true
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                    // Made anew: a statement whose step failed reports it again when reused.
                    chunkInsert = try BatchStatement.fresh(db, sql: chunkInsertSQL(rows: chunkSize), in: statements)
                    if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                        chunked = false
                    }
                }
                if inserted {
                    for i in index..<end {
                        if rows[i].header.status == .toBeDeleted { counts.deleted += 1 } else { counts.created += 1 }
                        // Each value once: the child table's key is (parent, value).
                        if var add = childLookup {
                            for value in rows[i].children.count > 1 ? Array(Set(rows[i].children)) : rows[i].children {
                                add.begin()
                                add.bind(value)
                                add.bind(connection)
                                add.bind(rows[i].header.sourcedId)
                                try add.execute()
                            }
                        }
                    }
                    index = end
                    continue
                }
            }
            for i in index..<end { try upsertOne(i) }
            index = end
        }
        return (counts, rejects)
    }

    /// Appended to a reject whose record the cache already holds.
    static let keptNote = "; the existing record was kept unchanged"
    /// Appended to a reject of a complete listing that names no record.
    static let noIDNote = "; it has no readable sourcedId, so it cannot keep an existing record: one no other row names is marked deleted"

    /// A rejected row changes nothing, and in a complete listing (a bulk file, a full pull) it
    /// still counts as listed: the record it names is stamped as seen by `runID`, so the sweep
    /// does not mark it deleted. Each reject of `collection` says what became of its record.
    static func keep(
        _ rejects: [RosterReject], collection: RosterCollection, connection: String, runID: Int64, complete: Bool,
        db: Database
    ) throws -> [RosterReject] {
        guard collection.isCached else { return rejects }
        let find = try db.cachedStatement(sql: "SELECT id, seen_run_id FROM \(collection.table) WHERE connection_id = ? AND sourced_id = ?")
        let touch = try db.cachedStatement(sql: "UPDATE \(collection.table) SET seen_run_id = ? WHERE id = ?")
        var out = rejects
        for i in out.indices where out[i].collection == collection {
            guard let sid = out[i].sourcedId else {
                if complete { out[i].reason += noIDNote }
                continue
            }
            guard let row = try Row.fetchOne(find, arguments: [connection, sid]) else { continue }
            // Already stamped by this run: another row of the listing stored it (a duplicate
            // sourcedId), or this reject was read before (a resumed pull re-reads a page).
            if (row["seen_run_id"] as Int64?) == runID { continue }
            try touch.execute(arguments: [runID, row["id"] as Int64])
            out[i].reason += keptNote
        }
        return out
    }

    /// What the sweep after a complete listing would mark deleted: active rows it did not see.
    static func deletionCheck(
        collection: RosterCollection, connection: String, runID: Int64, listedNothing: Bool, limit: RosterDeletionLimit,
        sampleSize: Int = RosterDeletionCheck.sampleSize, db: Database
    ) throws -> RosterDeletionCheck {
        let table = collection.table
        // Both counts in one pass over the collection (a large one takes a while to scan).
        let counts = try Row.fetchOne(
            db,
            sql: """
                SELECT count(*) AS active, coalesce(sum(seen_run_id IS NULL OR seen_run_id != ?), 0) AS deleting
                FROM \(table) WHERE connection_id = ? AND status = 'active'
                """, arguments: [runID, connection])
        let active: Int = counts?["active"] ?? 0
        let deleting: Int = counts?["deleting"] ?? 0
        let unseen = "connection_id = ? AND status = 'active' AND (seen_run_id IS NULL OR seen_run_id != ?)"
        let sample =
            deleting == 0
            ? []
            : try String.fetchAll(
                db, sql: "SELECT sourced_id FROM \(table) WHERE \(unseen) ORDER BY sourced_id LIMIT ?",
                arguments: [connection, runID, sampleSize])
        return RosterDeletionCheck(
            collection: collection, active: active, deleting: deleting, sample: sample, listedNothing: listedNothing,
            refusal: limit.refusal(deleting: deleting, active: active, listedNothing: listedNothing))
    }

    /// After a complete full pull: rows of the connection that the pull did not see are gone
    /// from the SIS. They are marked `tobedeleted`, never dropped, so history and enrollment
    /// checks stay right.
    static func markUnseenDeleted(collection: RosterCollection, connection: String, runID: Int64, db: Database) throws -> Int {
        try db.execute(
            sql: """
                UPDATE \(collection.table) SET status = 'tobedeleted'
                WHERE connection_id = ? AND status = 'active' AND (seen_run_id IS NULL OR seen_run_id != ?)
                """, arguments: [connection, runID])
        return db.changesCount
    }

    static func constraintReason(_ error: DatabaseError, table: String) -> String {
        let message = error.message ?? "constraint failed"
        if error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK {
            // "CHECK constraint failed: role IN (...)" names the column first.
            if let colon = message.range(of: ": ") {
                let rule = message[colon.upperBound...]
                let column = rule.split(separator: " ").first.map(String.init) ?? "a column"
                return "\(column) has a value the OneRoster 1.1 model does not allow (\(rule))"
            }
        }
        if error.extendedResultCode == .SQLITE_CONSTRAINT_NOTNULL {
            return "a required field is missing (\(message))"
        }
        return message
    }
}
