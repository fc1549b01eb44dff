import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

let csvConnection = ConnectionSettings(id: "district", baseURL: URL(string: "file:///csv")!, auth: .none)

/// Every cached collection of the connection, row by row (bookkeeping columns left out).
func snapshots(_ store: RosterStore, connection: String = "district") throws -> [RosterCollection: [String: [String: String]]] {
    var out: [RosterCollection: [String: [String: String]]] = [:]
    for c in RosterCollection.cached { out[c] = try store.snapshot(connection: connection, collection: c) }
    return out
}

/// One way a row can be wrong, and a piece of what the reject must say.
struct BadCSVRow: Sendable, CustomTestStringConvertible {
    var name: String
    var file: String
    var sourcedId: String
    /// `nil`: the row gets a field too many.
    var column: String?
    var value = ""
    var says: String
    var testDescription: String { name }
}

/// One way a record from the SIS can be wrong.
struct BadRecord: Sendable, CustomTestStringConvertible {
    var name: String
    var kind: RecordKind
    /// Picks the record to break.
    var pick: @Sendable (JSONObject) -> Bool
    var change: @Sendable (inout JSONObject) -> Void
    var says: String
    var testDescription: String { name }
}

@Suite("Roster safety: rejected rows keep their record")
struct RejectedRowsKeepTheirRecord {
    static let csvCases: [BadCSVRow] = [
        BadCSVRow(name: "a bad date", file: "academicSessions", sourcedId: "gp-1", column: "startDate", value: "2026-13-45", says: "must be a date"),
        BadCSVRow(
            name: "a start after the end", file: "academicSessions", sourcedId: "gp-1", column: "startDate", value: "2026-12-01", says: "is after endDate"),
        BadCSVRow(name: "a ragged row", file: "users", sourcedId: "u-003", column: nil, says: "fields but the header has"),
        BadCSVRow(name: "a user's role Student", file: "users", sourcedId: "u-003", column: "role", value: "Student", says: "role 'Student'"),
        BadCSVRow(name: "a NUL character in a name", file: "users", sourcedId: "u-003", column: "givenName", value: "Ana\u{0}", says: "NUL character"),
        BadCSVRow(name: "an enrollment's role Student", file: "enrollments", sourcedId: "e-u-003", column: "role", value: "Student", says: "role 'Student'"),
        BadCSVRow(name: "primary=yes", file: "enrollments", sourcedId: "e-u-003", column: "primary", value: "yes", says: "true or false"),
        BadCSVRow(name: "an empty role", file: "enrollments", sourcedId: "e-u-003", column: "role", says: "column role"),
        BadCSVRow(name: "an unknown status", file: "users", sourcedId: "u-003", column: "status", value: "deleted", says: "must be active or tobedeleted"),
        BadCSVRow(name: "status TobeDeleted", file: "users", sourcedId: "u-003", column: "status", value: "TobeDeleted", says: "must be active or tobedeleted"),
        BadCSVRow(name: "an empty username", file: "users", sourcedId: "u-003", column: "username", says: "column username"),
        BadCSVRow(name: "no orgSourcedIds", file: "users", sourcedId: "u-003", column: "orgSourcedIds", says: "column orgSourcedIds"),
        BadCSVRow(name: "no givenName", file: "users", sourcedId: "u-003", column: "givenName", says: "column givenName"),
        BadCSVRow(name: "no familyName", file: "users", sourcedId: "u-003", column: "familyName", says: "column familyName"),
        BadCSVRow(name: "no enabledUser", file: "users", sourcedId: "u-003", column: "enabledUser", says: "column enabledUser"),
        BadCSVRow(name: "enabledUser=maybe", file: "users", sourcedId: "u-003", column: "enabledUser", value: "maybe", says: "true or false"),
        BadCSVRow(name: "userIds not in pairs", file: "users", sourcedId: "u-003", column: "userIds", value: "LDAP:ada", says: "{type:identifier}"),
        BadCSVRow(name: "an org type outside 1.1", file: "orgs", sourcedId: "s-1", column: "type", value: "galaxy", says: "type 'galaxy'"),
        BadCSVRow(name: "an org with no name", file: "orgs", sourcedId: "s-1", column: "name", says: "column name"),
        BadCSVRow(name: "a session with no schoolYear", file: "academicSessions", sourcedId: "gp-1", column: "schoolYear", says: "column schoolYear"),
        BadCSVRow(name: "a course with no org", file: "courses", sourcedId: "c-1", column: "orgSourcedId", says: "column orgSourcedId"),
        BadCSVRow(name: "a course with no title", file: "courses", sourcedId: "c-1", column: "title", says: "column title"),
        BadCSVRow(name: "a class with no terms", file: "classes", sourcedId: "k-1", column: "termSourcedIds", says: "column termSourcedIds"),
        BadCSVRow(name: "a class with no classType", file: "classes", sourcedId: "k-1", column: "classType", says: "column classType"),
        BadCSVRow(name: "a classType outside 1.1", file: "classes", sourcedId: "k-1", column: "classType", value: "lab", says: "classType 'lab'"),
        BadCSVRow(name: "an enrollment with no user", file: "enrollments", sourcedId: "e-u-003", column: "userSourcedId", says: "column userSourcedId"),
        BadCSVRow(name: "a category with no title", file: "categories", sourcedId: "cat-1", column: "title", says: "column title")
    ]

    @Test("in a bulk CSV import, for every reason a row is rejected", arguments: csvCases)
    func csv(_ c: BadCSVRow) async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let importer = RosterImporter(store: store, clock: clock)
            let good = CSVFixture.school()
            let goodZip = try await good.zip()
            defer { try? FileManager.default.removeItem(at: goodZip) }
            let first = try importer.importCSV(at: goodZip, connection: csvConnection)
            #expect(first.total.rejected == 0, "\(first.rejects)")
            let before = try snapshots(store)

            var bad = good
            if let column = c.column { bad.set(c.file, c.sourcedId, column, c.value) } else { bad.makeRagged(c.file, c.sourcedId) }
            let badZip = try await bad.zip()
            defer { try? FileManager.default.removeItem(at: badZip) }
            clock.advance(by: 3600)
            let report = try importer.importCSV(at: badZip, connection: csvConnection)
            #expect(report.rejects.count == 1, "\(report.rejects)")
            let reject = try #require(report.rejects.first)
            #expect(reject.sourcedId == c.sourcedId)
            #expect(reject.collection.rawValue == c.file)
            #expect((reject.location + ": " + reject.reason).contains(c.says), "\(reject.location): \(reject.reason)")
            #expect(reject.reason.hasSuffix("; the existing record was kept unchanged"), "\(reject.reason)")
            #expect(report.total.deleted == 0)
            #expect(try snapshots(store) == before, "every record is as it was")
            #expect(try store.rejects(runID: report.runID) == report.rejects)
        }
    }

    @Test("a row with no readable sourcedId says it cannot keep anything")
    func csvWithoutSourcedId() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let importer = RosterImporter(store: store, clock: clock)
            var fixture = CSVFixture.school()
            let goodZip = try await fixture.zip()
            defer { try? FileManager.default.removeItem(at: goodZip) }
            _ = try importer.importCSV(at: goodZip, connection: csvConnection)
            fixture.set("users", "u-003", "sourcedId", "")
            let badZip = try await fixture.zip()
            defer { try? FileManager.default.removeItem(at: badZip) }
            let report = try importer.importCSV(at: badZip, connection: csvConnection)
            let reject = try #require(report.rejects.first)
            #expect(reject.sourcedId == nil)
            #expect(reject.reason.contains("no readable sourcedId, so it cannot keep an existing record"), "\(reject.reason)")
            #expect(try store.snapshot(connection: "district", collection: .users)["u-003"]?["status"] == "tobedeleted")
        }
    }

    static let restCases: [BadRecord] = [
        BadRecord(
            name: "a bad date", kind: .academicSessions, pick: { $0["type"] == "gradingPeriod" }, change: { $0["startDate"] = "2026-13-45" },
            says: "must be a date"),
        BadRecord(
            name: "a start after the end", kind: .academicSessions, pick: { $0["type"] == "gradingPeriod" }, change: { $0["startDate"] = "2031-01-01" },
            says: "is after endDate"),
        BadRecord(name: "a user's role Student", kind: .users, pick: { $0["role"] == "student" }, change: { $0["role"] = "Student" }, says: "role 'Student'"),
        BadRecord(
            name: "a NUL character in a name", kind: .users, pick: { $0["role"] == "student" }, change: { $0["givenName"] = "Ana\u{0}" }, says: "NUL character"),
        BadRecord(name: "an enrollment's role Student", kind: .enrollments, pick: { _ in true }, change: { $0["role"] = "Student" }, says: "role 'Student'"),
        BadRecord(name: "primary=yes", kind: .enrollments, pick: { _ in true }, change: { $0["primary"] = "yes" }, says: "true or false"),
        BadRecord(name: "an empty role", kind: .enrollments, pick: { _ in true }, change: { $0["role"] = "" }, says: "enrollment.role: is required"),
        BadRecord(name: "an unknown status", kind: .users, pick: { _ in true }, change: { $0["status"] = "deleted" }, says: "must be active or tobedeleted"),
        BadRecord(
            name: "status TobeDeleted", kind: .enrollments, pick: { _ in true }, change: { $0["status"] = "TobeDeleted" },
            says: "must be active or tobedeleted"),
        BadRecord(name: "an empty username", kind: .users, pick: { _ in true }, change: { $0["username"] = "" }, says: "user.username: must not be empty"),
        BadRecord(name: "no orgs", kind: .users, pick: { _ in true }, change: { $0["orgs"] = .array([]) }, says: "user.orgs: is required"),
        BadRecord(name: "no familyName", kind: .users, pick: { _ in true }, change: { $0["familyName"] = nil }, says: "user.familyName: is required"),
        BadRecord(name: "no enabledUser", kind: .users, pick: { _ in true }, change: { $0["enabledUser"] = nil }, says: "user.enabledUser: is required"),
        BadRecord(name: "an org type outside 1.1", kind: .orgs, pick: { $0["type"] == "school" }, change: { $0["type"] = "galaxy" }, says: "type 'galaxy'"),
        BadRecord(
            name: "a session with no schoolYear", kind: .academicSessions, pick: { _ in true }, change: { $0["schoolYear"] = nil },
            says: "academicSession.schoolYear: is required"),
        BadRecord(name: "a class with no terms", kind: .classes, pick: { _ in true }, change: { $0["terms"] = .array([]) }, says: "class.terms: is required"),
        BadRecord(name: "a class with no course", kind: .classes, pick: { _ in true }, change: { $0["course"] = nil }, says: "class.course: is required"),
        BadRecord(name: "a course with no org", kind: .courses, pick: { _ in true }, change: { $0["org"] = nil }, says: "course.org: is required"),
        BadRecord(
            name: "a category with an empty title", kind: .categories, pick: { _ in true }, change: { $0["title"] = "" },
            says: "category.title: must not be empty")
    ]

    static func collection(_ kind: RecordKind) -> RosterCollection { Expected.kinds.first { $0.1 == kind }!.0 }

    @Test("in a full REST pull, for every reason a record is rejected", arguments: restCases)
    func rest(_ c: BadRecord) async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running)
                let importer = RosterImporter(store: store, clock: clock)
                let client = ClientFactory.client(for: conn, clock: clock)
                _ = try await importer.pull(connection: conn.settings, client: client)
                let before = try snapshots(store)

                let d = running.sandbox.data
                var record = try #require(d.all(c.kind).first(where: c.pick))
                let id = record["sourcedId"]!.stringValue!
                c.change(&record)
                d.inject(c.kind, replacing: id, with: record)
                clock.advance(by: 3600)
                let report = try await importer.pull(connection: conn.settings, client: client, forceFull: true)
                #expect(report.rejects.count == 1, "\(report.rejects)")
                let reject = try #require(report.rejects.first)
                #expect(reject.sourcedId == id)
                #expect(reject.collection == Self.collection(c.kind))
                #expect(reject.reason.contains(c.says), "\(reject.reason)")
                #expect(reject.reason.hasSuffix("; the existing record was kept unchanged"), "\(reject.reason)")
                #expect(report.total.deleted == 0)
                #expect(try snapshots(store) == before, "every record is as it was")
            }
        }
    }

    @Test("in a full REST pull that dies and resumes, a rejected record read before the death is kept")
    func restResumed() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running, pageSize: 20)
                var importer = RosterImporter(store: store, clock: clock)
                // The process "dies" (its transport stops): no waiting for it to come back.
                importer.pullRetry.maxWait = 0
                _ = try await importer.pull(connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock))
                let before = try snapshots(store)
                let d = running.sandbox.data
                var victim = d.all(.users)[1]
                let id = victim["sourcedId"]!.stringValue!
                victim["role"] = "Student"
                d.inject(.users, replacing: id, with: victim)
                clock.advance(by: 3600)

                let dying = ClientFactory.client(for: conn, transport: DyingTransport(inner: URLSessionTransport(), limit: 8), clock: clock)
                await #expect(throws: RosterPullError.self) { _ = try await importer.pull(connection: conn.settings, client: dying, forceFull: true) }
                let cursor = try store.cursor(connection: "district", collection: .users)
                #expect(cursor.activeMode == "full")
                #expect(
                    cursor.activeOffset >= 40,
                    "the pull died past the first pages of users, so the resume (one page back) does not read the victim again: offset \(cursor.activeOffset)")

                let report = try await importer.pull(connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock), forceFull: true)
                #expect(report.resumed)
                #expect(report.total.deleted == 0)
                #expect(try snapshots(store) == before)
                #expect(try store.count(connection: "district", collection: .users, status: .toBeDeleted) == 0)
            }
        }
    }

    @Test("a record with no readable sourcedId in a full pull says it cannot keep anything")
    func restWithoutSourcedId() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox(clock: clock) { running in
                let store = RosterStore(db)
                let conn = settings(for: running)
                let importer = RosterImporter(store: store, clock: clock)
                let client = ClientFactory.client(for: conn, clock: clock)
                _ = try await importer.pull(connection: conn.settings, client: client)
                let d = running.sandbox.data
                var category = try #require(d.all(.categories).first)
                let id = category["sourcedId"]!.stringValue!
                category["sourcedId"] = nil
                d.inject(.categories, replacing: id, with: category)
                let report = try await importer.pull(connection: conn.settings, client: client, forceFull: true)
                let reject = try #require(report.rejects.first)
                #expect(reject.sourcedId == nil)
                #expect(reject.reason.contains("no readable sourcedId, so it cannot keep an existing record"), "\(reject.reason)")
                #expect(try store.snapshot(connection: "district", collection: .categories)[id]?["status"] == "tobedeleted")
            }
        }
    }
}

@Suite("Roster safety: the standard's values")
struct RosterStandardValues {
    @Test("a delta row's status must be the standard's: TobeDeleted and deleted are rejected and delete nothing; 1.0's inactive deletes")
    func deltaStatus() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            let importer = RosterImporter(store: store, clock: clock)
            let bulk = CSVFixture.school()
            let bulkZip = try await bulk.zip()
            defer { try? FileManager.default.removeItem(at: bulkZip) }
            _ = try importer.importCSV(at: bulkZip, connection: csvConnection)

            var delta = bulk
            for name in CSVFixture.order { delta.modes[name] = "absent" }
            delta.modes["users"] = "delta"
            delta.rows["users"] = delta.rows["users"]!.filter { ["u-001", "u-002", "u-003"].contains($0["sourcedId"]) }
            for (id, status) in [("u-001", "TobeDeleted"), ("u-002", "deleted"), ("u-003", "inactive")] {
                delta.set("users", id, "status", status)
                delta.set("users", id, "dateLastModified", "2026-11-23T00:00:00Z")
            }
            let deltaZip = try await delta.zip()
            defer { try? FileManager.default.removeItem(at: deltaZip) }
            let report = try importer.importCSV(at: deltaZip, connection: csvConnection)
            #expect(report.mode == "delta")
            #expect(Set(report.rejects.compactMap(\.sourcedId)) == ["u-001", "u-002"])
            for reject in report.rejects {
                #expect(reject.location.contains("column status"))
                #expect(reject.reason.contains("must be active or tobedeleted (OneRoster 1.0's inactive is read as tobedeleted)"), "\(reject.reason)")
                #expect(reject.reason.hasSuffix("the existing record was kept unchanged"))
            }
            let users = try store.snapshot(connection: "district", collection: .users)
            #expect(users["u-001"]?["status"] == "active")
            #expect(users["u-002"]?["status"] == "active")
            #expect(users["u-003"]?["status"] == "tobedeleted")
            #expect(report.counts[.users]?.deleted == 1)
        }
    }

    @Test("demographics rejects are filed and counted under demographics")
    func demographicsRejects() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            let store = RosterStore(db)
            var fixture = CSVFixture.school()
            fixture.modes["demographics"] = "bulk"
            fixture.rows["demographics"] = [["sourcedId": "u-001", "birthDate": "2011-02-30"], ["sourcedId": "u-002", "birthDate": "2011-02-03"]]
            let zip = try await fixture.zip()
            defer { try? FileManager.default.removeItem(at: zip) }
            let report = try RosterImporter(store: store, clock: clock).importCSV(at: zip, connection: csvConnection)
            let reject = try #require(report.rejects.first)
            #expect(report.rejects.count == 1)
            #expect(reject.collection == .demographics)
            #expect(reject.location.hasPrefix("demographics.csv line 2"))
            #expect(report.counts[.demographics]?.rejected == 1)
            #expect(report.counts[.orgs]?.rejected == 0)
            #expect(try store.rejects(runID: report.runID).map(\.collection) == [.demographics])
            #expect(try store.run(report.runID)?.counts["demographics"]?.rejected == 1)
        }
    }
}
