import Foundation
import GRDB

/// The SQLite cache: one `DatabasePool` (WAL, concurrent readers, one writer) over a file,
/// migrated to this build's schema when opened.
public final class PassbackDatabase: Sendable {
    /// The pool; only this target touches SQL.
    let pool: DatabasePool
    /// Where the file is.
    public let path: String

    /// Opens (creating if needed) and migrates the database at `path`.
    /// - Throws: `StoreError.newerSchema` for a database written by a newer Passback.
    public init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // NORMAL is durable across application crashes in WAL mode; only a power loss
            // can undo the last transactions, and the outbox's idempotent writes cover that.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError(.migrationFailed, "cannot open the database at \(path): \(error)")
        }
        self.path = path
        try Migrator.migrate(pool)
    }

    /// Names of the migrations applied, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Migrator.applied(db) }
    }
}
