import Foundation
import OneRoster
import PassbackConfig
import PassbackStore
import PassbackSync
import Testing

@Suite("Rostering configuration")
struct RosterConfigurationTests {
    @Test("roster.maxWaitSeconds and csv.* come from the file or the environment, reach the importer, and must be sensible")
    func keys() async throws {
        let defaults = try await PassbackConfiguration.load(file: nil, environment: [:])
        #expect(defaults.rosterMaxWaitSeconds == 300)
        #expect(defaults.csvLimits == .standard)
        let path = FileManager.default.temporaryDirectory.appending(path: "passback-config-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try
            #"{ "roster": { "maxWaitSeconds": 45 }, "csv": { "maxFieldBytes": 1000, "maxRowBytes": 5000, "maxEntryBytes": 9000000, "maxCompressionRatio": 50 } }"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let config = try await PassbackConfiguration.load(file: path, environment: ["CSV_MAX_COMPRESSION_RATIO": "40"])
        #expect(config.rosterMaxWaitSeconds == 45)
        #expect(config.csvLimits == CSVLimits(maxFieldBytes: 1000, maxRowBytes: 5000, maxEntryBytes: 9_000_000, maxCompressionRatio: 40))
        try await withDatabase { db in
            let importer = config.rosterImporter(store: RosterStore(db))
            #expect(importer.pullRetry.maxWait == 45)
            #expect(importer.csvLimits.maxFieldBytes == 1000)
        }
        for bad in [["ROSTER_MAX_WAIT_SECONDS": "-1"], ["CSV_MAX_FIELD_BYTES": "0"]] {
            await #expect(throws: PassbackConfiguration.Problem.self) { _ = try await PassbackConfiguration.load(file: nil, environment: bad) }
        }
    }

    @Test("connection.ID.rosterRefreshMinutes: daily unless set, 0 turns the schedule off, a negative value is refused naming the key")
    func refreshSchedule() async throws {
        let base = ["CONNECTION_IDS": "district", "CONNECTION_DISTRICT_BASE_URL": "https://sis.invalid/ims/oneroster/v1p1", "CONNECTION_DISTRICT_AUTH": "none"]
        #expect(try await PassbackConfiguration.load(file: nil, environment: base).connections["district"]?.settings.rosterRefreshMinutes == 1440)
        let off = base.merging(["CONNECTION_DISTRICT_ROSTER_REFRESH_MINUTES": "0"]) { $1 }
        #expect(try await PassbackConfiguration.load(file: nil, environment: off).connections["district"]?.settings.rosterRefreshMinutes == 0)
        let bad = base.merging(["CONNECTION_DISTRICT_ROSTER_REFRESH_MINUTES": "-5"]) { $1 }
        let error = await #expect(throws: PassbackConfiguration.Problem.self) { _ = try await PassbackConfiguration.load(file: nil, environment: bad) }
        #expect(error?.description.contains("connection.district.rosterRefreshMinutes") == true)
    }
}
