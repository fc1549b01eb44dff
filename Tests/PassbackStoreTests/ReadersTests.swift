import Foundation
import GRDB
import PassbackCore
import PassbackTesting
import Testing

@testable import PassbackStore

/// `PassbackDatabase.read`, on the store's own read-only connections (`Readers`), keeps what
/// GRDB's `DatabasePool.read` promised: a snapshot per read, nothing written, a connection left
/// clean after an error, a schema another process changed seen at the next read, and a bound on
/// how many read at once.
@Suite("The store's read connections")
struct ReadersTests {
    static func count(_ db: Database) throws -> Int { try Int.fetchOne(db, sql: "SELECT count(*) FROM connection")! }

    static func addConnection(_ path: String, _ id: String) throws {
        try rawQueue(path).write { db in
            try db.execute(
                sql: "INSERT INTO connection (id, base_url, profile, created_at, updated_at) VALUES (?, 'https://sis.example.org', '{}', '', '')",
                arguments: [id])
        }
    }

    /// Starts a thread that reads, signals `holding` while its read is open, keeps it open until
    /// `release` is signalled, and leaves `ended` once the read is over.
    static func holdRead(_ database: PassbackDatabase, holding: DispatchSemaphore, release: DispatchSemaphore, ended: DispatchGroup) {
        ended.enter()
        Thread.detachNewThread {
            _ = try? database.read { db in
                _ = try Self.count(db)
                holding.signal()
                release.wait()
            }
            ended.leave()
        }
    }

    /// A connection "north" and a roster run of it to import into.
    static func rosterRun(_ database: PassbackDatabase) throws -> (RosterStore, Int64) {
        let roster = RosterStore(database)
        try roster.saveConnection(ConnectionSettings(id: "north", baseURL: URL(string: "https://sis.example.org")!), at: at("2026-08-01T00:00:00.000Z"))
        return (roster, try roster.startRun(connection: "north", source: "csv", mode: "full", at: at("2026-08-01T00:00:00.000Z")))
    }

    /// Imports nothing as a command that may have the file alone; whether the write-ahead log was
    /// there during the import (in rollback-journal mode, which SQLite allows only to the one
    /// connection open, it is gone).
    static func importAlone(_ roster: RosterStore, _ runID: Int64, _ path: String) throws -> Bool {
        var walDuring = true
        _ = try roster.applyStream(connection: "north", runID: runID, alone: true, now: { at("2026-08-01T00:00:01.000Z") }) { _ in
            walDuring = FileManager.default.fileExists(atPath: path + "-wal")
        }
        return walDuring
    }

    @Test("a read sees one snapshot: a row committed between its statements shows in the next read only")
    func snapshot() throws {
        try withTemporaryDatabaseFile { path in
            let database = try PassbackDatabase(path: path)
            let (before, during) = try database.read { db in
                let before = try Self.count(db)
                try Self.addConnection(path, "north")
                return (before, try Self.count(db))
            }
            #expect(before == 0 && during == 0)
            #expect(try database.read(Self.count) == 1)
        }
    }

    @Test("a read that throws leaves its connection out of any transaction, and a read cannot write")
    func errorsAndWrites() throws {
        try withTemporaryDatabaseFile { path in
            let database = try PassbackDatabase(path: path)
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try database.read { db in
                    _ = try Self.count(db)
                    throw Stop()
                }
            }
            // The same connection (the only one opened) reads the newest data, in a new transaction.
            try Self.addConnection(path, "north")
            #expect(try database.read(Self.count) == 1)
            #expect(throws: DatabaseError.self) {
                try database.read { db in
                    try db.execute(
                        sql: "INSERT INTO connection (id, base_url, profile, created_at, updated_at) VALUES ('south', 'https://sis.example.org', '{}', '', '')")
                }
            }
            #expect(try database.read(Self.count) == 1)
            #expect(try database.read { db in db.isInsideTransaction })
        }
    }

    @Test("a column another connection adds is in the schema the next read sees")
    func schemaChange() throws {
        try withTemporaryDatabaseFile { path in
            let database = try PassbackDatabase(path: path)
            let columns = { try database.read { db in try db.columns(in: "connection").map(\.name) } }
            #expect(try !columns().contains("added_later"))
            try rawQueue(path).write { db in try db.execute(sql: "ALTER TABLE connection ADD COLUMN added_later TEXT") }
            #expect(try columns().contains("added_later"))
        }
    }

    @Test("an import that may have the file alone closes this process's idle read connections first")
    func importAlone() throws {
        try withTemporaryDatabaseFile { path in
            let database = try PassbackDatabase(path: path)
            let (roster, runID) = try Self.rosterRun(database)
            #expect(try database.read(Self.count) == 1)
            let walDuring = try Self.importAlone(roster, runID, path)
            #expect(!walDuring)
            #expect(try database.read(Self.count) == 1)
        }
    }

    @Test("an import that may have the file alone waits for a read in progress and closes its connection too")
    func importAloneWaitsForRead() throws {
        try withTemporaryDatabaseFile { path in
            let database = try PassbackDatabase(path: path)
            let (roster, runID) = try Self.rosterRun(database)
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let readEnded = DispatchGroup()
            Self.holdRead(database, holding: holding, release: release, ended: readEnded)
            holding.wait()
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { release.signal() }
            let walDuring = try Self.importAlone(roster, runID, path)
            #expect(readEnded.wait(timeout: .now() + 10) == .success)
            #expect(!walDuring, "the import ran beside the read's open connection")
            #expect(try database.read(Self.count) == 1)
        }
    }

    @Test("a database let go checkpoints its write-ahead log into the file and removes it")
    func closeCheckpoints() throws {
        try withTemporaryDatabaseFile { path in
            do {
                let database = try PassbackDatabase(path: path)
                try RosterStore(database).saveConnection(
                    ConnectionSettings(id: "north", baseURL: URL(string: "https://sis.example.org")!), at: at("2026-08-01T00:00:00.000Z"))
                #expect(try database.read(Self.count) == 1)
                #expect(FileManager.default.fileExists(atPath: path + "-wal"))
            }
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "a read-only connection closed last and left the log behind")
            #expect(try rawQueue(path).read(Self.count) == 1)
        }
    }

    @Test("a read waits out a lock another connection holds for a moment, whatever the writer's busy timeout")
    func readWaitsForLock() throws {
        try withTemporaryDatabaseFile { path in
            // A file in rollback-journal mode, where a writer's exclusive lock keeps readers out, as
            // SQLite's rare cases in WAL mode (recovery, the last connection closing) do for a moment.
            var lockerConfiguration = Configuration()
            lockerConfiguration.allowsUnsafeTransactions = true // the lock outlives one access
            let locker = try DatabaseQueue(path: path, configuration: lockerConfiguration)
            try locker.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                try db.execute(sql: "CREATE TABLE connection (id TEXT)")
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(0.05)
            let readers = Readers(path: path, configuration: configuration, count: 1)
            #expect(try readers.read(Self.count) == 0)
            try locker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE TRANSACTION") }
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
                try? locker.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
            }
            #expect(try readers.read(Self.count) == 0)
        }
    }

    @Test("eight reads at once; a ninth waits for one of them to end")
    func bound() throws {
        try withTemporaryDatabaseFile { path in
            let database = try PassbackDatabase(path: path)
            let release = DispatchSemaphore(value: 0)
            let holding = DispatchSemaphore(value: 0)
            let ended = DispatchGroup()
            for _ in 0..<8 { Self.holdRead(database, holding: holding, release: release, ended: ended) }
            for _ in 0..<8 { holding.wait() }
            let ninth = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                _ = try? database.read(Self.count)
                ninth.signal()
            }
            #expect(ninth.wait(timeout: .now() + 0.2) == .timedOut, "a ninth read ran while eight held their connections")
            for _ in 0..<8 { release.signal() }
            #expect(ninth.wait(timeout: .now() + 10) == .success)
            #expect(ended.wait(timeout: .now() + 10) == .success)
        }
    }
}
