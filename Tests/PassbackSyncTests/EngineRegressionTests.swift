import Clocks
import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackSync

/// Cases a review of the engine found; each failed before its fix.
@Suite("Engine edge cases")
struct EngineRegressionTests {
    static func small(_ c: inout SandboxConfiguration) { c.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }

    @Test("a write that goes back to the queue while a newer write to the same object is queued is superseded, not doubled")
    func supersededWrite() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(Self.small, clock: ManualWallClock(start)) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1)
                let (run1, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                let claimed = try f.engine.claim(connection: "district", limit: 1, at: Date())
                let lineItemJob = try #require(claimed.first)
                #expect(lineItemJob.kind == .putLineItem)
                try f.lms.upsertMaterial(
                    courseID: f.courseID, .init(lmsID: "m-0", title: "Renamed", dueAt: EngineFixture.dueDate(0), categoryLmsID: "lc-0", maxPoints: 20),
                    at: Date())
                let (run2, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                // The older write fails and would go back to the queue beside the newer one.
                try f.engine.retry(lineItemJob, error: "HTTP 500", httpStatus: 500, after: 0, at: Date())
                try f.engine.rescueStuckJobs(at: Date())
                try await f.worker().drain()
                let id = SourcedIDs.lineItem(connection: "district", materialLmsID: "m-0", sectionSourcedId: f.section)
                #expect(running.sandbox.data.record(.lineItems, id)?["title"] == "Renamed")
                #expect(f.sisResults().count == 30)
                #expect(try f.engine.run(run1)?.state != .running)
                #expect(try f.engine.run(run2)?.state == .succeeded)
                #expect(try f.engine.audit(materialID: f.materialID(0), classID: f.classID).contains { $0.action == "superseded" })
                #expect(try f.statuses() == [.successful])
            }
        }
    }

    @Test("a run whose queued writes a newer run took over finishes")
    func coalescedAwayRunFinishes() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(Self.small, clock: ManualWallClock(start)) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2)
                let (run1, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                let (run2, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                #expect(try f.engine.run(run1)?.state != .running, "its writes all moved to run \(run2)")
                try await f.worker().drain()
                #expect(try f.engine.run(run2)?.state == .succeeded)
                #expect(running.sandbox.data.writeStats.created[.results] == 60)
            }
        }
    }

    @Test("a grade for a student the roster does not list: the rest is sent, the item shows ERROR, the run counts it")
    func studentNotEnrolled() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(Self.small, clock: ManualWallClock(start)) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1)
                try f.lms.recordGrade(materialID: f.materialID(0), studentSourcedId: "someone-else", score: 10, exception: nil, comment: nil, at: Date())
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await f.worker().drain()
                #expect(f.sisResults().count == 30)
                let item = try #require(try f.engine.syncItem(materialID: f.materialID(0), classID: f.classID))
                #expect(item.status == .error)
                #expect(item.errorCode == "STUDENT_NOT_ENROLLED")
                let run = try #require(try f.engine.run(runID))
                #expect(run.state == .partial)
                #expect(run.itemsFailed == 1)
                #expect(run.itemsSucceeded == 0)
            }
        }
    }

    @Test("deleting a material while its writes are out leaves no item stuck; what landed counts as accepted, nothing else does; a restore sends the rest")
    func deleteMidRun() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(Self.small, clock: ManualWallClock(start)) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1)
                _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                let lineItemJob = try #require(try f.engine.claim(connection: "district", limit: 1, at: Date()).first)
                try f.lms.deleteMaterial(courseID: f.courseID, lmsID: "m-0", at: Date())
                // The lineItem's PUT was in flight: it lands, and the SIS holds it.
                guard case .object(let lineItem) = try JSONValue.parse(lineItemJob.payload) else { throw TestFailure("payload") }
                running.sandbox.data.upsert(.lineItems, lineItem)
                try f.engine.complete(lineItemJob, httpStatus: 201, at: Date())
                let item = try #require(try f.engine.syncItem(materialID: f.materialID(0), classID: f.classID))
                #expect(item.status == .updatesAvailable, "not SUCCESSFUL: its results were never sent")
                #expect(try f.engine.jobCounts()["available"] == nil)
                try f.lms.restoreMaterial(courseID: f.courseID, lmsID: "m-0", at: Date())
                let before = running.sandbox.data.writeStats.putRequestsByRecord
                _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await f.worker().drain()
                #expect(f.sisResults().count == 30)
                #expect(
                    running.sandbox.data.writeStats.putRequestsByRecord.filter { $0.key.hasPrefix("lineItems/") }
                        == before.filter { $0.key.hasPrefix("lineItems/") },
                    "the lineItem the SIS holds is not sent again")
                #expect(try f.statuses() == [.successful])
            }
        }
    }

    @Test("changes the SIS never sees do not leave an item waiting on updates")
    func nonContentChanges() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(Self.small, clock: ManualWallClock(start)) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1)
                _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                try await f.worker().drain()
                // Unpublishing changes nothing the SIS holds.
                try f.lms.upsertMaterial(
                    courseID: f.courseID,
                    .init(
                        lmsID: "m-0", title: "Assignment 1", dueAt: EngineFixture.dueDate(0), categoryLmsID: "lc-0",
                        maxPoints: 20, published: false), at: Date())
                #expect(try f.statuses() == [.successful])
                // A grade changed and changed back: flagged, then Sync Changes finds nothing to send and clears it.
                let original = try #require(f.sisResults().first { $0["student"]?.objectValue?["sourcedId"]?.stringValue == f.students[4] })["score"]?
                    .numberValue
                try f.lms.recordGrade(materialID: f.materialID(0), studentSourcedId: f.students[4], score: 1, exception: nil, comment: nil, at: Date())
                #expect(try f.statuses() == [.updatesAvailable])
                try f.lms.recordGrade(materialID: f.materialID(0), studentSourcedId: f.students[4], score: original, exception: nil, comment: nil, at: Date())
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                #expect(try f.engine.run(runID)?.itemsSent == 0)
                #expect(try f.statuses() == [.successful])
            }
        }
    }
}

@Suite("Per-connection concurrency and rate limit")
struct WorkerLimitTests {
    /// Syncs 60 results through a sandbox that answers each write after 30 ms; the peak of writes in flight.
    func peakInFlight(connectionConcurrency: Int? = nil, override: Int? = nil) async throws -> Int {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                var f = try await EngineFixture.make(database: db, running: running, materials: 2)
                if let connectionConcurrency { f.connection.settings.concurrency = connectionConcurrency }
                _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                var slow = FaultRates()
                slow.slow = 1
                slow.slowMilliseconds = 150 // long enough that the in-flight peak does not depend on how fast a loaded machine claims jobs
                running.sandbox.faults.setRates(slow)
                running.sandbox.resetPeakConcurrentRequests()
                try await f.worker { $0.concurrencyPerConnection = override }.drain()
                #expect(f.sisResults().count == 60)
                return running.sandbox.peakConcurrentRequests
            }
        }
    }

    @Test("the worker never has more writes in flight to one SIS than its concurrency allows")
    func concurrencyCap() async throws {
        let peak = try await peakInFlight(override: 3)
        #expect(peak <= 3, "never more than three at once")
        #expect(peak >= 2, "and really in parallel")
    }

    @Test("without an override, each connection's own concurrency setting holds")
    func connectionConcurrency() async throws {
        let peak = try await peakInFlight(connectionConcurrency: 8)
        #expect(peak <= 8, "never more than the connection's eight")
        #expect(peak >= 5, "and more than the default four")
    }

    @Test("requests to one SIS are spaced under its requests-per-minute limit")
    func rateLimit() async throws {
        // 1,200 a minute is one every 50 ms: the 21st request goes a second after the first. The
        // clock moves on by what each request sleeps, at once.
        let clock = ImmediateClock()
        let limiter = RateLimiter(requestsPerMinute: 1200, clock: clock)
        let started = clock.now
        for _ in 0..<21 { try await limiter.acquire() }
        #expect(started.duration(to: clock.now) == .seconds(1))
        #expect(await limiter.sleeps == 20, "each request after the first waited for its slot")
    }
}

@Suite("Rate limiter pauses")
struct RateLimiterPauseTests {
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    /// Waits (in real time, at most 10 s) until `condition` holds.
    static func until(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while await !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test("a pause that begins while a request waits for its slot holds that request too")
    func pauseHoldsWaitingRequests() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(requestsPerMinute: 20, clock: clock)
        try await limiter.acquire()
        let done = Flag()
        let waiting = Task {
            try await limiter.acquire()
            done.set()
        }
        // The second request waits for its slot three seconds on; the SIS asks for 4.5 s.
        try await Self.until { await limiter.sleeps == 1 }
        await limiter.pause(for: 4.5)
        await clock.advance(by: .seconds(3))
        // Woken at its slot, it finds the pause and sleeps again (one that ignored it would be done).
        try await Self.until { await limiter.sleeps == 2 || done.isSet }
        #expect(!done.isSet, "the request went inside the pause")
        await clock.advance(by: .milliseconds(1500))
        try await waiting.value
        #expect(done.isSet)
    }
}
