import Foundation
import GRDB

/// The SQLite cache: one `DatabasePool` (WAL, concurrent readers, one writer) over a file,
/// migrated to this build's schema when opened.
public final class PassbackDatabase: Sendable {
    /// The pool; only this target touches SQL. Its writer writes and the migrator reads through
    /// it; every other read goes through `read`.
    let pool: DatabasePool
    /// The connections `read` uses.
    let readers: Readers
    /// Where the file is.
    public let path: String

    /// Opens (creating if needed) and migrates the database at `path`. A statement that finds
    /// the database locked by another connection waits up to `busyTimeout` seconds, then
    /// throws an error `PassbackDatabase.isBusy` recognizes.
    /// - Throws: `StoreError.newerSchema` for a database written by a newer Passback.
    public init(path: String, busyTimeout: Double = 10) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
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
        // At once: the gateway's 4 execution threads, a short query on a thread that receives
        // requests, and those threads' token checks each hold a reader. With 5 (GRDB's default) a
        // receiving thread could wait for a reader a long query on a lane holds.
        readers = Readers(path: path, configuration: config, count: 8)
    }

    /// Runs `body` in a read transaction (a snapshot of the database as its first statement found
    /// it) on a read-only connection. Not reentrant.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try readers.read(body)
    }

    deinit {
        // The read-only connections close before the pool's writer, so that the writer is the
        // file's last connection and checkpoints the WAL into it (a read-only one cannot).
        readers.closeAll()
    }

    /// Whether an error is SQLite's "database is locked" (`SQLITE_BUSY`, `SQLITE_LOCKED`, any
    /// extended code): another connection held the lock past the busy timeout. The request
    /// may succeed if it is tried again; nothing is wrong with it.
    public static func isBusy(_ error: (any Error)?) -> Bool {
        guard let e = error as? DatabaseError else { return false }
        return e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED
    }

    /// What `probe` found.
    public enum Health: String, Sendable {
        case ok
        /// Another connection holds a lock that kept the probe from reading or writing in time.
        case busy
        /// The file cannot be opened or read.
        case unreadable
    }

    /// Can the database be read and written within `timeout` seconds? A connection of its own
    /// (so neither the pool's longer busy timeout nor its queue of writers holds it up) reads a
    /// row and takes the write lock, then rolls back. Blocks its thread up to `timeout`.
    public func probe(timeout: Double) -> Health {
        var config = Configuration()
        config.busyMode = .timeout(timeout)
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            try queue.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                defer { try? db.execute(sql: "ROLLBACK") }
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM connection")
            }
            try queue.close()
            return .ok
        } catch {
            return Self.isBusy(error) ? .busy : .unreadable
        }
    }

    /// Names of the migrations applied, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Migrator.applied(db) }
    }
}
