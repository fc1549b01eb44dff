import Foundation
import OneRoster
import OneRosterSandbox
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

@Suite("Roster safety: a mass deletion waits for the operator")
struct MassDeletionTests {
    /// A store loaded from `CSVFixture.school(users:)`: `users` students and a teacher.
    static func loaded(_ store: RosterStore, _ clock: ManualWallClock, users: Int) async throws -> (CSVFixture, RosterReport) {
        let fixture = CSVFixture.school(users: users)
        let zip = try await fixture.zip()
        defer { try? FileManager.default.removeItem(at: zip) }
        let report = try RosterImporter(store: store, clock: clock).importCSV(at: zip, connection: csvConnection)
        #expect(report.total.rejected == 0)
        return (fixture, report)
    }

    static func students(_ range: ClosedRange<Int>) -> Set<String> { Set(range.map { String(format: "u-%03d", $0) }) }

    /// Imports `fixture` with `importer`, keeping the zip only for the call.
    static func importing(_ fixture: CSVFixture, _ importer: RosterImporter, dryRun: Bool = false) async throws -> RosterReport {
        let zip = try await fixture.zip()
        defer { try? FileManager.default.removeItem(at: zip) }
        return try importer.importCSV(at: zip, connection: csvConnection, dryRun: dryRun)
    }

    @Test("a header-only bulk users.csv is refused when it would delete users, however few, and nothing changes")
    func headerOnly() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            var (fixture, _) = try await Self.loaded(store, clock, users: 5)
            let before = try snapshots(store)
            fixture.rows["users"] = []
            let importer = RosterImporter(store: store, clock: clock)
            let error = await #expect(throws: MassDeletionRefused.self) { _ = try await Self.importing(fixture, importer) }
            let check = try #require(error?.checks.first)
            #expect(check.collection == .users)
            #expect(check.listedNothing)
            #expect(check.deleting == 6)
            #expect(error?.description.contains("names no record at all") == true, "\(error?.description ?? "")")
            #expect(error?.description.contains("--allow-mass-delete") == true)
            #expect(try snapshots(store) == before)
            // The run says why it failed.
            let runs = try (1...5).compactMap { try store.run(Int64($0)) }
            #expect(runs.last?.state == "failed")
            #expect(runs.last?.error?.contains("users") == true)
        }
    }

    @Test("a bulk file missing 21 % of 100 users is refused whole: no deletion, and no other change either")
    func overTheLimit() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            var (fixture, _) = try await Self.loaded(store, clock, users: 99)
            let before = try snapshots(store)
            fixture.remove("users", Self.students(1...21))
            fixture.set("users", "u-050", "givenName", "Renamed")
            let importer = RosterImporter(store: store, clock: clock)
            let error = await #expect(throws: MassDeletionRefused.self) { _ = try await Self.importing(fixture, importer) }
            let check = try #require(error?.checks.first)
            #expect(check.collection == .users)
            #expect(check.deleting == 21)
            #expect(check.active == 100)
            #expect(Set(check.sample) == Self.students(1...21))
            #expect(
                error?.description.contains("users: the listing would mark 21 of 100 active rows (21 %) deleted, over the limit of 20 % and 10 rows") == true,
                "\(error?.description ?? "")")
            #expect(try snapshots(store) == before)
        }
    }

    @Test("deletions at the limit go through: 20 of 100, and 10 of 31")
    func atTheLimit() async throws {
        for (users, missing) in [(99, 20), (30, 10)] {
            let clock = ManualWallClock(start)
            try await withDatabase { db in
                let store = RosterStore(db)
                var (fixture, _) = try await Self.loaded(store, clock, users: users)
                fixture.remove("users", Self.students(1...missing))
                let report = try await Self.importing(fixture, RosterImporter(store: store, clock: clock))
                #expect(report.counts[.users]?.deleted == missing)
                #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == missing)
            }
        }
    }

    @Test("--allow-mass-delete (or roster.allowMassDelete) lets an operator go ahead")
    func allowed() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            var (fixture, _) = try await Self.loaded(store, clock, users: 99)
            fixture.remove("users", Self.students(1...21))
            var importer = RosterImporter(store: store, clock: clock)
            importer.deletionLimit.allowMassDelete = true
            let report = try await Self.importing(fixture, importer)
            #expect(report.counts[.users]?.deleted == 21)
        }
    }

    @Test("a dry run lists what would be deleted and writes nothing, not even a run")
    func dryRun() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            var (fixture, first) = try await Self.loaded(store, clock, users: 99)
            let before = try snapshots(store)
            fixture.remove("users", Self.students(1...21))
            fixture.set("users", "u-050", "givenName", "Renamed")
            fixture.set("users", "u-060", "role", "Student")
            let report = try await Self.importing(fixture, RosterImporter(store: store, clock: clock), dryRun: true)
            #expect(report.dryRun)
            #expect(report.runID == 0)
            let users = try #require(report.deletions.first { $0.collection == .users })
            #expect(users.deleting == 21)
            #expect(users.refusal == .overLimit)
            #expect(Set(users.sample) == Self.students(1...21))
            #expect(report.counts[.users]?.updated == 1)
            #expect(report.rejects.map(\.sourcedId) == ["u-060"])
            #expect(report.rejects.first?.reason.hasSuffix("the existing record was kept unchanged") == true)
            #expect(try snapshots(store) == before)
            #expect(try store.run(first.runID + 1) == nil, "no run was recorded")
        }
    }

    // MARK: REST

    @Test("a full REST pull that would delete 30 % of users stores what it read, deletes nothing, fails the run; with the flag it finishes")
    func restOverTheLimit() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running)
                var importer = RosterImporter(store: store, clock: clock)
                let client = ClientFactory.client(for: conn, clock: clock)
                _ = try await importer.pull(connection: conn.settings, client: client)
                let d = running.sandbox.data
                let users = d.all(.users).map { $0["sourcedId"]!.stringValue! }
                let gone = Array(users.suffix(users.count * 3 / 10))
                for id in gone { d.delete(.users, id) }
                let renamed = users[0]
                d.modify(.users, renamed) { $0["givenName"] = "Renamed" }
                clock.advance(by: 3600)

                let error = await #expect(throws: MassDeletionRefused.self) {
                    _ = try await importer.pull(connection: conn.settings, client: client, forceFull: true)
                }
                #expect(error?.checks.first?.collection == .users)
                #expect(error?.checks.first?.deleting == gone.count)
                #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == 0)
                #expect(
                    try store.snapshot(connection: "district", collection: .users)[renamed]?["given_name"] == "Renamed",
                    "what the pull read is stored; only the deletions wait")
                let cursor = try store.cursor(connection: "district", collection: .users)
                let openRun = try #require(cursor.activeRunID)
                let run = try #require(try store.run(openRun))
                #expect(run.state == "failed")
                #expect(run.error?.contains("users: the listing would mark \(gone.count) of \(users.count) active rows") == true, "\(run.error ?? "")")

                // Refused again without the flag; with it, the pull re-reads users and sweeps.
                await #expect(throws: MassDeletionRefused.self) { _ = try await importer.pull(connection: conn.settings, client: client, forceFull: true) }
                importer.deletionLimit.allowMassDelete = true
                let report = try await importer.pull(connection: conn.settings, client: client, forceFull: true)
                #expect(report.counts[.users]?.deleted == gone.count)
                #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == gone.count)
                #expect(try store.cursor(connection: "district", collection: .users).activeRunID == nil)
            }
        }
    }

    @Test("a full REST pull of an empty collection is refused while the cache has active rows")
    func restEmptyCollection() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running)
                let importer = RosterImporter(store: store, clock: clock)
                let client = ClientFactory.client(for: conn, clock: clock)
                _ = try await importer.pull(connection: conn.settings, client: client)
                let d = running.sandbox.data
                for c in d.all(.categories) { d.delete(.categories, c["sourcedId"]!.stringValue!) }
                let error = await #expect(throws: MassDeletionRefused.self) {
                    _ = try await importer.pull(connection: conn.settings, client: client, forceFull: true)
                }
                #expect(error?.checks.first?.refusal == .emptyListing)
                #expect(try store.count(connection: "district", collection: .categories, status: .active) == 6)
            }
        }
    }

    @Test("a REST dry run lists what a full pull would delete and writes nothing")
    func restDryRun() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running)
                let importer = RosterImporter(store: store, clock: clock)
                let client = ClientFactory.client(for: conn, clock: clock)
                let first = try await importer.pull(connection: conn.settings, client: client)
                let before = try snapshots(store)
                let d = running.sandbox.data
                let users = d.all(.users).map { $0["sourcedId"]!.stringValue! }
                let gone = Array(users.suffix(25))
                for id in gone { d.delete(.users, id) }
                d.modify(.users, users[0]) { $0["givenName"] = "Renamed" }

                let report = try await importer.preview(connection: conn.settings, client: client, forceFull: true)
                #expect(report.dryRun)
                let check = try #require(report.deletions.first { $0.collection == .users })
                #expect(check.deleting == 25)
                #expect(Set(check.sample) == Set(gone))
                #expect(check.refusal == (25 * 5 > users.count ? .overLimit : nil))
                #expect(report.counts[.users]?.updated == 1)
                #expect(report.deletions.filter { $0.collection != .users }.allSatisfy { $0.deleting == 0 })
                #expect(try snapshots(store) == before)
                #expect(try store.run(first.runID + 1) == nil)
                #expect(try store.cursor(connection: "district", collection: .users).activeRunID == nil)
            }
        }
    }
}

@Suite("Roster safety from the command line")
struct MassDeletionCommandLineTests {
    @Test("roster import refuses a mass deletion naming the flag, --dry-run shows it, --allow-mass-delete does it")
    func importFlags() async throws {
        let dbPath = FileManager.default.temporaryDirectory.appending(path: "passback-massdelete-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + suffix) } }
        var fixture = CSVFixture.school(users: 99)
        let full = try await fixture.zip()
        defer { try? FileManager.default.removeItem(at: full) }
        let base = ["--database", dbPath, "--connection", "district"]
        let first = try await runPassback(["roster", "import", full.path, "--new-connection"] + base)
        #expect(first.status == 0, "\(first.err)")

        fixture.remove("users", MassDeletionTests.students(1...30))
        let partial = try await fixture.zip()
        defer { try? FileManager.default.removeItem(at: partial) }
        let refused = try await runPassback(["roster", "import", partial.path] + base)
        #expect(refused.status != 0)
        #expect(refused.err.contains("would mark 30 of 100 active rows (30 %) deleted"), "\(refused.err)")
        #expect(refused.err.contains("--allow-mass-delete"))
        #expect(refused.err.contains("Nothing was imported"))

        let dry = try await runPassback(["roster", "import", partial.path, "--dry-run"] + base)
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.contains("nothing was written"), "\(dry.out)")
        #expect(dry.out.contains("would mark deleted: users, 30 of 100 active rows (30 %); over the limit"), "\(dry.out)")
        #expect(dry.out.contains("u-001, u-002"))

        let allowed = try await runPassback(["roster", "import", partial.path, "--allow-mass-delete"] + base)
        #expect(allowed.status == 0, "\(allowed.err)")
        #expect(allowed.out.contains("users"))
        let store = RosterStore(try PassbackDatabase(path: dbPath))
        #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == 30)
    }

    @Test("roster sync --full refuses a mass deletion naming the flag, --dry-run shows it, --allow-mass-delete does it")
    func syncFlags() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 60, classes: 2, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1)
                let config = try writeConfig(f)
                defer { try? FileManager.default.removeItem(atPath: config) }
                let env = ["CONNECTION_DISTRICT_CLIENT_SECRET": f.connection.secret]
                let base = ["roster", "sync", "--config", config, "--database", db.path, "--connection", "district", "--full"]
                let students = running.sandbox.data.all(.users).filter { $0["role"] == "student" }.prefix(20).map { $0["sourcedId"]!.stringValue! }
                for id in students { running.sandbox.data.delete(.users, id) }
                let store = RosterStore(db)

                let refused = try await runPassback(base, environment: env)
                #expect(refused.status != 0)
                #expect(refused.err.contains("users: the listing would mark 20 of "), "\(refused.err)")
                #expect(refused.err.contains("--allow-mass-delete"))
                #expect(refused.err.contains("reads users again from the start"))
                #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == 0)

                let dry = try await runPassback(base + ["--dry-run"], environment: env)
                #expect(dry.status == 0, "\(dry.err)")
                #expect(dry.out.contains("Dry run of a REST pull (full)"), "\(dry.out)")
                #expect(dry.out.contains("would mark deleted: users, 20 of "), "\(dry.out)")
                #expect(dry.out.contains(students.sorted()[0]))
                #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == 0)

                let allowed = try await runPassback(base + ["--allow-mass-delete"], environment: env)
                #expect(allowed.status == 0, "\(allowed.err)")
                #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == 20)
            }
        }
    }

    @Test("roster.maxDeleteShare, roster.maxDeleteRows and roster.allowMassDelete are read, and a bad share is refused")
    func configuration() async throws {
        let c = try await PassbackConfiguration.load(
            file: nil,
            environment: [
                "ROSTER_MAX_DELETE_SHARE": "0.05", "ROSTER_MAX_DELETE_ROWS": "3",
                "ROSTER_ALLOW_MASS_DELETE": "true"
            ])
        #expect(c.rosterDeletionLimit == RosterDeletionLimit(maxShare: 0.05, maxRows: 3, allowMassDelete: true))
        #expect(try await PassbackConfiguration.load(file: nil, environment: [:]).rosterDeletionLimit == RosterDeletionLimit())
        await #expect(throws: PassbackConfiguration.Problem.self) {
            _ = try await PassbackConfiguration.load(file: nil, environment: ["ROSTER_MAX_DELETE_SHARE": "20"])
        }
    }
}
