import Foundation
import GRDB
import PassbackCore
import Testing

@testable import PassbackStore

@Suite("Applying rostered rows")
struct RosterApplyTests {
    // Regression test for a bug this suite found (fixed). What it was:
    // RosterWriter.upsert (Sources/PassbackStore/Roster/RosterWriter.swift:50 and :53) reuses the
    // cached INSERT/UPDATE statement after a failed step; GRDB resets a statement before running
    // it again, and sqlite3_reset reports the previous step's CHECK failure, so the next
    // `execute` throws that old error before binding the next row. The catch at :64 then counts
    // the innocent next row as rejected (u-3 / s-1 here) and it is never stored.
    @Test("a user with a role outside OneRoster 1.1 is rejected and the rest of the page is stored")
    func badRoleIsRejected() throws {
        let fixture = try StoreFixture()
        let counts = try fixture.apply(
            [
                Rows.person("u-1", given: "Ana", family: "Lopez"),
                Rows.person("u-2", given: "Merlin", family: "Ambrosius", role: "wizard"),
                Rows.person("u-3", given: "Ben", family: "Okafor", role: "student")
            ], pageOffset: 40)

        #expect(counts.created == 2)
        #expect(counts.rejected == 1)
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .users) == 2)
        #expect(try Set(fixture.roster.snapshot(connection: fixture.connection, collection: .users).keys) == ["u-1", "u-3"])

        let rejects = try fixture.roster.rejects(runID: fixture.runID)
        let reject = try #require(rejects.first)
        #expect(rejects.count == 1)
        #expect(rejects.allSatisfy { $0.sourcedId == "u-2" }, "only the wizard is refused: \(rejects.map { $0.sourcedId ?? "-" })")
        #expect(reject.collection == .users)
        #expect(reject.sourcedId == "u-2")
        #expect(reject.location == "GET users offset 41")
        #expect(reject.reason.hasPrefix("role "), "the reason names the column first: \(reject.reason)")
    }

    // Regression test for a bug this suite found (fixed). What it was:
    // RosterWriter.upsert (Sources/PassbackStore/Roster/RosterWriter.swift:50 and :53) reuses the
    // cached INSERT/UPDATE statement after a failed step; GRDB resets a statement before running
    // it again, and sqlite3_reset reports the previous step's CHECK failure, so the next
    // `execute` throws that old error before binding the next row. The catch at :64 then counts
    // the innocent next row as rejected (u-3 / s-1 here) and it is never stored.
    @Test("an org of a type outside OneRoster 1.1 is rejected and the rest of the page is stored")
    func badOrgTypeIsRejected() throws {
        let fixture = try StoreFixture()
        let counts = try fixture.apply([
            Rows.org("d-1", name: "District", type: "district"),
            Rows.org("g-1", name: "Andromeda", type: "galaxy"),
            Rows.org("s-1", name: "North High", parent: "d-1")
        ])

        #expect(counts.created == 2)
        #expect(counts.rejected == 1)
        let orgs = try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)
        #expect(Set(orgs.keys) == ["d-1", "s-1"])
        #expect(orgs["s-1"]?["parent_sourced_id"] == "d-1")
        let reject = try #require(try fixture.roster.rejects(runID: fixture.runID).first)
        #expect(reject.sourcedId == "g-1")
        #expect(reject.reason.hasPrefix("type "), "the reason names the column first: \(reject.reason)")
    }

    // Regression test for a bug this suite found (fixed). What it was:
    // reused after a failed step): the valid update that follows a refused update is refused too.
    @Test("an update refused by a CHECK does not stop the next row's update")
    func refusedUpdateDoesNotStopTheNext() throws {
        let fixture = try StoreFixture()
        try fixture.apply([Rows.org("s-1", name: "North High"), Rows.org("s-2", name: "South High")])

        let counts = try fixture.apply([Rows.org("s-1", name: "North High", type: "galaxy"), Rows.org("s-2", name: "South High School")])
        #expect(counts.rejected == 1)
        #expect(counts.updated == 1)
        let orgs = try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)
        #expect(orgs["s-1"]?["type"] == "school", "the refused update left the row as it was")
        #expect(orgs["s-2"]?["name"] == "South High School")
    }

    @Test("a row missing a required value is rejected, naming the column, and the rest are stored")
    func missingRequiredValueIsRejected() throws {
        let fixture = try StoreFixture()
        var nameless = Rows.person("u-2", given: "x", family: "Nobody")
        nameless.columns["given_name"] = .text(nil)
        let counts = try fixture.apply([Rows.person("u-1", given: "Ana", family: "Lopez"), nameless])

        #expect(counts.created == 1)
        #expect(counts.rejected == 1)
        let reject = try #require(try fixture.roster.rejects(runID: fixture.runID).first)
        #expect(reject.sourcedId == "u-2")
        #expect(reject.reason.contains("given_name"), "reason: \(reject.reason)")
        #expect(reject.reason.contains("required"), "reason: \(reject.reason)")
    }

    /// A section whose material's due date lies outside its only grading period, marked in error
    /// by a run: a grading period the SIS adds moves its status.
    static func itemOutsideItsPeriods(_ fixture: StoreFixture) throws -> () throws -> (status: String, updatedAt: String)? {
        try fixture.apply([Rows.org("s-1", name: "North High")])
        try fixture.apply([
            Rows.session("t-1", title: "Fall", type: "term", start: "2026-08-01", end: "2026-12-31"),
            Rows.session("gp-1", title: "Quarter 1", type: "gradingPeriod", start: "2026-09-01", end: "2026-10-31", parent: "t-1")
        ])
        try fixture.apply([Rows.section("c-1", title: "Algebra I", school: "s-1", terms: ["t-1"])])
        let created = at("2026-09-01T08:00:00.000Z")
        let course = try fixture.lms.upsertCourse(
            connection: fixture.connection, lmsID: "lms-alg", title: "Algebra I", sectionSourcedIds: ["c-1"], at: created)
        let material = try fixture.lms.upsertMaterial(
            courseID: course, .init(lmsID: "m1", title: "Quiz", dueAt: at("2026-11-15T12:00:00.000Z"), maxPoints: 10, syncToSIS: true),
            at: created)
        try fixture.lms.setSyncState(
            materialID: material, classID: try fixture.classID("c-1"),
            .init(status: .error, errorCode: "DUE_DATE_OUTSIDE_GRADING_PERIOD", errorMessage: "Move the due date into a grading period."),
            at: created)
        return {
            try fixture.rawRead { db in
                try Row.fetchOne(db, sql: "SELECT status, updated_at FROM sync_item WHERE material_id = ?", arguments: [material]).map {
                    ($0["status"], $0["updated_at"])
                }
            }
        }
    }

    static let secondPeriod = Rows.session(
        "gp-2", title: "Quarter 2", type: "gradingPeriod", start: "2026-11-01", end: "2026-12-31", parent: "t-1")

    @Test("statuses a roster change recomputes are stamped with the time the writer gives, not read from the wall clock")
    func rosterChangeStampsTheWritersTime() throws {
        let fixture = try StoreFixture()
        let item = try Self.itemOutsideItsPeriods(fixture)
        let before = try #require(try item())
        // Stamped with the time the pull wrote it (days before the wall clock of any run of this test).
        let written = at("2026-11-20T10:00:00.000Z")
        try fixture.apply([Self.secondPeriod], at: written)
        let after = try #require(try item())
        #expect(after.status != before.status, "the test needs a status the roster change moves (\(before.status))")
        #expect(after.updatedAt == Timestamp.text(written))
    }

    @Test("an import stamps the statuses it recomputes with the time of that batch, not of its start")
    func importStampsEachBatchWhenWritten() throws {
        let fixture = try StoreFixture()
        let item = try Self.itemOutsideItsPeriods(fixture)
        let clock = ManualClock(at("2026-11-20T10:00:00.000Z"))
        _ = try fixture.roster.applyStream(connection: fixture.connection, runID: fixture.runID, now: { clock.now }) { sink in
            try sink.apply([Rows.org("s-2", name: "South High")], collection: .orgs, bulk: false) { "orgs.csv line \($0 + 2)" }
            clock.now = at("2026-11-20T10:05:00.000Z") // a large import reads on for minutes
            try sink.apply([Self.secondPeriod], collection: .academicSessions, bulk: false) { "academicSessions.csv line \($0 + 2)" }
        }
        #expect(try item()?.updatedAt == "2026-11-20T10:05:00.000Z")
    }

    @Test("rejects the importer found are recorded and counted with the page")
    func importerRejectsAreRecorded() throws {
        let fixture = try StoreFixture()
        let unreadable = RosterReject(collection: .orgs, sourcedId: nil, location: "GET orgs offset 7", reason: "not a JSON object")
        let counts = try fixture.roster.applyPage(
            [Rows.org("s-1", name: "North High")], rejects: [unreadable], collection: .orgs,
            connection: fixture.connection, runID: fixture.runID, mode: "full", since: nil,
            nextOffset: 8, pageOffset: 0, at: fixture.startedAt
        ).counts
        #expect(counts.created == 1)
        #expect(counts.rejected == 1)
        var noted = unreadable
        noted.reason += "; it has no readable sourcedId, so it cannot keep an existing record: one no other row names is marked deleted"
        #expect(try fixture.roster.rejects(runID: fixture.runID) == [noted], "a full pull's reject without a sourcedId says it protects nothing")
    }

    @Test("a tobedeleted row counts as deleted, new or existing")
    func toBeDeletedCountsAsDeleted() throws {
        let fixture = try StoreFixture()
        let first = try fixture.apply([
            Rows.org("s-1", name: "North High"),
            Rows.org("s-2", name: "Closed School", status: .toBeDeleted)
        ])
        #expect(first.created == 1)
        #expect(first.deleted == 1)

        let second = try fixture.apply([Rows.org("s-1", name: "North High", status: .toBeDeleted)])
        #expect(second.deleted == 1)
        #expect(second.updated == 0)
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .orgs, status: .toBeDeleted) == 2)
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .orgs, status: .active) == 0)
    }

    @Test("re-applying the same rows counts them unchanged; a changed fingerprint counts updated")
    func unchangedAndUpdatedCounts() throws {
        let fixture = try StoreFixture()
        let rows = [Rows.org("d-1", name: "District", type: "district"), Rows.org("s-1", name: "North High", parent: "d-1")]
        #expect(try fixture.apply(rows).created == 2)

        let again = try fixture.apply(rows)
        #expect(
            again
                == {
                    var c = RosterCounts(); c.unchanged = 2; return c
                }())

        let renamed = try fixture.apply([Rows.org("d-1", name: "District", type: "district"), Rows.org("s-1", name: "North High School", parent: "d-1")])
        #expect(renamed.unchanged == 1)
        #expect(renamed.updated == 1)
        #expect(renamed.created == 0)
        #expect(try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)["s-1"]?["name"] == "North High School")
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .orgs) == 2)
    }

    @Test("a class's terms are replaced when the class is updated")
    func classTermsAreReplaced() throws {
        let fixture = try StoreFixture()
        try fixture.apply([Rows.section("c-1", title: "Algebra I", school: "s-1", terms: ["t-1", "t-2"])])
        #expect(try fixture.roster.snapshot(connection: fixture.connection, collection: .classes)["c-1"]?["children"] == "t-1,t-2")

        let counts = try fixture.apply([Rows.section("c-1", title: "Algebra I", school: "s-1", terms: ["t-2", "t-3"])])
        #expect(counts.updated == 1)
        #expect(try fixture.roster.snapshot(connection: fixture.connection, collection: .classes)["c-1"]?["children"] == "t-2,t-3")
        let terms = try fixture.rawRead { db in try String.fetchAll(db, sql: "SELECT term_sourced_id FROM class_term ORDER BY term_sourced_id") }
        #expect(terms == ["t-2", "t-3"])
    }

    @Test("a person's orgs are replaced when the person is updated")
    func personOrgsAreReplaced() throws {
        let fixture = try StoreFixture()
        try fixture.apply([
            Rows.person("u-1", given: "Ana", family: "Lopez", orgs: ["s-1", "s-2"]),
            Rows.person("u-2", given: "Ben", family: "Okafor", orgs: ["s-9"])
        ])
        let counts = try fixture.apply([Rows.person("u-1", given: "Ana", family: "Lopez", orgs: ["s-3"])])
        #expect(counts.updated == 1)

        let people = try fixture.roster.snapshot(connection: fixture.connection, collection: .users)
        #expect(people["u-1"]?["children"] == "s-3")
        #expect(people["u-2"]?["children"] == "s-9", "another person's orgs are untouched")
        let links = try fixture.rawRead { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM person_org") }
        #expect(links == 2)
    }

    // Regression test for a bug this suite found (fixed). What it was:
    // `if old.fingerprint == h.fingerprint` branch) compares fingerprints only. A full pull that
    // missed a row marks it 'tobedeleted' without changing its fingerprint, so when a later pull
    // sends the same record again as active it is counted "unchanged", only re-stamped as seen,
    // and stays 'tobedeleted' in the cache for good (until the SIS edits the record).
    @Test("a row a full pull marked deleted is active again when a later pull sends it unchanged")
    func rowSeenAgainAfterBeingMarkedDeletedIsActive() throws {
        let fixture = try StoreFixture()
        let north = Rows.org("s-1", name: "North High")
        let south = Rows.org("s-2", name: "South High")
        try fixture.apply([north, south])
        _ = try fixture.roster.completeCollection(
            .orgs, connection: fixture.connection, runID: fixture.runID, fullPull: true, startedAt: fixture.startedAt, at: fixture.startedAt)

        // The next full pull misses South High (the SIS hid it for a while) ...
        let second = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: at("2026-08-02T06:00:00.000Z"))
        try fixture.apply([north], run: second)
        #expect(
            try fixture.roster.completeCollection(
                .orgs, connection: fixture.connection, runID: second, fullPull: true,
                startedAt: at("2026-08-02T06:00:00.000Z"), at: fixture.startedAt) == 1)
        #expect(try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)["s-2"]?["status"] == "tobedeleted")

        // ... and the one after sends it again, exactly as before.
        let third = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: at("2026-08-03T06:00:00.000Z"))
        try fixture.apply([north, south], run: third)
        #expect(try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)["s-2"]?["status"] == "active")
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .orgs, status: .active) == 2)
    }

    /// Values are bound straight to SQLite from a buffer of the statement's own; each row's
    /// values must be stored as given: empty and absent apart, Unicode whole, a value longer
    /// than the buffer whole, a row after it unaffected, every child of a row.
    @Test("every value of every row is stored exactly as given, long, empty, absent or Unicode")
    func valuesStoredExactly() throws {
        let fixture = try StoreFixture()
        let long = String(repeating: "Ü-long-", count: 20_000)
        let rows = [
            Rows.person("u-1", given: "Ana", family: "Lopez", orgs: ["o-1", "o-2", "o-3"]),
            Rows.person("u-2", given: long, family: "", orgs: ["o-1"]),
            Rows.person("u-3", given: "Zoë 👩🏽‍🏫", family: "O'Brien, \"Jr\"", orgs: []),
            Rows.person("u-4", given: "Ben", family: long + "x", orgs: ["o-4", "o-4"]),
            Rows.person("u-5", given: "Cy", family: "Ng")
        ]
        #expect(try fixture.apply(rows).created == 5)
        let stored = try fixture.roster.snapshot(connection: fixture.connection, collection: .users)
        for row in rows {
            let cached = try #require(stored[row.header.sourcedId])
            for (name, value) in row.columns {
                switch value {
                case .text(let text): #expect(cached[name] == text, "\(row.header.sourcedId).\(name)")
                case .integer(let number): #expect(cached[name] == number.map(String.init), "\(row.header.sourcedId).\(name)")
                case .real(let number): #expect(cached[name] == number.map { String($0) }, "\(row.header.sourcedId).\(name)")
                }
            }
            #expect(cached["children"] == (Set(row.children).isEmpty ? nil : Set(row.children).sorted().joined(separator: ",")), "\(row.header.sourcedId)")
        }
    }

    /// New rows go in by chunks of one INSERT each; a chunk with a refused row, or a row already
    /// stored, is taken row by row: the counts, rejects, stored values and children must be
    /// those of taking every row alone.
    @Test("rows inserted by chunks: a refused row or a stored one in a chunk changes nothing but itself")
    func chunkedInsertsMatchRowByRow() throws {
        let fixture = try StoreFixture()
        func person(_ i: Int, role: String = "student") -> RosterRow {
            Rows.person("u-\(i)", given: "Given \(i)", family: "Family \(i)", role: role, orgs: i % 3 == 0 ? ["o-1", "o-2"] : ["o-\(i % 5)"])
        }
        // Stored before: u-100 (in the third chunk of 64), with other values.
        #expect(try fixture.apply([Rows.person("u-100", given: "Old", family: "Name", orgs: ["o-9"])]).created == 1)
        var rows = (0..<300).map { person($0) }
        rows[70] = person(70, role: "wizard")
        let counts = try fixture.apply(rows, pageOffset: 1000)
        #expect(counts.created == 298)
        #expect(counts.updated == 1)
        #expect(counts.rejected == 1)
        let rejects = try fixture.roster.rejects(runID: fixture.runID)
        #expect(rejects.map(\.sourcedId) == ["u-70"])
        #expect(rejects.first?.location == "GET users offset 1070")
        let stored = try fixture.roster.snapshot(connection: fixture.connection, collection: .users)
        #expect(stored.count == 299)
        #expect(stored["u-70"] == nil)
        for (i, row) in rows.enumerated() where i != 70 {
            let cached = try #require(stored[row.header.sourcedId])
            #expect(cached["given_name"] == "Given \(i)" && cached["role"] == "student", "u-\(i): \(cached)")
            #expect(cached["children"] == Set(row.children).sorted().joined(separator: ","), "u-\(i)")
        }
        // Applied again, every row is there: all unchanged, nothing rejected but the wizard.
        let again = try fixture.apply(rows, pageOffset: 1000)
        #expect(again.unchanged == 299 && again.rejected == 1 && again.created == 0)
    }
}

/// A time the test sets by hand.
final class ManualClock {
    var now: Date
    init(_ now: Date) { self.now = now }
}
