import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
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
