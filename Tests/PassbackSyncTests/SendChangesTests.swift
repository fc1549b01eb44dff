import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

/// Sync Changes sends only the SIS objects whose content differs from what the SIS last
/// accepted, and never again the very content it refused. Counted as PUT requests the sandbox
/// received (accepted or refused), per object.
@Suite("Send only what changed, down to the single result")
struct SendChangesTests {
    static func small(_ c: inout SandboxConfiguration) { c.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }

    /// PUT requests per `kind/sourcedId` that reached the sandbox.
    static func puts(_ running: RunningSandbox) -> [String: Int] { running.sandbox.data.writeStats.putRequestsByRecord }

    /// The objects written since `before`, with how many times.
    static func diff(_ before: [String: Int], _ after: [String: Int]) -> [String: Int] {
        var out: [String: Int] = [:]
        for (k, v) in after where v != (before[k] ?? 0) { out[k] = v - (before[k] ?? 0) }
        return out
    }

    func syncChanges(_ f: EngineFixture) async throws -> Int64 {
        let (run, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
        try await f.worker().drain()
        return run
    }

    func lineItemID(_ f: EngineFixture, _ i: Int) -> String {
        SourcedIDs.lineItem(connection: "district", materialLmsID: "m-\(i)", sectionSourcedId: f.section)
    }
    func resultID(_ f: EngineFixture, _ i: Int, _ student: String) -> String {
        SourcedIDs.result(lineItemSourcedId: lineItemID(f, i), studentSourcedId: student)
    }

    @Test("a regrade of one student is exactly one PUT: that result, not the lineItem, not the other results")
    func regradeIsOnePut() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(Self.small, clock: ManualWallClock(start)) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 3)
                _ = try await syncChanges(f)
                #expect(f.sisResults().count == 3 * 30)
                let before = Self.puts(running)
                try f.lms.recordGrade(materialID: f.materialID(1), studentSourcedId: f.students[4], score: 19.5, exception: nil, comment: nil, at: Date())
                #expect(try f.engine.syncItem(materialID: f.materialID(1), classID: f.classID)?.status == .updatesAvailable)
                let run = try await syncChanges(f)
                #expect(Self.diff(before, Self.puts(running)) == ["results/\(resultID(f, 1, f.students[4]))": 1])
                #expect(running.sandbox.data.record(.results, resultID(f, 1, f.students[4]))?["score"] == 19.5)
                let record = try #require(try f.engine.run(run))
                #expect(record.jobsTotal == 1)
                #expect(record.itemsSent == 1 && record.itemsSkipped == 2)
                #expect(try f.statuses().allSatisfy { $0 == .successful })

                // A rename is one PUT too: the lineItem, not its results.
                let before2 = Self.puts(running)
                try f.lms.upsertMaterial(
                    courseID: f.courseID,
                    .init(
                        lmsID: "m-2", title: "Renamed", dueAt: EngineFixture.dueDate(2), categoryLmsID: "lc-2",
                        maxPoints: 20), at: Date())
                _ = try await syncChanges(f)
                #expect(Self.diff(before2, Self.puts(running)) == ["lineItems/\(lineItemID(f, 2))": 1])
                #expect(try f.statuses().allSatisfy { $0 == .successful })
            }
        }
    }

    @Test("an item in ERROR because the SIS refused one result: five Sync Changes write nothing more; the result goes once its content changes")
    func refusedResultNotResent() async throws {
        try await withDatabase { db in
            // The SIS takes comments of 5 characters at most; the fixture comments student 0's grade ("Well done").
            try await withRunningSandbox(
                {
                    Self.small(&$0); $0.quirks.commentLimit = 5
                }, clock: ManualWallClock(start)
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2)
                _ = try await syncChanges(f)
                #expect(f.sisResults().count == 2 * 29, "every result but the refused ones")
                for i in 0..<2 {
                    let item = try #require(try f.engine.syncItem(materialID: f.materialID(i), classID: f.classID))
                    #expect(item.status == .error)
                    #expect(item.errorCode == "SIS_REJECTED")
                    #expect(item.errorMessage?.contains(f.students[0]) == true, "names the student: \(item.errorMessage ?? "")")
                }
                let before = Self.puts(running)
                for _ in 0..<5 {
                    let run = try await syncChanges(f)
                    #expect(try f.engine.run(run)?.jobsTotal == 0)
                }
                #expect(Self.diff(before, Self.puts(running)) == [:], "nothing was written again")
                #expect(try f.statuses() == [.error, .error], "still in ERROR with the SIS's words")

                try f.lms.recordGrade(materialID: f.materialID(0), studentSourcedId: f.students[0], score: 7, exception: nil, comment: "Good", at: Date())
                _ = try await syncChanges(f)
                #expect(Self.diff(before, Self.puts(running)) == ["results/\(resultID(f, 0, f.students[0]))": 1])
                #expect(try f.statuses() == [.successful, .error])
            }
        }
    }

    @Test("a lineItem the SIS refused is not sent again unchanged; it goes again when the teacher syncs it on purpose, and once its content changes")
    func refusedLineItem() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(
                {
                    Self.small(&$0); $0.quirks.titleLimit = 50
                }, clock: ManualWallClock(start)
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1)
                try f.addMaterial(1, title: String(repeating: "Very long title ", count: 4))
                let key = "lineItems/\(lineItemID(f, 1))"
                let first = try await syncChanges(f)
                #expect(Self.puts(running)[key] == 1)
                let refused = try #require(try f.engine.syncItem(materialID: f.materialID(1), classID: f.classID))
                #expect(refused.status == .error)
                #expect(refused.errorCode == "SIS_REJECTED")
                #expect(refused.errorMessage?.contains("at most 50") == true, "the SIS's own words: \(refused.errorMessage ?? "")")
                // Its results were not sent, and each says which write it waited on; the run's counts add up.
                let waited = try f.engine.audit(materialID: f.materialID(1), classID: f.classID).filter { $0.action == "not sent" }
                #expect(waited.count == 30)
                #expect(waited.allSatisfy { $0.message?.contains("waits on PUT \(key)") == true }, "\(waited.first?.message ?? "")")
                let run = try #require(try f.engine.run(first))
                #expect(run.jobsTotal == 62 && run.jobsSucceeded == 31 && run.jobsFailed == 31)
                #expect(run.itemsSent == 2 && run.itemsSucceeded == 1 && run.itemsFailed == 1)

                let before = Self.puts(running)
                for _ in 0..<5 { _ = try await syncChanges(f) }
                #expect(Self.diff(before, Self.puts(running)) == [:], "neither the lineItem nor its results")
                #expect(try f.engine.syncItem(materialID: f.materialID(1), classID: f.classID)?.status == .error)

                // On purpose: the teacher syncs this item.
                _ = try f.planner().start(classID: f.classID, materialIDs: [try f.materialID(1)], trigger: .item, startedBy: "teacher")
                try await f.worker().drain()
                #expect(Self.diff(before, Self.puts(running)) == [key: 1], "sent once more, refused again, its results wait")

                // A shorter title: sent, accepted, and the results follow.
                try f.lms.upsertMaterial(
                    courseID: f.courseID,
                    .init(
                        lmsID: "m-1", title: "Short", dueAt: EngineFixture.dueDate(1), categoryLmsID: "lc-1",
                        maxPoints: 20), at: Date())
                _ = try await syncChanges(f)
                #expect(Self.puts(running)[key] == 3)
                #expect(running.sandbox.data.record(.lineItems, lineItemID(f, 1))?["title"] == "Short")
                #expect(f.sisResults().count == 2 * 30)
                #expect(try f.statuses() == [.successful, .successful])
            }
        }
    }
}
