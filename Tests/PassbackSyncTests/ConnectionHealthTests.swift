import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Synchronization
import Testing

/// Plays an outage on its own: while `down`, every request fails as a refused connection would,
/// and is counted (once writes wait, the only requests are probes: each is one attempt, a token
/// request or `GET orgs?limit=1`, whichever comes first and fails). Probes that reach the SIS
/// are counted too.
final class ProbeCountingTransport: HTTPTransport {
    let inner = URLSessionTransport()
    let probes = Mutex(0)
    let down = Mutex(false)

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if down.withLock({ $0 }) {
            probes.withLock { $0 += 1 }
            throw TransportFailure("connection refused (test outage)")
        }
        if request.url.path.hasSuffix("/orgs"), request.url.query?.contains("limit=1") == true { probes.withLock { $0 += 1 } }
        return try await inner.send(request)
    }

    var probeCount: Int { probes.withLock { $0 } }
}

@Suite("Connection health: an outage holds writes on the connection", .serialized)
struct ConnectionHealthTests {
    func wait(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("timed out waiting: \(what)")
    }

    @Test(
        "writes wait on a SIS that does not answer, without spending attempts; it is probed every probeInterval of the injected clock; sending resumes at the first answer"
    )
    func outageAndRecovery() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 60, classes: 2, studentsPerClass: 30) }, clock: clock) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 4, clock: clock)
                let transport = ProbeCountingTransport()
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                transport.down.withLock { $0 = true }
                let worker = f.worker({ $0.probeInterval = 5 }, transport: transport)
                let task = Task { try await worker.drain() }
                defer { task.cancel() }

                try await wait("the connection is found unreachable") { try f.engine.health(connection: "district")?.unreachableSince != nil }
                #expect(try f.engine.health(connection: "district")?.unreachableSince == start)
                let lastError = try f.engine.health(connection: "district")?.lastError ?? ""
                #expect(lastError.contains("connection refused") && lastError.contains(f.connection.settings.baseURL.absoluteString), "\(lastError)")
                #expect(lastError.contains("fix connection.district.baseURL (CONNECTION_DISTRICT_BASE_URL)"), "a wrong address looks the same: \(lastError)")
                try await wait("in-flight writes put back") { try f.engine.jobCounts(connection: "district")["running"] == nil }
                let probesAtDown = transport.probeCount
                #expect(probesAtDown >= 1)
                // The clock does not move: no probe is due, whatever real time passes.
                try await Task.sleep(for: .milliseconds(500))
                #expect(transport.probeCount == probesAtDown)
                clock.advance(by: 4.9)
                try await Task.sleep(for: .milliseconds(300))
                #expect(transport.probeCount == probesAtDown, "no probe before the interval")
                clock.advance(by: 0.2)
                try await wait("one probe at the interval") { transport.probeCount == probesAtDown + 1 }
                try await Task.sleep(for: .milliseconds(300))
                #expect(transport.probeCount == probesAtDown + 1)
                // No write spent an attempt on the outage.
                let jobs = try f.engine.jobs(runID: runID).map(\.attempt)
                #expect(jobs.allSatisfy { $0 == 0 }, "\(jobs)")
                #expect(try f.engine.jobCounts(connection: "district")["discarded"] == nil)

                // The SIS answers again: the next probe finds it and every write goes.
                transport.down.withLock { $0 = false }
                clock.advance(by: 5)
                try await task.value
                #expect(try f.engine.health(connection: "district")?.unreachableSince == nil)
                #expect(f.sisResults().count == 4 * f.students.count)
                let attempts = try f.engine.jobs(runID: runID).map(\.attempt)
                #expect(attempts.allSatisfy { $0 == 1 }, "each write was sent once it could be: \(attempts)")
                #expect(try f.statuses().allSatisfy { $0 == .successful })
            }
        }
    }

    @Test("writes that waited longer than unreachableWindow end SIS_UNAVAILABLE, saying since when")
    func giveUpAfterTheWindow() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 60, classes: 2, studentsPerClass: 30) }, clock: clock) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2, clock: clock)
                let transport = ProbeCountingTransport()
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                transport.down.withLock { $0 = true }
                let worker = f.worker(
                    {
                        $0.probeInterval = 5; $0.unreachableWindow = 3600
                    }, transport: transport)
                let task = Task { try await worker.drain() }
                defer { task.cancel() }
                try await wait("the connection is found unreachable") { try f.engine.health(connection: "district")?.unreachableSince != nil }
                clock.advance(by: 1800)
                try await Task.sleep(for: .milliseconds(300))
                #expect(try f.engine.jobCounts(connection: "district")["discarded"] == nil, "half the window: still waiting")
                clock.advance(by: 1801)
                try await task.value
                let counts = try f.engine.jobCounts(connection: "district")
                #expect(counts["completed"] == nil)
                #expect((counts["discarded"] ?? 0) + (counts["cancelled"] ?? 0) == 2 * (f.students.count + 1), "\(counts)")
                let item = try #require(try f.engine.syncItem(materialID: f.materialID(0), classID: f.classID))
                #expect(item.status == .error)
                #expect(item.errorCode == ProblemCode.sisUnavailable.rawValue)
                #expect(item.errorMessage?.contains("could not be reached for 1 h (since 2026-11-22T12:00:00") == true, "\(item.errorMessage ?? "")")
                let run = try #require(try f.engine.run(runID))
                #expect(run.finishedAt != nil)
                #expect(run.itemsFailed == 2, "\(run)")
            }
        }
    }

    @Test("a 5xx on one write while the probe answers is that write's: retried on its own, the connection stays reachable")
    func oneWriteFaultIsNotAnOutage() async throws {
        let clock = ManualWallClock(start)
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 60, classes: 2, studentsPerClass: 30) }, clock: clock) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 1, clock: clock)
                let transport = ProbeCountingTransport()
                let (runID, _) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                running.sandbox.faults.script([.serverError])
                let task = Task { try await f.worker(transport: transport).drain() }
                defer { task.cancel() }
                // The retry waits on its backoff in the injected clock.
                try await wait("the failed write is rescheduled") { try f.engine.jobCounts(connection: "district")["retryable"] == 1 }
                #expect(transport.probeCount == 1)
                #expect(try f.engine.health(connection: "district")?.unreachableSince == nil)
                clock.advance(by: 60)
                try await task.value
                let attempts = try f.engine.jobs(runID: runID).map(\.attempt).sorted(by: >)
                #expect(attempts.first == 2, "the faulted write spent an attempt: \(attempts)")
                #expect(f.sisResults().count == f.students.count)
            }
        }
    }
}
