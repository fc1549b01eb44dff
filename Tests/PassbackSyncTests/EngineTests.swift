import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

@Suite("The passback engine against the sandbox SIS")
struct EngineTests {
    @Test("a section of 30 students × 40 materials syncs, every result accepted exactly once")
    func fullSection() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 120, classes: 4, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 40)
                #expect(f.students.count == 30)
                let (runID, plan) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                #expect(plan.items.filter { $0.decision == .send }.count == 40)
                #expect(try f.statuses().allSatisfy { $0 == .inProgress })
                try await f.worker().drain()

                #expect(f.sisLineItems().count == 40)
                let results = f.sisResults()
                #expect(results.count == 40 * 30)
                let stats = running.sandbox.data.writeStats
                #expect(stats.created[.results] == 1200)
                #expect(stats.putsByRecord.filter { $0.key.hasPrefix("results/") }.values.allSatisfy { $0 == 1 }, "each result PUT exactly once")
                #expect(results.filter { $0["scoreStatus"] == "exempt" }.count == 40 * 3)
                #expect(results.filter { $0["scoreStatus"] == "not submitted" }.count == 40 * 3)
                #expect(try f.statuses().allSatisfy { $0 == .successful })
                let run = try #require(try f.engine.run(runID))
                #expect(run.state == .succeeded)
                #expect(run.itemsSent == 40)
                #expect(run.itemsSucceeded == 40)
                #expect(run.jobsSucceeded == 40 + 1200)
                #expect(try f.engine.audit(materialID: f.materialID(0), classID: f.classID).filter { $0.outcome == .succeeded }.count == 31)

                // A grade changes: only that item has updates, and only it is sent again.
                try f.lms.recordGrade(
                    materialID: f.materialID(5), studentSourcedId: f.students[1], score: 19.5, exception: nil, comment: "regraded", at: Date())
                #expect(try f.engine.syncItem(materialID: f.materialID(5), classID: f.classID)?.status == .updatesAvailable)
                let (second, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await f.worker().drain()
                let secondRun = try #require(try f.engine.run(second))
                #expect(secondRun.itemsSent == 1)
                #expect(secondRun.itemsSkipped == 39)
                #expect(try f.statuses().allSatisfy { $0 == .successful })
                let regraded = SourcedIDs.result(
                    lineItemSourcedId: SourcedIDs.lineItem(connection: "district", materialLmsID: "m-5", sectionSourcedId: f.section),
                    studentSourcedId: f.students[1])
                #expect(running.sandbox.data.record(.results, regraded)?["score"] == 19.5)
                #expect(running.sandbox.data.writeStats.created[.results] == 1200, "nothing new was created: the same SIS objects were updated")
            }
        }
    }
}

@Suite("The engine when the SIS misbehaves")
struct EngineFaultTests {
    @Test("with 429s, 403 rate limits, 500s, dropped connections and an expired token, everything arrives once")
    func faults() async throws {
        var rates = FaultRates()
        rates.tooManyRequests = 0.03
        rates.rateLimit403 = 0.02
        rates.serverError = 0.08
        rates.unavailable = 0.03
        rates.dropConnection = 0.05
        rates.retryAfterSeconds = 1
        try await withDatabase { db in
            try await withRunningSandbox(
                {
                    $0.plan = DistrictPlan(schools: 1, students: 60, classes: 2, studentsPerClass: 30); $0.auth.tokenLifetime = 3600
                },
                clock: ManualWallClock(start)
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 8)
                running.sandbox.faults.setRates(rates)
                running.sandbox.expireAllTokens()
                running.sandbox.faults.script([.tooManyRequests(retryAfter: 1), .dropConnection, .serverError])
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                let worker = f.worker()
                try await worker.drain()
                running.sandbox.faults.setRates(FaultRates())

                #expect(f.sisLineItems().count == 8)
                #expect(f.sisResults().count == 8 * 30)
                let stats = running.sandbox.data.writeStats
                #expect(stats.created[.results] == 240, "no duplicate was created")
                #expect(stats.created[.lineItems] == 8)
                #expect(try f.statuses().allSatisfy { $0 == .successful })
                let injected = running.sandbox.faults.injectedCounts
                #expect((injected["429"] ?? 0) + (injected["403"] ?? 0) > 0)
                #expect((injected["drop"] ?? 0) > 0)
                let outcomes = worker.outcomeCounts
                #expect((outcomes[.snoozed] ?? 0) > 0, "rate limits were honoured by snoozing")
                #expect((outcomes[.retry] ?? 0) > 0)
                #expect(outcomes[.cancelled] == nil && outcomes[.discarded] == nil)
                #expect(try f.engine.run(runID)?.state == .succeeded)
                #expect(running.sandbox.tokensIssued >= 2, "the expired token was replaced")
            }
        }
    }

    @Test("an item the SIS refuses ends in ERROR with the SIS's reason; its results are not sent; the rest succeed")
    func refusedItem() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(
                {
                    $0.plan = DistrictPlan(schools: 1, students: 60, classes: 2, studentsPerClass: 30); $0.quirks.titleLimit = 50
                },
                clock: ManualWallClock(start)
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 4)
                try f.addMaterial(4, title: String(repeating: "Very long title ", count: 4))
                try f.addMaterial(5, due: DateTime.parse("2026-10-17T12:00:00Z")) // a Saturday between Quarter 1 and 2
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await f.worker().drain()

                let long = try #require(try f.engine.syncItem(materialID: f.materialID(4), classID: f.classID))
                #expect(long.status == .error)
                #expect(long.errorCode == "SIS_REJECTED")
                #expect(long.errorMessage?.contains("at most 50") == true, "\(long.errorMessage ?? "")")
                let outside = try #require(try f.engine.syncItem(materialID: f.materialID(5), classID: f.classID))
                #expect(outside.status == .error)
                #expect(outside.errorCode == "DUE_DATE_OUTSIDE_GRADING_PERIOD")
                #expect(f.sisLineItems().count == 4)
                #expect(f.sisResults().count == 4 * 30)
                for i in 0..<4 { #expect(try f.engine.syncItem(materialID: f.materialID(i), classID: f.classID)?.status == .successful) }
                let run = try #require(try f.engine.run(runID))
                #expect(run.state == .partial)
                #expect(run.itemsFailed == 2)
                #expect(run.itemsSucceeded == 4)
                #expect(
                    try f.engine.jobs(runID: runID).filter { $0.kind == .putResult && $0.state == .cancelled }.count == 30,
                    "the refused lineItem's results were not sent")
                let audit = try f.engine.audit(materialID: f.materialID(4), classID: f.classID)
                #expect(audit.contains { $0.outcome == .cancelled && $0.httpStatus == 422 })
            }
        }
    }

    /// The fixture with other connection settings (what an administrator fixes).
    func with(_ f: EngineFixture, secret: String? = nil, baseURL: URL? = nil) -> EngineFixture {
        var connection = f.connection
        if let secret { connection.secret = secret }
        if let baseURL { connection.settings.baseURL = baseURL }
        return EngineFixture(
            database: f.database, running: f.running, connection: connection, classID: f.classID, courseID: f.courseID, section: f.section,
            students: f.students, lms: f.lms, engine: f.engine, clock: f.clock)
    }

    @Test("refused credentials block the connection, naming the key to fix; its writes are held, and go on their own once the secret is right")
    func refusedCredentials() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 3)
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await with(f, secret: "wrong").worker().drain() // returns: nothing can move while blocked
                let blocked = try #require(try f.engine.run(runID))
                #expect(blocked.state == .running, "blocked on its connection, not failed")
                #expect(blocked.cause?.contains("CONNECTION_DISTRICT_CLIENT_SECRET") == true, "\(blocked.cause ?? "")")
                #expect(try f.engine.connectionBlock("district")?.code == "SIS_AUTH_FAILED")
                let jobs = try f.engine.jobs(runID: runID)
                #expect(jobs.count == 3 * 31)
                #expect(jobs.allSatisfy { $0.state == .available }, "held, not cancelled: \(Set(jobs.map(\.state)))")
                #expect(jobs.allSatisfy { $0.attempt == 0 }, "a held write spends no attempt")
                let item = try #require(try f.engine.syncItem(materialID: f.materialID(0), classID: f.classID))
                #expect(item.status == .error)
                #expect(item.errorCode == "SIS_CONNECTION_BLOCKED")
                #expect(item.errorMessage?.contains("CONNECTION_DISTRICT_CLIENT_SECRET") == true)
                #expect(f.sisLineItems().isEmpty)

                // The administrator fixes the secret: a worker sends the held writes with no one syncing again.
                try await f.worker().drain()
                let done = try #require(try f.engine.run(runID))
                #expect(done.state == .succeeded)
                #expect(done.cause == nil)
                #expect(done.jobsTotal == 93 && done.jobsSucceeded == 93 && done.jobsFailed == 0, "the run's counts add up")
                #expect(done.itemsSent == 3 && done.itemsSucceeded == 3 && done.itemsFailed == 0)
                #expect(try f.engine.connectionBlock("district") == nil)
                #expect(try f.statuses().allSatisfy { $0 == .successful })
                #expect(f.sisResults().count == 90)
            }
        }
    }

    @Test("a base URL that is not the SIS's OneRoster path blocks the connection, naming connection.ID.baseURL; fixed, the writes go")
    func wrongBaseURL() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2)
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                let wrong = running.baseURL.deletingLastPathComponent().appending(path: "v1p2") // …/ims/oneroster/v1p2
                try await with(f, baseURL: wrong).worker().drain()
                let blocked = try #require(try f.engine.run(runID))
                #expect(blocked.state == .running)
                #expect(blocked.cause?.contains("connection.district.baseURL") == true, "\(blocked.cause ?? "")")
                #expect(blocked.cause?.contains(wrong.absoluteString) == true, "names the URL it tried")
                #expect(try f.engine.jobs(runID: runID).allSatisfy { $0.state == .available })
                #expect(try f.statuses() == [.error, .error])
                #expect(try f.engine.syncItem(materialID: f.materialID(1), classID: f.classID)?.errorCode == "SIS_CONNECTION_BLOCKED")

                try await f.worker().drain()
                #expect(try f.engine.run(runID)?.state == .succeeded)
                #expect(try f.statuses() == [.successful, .successful])
                #expect(f.sisResults().count == 60)
            }
        }
    }

    @Test("deleting a material cancels its queued writes; restoring it reconnects to the same SIS item")
    func deleteAndRestore() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2)
                _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await f.worker().drain()
                #expect(f.sisLineItems().count == 2)
                try f.lms.deleteMaterial(courseID: f.courseID, lmsID: "m-1", at: Date())
                try f.lms.upsertMaterial(
                    courseID: f.courseID,
                    .init(lmsID: "m-1", title: "Renamed while deleted", dueAt: EngineFixture.dueDate(1), categoryLmsID: "lc-1", maxPoints: 20), at: Date())
                let (r2, plan) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                #expect(plan.items.first { $0.lmsID == "m-1" }?.decision == .skip, "a deleted material is no longer updated")
                try await f.worker().drain()
                #expect(try f.engine.run(r2)?.itemsSent == 0)
                let lineItemID = SourcedIDs.lineItem(connection: "district", materialLmsID: "m-1", sectionSourcedId: f.section)
                #expect(running.sandbox.data.record(.lineItems, lineItemID)?["title"] == "Assignment 2", "its SIS item stays as it was")

                try f.lms.restoreMaterial(courseID: f.courseID, lmsID: "m-1", at: Date())
                _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await f.worker().drain()
                #expect(running.sandbox.data.record(.lineItems, lineItemID)?["title"] == "Renamed while deleted")
                #expect(f.sisLineItems().count == 2, "the same SIS item was updated, no duplicate")
            }
        }
    }

    @Test("opted-out materials never enqueue; a dry run plans without sending")
    func optOutAndDryRun() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 3)
                try f.lms.upsertMaterial(
                    courseID: f.courseID,
                    .init(
                        lmsID: "m-2", title: "Assignment 3", dueAt: EngineFixture.dueDate(2), categoryLmsID: "lc-2",
                        maxPoints: 20, syncToSIS: false), at: Date())
                let dry = try f.planner().plan(classID: f.classID, onlyChanges: true)
                #expect(dry.items.filter { $0.decision == .send }.count == 2)
                #expect(dry.writeCount == 2 * 31)
                #expect(try f.engine.jobCounts().isEmpty, "a dry run enqueues nothing")
                _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await f.worker().drain()
                #expect(f.sisLineItems().count == 2)
                #expect(try f.statuses().sorted { $0.rawValue < $1.rawValue } == [.optOut, .successful, .successful])
            }
        }
    }

    @Test("a teacher's opt-out in a section cancels the material's writes still queued there, and the run ends without them")
    func optOutCancelsQueuedWrites() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2)
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                #expect(try f.lms.setSyncToSIS(materialID: try f.materialID(1), classIDs: [f.classID], false, by: "teacher", at: Date()) == .saved)
                try await f.worker().drain()
                let sent = f.sisLineItems().compactMap { $0["sourcedId"]?.stringValue }
                #expect(sent == [SourcedIDs.lineItem(connection: "district", materialLmsID: "m-0", sectionSourcedId: f.section)], "only m-0 went")
                #expect(f.sisResults().count == 30)
                #expect(try f.engine.run(runID)?.finishedAt != nil, "the run finished")
                #expect(try f.statuses().sorted { $0.rawValue < $1.rawValue } == [.optOut, .successful])
            }
        }
    }
}
