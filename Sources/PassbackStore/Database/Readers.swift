import Dispatch
import GRDB
import Synchronization

/// The store's read-only connections, each read one deferred transaction (a snapshot), as
/// GRDB's `DatabasePool.read` gives. Kept here rather than in the pool because the widget's page
/// makes three reads, and the pool's way of lending a reader and opening its transaction cost
/// each read about 4 % of the request's CPU at four connections (`perf`, the medium benchmark):
/// a `DispatchQueue.sync` and a lock to lend the connection, a key path built on every loan,
/// and `BEGIN`/`COMMIT` prepared anew on every read. Here a connection is taken from a list under
/// a mutex, and its transaction statements are prepared once (GRDB's statement cache).
///
/// At most `count` reads run at once; one more waits (blocking its thread) for a connection, as
/// it did in the pool. A connection is opened when first needed and kept.
final class Readers: Sendable {
    /// A connection. Only the read that took it uses it.
    private final class Reader: @unchecked Sendable {
        let queue: DatabaseQueue
        /// The schema version its schema cache was read at.
        var schemaVersion: Int32?

        init(_ queue: DatabaseQueue) { self.queue = queue }
    }

    private let idle = Mutex<[Reader]>([])
    private let slots: DispatchSemaphore
    private let count: Int
    /// Held by `closeAll` while it gathers every slot, so that two of them cannot each hold some.
    private let closing = DispatchSemaphore(value: 1)
    private let path: String
    private let configuration: Configuration

    /// `configuration` is the pool's; these connections are opened read-only with it, and a
    /// statement that finds the file locked waits up to 10 s whatever its busy timeout, as the
    /// pool's readers did: in WAL mode a reader meets a lock only in SQLite's rare cases (another
    /// process recovering the file or closing it last), and a short wait would fail a read for it.
    init(path: String, configuration: Configuration, count: Int) {
        var configuration = configuration
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        self.path = path
        self.configuration = configuration
        self.count = count
        slots = DispatchSemaphore(value: count)
    }

    /// Waits for the reads in progress to end, then closes every connection; later reads open
    /// new ones. A command that wants the file to itself, such as an import, calls it first, and
    /// the database calls it before its writer closes, so that the writer, closing last,
    /// checkpoints the WAL and removes it. Must not be called inside a read.
    func closeAll() {
        closing.wait()
        defer { closing.signal() }
        for _ in 0..<count { slots.wait() }
        defer { for _ in 0..<count { slots.signal() } }
        let readers = idle.withLock { idle in
            defer { idle = [] }
            return idle
        }
        for reader in readers { try? reader.queue.close() }
    }

    /// Runs `body` in a read transaction of its own: it sees the database as it was when its first
    /// statement ran, whatever is written meanwhile. Not reentrant: a read inside a read takes a
    /// second connection.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        let reader = try idle.withLock { $0.popLast() } ?? Reader(DatabaseQueue(path: path, configuration: configuration))
        defer { idle.withLock { $0.append(reader) } }
        return try reader.queue.inDatabase { db in
            try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
            do {
                // Another process may have migrated the file: GRDB's schema cache is then stale.
                let version = try db.schemaVersion()
                if version != reader.schemaVersion {
                    db.clearSchemaCache()
                    reader.schemaVersion = version
                }
                let value = try body(db)
                try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                return value
            } catch {
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK TRANSACTION") }
                throw error
            }
        }
    }
}
