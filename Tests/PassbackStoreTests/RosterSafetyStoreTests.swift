import Foundation
import PassbackCore
import PassbackStore
import Testing

@Suite("Roster safety in the store: rejected rows keep their record, mass deletions wait")
struct RosterSafetyStoreTests {
    /// Orgs s-1 ... s-n, stored and closed by the fixture's full pull.
    static func seeded(_ n: Int) throws -> StoreFixture {
        let fixture = try StoreFixture()
        try fixture.apply((1...n).map { Rows.org("s-\($0)", name: "School \($0)") })
        _ = try fixture.roster.completeCollection(
            .orgs, connection: fixture.connection, runID: fixture.runID, fullPull: true, startedAt: fixture.startedAt, at: fixture.startedAt)
        return fixture
    }

    @Test("a row the database refuses (a CHECK) in a full pull keeps its record, active and unchanged, through the sweep")
    func refusedUpdateIsNotSwept() throws {
        let fixture = try Self.seeded(3)
        let before = try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)
        let second = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: at("2026-08-02T06:00:00.000Z"))
        let applied = try fixture.roster.applyPage(
            [
                Rows.org("s-1", name: "School 1", type: "galaxy"), Rows.org("s-2", name: "School 2"),
                Rows.org("s-3", name: "School 3")
            ], rejects: [], collection: .orgs, connection: fixture.connection,
            runID: second, mode: "full", since: nil, nextOffset: 3, pageOffset: 0, at: fixture.startedAt)
        #expect(applied.counts.rejected == 1)
        let reject = try #require(applied.rejects.first)
        #expect(reject.sourcedId == "s-1")
        #expect(reject.reason.hasSuffix("; the existing record was kept unchanged"), "\(reject.reason)")
        #expect(
            try fixture.roster.completeCollection(
                .orgs, connection: fixture.connection, runID: second, fullPull: true, startedAt: fixture.startedAt, at: fixture.startedAt) == 0)
        #expect(try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs) == before)
    }

    @Test("a reject the importer found, naming an existing record, counts as seen by the full pull and says the record was kept")
    func importerRejectIsNotSwept() throws {
        let fixture = try Self.seeded(3)
        let before = try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs)
        let second = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: at("2026-08-02T06:00:00.000Z"))
        let bad = RosterReject(collection: .orgs, sourcedId: "s-2", location: "GET orgs offset 1", reason: "org.type: is required")
        let applied = try fixture.roster.applyPage(
            [Rows.org("s-1", name: "School 1"), Rows.org("s-3", name: "School 3")], rejects: [bad],
            collection: .orgs, connection: fixture.connection, runID: second, mode: "full", since: nil,
            nextOffset: 3, pageOffset: 0, at: fixture.startedAt)
        #expect(applied.rejects.map(\.reason) == ["org.type: is required; the existing record was kept unchanged"])
        #expect(try fixture.roster.rejects(runID: second).map(\.reason) == ["org.type: is required; the existing record was kept unchanged"])
        #expect(
            try fixture.roster.completeCollection(
                .orgs, connection: fixture.connection, runID: second, fullPull: true, startedAt: fixture.startedAt, at: fixture.startedAt) == 0)
        #expect(try fixture.roster.snapshot(connection: fixture.connection, collection: .orgs) == before)
    }

    @Test("a full pull that would delete more than the limit deletes nothing, keeps the delta mark, and rewinds the collection's pull")
    func sweepOverTheLimitIsRefused() throws {
        let fixture = try Self.seeded(50)
        let mark = try fixture.roster.cursor(connection: fixture.connection, collection: .orgs).lastSuccessStartedAt
        let second = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: at("2026-08-02T06:00:00.000Z"))
        // 39 of 50 listed: 11 would go (22 %).
        try fixture.apply((1...39).map { Rows.org("s-\($0)", name: "School \($0)") }, run: second)
        let error = #expect(throws: MassDeletionRefused.self) {
            try fixture.roster.completeCollection(
                .orgs, connection: fixture.connection, runID: second, fullPull: true, startedAt: at("2026-08-02T06:00:00.000Z"), at: fixture.startedAt)
        }
        let check = try #require(error?.checks.first)
        #expect(check.collection == .orgs)
        #expect(check.deleting == 11)
        #expect(check.active == 50)
        #expect(check.sample == (40...50).map { "s-\($0)" }.sorted())
        #expect(error?.description.contains("--allow-mass-delete") == true)
        #expect(try fixture.roster.count(connection: fixture.connection, collection: .orgs, status: .active) == 50)
        let cursor = try fixture.roster.cursor(connection: fixture.connection, collection: .orgs)
        #expect(cursor.activeRunID == second, "the pull stays open under its run")
        #expect(cursor.activeOffset == 0, "and is read again from the start before it sweeps")
        #expect(cursor.lastSuccessStartedAt == mark)

        // The operator says go.
        let deleted = try fixture.roster.completeCollection(
            .orgs, connection: fixture.connection, runID: second, fullPull: true,
            startedAt: at("2026-08-02T06:00:00.000Z"), limit: RosterDeletionLimit(allowMassDelete: true), at: fixture.startedAt)
        #expect(deleted == 11)
    }

    @Test("deletions at the limit go through: 20 % exactly, or 10 rows whatever the share")
    func sweepAtTheLimitGoes() throws {
        for (total, listed) in [(100, 80), (30, 20)] {
            let fixture = try Self.seeded(total)
            let second = try fixture.roster.startRun(connection: fixture.connection, source: "rest", mode: "full", at: at("2026-08-02T06:00:00.000Z"))
            try fixture.apply((1...listed).map { Rows.org("s-\($0)", name: "School \($0)") }, run: second)
            #expect(
                try fixture.roster.completeCollection(
                    .orgs, connection: fixture.connection, runID: second, fullPull: true,
                    startedAt: fixture.startedAt, at: fixture.startedAt) == total - listed)
        }
    }
}
