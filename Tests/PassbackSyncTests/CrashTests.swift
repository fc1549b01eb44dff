import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import PassbackTesting
import Testing

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Starts `passback worker` on the fixture's database and connection.
func startWorker(_ f: EngineFixture, configPath: String, untilIdle: Bool) throws -> Process {
    let p = Process()
    p.executableURL = try builtBinary("passback")
    p.arguments = ["worker", "--config", configPath, "--database", f.database.path] + (untilIdle ? ["--until-idle"] : [])
    var env = ProcessInfo.processInfo.environment
    env["CONNECTION_DISTRICT_CLIENT_SECRET"] = f.connection.secret
    p.environment = env
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

/// Waits for a child process without blocking a thread of the cooperative pool (which the
/// in-process sandbox needs to answer the child's requests).
func waitForExit(_ p: Process) async {
    while p.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
}

/// Waits (at most two minutes) until at least `count` writes have been accepted, or the process ends.
func waitForCompleted(_ f: EngineFixture, atLeast count: Int, while process: Process) async throws {
    let deadline = ContinuousClock.now + .seconds(120)
    while process.isRunning, ContinuousClock.now < deadline, (try f.engine.jobCounts()["completed"] ?? 0) < count {
        try await Task.sleep(for: .milliseconds(5))
    }
}

func writeConfig(_ f: EngineFixture) throws -> String {
    let path = FileManager.default.temporaryDirectory.appending(path: "passback-crash-\(UUID().uuidString).json").path
    let json = """
        {"connectionIds": ["district"], "connection": {"district": {"baseURL": "\(f.connection.settings.baseURL.absoluteString)",
         "auth": "oauth2", "clientId": "\(f.connection.settings.clientID)", "requestsPerMinute": 600000}}}
        """
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("Crashes: the worker killed at random points")
struct CrashTests {
    @Test(
        "SIGKILL mid-sync, restart, repeat: the SIS ends with exactly the expected lineItems and results, every status right",
        arguments: [UInt64(11), 29])
    func killAndRestart(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        try await withDatabase { db in
            try await withRunningSandbox(
                { $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) },
                clock: ManualWallClock(start)
            ) { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 20)
                let (runID, plan) = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                let expected = Dictionary(uniqueKeysWithValues: plan.items.flatMap(\.writes).map { ($0.targetSourcedId, $0.payload) })
                #expect(expected.count == 20 + 20 * 30)
                let config = try writeConfig(f)
                defer { try? FileManager.default.removeItem(atPath: config) }

                var kills = 0
                var progress: [Int] = []
                for _ in 0..<4 {
                    // Kill once a random share of the remaining writes has landed, whatever the
                    // machine's speed: each kill falls mid-sync.
                    let before = try f.engine.jobCounts()["completed"] ?? 0
                    let target = min(615, before + 10 + Int(random.next() % 120))
                    let worker = try startWorker(f, configPath: config, untilIdle: true)
                    try await waitForCompleted(f, atLeast: target, while: worker)
                    try await Task.sleep(for: .milliseconds(Int(random.next() % 20)))
                    if worker.isRunning {
                        kill(worker.processIdentifier, SIGKILL)
                        kills += 1
                    }
                    await waitForExit(worker)
                    progress.append(try f.engine.jobCounts()["completed"] ?? 0)
                }
                let last = try startWorker(f, configPath: config, untilIdle: true)
                await waitForExit(last)
                #expect(last.terminationStatus == 0)
                #expect(kills == 4, "the worker was killed four times")
                #expect(progress.allSatisfy { $0 > 0 && $0 < 620 }, "every kill landed mid-sync: completed writes after each kill \(progress)")
                let rescues = try (0..<20).flatMap { try f.engine.audit(materialID: f.materialID($0), classID: f.classID) }.filter { $0.action == "rescue" }
                #expect(!rescues.isEmpty, "a write was in flight at a kill and was rescued on restart")

                // Exactly the expected objects, with exactly the planned content.
                let lineItems = f.sisLineItems(), results = f.sisResults()
                #expect(lineItems.count == 20)
                #expect(results.count == 600)
                var mismatched = 0
                for object in lineItems + results {
                    guard let id = object["sourcedId"]?.stringValue, let want = expected[id],
                        case .object(var planned)? = try? JSONValue.parse(want)
                    else { mismatched += 1; continue }
                    var got = object
                    for volatile in ["dateLastModified", "status"] { got[volatile] = nil; planned[volatile] = nil }
                    if got != planned { mismatched += 1 }
                }
                #expect(mismatched == 0)
                let stats = running.sandbox.data.writeStats
                #expect(stats.created[.results] == 600, "no result was created twice")
                #expect(stats.created[.lineItems] == 20)
                #expect(try f.engine.jobCounts()["running"] == nil, "no write is left claimed")
                #expect(try f.engine.jobCounts()["completed"] == 620)
                #expect(try f.statuses().allSatisfy { $0 == .successful })
                #expect(try f.engine.run(runID)?.state == .succeeded)
            }
        }
    }

    @Test("SIGTERM stops claiming, lets writes in flight finish, releases the rest and exits cleanly")
    func gracefulShutdown() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 10)
                _ = try f.planner().start(classID: f.classID, trigger: .syncChanges, startedBy: "teacher")
                var slow = FaultRates()
                slow.slow = 1
                slow.slowMilliseconds = 100
                running.sandbox.faults.setRates(slow)
                let config = try writeConfig(f)
                defer { try? FileManager.default.removeItem(atPath: config) }
                let worker = try startWorker(f, configPath: config, untilIdle: false)
                try await waitForCompleted(f, atLeast: 10, while: worker)
                #expect(worker.isRunning)
                kill(worker.processIdentifier, SIGTERM)
                await waitForExit(worker)
                #expect(worker.terminationReason == .exit)
                #expect(worker.terminationStatus == 0)
                let counts = try f.engine.jobCounts()
                #expect(counts["running"] == nil, "nothing is left claimed: \(counts)")
                #expect((counts["completed"] ?? 0) > 0)
                #expect((counts["available"] ?? 0) + (counts["retryable"] ?? 0) > 0, "work remained for the next start")
                running.sandbox.faults.setRates(FaultRates())
                try await f.worker().drain()
                #expect(f.sisResults().count == 300)
                #expect(running.sandbox.data.writeStats.created[.results] == 300)
            }
        }
    }
}
