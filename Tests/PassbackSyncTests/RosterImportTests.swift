import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

/// Checks every rostered collection of the cache against the sandbox, row by row.
func expectCacheMatches(_ store: RosterStore, _ data: SandboxData, connection: String = "district", sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (collection, kind) in Expected.kinds {
        let cached = try store.snapshot(connection: connection, collection: collection)
        let expected = Expected.rows(kind, data.all(kind))
        #expect(cached.count == expected.count, "\(collection): \(cached.count) cached, \(expected.count) in the SIS", sourceLocation: sourceLocation)
        var mismatches = 0
        for (id, row) in expected where cached[id] != row {
            mismatches += 1
            if mismatches <= 3 { Issue.record("\(collection) \(id): cached \(cached[id] ?? [:]) != SIS \(row)", sourceLocation: sourceLocation) }
        }
        #expect(mismatches == 0, "\(collection): \(mismatches) rows differ", sourceLocation: sourceLocation)
    }
}

@Suite("Rostering over REST")
struct RosterRESTTests {
    @Test("a first pull is full and the cache equals the SIS row by row, through an odd page cap")
    func fullPull() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.maxPageSize = 37 }, clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running, pageSize: 100)
                let report = try await RosterImporter(store: store, clock: clock).pull(
                    connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock))
                #expect(report.mode == "full")
                #expect(
                    report.total.created
                        == RecordKind.allCases.filter { ![.demographics, .lineItems, .results].contains($0) }.map { running.sandbox.data.count($0) }.reduce(
                            0, +))
                #expect(report.total.rejected == 0)
                try expectCacheMatches(store, running.sandbox.data)
                let run = try #require(try store.run(report.runID))
                #expect(run.state == "succeeded")
                #expect(run.counts["users"]?.created == running.sandbox.data.count(.users))
            }
        }
    }

    @Test("a second pull is a delta that brings exactly what changed: edits, deletions and new records")
    func delta() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running)
                let importer = RosterImporter(store: store, clock: clock)
                let client = ClientFactory.client(for: conn, clock: clock)
                _ = try await importer.pull(connection: conn.settings, client: client)
                clock.advance(by: 86_400)
                let d = running.sandbox.data
                let students = d.all(.users).filter { $0["role"] == "student" }.prefix(3).map { $0["sourcedId"]!.stringValue! }
                for id in students { d.modify(.users, id) { $0["familyName"] = "Changed" } }
                let enrollment = try #require(d.all(.enrollments).first)["sourcedId"]!.stringValue!
                d.markDeleted(.enrollments, enrollment)
                var newClass = try #require(d.all(.classes).first)
                newClass["sourcedId"] = "new-class"
                newClass["title"] = "Astronomy - Period 8"
                d.upsert(.classes, newClass, countAsWrite: false)
                clock.advance(by: 60)

                let report = try await importer.pull(connection: conn.settings, client: client)
                #expect(report.mode == "delta")
                #expect(report.counts[.users]?.updated == 3)
                #expect(report.counts[.enrollments]?.deleted == 1)
                #expect(report.counts[.classes]?.created == 1)
                #expect(report.total.created + report.total.updated + report.total.deleted == 5)
                #expect(report.counts[.orgs]?.unchanged == 0, "a delta does not re-read what did not change")
                try expectCacheMatches(store, d)
                #expect(try store.count(connection: "district", collection: .enrollments, status: .toBeDeleted) == 1)
            }
        }
    }

    @Test("a pull that dies halfway resumes where it stopped, without duplicates, and deletes nothing it saw")
    func interruptedAndResumed() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running, pageSize: 20)
                var importer = RosterImporter(store: store, clock: clock)
                importer.pullRetry.maxWait = 0
                // Token + orgs + sessions + courses + a few pages of users, then the "process" dies.
                let dying = ClientFactory.client(for: conn, transport: DyingTransport(inner: URLSessionTransport(), limit: 8), clock: clock)
                await #expect(throws: RosterPullError.self) { _ = try await importer.pull(connection: conn.settings, client: dying) }
                let cursor = try store.cursor(connection: "district", collection: .users)
                #expect(cursor.activeOffset > 0, "the users pull stopped midway and knows where")
                let usersBefore = try store.count(connection: "district", collection: .users)
                #expect(usersBefore > 0 && usersBefore < running.sandbox.data.count(.users))

                let report = try await importer.pull(connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock))
                #expect(report.resumed)
                try expectCacheMatches(store, running.sandbox.data)
                #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == 0)
                // Created across both runs adds up to the SIS's count: nothing twice.
                #expect((report.counts[.users]?.created ?? 0) + usersBefore == running.sandbox.data.count(.users))
                #expect(try store.cursor(connection: "district", collection: .users).activeRunID == nil)
            }
        }
    }

    @Test("a record the 1.1 model does not allow is rejected with where and why; the rest loads")
    func rejectedRows() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let d = running.sandbox.data
                let victim = d.all(.users)[5]["sourcedId"]!.stringValue!
                d.modify(.users, victim) { $0["role"] = "wizard" }
                let broken = d.all(.classes)[2]["sourcedId"]!.stringValue!
                d.modify(.classes, broken) { $0["course"] = nil }
                let store = RosterStore(db)
                let conn = settings(for: running)
                let report = try await RosterImporter(store: store, clock: clock).pull(
                    connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock))
                #expect(report.total.rejected == 2)
                let role = try #require(report.rejects.first { $0.sourcedId == victim })
                #expect(role.reason.contains("role 'wizard'"))
                #expect(role.location.hasPrefix("GET users offset "))
                let course = try #require(report.rejects.first { $0.sourcedId == broken })
                #expect(course.reason.contains("class.course"))
                #expect(try store.count(connection: "district", collection: .users) == d.count(.users) - 1)
                #expect(try store.rejects(runID: report.runID).count == 2)
            }
        }
    }

    @Test("a full pull finds records the SIS removed outright and keeps them as deleted")
    func fullPullFindsRemovals() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running)
                let importer = RosterImporter(store: store, clock: clock)
                let client = ClientFactory.client(for: conn, clock: clock)
                _ = try await importer.pull(connection: conn.settings, client: client)
                let gone = running.sandbox.data.all(.users).last!["sourcedId"]!.stringValue!
                running.sandbox.data.delete(.users, gone)
                clock.advance(by: 3600)
                let delta = try await importer.pull(connection: conn.settings, client: client)
                #expect(delta.total.deleted == 0, "a delta cannot see a record that vanished")
                let full = try await importer.pull(connection: conn.settings, client: client, forceFull: true)
                #expect(full.mode == "full")
                #expect(full.counts[.users]?.deleted == 1)
                #expect(try store.snapshot(connection: "district", collection: .users)[gone]?["status"] == "tobedeleted")
            }
        }
    }
}

@Suite("Rostering from OneRoster CSV zips")
struct RosterCSVTests {
    static func export(_ data: SandboxData, mode: CSVFileMode, only ids: Set<String>? = nil) throws -> URL {
        func take<T: OneRosterObject>(_ kind: RecordKind, _ type: T.Type) -> [T] {
            data.all(kind).compactMap { try? T(json: $0) }.filter { ids == nil || ids!.contains($0.sourcedId) }
        }
        let url = FileManager.default.temporaryDirectory.appending(path: "roster-\(UUID().uuidString).zip")
        try OneRosterCSVWriter.write(
            OneRosterCSVExport(
                orgs: take(.orgs, Org.self), academicSessions: take(.academicSessions, AcademicSession.self), courses: take(.courses, Course.self),
                classes: take(.classes, Class.self), users: take(.users, User.self), enrollments: take(.enrollments, Enrollment.self),
                categories: take(.categories, OneRoster.Category.self)), mode: mode, to: url)
        return url
    }

    @Test("a bulk zip loads and equals the SIS; a delta zip then brings its changes")
    func bulkThenDelta() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let sandbox = Sandbox(configuration: SandboxConfiguration(plan: DistrictPlan(schools: 3, students: 600, classes: 24)), clock: clock)
            let bulk = try Self.export(sandbox.data, mode: .bulk)
            defer { try? FileManager.default.removeItem(at: bulk) }
            let connection = ConnectionSettings(id: "district", baseURL: URL(string: "file:///csv")!, auth: .none)
            let importer = RosterImporter(store: store, clock: clock)
            let first = try importer.importCSV(at: bulk, connection: connection)
            #expect(first.mode == "full")
            #expect(first.total.rejected == 0)
            // Bulk files leave dateLastModified empty: compare without it.
            for (collection, kind) in Expected.kinds {
                let cached = try store.snapshot(connection: "district", collection: collection)
                let expected = Expected.rows(kind, sandbox.data.all(kind)).mapValues { $0.filter { $0.key != "date_last_modified" } }
                #expect(cached == expected, "\(collection)")
            }

            clock.advance(by: 3600)
            let d = sandbox.data
            let renamed = d.all(.users).filter { $0["role"] == "teacher" }.prefix(2).map { $0["sourcedId"]!.stringValue! }
            for id in renamed { d.modify(.users, id) { $0["givenName"] = "Renamed" } }
            let dropped = d.all(.enrollments)[10]["sourcedId"]!.stringValue!
            d.markDeleted(.enrollments, dropped)
            let delta = try Self.export(d, mode: .delta, only: Set(renamed + [dropped]))
            defer { try? FileManager.default.removeItem(at: delta) }
            let second = try importer.importCSV(at: delta, connection: connection)
            #expect(second.mode == "delta")
            #expect(second.counts[.users]?.updated == 2)
            #expect(second.counts[.enrollments]?.deleted == 1)
            let users = try store.snapshot(connection: "district", collection: .users)
            #expect(renamed.allSatisfy { users[$0]?["given_name"] == "Renamed" })
            #expect(try store.snapshot(connection: "district", collection: .enrollments)[dropped]?["status"] == "tobedeleted")
            #expect(try store.count(connection: "district", collection: .users) == d.count(.users), "a delta does not delete what it does not list")
        }
    }

    @Test("a broken file fails the import and changes nothing")
    func brokenFile() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let sandbox = Sandbox(configuration: SandboxConfiguration(), clock: clock)
            let good = try Self.export(sandbox.data, mode: .bulk)
            let connection = ConnectionSettings(id: "district", baseURL: URL(string: "file:///csv")!, auth: .none)
            _ = try RosterImporter(store: store, clock: clock).importCSV(at: good, connection: connection)
            let before = try Expected.kinds.map { try store.snapshot(connection: "district", collection: $0.0) }

            // Same data, one file with an unterminated quote.
            let folder = FileManager.default.temporaryDirectory.appending(path: "broken-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let archive = try OneRosterCSVArchive.read(zipAt: good)
            #expect(archive.users != nil)
            try "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\nfile.orgs,absent\n".write(
                to: folder.appending(path: "manifest.csv"), atomically: true, encoding: .utf8)
            try """
            sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
            u1,,,true,d1-sch-001,student,"ava,,Ava,Kim,,,,,,,09,
            """.write(to: folder.appending(path: "users.csv"), atomically: true, encoding: .utf8)
            let zip = folder.appending(path: "broken.zip")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1],'w'); [z.write(f, f.split('/')[-1]) for f in sys.argv[2:]]; z.close()",
                zip.path, folder.appending(path: "manifest.csv").path, folder.appending(path: "users.csv").path
            ]
            try process.run()
            process.waitUntilExit()
            let error = #expect(throws: OneRosterCSVError.self) { try RosterImporter(store: store, clock: clock).importCSV(at: zip, connection: connection) }
            #expect(error?.file == "users.csv")
            #expect(error?.line == 2)
            let after = try Expected.kinds.map { try store.snapshot(connection: "district", collection: $0.0) }
            #expect(after == before)
        }
    }

    @Test("a bad row is rejected with its file, line and reason; the other rows load")
    func badRow() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let sandbox = Sandbox(configuration: SandboxConfiguration(), clock: clock)
            let victim = sandbox.data.all(.users)[3]["sourcedId"]!.stringValue!
            sandbox.data.modify(.users, victim) { $0["role"] = "wizard" }
            let bulk = try Self.export(sandbox.data, mode: .bulk)
            defer { try? FileManager.default.removeItem(at: bulk) }
            let report = try RosterImporter(store: store, clock: clock).importCSV(
                at: bulk, connection: ConnectionSettings(id: "district", baseURL: URL(string: "file:///csv")!, auth: .none))
            #expect(report.total.rejected == 1)
            let reject = try #require(report.rejects.first)
            #expect(reject.sourcedId == victim)
            #expect(reject.location.hasPrefix("users.csv line "))
            #expect(reject.reason.contains("wizard"))
            #expect(try store.count(connection: "district", collection: .users) == sandbox.data.count(.users) - 1)
        }
    }
}
