import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

/// What the SIS holds is checked, not assumed: with `verifyWrites` each accepted write is read
/// back, and the drift check re-reads a section. A difference shows `SIS_DIFFERS` (each field,
/// sent vs held) on an `UPDATES_AVAILABLE` item, and the next Sync Changes rewrites exactly the
/// objects that differ.
@Suite("Verify what the SIS holds")
struct VerifyTests {
    static func small(_ c: inout SandboxConfiguration) { c.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }

    func syncChanges(_ f: EngineFixture, verifyWrites: Bool = false) async throws {
        _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
        try await f.worker(verifyWrites: verifyWrites).drain()
    }

    func lineItemID(_ f: EngineFixture, _ i: Int) -> String {
        SourcedIDs.lineItem(connection: "district", materialLmsID: "m-\(i)", sectionSourcedId: f.section)
    }
    func resultID(_ f: EngineFixture, _ i: Int, _ student: String) -> String {
        SourcedIDs.result(lineItemSourcedId: lineItemID(f, i), studentSourcedId: student)
    }

    func differs(_ f: EngineFixture, _ i: Int) throws -> [Problem] {
        try #require(try f.engine.syncItem(materialID: f.materialID(i), classID: f.classID)).problems.filter { $0.code == .sisDiffers }
    }

    @Test("verifyWrites on, a SIS that answers 200 but keeps title and comment: UPDATES_AVAILABLE with SIS_DIFFERS naming each field, sent vs held")
    func verifyWritesFlagsIgnoredFields() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(
                {
                    Self.small(&$0); $0.quirks.ignorePutFields = ["title", "comment"]
                }, clock: ManualWallClock(start)
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2)
                try await syncChanges(f, verifyWrites: true)
                #expect(f.sisResults().count == 2 * 30, "every write was accepted")
                for i in 0..<2 {
                    let item = try #require(try f.engine.syncItem(materialID: f.materialID(i), classID: f.classID))
                    #expect(item.status == .updatesAvailable)
                    let found = try differs(f, i)
                    #expect(found.count == 2, "the lineItem and student 0's result: \(found.map(\.message))")
                    let title = try #require(found.first { $0.field == "title" })
                    #expect(title.message.contains("title: sent \"Assignment \(i + 1)\", SIS holds \"placeholder\""), "\(title.message)")
                    let comment = try #require(found.first { $0.field == "comment" })
                    #expect(comment.studentSourcedId == f.students[0])
                    #expect(comment.message.contains("comment: sent \"Well done\", SIS holds \"placeholder\""), "\(comment.message)")
                    #expect(comment.message.contains(f.students[0]))
                }
                // The next Sync Changes writes exactly those objects again (the SIS keeps them, so they stay flagged).
                let before = running.sandbox.data.writeStats.putRequestsByRecord
                try await syncChanges(f, verifyWrites: true)
                let after = running.sandbox.data.writeStats.putRequestsByRecord
                #expect(
                    Set(SendChangesTests.diff(before, after).keys)
                        == Set((0..<2).flatMap { ["lineItems/\(lineItemID(f, $0))", "results/\(resultID(f, $0, f.students[0]))"] }))
                #expect(try f.statuses().allSatisfy { $0 == .updatesAvailable })
            }
        }
    }

    @Test("verifyWrites off (the default), the same SIS: SUCCESSFUL, nothing read back")
    func verifyWritesOffTrustsThePut() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(
                {
                    Self.small(&$0); $0.quirks.ignorePutFields = ["title", "comment"]
                }, clock: ManualWallClock(start)
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2)
                try await syncChanges(f)
                #expect(try f.statuses() == [.successful, .successful])
                #expect(try differs(f, 0).isEmpty && differs(f, 1).isEmpty)
                #expect(f.connection.settings.verifyWrites == false)
            }
        }
    }

    /// Changes one result's score in the SIS behind Passback's back; returns its id and the score sent.
    func editScoreInSIS(_ f: EngineFixture, _ running: RunningSandbox) throws -> (id: String, sent: Double) {
        let id = resultID(f, 1, f.students[4])
        var record = try #require(running.sandbox.data.record(.results, id))
        let sent = try #require(record["score"]?.numberValue)
        record["score"] = .number(sent + 3)
        running.sandbox.data.upsert(.results, record, countAsWrite: false)
        return (id, sent)
    }

    func expectDriftFlagged(_ f: EngineFixture, sent: Double) throws {
        let item = try #require(try f.engine.syncItem(materialID: f.materialID(1), classID: f.classID))
        #expect(item.status == .updatesAvailable)
        let found = try differs(f, 1)
        #expect(found.count == 1)
        #expect(found.first?.field == "score")
        #expect(found.first?.studentSourcedId == f.students[4])
        #expect(found.first?.message.contains("score: sent \"\(sent)\", SIS holds \"\(sent + 3)\"") == true, "\(found.first?.message ?? "")")
        for i in [0, 2] {
            #expect(try f.engine.syncItem(materialID: f.materialID(i), classID: f.classID)?.status == .successful)
        }
    }

    func expectRewritten(_ f: EngineFixture, _ running: RunningSandbox, id: String, sent: Double) async throws {
        let before = running.sandbox.data.writeStats.putRequestsByRecord
        try await syncChanges(f)
        let after = running.sandbox.data.writeStats.putRequestsByRecord
        #expect(SendChangesTests.diff(before, after) == ["results/\(id)": 1])
        #expect(running.sandbox.data.record(.results, id)?["score"]?.numberValue == sent)
        #expect(try f.statuses().allSatisfy { $0 == .successful })
        #expect(try differs(f, 1).isEmpty)
    }

    @Test("drift check: a score edited by hand in the SIS is flagged SIS_DIFFERS; Sync Changes rewrites exactly that result, then SUCCESSFUL")
    func driftCheckFlagsHandEdit() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(Self.small, clock: ManualWallClock(start)) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 3)
                try await syncChanges(f)
                #expect(try f.statuses().allSatisfy { $0 == .successful })
                let clean = try await SectionVerifier(database: db).verify(
                    classID: f.classID, client: ClientFactory.client(for: f.connection, clock: f.clock),
                    requestsPerMinute: 60_000, concurrency: 4)
                #expect(clean.checked == 3 + 3 * 30 && clean.differing.isEmpty && clean.unreadable == 0)

                let (id, sent) = try editScoreInSIS(f, running)
                let report = try await SectionVerifier(database: db).verify(
                    classID: f.classID, client: ClientFactory.client(for: f.connection, clock: f.clock),
                    requestsPerMinute: 60_000, concurrency: 4)
                #expect(report.checked == 3 + 3 * 30)
                #expect(report.differing.count == 1)
                try expectDriftFlagged(f, sent: sent)
                try await expectRewritten(f, running, id: id, sent: sent)
            }
        }
    }

    @Test("passback verify --section flags the hand edit (exit 1, names the field); the next Sync Changes is one PUT")
    func verifyCommand() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(Self.small, clock: ManualWallClock(start)) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 3)
                try await syncChanges(f)
                let config = try writeConfig(f)
                defer { try? FileManager.default.removeItem(atPath: config) }
                let env = ["CONNECTION_DISTRICT_CLIENT_SECRET": f.connection.secret]
                let args = ["verify", "--config", config, "--database", db.path, "--connection", "district", "--section", f.section]
                let clean = try await runPassback(args, environment: env)
                #expect(clean.status == 0, "\(clean.out) \(clean.err)")
                #expect(clean.out.contains("checked 93 object(s): 0 differ"), "\(clean.out)")

                let (id, sent) = try editScoreInSIS(f, running)
                let flagged = try await runPassback(args, environment: env)
                #expect(flagged.status == 1, "\(flagged.out) \(flagged.err)")
                #expect(flagged.out.contains("SIS_DIFFERS"), "\(flagged.out)")
                #expect(flagged.out.contains("checked 93 object(s): 1 differ"), "\(flagged.out)")
                try expectDriftFlagged(f, sent: sent)
                try await expectRewritten(f, running, id: id, sent: sent)

                let unknown = try await runPassback(
                    ["verify", "--config", config, "--database", db.path, "--connection", "district", "--section", "nope"],
                    environment: env)
                #expect(unknown.status != 0 && unknown.err.contains("no section 'nope'"), "\(unknown.err)")
            }
        }
    }

    @Test("the sandbox quirk ignore-put-fields parses, and says what to write when empty")
    func quirkParses() throws {
        #expect(try SandboxQuirks(parsing: "ignore-put-fields=title+comment,no-delete").ignorePutFields == ["title", "comment"])
        #expect(throws: SandboxOptionError.self) { try SandboxQuirks(parsing: "ignore-put-fields=") }
    }
}
