import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import PassbackSync
import PassbackTesting
import Testing

/// Runs the `passback` binary and returns its exit status and output, without blocking a
/// thread of the cooperative pool (the in-process sandbox answers on it).
func runPassback(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = try builtBinary("passback")
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    // Files, not pipes: reading a pipe blocks a thread, and the cooperative pool has two.
    let dir = FileManager.default.temporaryDirectory
    let outURL = dir.appending(path: "passback-out-\(UUID().uuidString)"), errURL = dir.appending(path: "passback-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    try p.run()
    await waitForExit(p)
    let o = (try? Data(contentsOf: outURL)) ?? Data(), e = (try? Data(contentsOf: errURL)) ?? Data()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite("The passback command line")
struct CommandLineTests {
    @Test("roster sync, sync --dry-run, sync, worker --until-idle and token create work end to end and say what they did")
    func operatorCommands() async throws {
        try await withDatabase { db in
            try await withRunningSandbox({ $0.plan = DistrictPlan(schools: 1, students: 30, classes: 1, studentsPerClass: 30) }, clock: ManualWallClock(start))
            { running in
                let f = try await EngineFixture.make(database: db, running: running, materials: 2)
                let config = try writeConfig(f)
                defer { try? FileManager.default.removeItem(atPath: config) }
                let env = ["CONNECTION_DISTRICT_CLIENT_SECRET": f.connection.secret]
                let base = ["--config", config, "--database", db.path]

                let roster = try await runPassback(["roster", "sync"] + base + ["--connection", "district"], environment: env)
                #expect(roster.status == 0, "\(roster.err)")
                #expect(roster.out.contains("REST pull (delta"), "the fixture already rostered once: \(roster.out)")
                #expect(roster.out.contains("users"))

                let dry = try await runPassback(["sync"] + base + ["--connection", "district", "--section", f.section, "--dry-run"], environment: env)
                #expect(dry.status == 0, "\(dry.err)")
                #expect(dry.out.contains("2 item(s) to send, 62 write(s)"), "\(dry.out)")
                #expect(try f.engine.jobCounts().isEmpty)

                let queued = try await runPassback(["sync"] + base + ["--connection", "district", "--section", f.section], environment: env)
                #expect(queued.status == 0, "\(queued.err)")
                #expect(queued.out.contains("queued as run"))
                let worker = try await runPassback(["worker"] + base + ["--until-idle"], environment: env)
                #expect(worker.status == 0, "\(worker.err)")
                #expect(worker.out.contains("completed 62"), "\(worker.out)")
                #expect(f.sisResults().count == 60)

                let teacher = try #require(
                    running.sandbox.data.all(.enrollments).first { $0["role"] == "teacher" }?["user"]?.objectValue?["sourcedId"]?.stringValue)
                let token = try await runPassback(
                    ["token", "create"] + base + ["--connection", "district", "--user", teacher, "--role", "teacher"], environment: env)
                #expect(token.status == 0, "\(token.err)")
                let printed = token.out.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(APIToken.looksValid(printed))
                #expect(try TokenStore(db).principal(for: printed, at: Date())?.userSourcedId == teacher)
            }
        }
    }

    @Test("mistakes get a clear message and a failing exit status")
    func mistakes() async throws {
        try await withDatabase { db in
            let missing = try await runPassback(["roster", "sync", "--database", db.path, "--connection", "nowhere"])
            #expect(missing.status != 0)
            #expect(missing.err.contains("no connection 'nowhere' is configured"), "\(missing.err)")
            let badSize = try await runPassback(["sandbox", "--size", "enormous"])
            #expect(badSize.status != 0)
            #expect(badSize.err.contains("--size must be small, district, secondary, or a number of students"))
            let badDemoSize = try await runPassback(["demo", "--size", "enormous", "--database", db.path + "-demo"])
            #expect(badDemoSize.status != 0)
            #expect(badDemoSize.err.contains("--size must be small, district, secondary, or a number of students"), "\(badDemoSize.err)")
            let badFaults = try await runPassback(["sandbox", "--faults", "429=3"])
            #expect(badFaults.err.contains("not a fraction between 0 and 1"))
            let zip = FileManager.default.temporaryDirectory.appending(path: "not-a-zip-\(UUID().uuidString).zip")
            try Data("hello".utf8).write(to: zip)
            defer { try? FileManager.default.removeItem(at: zip) }
            let broken = try await runPassback(["roster", "import", zip.path, "--database", db.path, "--connection", "district", "--new-connection"])
            #expect(broken.status != 0)
            #expect(broken.err.contains("Nothing was imported"), "\(broken.err)")
            #expect(try RosterStore(db).connectionIDs() == [])

            // A mistyped connection id is refused, not made into a new empty district.
            let typo = try await runPassback(["roster", "import", zip.path, "--database", db.path, "--connection", "distrcit"])
            #expect(typo.status != 0)
            #expect(typo.err.contains("no connection 'distrcit'"), "\(typo.err)")
            #expect(typo.err.contains("configured: none; CSV-only in this database: none"), "\(typo.err)")
            #expect(typo.err.contains("--new-connection"), "\(typo.err)")
            #expect(try RosterStore(db).connectionIDs() == [])
        }
    }
}

@Suite("passback serve")
struct ServeCommandTests {
    @Test("serve answers /healthz and /graphql (401 without a token), then SIGTERM stops it cleanly")
    func serveAndStop() async throws {
        try await withDatabase { db in
            let out = FileManager.default.temporaryDirectory.appending(path: "passback-serve-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: out) }
            let p = Process()
            p.executableURL = try builtBinary("passback")
            p.arguments = ["serve", "--database", db.path, "--port", "0"]
            p.standardOutput = try FileHandle(forWritingTo: out)
            p.standardError = FileHandle.nullDevice
            try p.run()
            var line = ""
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, p.isRunning, !line.contains("serving on") {
                try await Task.sleep(for: .milliseconds(20))
                line = String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self)
            }
            let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
            let response = try await URLSessionTransport().send(HTTPRequest(method: "GET", url: URL(string: url + "/healthz")!))
            #expect(response.status == 200)
            // The GraphQL API is there, and wants a token.
            let graphQL = try await URLSessionTransport().send(
                HTTPRequest(
                    method: "POST", url: URL(string: url + "/graphql")!,
                    headers: ["Content-Type": "application/json"],
                    body: Data(#"{"query":"{ viewer { role } }"}"#.utf8)))
            #expect(graphQL.status == 401)
            #expect(String(decoding: graphQL.body, as: UTF8.self).contains("UNAUTHENTICATED"))
            kill(p.processIdentifier, SIGTERM)
            await waitForExit(p)
            #expect(p.terminationReason == .exit)
            #expect(p.terminationStatus == 0)
        }
    }
}
