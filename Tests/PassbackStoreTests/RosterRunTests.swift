import Foundation
import GRDB
import PassbackCore
import PassbackStore
import Testing

@Suite("Roster runs and cursors")
struct RosterRunTests {
    @Test("each applied page moves the collection's resume offset to the page's end")
    func applyPageMovesCursor() throws {
        let fixture = try StoreFixture()
        #expect(try fixture.roster.cursor(connection: fixture.connection, collection: .orgs).activeOffset == 0)

        try fixture.apply([Rows.org("s-1", name: "A"), Rows.org("s-2", name: "B")], pageOffset: 0)
        var cursor = try fixture.roster.cursor(connection: fixture.connection, collection: .orgs)
        #expect(cursor.activeOffset == 2)
        #expect(cursor.activeRunID == fixture.runID)
        #expect(cursor.activeMode == "full")

        try fixture.apply([Rows.org("s-3", name: "C"), Rows.org("s-4", name: "D")], pageOffset: 2)
        cursor = try fixture.roster.cursor(connection: fixture.connection, collection: .orgs)
        #expect(cursor.activeOffset == 4)
        // Other collections have not moved.
        #expect(try fixture.roster.cursor(connection: fixture.connection, collection: .users).activeOffset == 0)
    }

    @Test("a delta page records its mode and since-mark on the cursor")
    func deltaPageRecordsSince() throws {
        let fixture = try StoreFixture()
        let since = at("2026-07-31T05:00:00.000Z")
        let delta = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "delta", at: fixture.startedAt)
        _ = try fixture.roster.applyPage(
            [Rows.org("s-1", name: "A")], rejects: [], collection: .orgs, connection: fixture.connection,
            runID: delta, mode: "delta", since: since, nextOffset: 100, pageOffset: 0, at: fixture.startedAt)
        let cursor = try fixture.roster.cursor(connection: fixture.connection, collection: .orgs)
        #expect(cursor.activeRunID == delta)
        #expect(cursor.activeMode == "delta")
        #expect(cursor.activeSince == since)
        #expect(cursor.activeOffset == 100)
    }

    @Test("completing a full pull marks rows it did not see tobedeleted, keeps them, and resets the cursor")
    func completeFullPullMarksUnseen() throws {
        let fixture = try StoreFixture()
        try fixture.apply([Rows.org("s-1", name: "A"), Rows.org("s-2", name: "B"), Rows.org("s-3", name: "C")])
        #expect(
            try fixture.roster.completeCollection(
                .orgs, connection: fixture.connection, runID: fixture.runID, fullPull: true,
                startedAt: fixture.startedAt, at: fixture.startedAt) == 0)

        let secondStart = at("2026-08-08T06:00:00.000Z")
        let second = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: secondStart)
        // s-1 unchanged, s-3 changed; s-2 not sent at all.
        try fixture.apply([Rows.org("s-1", name: "A"), Rows.org("s-3", name: "C renamed")], run: second)
        #expect(try fixture.roster.cursor(connection: fixture.connection, collection: .orgs).activeRunID == second)

        let deleted = try fixture.roster.completeCollection(
            .orgs, connection: fixture.connection, runID: second, fullPull: true, startedAt: secondStart, at: fixture.startedAt)
        #expect(deleted == 1)
        let orgs = try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)
        #expect(orgs.count == 3, "rows are never dropped")
        #expect(orgs["s-1"]?["status"] == "active")
        #expect(orgs["s-2"]?["status"] == "tobedeleted")
        #expect(orgs["s-3"]?["status"] == "active")

        let cursor = try fixture.roster.cursor(connection: fixture.connection, collection: .orgs)
        #expect(cursor.activeRunID == nil)
        #expect(cursor.activeMode == nil)
        #expect(cursor.activeSince == nil)
        #expect(cursor.activeOffset == 0)
        #expect(cursor.lastSuccessStartedAt == secondStart)
    }

    @Test("completing a delta pull deletes nothing but moves the delta mark")
    func completeDeltaPullDeletesNothing() throws {
        let fixture = try StoreFixture()
        try fixture.apply([Rows.org("s-1", name: "A"), Rows.org("s-2", name: "B")])
        let deltaStart = at("2026-08-02T06:00:00.000Z")
        let delta = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "delta", at: deltaStart)
        try fixture.apply([Rows.org("s-1", name: "A2")], run: delta)
        #expect(
            try fixture.roster.completeCollection(
                .orgs, connection: fixture.connection, runID: delta, fullPull: false, startedAt: deltaStart, at: fixture.startedAt) == 0)
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .orgs, status: .active) == 2)
        #expect(try fixture.roster.cursor(connection: fixture.connection, collection: .orgs).lastSuccessStartedAt == deltaStart)
    }

    @Test("a full pull's deletions stay inside its connection and collection")
    func completeFullPullIsScoped() throws {
        let fixture = try StoreFixture()
        try fixture.roster.saveConnection(ConnectionSettings(id: "other", baseURL: URL(string: "https://other.example.org")!), at: fixture.startedAt)
        let otherRun = try fixture.roster.startRun(connection: "other", source: "rest", mode: "full", at: fixture.startedAt)
        try fixture.apply([Rows.org("s-9", name: "Elsewhere")], run: otherRun, connection: "other")
        try fixture.apply([Rows.person("u-1", given: "Ana", family: "Lopez")])

        let second = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: fixture.startedAt)
        let deleted = try fixture.roster.completeCollection(
            .orgs, connection: fixture.connection, runID: second, fullPull: true, startedAt: fixture.startedAt, at: fixture.startedAt)
        #expect(deleted == 0)
        #expect(try fixture.roster.count(connection: "other", collection: .orgs, status: .active) == 1)
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .users, status: .active) == 1)
    }

    @Test("runs left running are marked failed as interrupted; finished runs and cursors are kept")
    func failAbandonedRunsMarksRunningRunsFailed() throws {
        let fixture = try StoreFixture()
        let second = try fixture.roster.startRun(connection: fixture.connection, source: "csv", mode: "delta", at: fixture.startedAt)
        let finished = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: fixture.startedAt)
        var counts = RosterCounts()
        counts.created = 3
        try fixture.roster.finishRun(finished, succeeded: true, counts: [.orgs: counts], error: nil, at: at("2026-08-01T07:00:00.000Z"))
        try fixture.roster.saveConnection(ConnectionSettings(id: "other", baseURL: URL(string: "https://other.example.org")!), at: fixture.startedAt)
        let othersRun = try fixture.roster.startRun(connection: "other", source: "rest", mode: "full", at: fixture.startedAt)
        try fixture.apply([Rows.org("s-1", name: "A"), Rows.org("s-2", name: "B")], pageOffset: 0)

        let now = at("2026-08-01T09:30:00.000Z")
        let failed = try fixture.roster.failAbandonedRuns(connection: fixture.connection, at: now)
        #expect(failed.sorted() == [fixture.runID, second].sorted())

        for id in [fixture.runID, second] {
            let run = try #require(try fixture.roster.run(id))
            #expect(run.state == "failed")
            #expect(run.finishedAt == now)
            #expect(run.error == "interrupted")
        }
        let done = try #require(try fixture.roster.run(finished))
        #expect(done.state == "succeeded")
        #expect(done.counts["orgs"] == counts)
        #expect(try fixture.roster.run(othersRun)?.state == "running", "another connection's run is not touched")

        let cursor = try fixture.roster.cursor(connection: fixture.connection, collection: .orgs)
        #expect(cursor.activeRunID == fixture.runID)
        #expect(cursor.activeOffset == 2, "the next pull resumes where the interrupted one stopped")

        #expect(try fixture.roster.failAbandonedRuns(connection: fixture.connection, at: now).isEmpty)
    }

    @Test("a batch stores every collection, marks what a bulk file lacks deleted, and records rejects")
    func applyBatchStoresEverything() throws {
        let fixture = try StoreFixture()
        try fixture.apply([Rows.org("s-old", name: "Gone School")])
        let csvRun = try fixture.roster.startRun(connection: fixture.connection, source: "csv", mode: "full", at: fixture.startedAt)
        let unreadable = RosterReject(collection: .users, sourcedId: "u-9", location: "users.csv line 9, column enabled", reason: "not a boolean")

        let result = try fixture.roster.applyBatch(
            [
                (
                    collection: .orgs, rows: [Rows.org("s-1", name: "North High"), Rows.org("g-1", name: "Nebula", type: "galaxy")],
                    lines: ["orgs.csv line 2", "orgs.csv line 3"], bulk: true
                ),
                (collection: .users, rows: [Rows.person("u-1", given: "Ana", family: "Lopez")], lines: ["users.csv line 2"], bulk: false)
            ], rejects: [unreadable], connection: fixture.connection, runID: csvRun, at: fixture.startedAt)

        #expect(result[.orgs]?.created == 1)
        #expect(result[.orgs]?.rejected == 1)
        #expect(result[.orgs]?.deleted == 1, "s-old is not in the bulk orgs file")
        #expect(result[.users]?.created == 1)
        #expect(result[.users]?.rejected == 1)

        let orgs = try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)
        #expect(orgs["s-old"]?["status"] == "tobedeleted")
        #expect(orgs["s-1"]?["status"] == "active")
        let rejects = try fixture.roster.rejects(runID: csvRun)
        #expect(Set(rejects.map(\.location)) == ["users.csv line 9, column enabled", "orgs.csv line 3"])
    }

    @Test("a batch that throws part-way writes nothing, not even its earlier collections")
    func applyBatchIsAllOrNothing() throws {
        let fixture = try StoreFixture()
        let csvRun = try fixture.roster.startRun(connection: fixture.connection, source: "csv", mode: "full", at: fixture.startedAt)
        // A column the class table does not have: preparing the INSERT fails, which is an
        // error of the batch (not a reject of one row).
        var broken = Rows.section("c-1", title: "Algebra I", school: "s-1")
        broken.columns["colour"] = .text("blue")

        #expect(throws: DatabaseError.self) {
            _ = try fixture.roster.applyBatch(
                [
                    (collection: .orgs, rows: [Rows.org("s-1", name: "North High")], lines: [], bulk: false),
                    (
                        collection: .users,
                        rows: [Rows.person("u-1", given: "Ana", family: "Lopez"), Rows.person("u-2", given: "M", family: "X", role: "wizard")],
                        lines: [], bulk: false
                    ),
                    (collection: .classes, rows: [broken], lines: [], bulk: false)
                ], rejects: [RosterReject(collection: .orgs, sourcedId: nil, location: "orgs.csv line 4", reason: "bad")],
                connection: fixture.connection, runID: csvRun, at: fixture.startedAt)
        }
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .orgs) == 0)
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .users) == 0)
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .classes) == 0)
        #expect(try fixture.roster.rejects(runID: csvRun).isEmpty)
    }

    @Test("a batch for a run that does not exist throws and writes nothing")
    func applyBatchWithUnknownRunThrows() throws {
        let fixture = try StoreFixture()
        // Each row's seen_run_id breaks its foreign key, which the writer takes as a reject of
        // that row; recording those rejects under the unknown run then fails the batch.
        #expect(throws: DatabaseError.self) {
            _ = try fixture.roster.applyBatch(
                [
                    (collection: .orgs, rows: [Rows.org("s-1", name: "North High")], lines: [], bulk: true)
                ], rejects: [], connection: fixture.connection, runID: 9_999, at: fixture.startedAt)
        }
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .orgs) == 0)
    }
}
