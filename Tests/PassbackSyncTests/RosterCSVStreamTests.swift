import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import PassbackTesting
import Testing

@Suite("CSV imports streamed in bounded memory")
struct RosterCSVStreamTests {
    static let connection = ConnectionSettings(id: "district", baseURL: URL(string: "file:///csv")!, auth: .none)

    @Test("a zip read and stored in small batches equals the SIS; a duplicate in a later batch is still rejected")
    func smallBatches() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let sandbox = Sandbox(configuration: SandboxConfiguration(plan: DistrictPlan(schools: 2, students: 120, classes: 10)), clock: clock)
            let bulk = try RosterCSVTests.export(sandbox.data, mode: .bulk)
            defer { try? FileManager.default.removeItem(at: bulk) }
            var importer = RosterImporter(store: store, clock: clock)
            importer.csvBatchSize = 7
            let report = try importer.importCSV(at: bulk, connection: Self.connection)
            #expect(report.total.rejected == 0)
            for (collection, kind) in Expected.kinds {
                let cached = try store.snapshot(connection: "district", collection: collection)
                let expected = Expected.rows(kind, sandbox.data.all(kind)).mapValues { $0.filter { $0.key != "date_last_modified" } }
                #expect(cached == expected, "\(collection)")
            }

            // The same users.csv with its first row repeated at the end, far past the first batch.
            let scratch = FileManager.default.temporaryDirectory.appending(path: "dup-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let users = try #require(try OneRosterCSVArchive.read(zipAt: bulk).users)
            let first = try #require(users.records.first)
            try OneRosterCSVWriter.write(OneRosterCSVExport(users: users.records + [first]), mode: .bulk, to: scratch.appending(path: "dup.zip"))
            let again = try importer.importCSV(at: scratch.appending(path: "dup.zip"), connection: Self.connection)
            #expect(again.total.rejected == 1)
            #expect(again.rejects.first?.reason.contains("already used on line 2") == true, "\(again.rejects)")
            #expect(again.counts[.users]?.unchanged == users.records.count)
        }
    }

    @Test(
        "an import into a database no other connection has open is written once, through a rollback journal (the WAL does not grow), and leaves it in WAL mode; with another connection open it goes through the WAL"
    )
    func journalOfAFirstImport() async throws {
        let clock = ManualWallClock(start)
        let sandbox = Sandbox(configuration: SandboxConfiguration(plan: DistrictPlan(schools: 2, students: 3_000, classes: 120)), clock: clock)
        let bulk = try RosterCSVTests.export(sandbox.data, mode: .bulk)
        defer { try? FileManager.default.removeItem(at: bulk) }
        func walBytes(_ db: PassbackDatabase) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: db.path + "-wal"))?[.size] as? Int) ?? 0
        }
        /// The journal mode the database file is in, as another process sees it.
        func journalMode(_ db: PassbackDatabase) throws -> String {
            let shell = Process(), out = Pipe()
            shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            shell.arguments = [db.path, "PRAGMA journal_mode;"]
            shell.standardOutput = out
            try shell.run()
            shell.waitUntilExit()
            return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Alone: the pages go to the database once; the WAL stays as small as it was.
        try await withDatabase { db in
            var importer = RosterImporter(store: RosterStore(db), clock: clock)
            importer.csvAlone = true
            let report = try importer.importCSV(at: bulk, connection: Self.connection)
            #expect(report.total.created > 6_000 && report.total.rejected == 0)
            #expect(walBytes(db) < 256 << 10, "the WAL grew to \(walBytes(db)) bytes")
            #expect(try journalMode(db) == "wal")
        }
        // Another process's connection open (the sqlite3 shell, as a running server would be): WAL mode, the same rows.
        try await withDatabase { db in
            let other = try SQLiteShell(db.path)
            defer { other.quit() }
            other.run("SELECT count(*) FROM sqlite_schema;")
            var importer = RosterImporter(store: RosterStore(db), clock: clock)
            importer.csvAlone = true
            let report = try importer.importCSV(at: bulk, connection: Self.connection)
            #expect(report.total.created > 6_000 && report.total.rejected == 0)
            #expect(walBytes(db) > 1 << 20, "the import went through the WAL: \(walBytes(db)) bytes")
            #expect(try journalMode(db) == "wal")
        }
    }

    @Test("roster import refuses a zip bomb at once, changes nothing, and its run says why it failed")
    func zipBombChangesNothing() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let sandbox = Sandbox(configuration: SandboxConfiguration(), clock: clock)
            let good = try RosterCSVTests.export(sandbox.data, mode: .bulk)
            defer { try? FileManager.default.removeItem(at: good) }
            let importer = RosterImporter(store: store, clock: clock)
            _ = try importer.importCSV(at: good, connection: Self.connection)
            let before = try Expected.kinds.map { try store.snapshot(connection: "district", collection: $0.0) }

            let bomb = FileManager.default.temporaryDirectory.appending(path: "bomb-\(UUID().uuidString).zip")
            defer { try? FileManager.default.removeItem(at: bomb) }
            try HostileExport.zipOfZeros(to: bomb, bytes: 1 << 30)
            let started = ContinuousClock.now
            let error = #expect(throws: OneRosterCSVError.self) { try importer.importCSV(at: bomb, connection: Self.connection) }
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(error?.file == "users.csv")
            #expect(error?.message.contains("csv.maxCompressionRatio") == true)
            #expect(try Expected.kinds.map { try store.snapshot(connection: "district", collection: $0.0) } == before)
            let run = try #require(try store.run(2))
            #expect(run.state == "failed")
            #expect(run.error?.contains("csv.maxCompressionRatio") == true)
        }
    }
}
