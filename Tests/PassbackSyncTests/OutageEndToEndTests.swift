import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

@Suite("An outage of the SIS mid-sync, with the worker as its own process")
struct OutageEndToEndTests {
    /// The seconds from the SIS's return to the last accepted write, as the test measured them.
    /// `Benchmarks/RESULTS.md` quotes a run of it (`swift test --filter OutageEndToEndTests`).
    @Test(
        "the SIS goes away for a minute mid-sync: nothing is lost or doubled, no attempt is spent on the outage, and sending resumes within seconds of its return"
    )
    func minuteLongOutage() async throws {
        try await withDatabase { db in
            try await withRunningSandbox(
                { $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) },
                clock: ManualWallClock(start)
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 8)
                let (runID, plan) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                let total = plan.items.flatMap(\.writes).count
                #expect(total == 8 + 8 * 30)
                // Each answer takes 50 ms, so the sync is still going when the SIS goes away.
                var slow = FaultRates()
                slow.slow = 1
                slow.slowMilliseconds = 50
                running.sandbox.faults.setRates(slow)
                let config = try writeConfig(f)
                defer { try? FileManager.default.removeItem(atPath: config) }
                let worker = try startWorker(f, configPath: config, untilIdle: true)
                defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }
                try await waitForCompleted(f, atLeast: total / 4, while: worker)

                // The SIS goes away: its port refuses connections, for a minute.
                await running.stop()
                let down = ContinuousClock.now
                let completedAtDown = try f.engine.jobCounts()["completed"] ?? 0
                #expect(completedAtDown < total, "the outage began mid-sync")
                while ContinuousClock.now - down < .seconds(60) {
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(worker.isRunning, "the worker waits; it does not give up")
                }
                #expect(try f.engine.health(connection: "district")?.unreachableSince != nil)
                let during = try f.engine.jobs(runID: runID)
                #expect(during.allSatisfy { $0.attempt <= 1 }, "no write spent a second attempt on the outage")
                #expect(!during.contains { [JobState.discarded, .cancelled].contains($0.state) })

                // It comes back where it was, with what it had accepted.
                let back = try await running.sandbox.start(port: running.port)
                let returned = ContinuousClock.now
                var lastAccepted: Duration?
                while ContinuousClock.now - returned < .seconds(120) {
                    if (try f.engine.jobCounts()["completed"] ?? 0) == total {
                        lastAccepted = ContinuousClock.now - returned
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                await waitForExit(worker)
                await back.stop()
                let recovery = try #require(lastAccepted, "every write was accepted within two minutes of the SIS's return")
                let seconds = Double(recovery.components.seconds) + Double(recovery.components.attoseconds) / 1e18
                print(
                    "outage recovery: \(String(format: "%.1f", seconds)) s from the SIS's return to the last accepted write (\(total - completedAtDown) writes left at the outage)"
                )
                #expect(seconds < 60, "a generous bound: the probe runs every 5 s")
                #expect(worker.terminationStatus == 0)
                #expect(f.sisResults().count == 8 * 30)
                #expect(running.sandbox.data.writeStats.created[.results] == 8 * 30, "no result was created twice")
                #expect(try f.engine.health(connection: "district")?.unreachableSince == nil)
                #expect(try f.statuses().allSatisfy { $0 == .successful })
                #expect(try f.engine.run(runID)?.state == .succeeded)
            }
        }
    }
}
