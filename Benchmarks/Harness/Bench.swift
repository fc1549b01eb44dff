import ArgumentParser
import Foundation
import GRDB
import GraphQL
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackGateway
import PassbackStore
import PassbackTesting

/// `passback-bench`: Passback measured at district scale, every figure beside its reference
/// measured in the same run (Benchmarks/README.md).
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "passback-bench", abstract: "Measure Passback against its references and write RESULTS.md.")

    @Option(help: "tiny (CI), medium, or full (50,000 students in 8,000 sections of 25, 100 materials each: 20 million grades).") var scale = "tiny"
    @Option(help: "Where to write the results.") var out = "Benchmarks/RESULTS.md"
    @Option(help: "The passback binary to measure (default: next to this one).") var passback: String?
    @Option(help: "Working folder (default: a new temporary one, removed after).") var work: String?
    @Option(
        help: """
            Run only this phase: rostering (writes Benchmarks/RESULTS-roster.md unless --out says otherwise), or sync (the REST pull, \
            the feed, then one sync at 4 writes in flight and one at 16; writes Benchmarks/RESULTS-sync.md unless --out says otherwise), \
            or reads (the feed, one section synced, then the widget's and the admin's reads; Benchmarks/RESULTS-reads.md), \
            or engine (only the query engine against its floors, on the database an earlier run left in --work; Benchmarks/RESULTS-engine.md).
            """) var only: String?
    @Option(help: "The passback binary that serves the sandbox SIS (default: --passback's), so two builds of Passback can be measured against one SIS.")
    var sandboxBinary: String?
    @Option(help: "The API's engine (api.engine): planned, or reference (GraphQLSwift's executor for everything), so the two can be measured in one build.")
    var engine = "planned"

    struct Scale {
        var students: String
        var materials: Int
        var syncedSections: Int
        var reads: Int
    }

    var settings: Scale {
        switch scale {
        case "full": Scale(students: "secondary", materials: 100, syncedSections: 4, reads: 500)
        case "medium": Scale(students: "5000", materials: 40, syncedSections: 5, reads: 300)
        default: Scale(students: "300", materials: 6, syncedSections: 1, reads: 40)
        }
    }

    func run() async throws {
        let s = settings
        let bin = passback ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "passback").path
        guard FileManager.default.isExecutableFile(atPath: bin) else { throw ValidationError("no passback binary at \(bin); build it, or pass --passback") }
        let sis = sandboxBinary ?? bin
        guard FileManager.default.isExecutableFile(atPath: sis) else { throw ValidationError("no passback binary at \(sis) (--sandbox-binary)") }
        guard [nil, "rostering", "sync", "reads", "engine"].contains(only) else { throw ValidationError("--only takes rostering, sync, reads or engine") }
        if only == "engine", work.map({ !FileManager.default.fileExists(atPath: $0 + "/passback.sqlite") }) ?? true {
            throw ValidationError("--only engine measures the database an earlier run left: pass that run's --work folder (it holds passback.sqlite)")
        }
        let dir = URL(fileURLWithPath: work ?? FileManager.default.temporaryDirectory.appending(path: "passback-bench-\(UUID().uuidString)").path)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if work == nil { try? FileManager.default.removeItem(at: dir) } }
        var report = Report(scale: scale, binary: bin, syncedSections: s.syncedSections)
        let sisPort = Int.random(in: 21_000..<29_000), apiPort = sisPort + 1
        let config = dir.appending(path: "passback.json")
        let database = dir.appending(path: "passback.sqlite").path
        func writeConfig(concurrency: Int) throws {
            try """
            { "connectionIds": ["district"], "connection": { "district": { "baseURL": "http://127.0.0.1:\(sisPort)/ims/oneroster/v1p1",
              "clientId": "passback-sandbox", "pageSize": 1000, "requestsPerMinute": 600000, "concurrency": \(concurrency) } },
              "api": \(Self.apiLimits) }
            """.write(to: config, atomically: true, encoding: .utf8)
        }
        try writeConfig(concurrency: 4)
        let env = ["CONNECTION_DISTRICT_CLIENT_SECRET": "sandbox-secret", "API_ENGINE": engine]
        say("passback-bench \(scale): working in \(dir.path)")
        if only == "engine" {
            try await engineOnly(bin: bin, dir: dir, config: config, database: database, env: env, apiPort: apiPort)
            return
        }

        // The SIS.
        var sandbox = try Child(
            sis, ["sandbox", "--port", "\(sisPort)", "--size", s.students, "--max-page-size", "1000"], log: dir.appending(path: "sandbox.log"))
        try await sandbox.waitFor("is running")

        // 4. Rostering: REST and CSV through the product, against sqlite3's own import of the same CSV files.
        var w = Stopwatch()
        let rest = try await runCommand(bin, ["roster", "sync", "--config", config.path, "--database", database, "--connection", "district"], environment: env)
        let restSeconds = w.seconds
        let rows = Int(rest.split(separator: "\n").first { $0.contains(" rows") }?.split(separator: " ").first ?? "0") ?? 0
        if only == "reads" {
            try await readsOnly(bin: bin, dir: dir, config: config, database: database, env: env, apiPort: apiPort, sandbox: &sandbox)
            return
        }
        if only == "sync" {
            say("rostered \(rows) rows by REST in \(restSeconds.f1) s")
            try await syncOnly(
                bin: bin, sis: sis, dir: dir, config: config, database: database, env: env, apiPort: apiPort, sisPort: sisPort,
                sandbox: &sandbox, writeConfig: writeConfig, rows: rows, restSeconds: restSeconds)
            return
        }
        let zip = dir.appending(path: "district.zip").path
        _ = try await runCommand(bin, ["sandbox", "--size", s.students, "--export-csv", zip])
        let csvDir = dir.appending(path: "csv").path
        _ = try await runCommand("/usr/bin/unzip", ["-q", "-o", zip, "-d", csvDir])
        let files = try FileManager.default.contentsOfDirectory(atPath: csvDir).filter { $0.hasSuffix(".csv") && $0 != "manifest.csv" }.sorted()
        let script = files.map { ".import --csv \(csvDir)/\($0) t_\($0.replacingOccurrences(of: ".csv", with: ""))" }.joined(separator: "\n")
        try script.write(toFile: dir.appending(path: "import.sql").path, atomically: true, encoding: .utf8)
        // The import and the floor taken in turn, each into a new database, five times: the
        // medians are compared (one run of each moves with the machine's other work).
        var csvTimes: [Double] = [], floorTimes: [Double] = []
        var csvRows = 0
        for round in 0..<5 {
            let csvRun = try measure(
                bin,
                [
                    "roster", "import", zip, "--config", config.path, "--database", dir.appending(path: "csv-\(round).sqlite").path,
                    "--connection", "district"
                ], environment: env)
            guard csvRun.status == 0 else { throw BenchFailure("roster import exited \(csvRun.status): \(csvRun.output.suffix(800))") }
            csvTimes.append(csvRun.seconds)
            report.csvPeak = max(report.csvPeak, csvRun.peakMiB)
            csvRows = Int(csvRun.output.split(separator: "\n").first { $0.contains(" rows") }?.split(separator: " ").first ?? "0") ?? 0
            w = Stopwatch()
            _ = try await runCommand(
                "/bin/sh", ["-c", "sqlite3 \(dir.appending(path: "floor-\(round).sqlite").path) < \(dir.appending(path: "import.sql").path)"])
            floorTimes.append(w.seconds)
        }
        report.rosteringRounds = Array(Swift.zip(csvTimes, floorTimes))
        let csvSeconds = LoadResult.median(csvTimes), floorSeconds = LoadResult.median(floorTimes)
        report.rostering = (rows, restSeconds, csvRows, csvSeconds, floorSeconds)
        say(
            "rostered \(rows) rows: REST \(restSeconds.f1) s, CSV \(csvSeconds.f2) s (median of 5; peak \(report.csvPeak.f0) MiB), sqlite3 \(floorSeconds.f2) s (median of 5)"
        )

        // Rostering in bounded memory: a zip of about 150,000 users, and a zip bomb.
        do {
            // About 150,000 users at full scale (and 230,000 enrollments); smaller below it, so tiny stays quick.
            let bigStudents = scale == "full" ? 149_000 : scale == "medium" ? 20_000 : 2_000
            let big = dir.appending(path: "big.zip").path
            let exported = try await runCommand(bin, ["sandbox", "--size", "\(bigStudents)", "--export-csv", big])
            let run = try measure(
                bin,
                [
                    "roster", "import", big, "--config", config.path, "--database", dir.appending(path: "big.sqlite").path,
                    "--connection", "district"
                ], environment: env)
            guard run.status == 0 else { throw BenchFailure("roster import of the 150,000-user zip exited \(run.status): \(run.output.suffix(800))") }
            let bigRows = Int(run.output.split(separator: "\n").first { $0.contains(" rows") }?.split(separator: " ").first ?? "0") ?? 0
            let counts = exported.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            report.bigImport = (bigStudents, counts, bigRows, run.seconds, run.peakMiB)
            say("imported \(counts): \(run.seconds.f1) s, peak \(run.peakMiB.f0) MiB")
        }
        let bomb = dir.appending(path: "bomb.zip")
        try HostileExport.zipOfZeros(to: bomb, bytes: 1 << 30)
        let bombRun = try measure(
            bin,
            [
                "roster", "import", bomb.path, "--config", config.path, "--database", dir.appending(path: "bomb.sqlite").path,
                "--connection", "district"
            ], environment: env)
        guard bombRun.status != 0 else { throw BenchFailure("the zip bomb was imported: \(bombRun.output.suffix(800))") }
        let bombBytes = (try FileManager.default.attributesOfItem(atPath: bomb.path)[.size] as? Int) ?? 0
        let refusal = (bombRun.output.split(separator: "\n").last.map(String.init) ?? "").replacingOccurrences(of: dir.path + "/", with: "")
        report.bomb = (bombBytes, bombRun.seconds, bombRun.peakMiB, refusal)
        say("zip bomb (\(bombBytes) bytes) refused in \(bombRun.seconds.f2) s, peak \(bombRun.peakMiB.f0) MiB: \(refusal)")
        if only == "rostering" {
            _ = await sandbox.stop()
            let target = out == "Benchmarks/RESULTS.md" ? "Benchmarks/RESULTS-roster.md" : out
            let command = ".build-release/release/passback-bench --scale \(scale) --only rostering"
            try report.rosteringMarkdown(machine: Self.machine(), command: command).write(toFile: target, atomically: true, encoding: .utf8)
            say("wrote \(target)")
            return
        }

        // The gateway, as a separate process; its startup measured on the rostered database.
        let teacherSections = try Self.teacherSections(database)
        let integration = try await token(bin, config, database, env, ["--user", "lms-feed", "--role", "integration"])
        let adminToken = try await token(
            bin, config, database, env, ["--user", teacherSections.first!.teacher, "--role", "admin", "--org", try Self.district(database)])
        var serve = try Child(
            bin, ["serve", "--config", config.path, "--database", database, "--port", "\(apiPort)"], environment: env,
            log: dir.appending(path: "serve.log"))
        let base = "http://127.0.0.1:\(apiPort)"
        _ = try await firstAnswer(base, adminToken)

        // The LMS feed through the product's own mutations.
        let feed = Client(base: base, token: integration)
        w = Stopwatch()
        let grades = try await Self.feed(feed, database: database, materials: s.materials)
        report.feed = (grades, w.seconds)
        say("fed \(grades) grades in \(w.seconds.f1) s")

        // Sync: sections with their teachers' tokens; results/s until the outbox is empty. Two sets
        // of `syncedSections` (worker concurrency 4, then 16) and one more section under 429s.
        let synced = Array(teacherSections.prefix(2 * s.syncedSections + 1))
        var teacherTokens: [String: String] = [:]
        for t in Set(synced.map(\.teacher)) { teacherTokens[t] = try await token(bin, config, database, env, ["--user", t, "--role", "teacher"]) }
        let clean = try await Self.sync(synced.prefix(s.syncedSections), base: base, tokens: teacherTokens, database: database)
        report.sync = clean
        say("synced \(clean.results) results in \(clean.seconds.f1) s (concurrency 4)")

        // The SIS's own PUT capacity, without Passback (wrk, same concurrency as the worker).
        (report.sisCapacity, report.transport) = try await Self.capacity(dir: dir, sisPort: sisPort, connections: 4)
        say("sandbox PUT capacity \(report.sisCapacity.f0)/s (4 connections); Passback's transport alone \(report.transport.f0)/s")

        // The same sync with 10% of the SIS's answers 429.
        _ = await sandbox.stop()
        sandbox = try Child(
            sis, ["sandbox", "--port", "\(sisPort)", "--size", s.students, "--max-page-size", "1000", "--faults", "429=0.1,retry-after=1"],
            log: dir.appending(path: "sandbox-429.log"))
        try await sandbox.waitFor("is running")
        // One section: every 429 pauses the whole connection for its Retry-After, so this phase is slow by design.
        report.sync429 = try await Self.sync(synced.suffix(1), base: base, tokens: teacherTokens, database: database)
        say("synced with 10% 429: \(report.sync429.results) results in \(report.sync429.seconds.f1) s")
        report.rssSync = serve.peakRSS

        // Startup on the loaded database: spawn to the first answered request. The restarted
        // server sends 16 writes at once, and the SIS answers without faults again.
        _ = await serve.stop()
        _ = await sandbox.stop()
        sandbox = try Child(
            sis, ["sandbox", "--port", "\(sisPort)", "--size", s.students, "--max-page-size", "1000"], log: dir.appending(path: "sandbox-2.log"))
        try await sandbox.waitFor("is running")
        try writeConfig(concurrency: 16)
        w = Stopwatch()
        serve = try Child(
            bin, ["serve", "--config", config.path, "--database", database, "--port", "\(apiPort)"], environment: env,
            log: dir.appending(path: "serve2.log"))
        report.startup = try await firstAnswer(base, adminToken, since: w)
        say("startup \(report.startup.health.f2) s to /healthz, \(report.startup.graphQL.f2) s to GraphQL")

        // 1. The widget's read, over HTTP, against the same rows read by plain SQL and encoded (the floor).
        // 2. Admin reads over the whole district.
        let section = synced[0]
        let teacher = Client(base: base, token: teacherTokens[section.teacher]!)
        let admin = Client(base: base, token: adminToken)
        try await measureReads(&report, teacher: teacher, section: section, admin: admin, database: database, serve: serve)
        // The query engine against its floor over HTTP, the widget's document and the admin's errors.
        report.engine = try await engineMeasure(
            base: base, serve: serve, section: section, teacherToken: teacherTokens[section.teacher]!, adminToken: adminToken, database: database,
            apiPort: apiPort, dir: dir)
        report.engineText = report.engine?.markdown(say: say) ?? ""

        // 3. A simple query's latency alone, then while three admins each send the heaviest
        // request the limits allow, back to back.
        report.load = try await Self.underLoad(
            simple: teacher,
            heavy: [adminToken]
                + (0..<2).asyncMap { _ in
                    try await token(
                        bin, config, database, env, ["--user", teacherSections.first!.teacher, "--role", "admin", "--org", try Self.district(database)])
                }, base: base, reads: s.reads)
        say(
            "simple query p99 by round, alone / beside 3 heavy clients: \(report.load.rounds.map { "\($0.alone.ms1) / \($0.loaded.ms1)" }.joined(separator: ", ")) ms; ratio of medians \(report.load.ratio.f1)× (\(report.load.heavy.count) heavy requests)"
        )

        // The same sync with 16 writes in flight, against wrk with 16 connections.
        report.sync16 = try await Self.sync(synced.dropFirst(s.syncedSections).prefix(s.syncedSections), base: base, tokens: teacherTokens, database: database)
        say("synced \(report.sync16.results) results in \(report.sync16.seconds.f1) s (concurrency 16)")
        (report.sisCapacity16, report.transport16) = try await Self.capacity(dir: dir, sisPort: sisPort, connections: 16)
        say("sandbox PUT capacity \(report.sisCapacity16.f0)/s (16 connections); Passback's transport alone \(report.transport16.f0)/s")
        report.rssSync16 = serve.peakRSS

        // A district-wide sync: every section not synced yet maps its categories and syncs one material
        // (its lineItem and a result per student), the worker sending while teachers queue.
        try serve.resetPeakRSS()
        let remaining = Array(teacherSections.dropFirst(synced.count))
        report.district = try await Self.districtSync(remaining, base: base, database: database)
        report.districtSections = remaining.count
        report.rssDistrict = serve.peakRSS
        say(
            "district-wide sync: \(remaining.count) sections, \(report.district.results) results in \(report.district.seconds.f1) s; peak RSS \(report.rssDistrict.f0) MiB"
        )
        _ = await serve.stop()
        _ = await sandbox.stop()

        try report.markdown(machine: Self.machine()).write(toFile: out, atomically: true, encoding: .utf8)
        say("wrote \(out)")
    }

    /// The widget's read over HTTP (one client, then 4), its floor and in-process split, and
    /// the admin's two district-wide reads.
    func measureReads(_ report: inout Report, teacher: Client, section: SectionRef, admin: Client, database: String, serve: Child) async throws {
        let s = settings
        let widgetQuery = try Self.widgetQuery()
        let sectionID = try await Self.sectionID(teacher, section.sourcedId)
        let variables: [String: Any] = ["id": sectionID, "filter": [:] as [String: Any], "orderBy": ["field": "TITLE", "direction": "ASC"]]
        for _ in 0..<10 { _ = try await teacher.post(widgetQuery, variables) }
        var http = Sample()
        for _ in 0..<s.reads {
            let t = Stopwatch()
            let data = try await teacher.post(widgetQuery, variables)
            http.add(t.seconds)
            guard ((data["section"] as? [String: Any])?["materials"] as? [String: Any])?["nodes"] != nil else { throw BenchFailure("no materials read") }
        }
        report.rssWidget = serve.peakRSS
        let throughput = try await Self.throughput(teacher, widgetQuery, variables, requests: s.reads, concurrency: 4)
        let floor = try Self.floorRead(database, classID: section.classID, count: s.reads)
        let split = try await Self.split(database, query: widgetQuery, variables: variables, teacher: section.teacher, count: min(s.reads, 100))
        report.widget = (http, throughput, floor, split)
        say("widget read p50 \(http.ms) ms; floor \(floor.ms) ms")

        try await warmUp(admin)
        var errors = Sample(), summary = Sample()
        for _ in 0..<s.reads {
            var t = Stopwatch()
            _ = try await admin.post(HTTPFloor.adminDocument)
            errors.add(t.seconds)
            t = Stopwatch()
            _ = try await admin.post("{ syncErrorSummary(groupBy: SCHOOL, first: 100) { nodes { key label count } } }")
            summary.add(t.seconds)
        }
        report.admin = (errors, summary)
        report.rssEnd = serve.peakRSS
    }

    /// Warm-up reads of the admin's errors page, as the widget's. The first district-wide read
    /// after a restart reads the file from the disk: this machine kind keeps little of it in the
    /// page cache (two full-scale runs saw one such read pass the 10 s deadline while the disk
    /// wrote back the last checkpoint). A warm-up read that fails is tried again; the measured
    /// ones may not fail.
    func warmUp(_ admin: Client) async throws {
        for attempt in 1...10 {
            do {
                _ = try await admin.post(HTTPFloor.adminDocument)
                break
            } catch  where attempt < 10 {
                say("admin warm-up read \(attempt) failed, tried again: \(error)")
            }
        }
        for _ in 0..<3 { _ = try await admin.post(HTTPFloor.adminDocument) }
    }

    /// The query engine's measure, HTTP against HTTP (`EngineMeasure`), as Markdown; a floor that
    /// answers other rows than Passback stops the run.
    func engineMarkdown(
        base: String, serve: Child, section: SectionRef, teacherToken: String, adminToken: String, database: String, apiPort: Int, dir: URL
    ) async throws -> String {
        let measure = try await engineMeasure(
            base: base, serve: serve, section: section, teacherToken: teacherToken, adminToken: adminToken, database: database, apiPort: apiPort, dir: dir)
        _ = try measure.widget.get()
        _ = try measure.admin.get()
        return measure.markdown(say: say)
    }

    /// `--only engine`: the query engine against its floors (`EngineMeasure`) on the database
    /// a full or medium run left in `--work`, served by `--passback` (which migrates it first):
    /// a change to the engine or the store measured at full scale without the hour of feeding.
    func engineOnly(bin: String, dir: URL, config: URL, database: String, env: [String: String], apiPort: Int) async throws {
        let section = try Self.teacherSections(database)[0]
        let adminToken = try await token(bin, config, database, env, ["--user", section.teacher, "--role", "admin", "--org", try Self.district(database)])
        let teacherToken = try await token(bin, config, database, env, ["--user", section.teacher, "--role", "teacher"])
        let serve = try Child(
            bin, ["serve", "--config", config.path, "--database", database, "--port", "\(apiPort)"], environment: env,
            log: dir.appending(path: "serve-engine.log"))
        let base = "http://127.0.0.1:\(apiPort)"
        _ = try await firstAnswer(base, adminToken)
        try await warmUp(Client(base: base, token: adminToken))
        let measured = try await engineMarkdown(
            base: base, serve: serve, section: section, teacherToken: teacherToken, adminToken: adminToken, database: database, apiPort: apiPort, dir: dir)
        _ = await serve.stop()
        let target = out == "Benchmarks/RESULTS.md" ? "Benchmarks/RESULTS-engine.md" : out
        try """
        # The query engine against its floors (`--only engine`)

        `passback-bench --scale \(scale) --only engine --work \(dir.path) --passback \(bin)`, \(ISO8601DateFormatter().string(from: Date())). Machine: \(Self.machine()).

        \(measured)
        """.write(toFile: target, atomically: true, encoding: .utf8)
        say("wrote \(target)")
    }

    /// `--only reads`: the feed, a sync of one section (so its items have statuses and its
    /// admin's errors list has rows), then ``measureReads`` and a short report.
    func readsOnly(
        bin: String, dir: URL, config: URL, database: String, env: [String: String], apiPort: Int, sandbox: inout Child
    ) async throws {
        let s = settings
        var report = Report(scale: scale, binary: bin, syncedSections: s.syncedSections)
        let teacherSections = try Self.teacherSections(database)
        let integration = try await token(bin, config, database, env, ["--user", "lms-feed", "--role", "integration"])
        let adminToken = try await token(
            bin, config, database, env, ["--user", teacherSections.first!.teacher, "--role", "admin", "--org", try Self.district(database)])
        let base = "http://127.0.0.1:\(apiPort)"
        let serve = try Child(
            bin, ["serve", "--config", config.path, "--database", database, "--port", "\(apiPort)"], environment: env, log: dir.appending(path: "serve.log"))
        _ = try await firstAnswer(base, adminToken)
        _ = try await Self.feed(Client(base: base, token: integration), database: database, materials: s.materials)
        let section = teacherSections[0]
        let teacherToken = try await token(bin, config, database, env, ["--user", section.teacher, "--role", "teacher"])
        _ = try await Self.sync(teacherSections.prefix(1), base: base, tokens: [section.teacher: teacherToken], database: database)
        try await measureReads(
            &report, teacher: Client(base: base, token: teacherToken), section: section, admin: Client(base: base, token: adminToken), database: database,
            serve: serve)

        let measured = try await engineMarkdown(
            base: base, serve: serve, section: section, teacherToken: teacherToken, adminToken: adminToken, database: database, apiPort: apiPort, dir: dir)
        _ = await serve.stop()
        _ = await sandbox.stop()
        let target = out == "Benchmarks/RESULTS.md" ? "Benchmarks/RESULTS-reads.md" : out
        let w = report.widget
        try """
        # Read benchmark (`--only reads`)

        `passback-bench --scale \(scale) --only reads --passback \(bin) --sandbox-binary \(sandboxBinary ?? bin) --engine \(engine)`, \(ISO8601DateFormatter().string(from: Date())). Machine: \(Self.machine()).

        | figure | value |
        |---|---|
        | widget read over HTTP, p50 / p99 ms | \(w.http.ms) |
        | widget read, 4 clients | \(w.throughput.f0) req/s |
        | floor (the same rows by plain SQL, in process), p50 / p99 ms | \(w.floor.ms) |
        | in process, p50 / p99 ms: parse; validate; execute; encode | \(w.split.parse.ms); \(w.split.validate.ms); \(w.split.execute.ms); \(w.split.encode.ms) |
        | admin `syncErrors(first: 50)`, p50 / p99 ms | \(report.admin.errors.ms) |
        | admin `syncErrorSummary`, p50 / p99 ms | \(report.admin.summary.ms) |
        | peak RSS (MiB) | \(report.rssEnd.f0) |

        \(measured)
        """.write(toFile: target, atomically: true, encoding: .utf8)
        say("wrote \(target)")
    }

    /// `--only sync`: the feed, then a sync of `syncedSections` sections at 4 writes in flight and
    /// of as many others at 16 (the server restarted between, as the full run does), and a
    /// short report. For comparing two builds against one SIS (`--sandbox-binary`).
    func syncOnly(
        bin: String, sis: String, dir: URL, config: URL, database: String, env: [String: String], apiPort: Int, sisPort: Int,
        sandbox: inout Child, writeConfig: (Int) throws -> Void, rows: Int, restSeconds: Double
    ) async throws {
        let s = settings
        let teacherSections = try Self.teacherSections(database)
        let integration = try await token(bin, config, database, env, ["--user", "lms-feed", "--role", "integration"])
        let adminToken = try await token(
            bin, config, database, env, ["--user", teacherSections.first!.teacher, "--role", "admin", "--org", try Self.district(database)])
        let base = "http://127.0.0.1:\(apiPort)"
        func serve(_ log: String) async throws -> Child {
            let child = try Child(
                bin, ["serve", "--config", config.path, "--database", database, "--port", "\(apiPort)"], environment: env, log: dir.appending(path: log))
            _ = try await firstAnswer(base, adminToken)
            return child
        }
        var server = try await serve("serve.log")
        let w = Stopwatch()
        let grades = try await Self.feed(Client(base: base, token: integration), database: database, materials: s.materials)
        let feedSeconds = w.seconds
        let synced = Array(teacherSections.prefix(2 * s.syncedSections))
        var teacherTokens: [String: String] = [:]
        for t in Set(synced.map(\.teacher)) { teacherTokens[t] = try await token(bin, config, database, env, ["--user", t, "--role", "teacher"]) }
        let four = try await Self.sync(synced.prefix(s.syncedSections), base: base, tokens: teacherTokens, database: database)
        let rss4 = server.peakRSS
        say("synced \(four.results) results in \(four.seconds.f1) s (concurrency 4)")
        _ = await server.stop()
        try writeConfig(16)
        server = try await serve("serve2.log")
        let sixteen = try await Self.sync(synced.suffix(s.syncedSections), base: base, tokens: teacherTokens, database: database)
        let rss16 = server.peakRSS
        say("synced \(sixteen.results) results in \(sixteen.seconds.f1) s (concurrency 16)")
        _ = await server.stop()
        _ = await sandbox.stop()
        let target = out == "Benchmarks/RESULTS.md" ? "Benchmarks/RESULTS-sync.md" : out
        let command = "passback-bench --scale \(scale) --only sync --passback \(bin) --sandbox-binary \(sis)"
        try """
        # Sync benchmark (`--only sync`)

        `\(command)`, \(ISO8601DateFormatter().string(from: Date())). Machine: \(Self.machine()).

        | figure | value |
        |---|---|
        | REST pull | \(rows) rows in \(restSeconds.f2) s |
        | LMS feed | \(grades) grades in \(feedSeconds.f2) s |
        | sync, 4 in flight | \(four.results) results in \(four.seconds.f2) s: \((Double(four.results) / four.seconds).f0) results/s; peak RSS \(rss4.f0) MiB |
        | sync, 16 in flight | \(sixteen.results) results in \(sixteen.seconds.f2) s: \((Double(sixteen.results) / sixteen.seconds).f0) results/s; peak RSS \(rss16.f0) MiB |

        """.write(toFile: target, atomically: true, encoding: .utf8)
        say("wrote \(target)")
    }

    // MARK: Steps

    func token(_ bin: String, _ config: URL, _ database: String, _ env: [String: String], _ arguments: [String]) async throws -> String {
        let out = try await runCommand(
            bin, ["token", "create", "--config", config.path, "--database", database, "--connection", "district"] + arguments, environment: env)
        guard let t = out.split(separator: "\n").first(where: { $0.hasPrefix("pb_") }) else { throw BenchFailure("no token printed: \(out)") }
        return String(t)
    }

    /// Seconds from `since` to the first 200 of /healthz and of a GraphQL query.
    func firstAnswer(_ base: String, _ token: String, since: Stopwatch = Stopwatch()) async throws -> (health: Double, graphQL: Double) {
        let client = Client(base: base, token: token)
        var health = 0.0
        while true {
            if let (status, _) = try? await client.get("/healthz"), status == 200 { health = since.seconds; break }
            guard since.seconds < 120 else { throw BenchFailure("passback serve did not answer in 120 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
        _ = try await client.post("{ viewer { role } }")
        return (health, since.seconds)
    }

    struct SectionRef {
        var classID: Int64
        var sourcedId: String
        var teacher: String
    }

    /// The API's per-token limits, set explicitly: the harness drives the API with a few tokens
    /// at hundreds of requests a second, which the defaults (6 in flight, 1,000 cost points a
    /// second) exist to refuse. The deadline is the default's (10 s), named here so RESULTS.md
    /// says what it measured under.
    static let apiLimits = #"{ "maxInFlightPerToken": 64, "costBucket": 1000000000, "costPerSecond": 1000000000, "deadlineSeconds": 10 }"#

    static func teacherSections(_ path: String) throws -> [SectionRef] {
        let pool = try DatabasePool(path: path)
        return try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.id, c.sourced_id, min(e.person_sourced_id) AS teacher FROM class c JOIN enrollment e
                      ON e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id AND e.role = 'teacher' AND e.status = 'active'
                    GROUP BY c.id ORDER BY c.sourced_id
                    """
            ).map { SectionRef(classID: $0["id"], sourcedId: $0["sourced_id"], teacher: $0["teacher"]) }
        }
    }

    static func district(_ path: String) throws -> String {
        try DatabasePool(path: path).read { db in try String.fetchOne(db, sql: "SELECT sourced_id FROM org WHERE type = 'district' LIMIT 1") ?? "" }
    }

    /// A course per section (three categories), `materials` materials over the four quarters
    /// (one in thirty due on a Saturday between quarters), and a grade for every student of each.
    static func feed(_ client: Client, database: String, materials: Int) async throws -> Int {
        let pool = try DatabasePool(path: database)
        let students: [String: [String]] = try await pool.read { db in
            var out: [String: [String]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT class_sourced_id, person_sourced_id FROM enrollment WHERE role = 'student' AND status = 'active'") {
                out[r["class_sourced_id"], default: []].append(r["person_sourced_id"])
            }
            return out
        }
        let sections = students.keys.sorted()
        let quarters = ["2026-09-", "2026-11-", "2027-02-", "2027-04-"]
        var total = 0
        try await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            func add(_ section: String) {
                group.addTask {
                    let course = "lms-\(section)"
                    _ = try payload(
                        try await client.post(
                            "mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { userErrors { message } } }",
                            [
                                "i": [
                                    "lmsId": course, "title": course, "sectionSourcedIds": [section],
                                    "categories": [["lmsId": "hw", "title": "Homework"], ["lmsId": "qz", "title": "Quizzes"], ["lmsId": "ts", "title": "Tests"]]
                                ]
                            ]),
                        "upsertLmsCourse")
                    let items: [[String: Any]] = (0..<materials).map { i in
                        let due = i % 30 == 29 ? "2026-10-17T15:00:00Z" : quarters[i % 4] + String(format: "%02dT15:00:00Z", 2 + (i / 4) % 26)
                        return ["lmsId": "m-\(i)", "title": "Assignment \(i)", "dueDate": due, "categoryLmsId": ["hw", "qz", "ts"][i % 3], "maxPoints": 100]
                    }
                    for chunk in stride(from: 0, to: items.count, by: 500) {
                        _ = try payload(
                            try await client.post(
                                "mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { userErrors { message } } }",
                                ["i": ["courseLmsId": course, "materials": Array(items[chunk..<min(chunk + 500, items.count)])]]),
                            "upsertMaterials")
                    }
                    var grades: [[String: Any]] = []
                    for i in 0..<materials {
                        for (j, s) in (students[section] ?? []).enumerated() {
                            grades.append(["materialLmsId": "m-\(i)", "studentSourcedId": s, "score": Double((i * 13 + j * 7) % 101)])
                        }
                    }
                    for chunk in stride(from: 0, to: grades.count, by: 1000) {
                        _ = try payload(
                            try await client.post(
                                "mutation($i: RecordGradesInput!) { recordGrades(input: $i) { recorded userErrors { message } } }",
                                ["i": ["courseLmsId": course, "grades": Array(grades[chunk..<min(chunk + 1000, grades.count)])]]),
                            "recordGrades")
                    }
                    return grades.count
                }
            }
            while next < min(4, sections.count) { add(sections[next]); next += 1 }
            while let n = try await group.next() {
                total += n
                if next < sections.count { add(sections[next]); next += 1 }
            }
        }
        return total
    }

    static func sectionID(_ client: Client, _ sourcedId: String) async throws -> String {
        let data = try await client.post("query($s: String!) { sectionBySourcedId(sourcedId: $s) { id } }", ["s": sourcedId])
        guard let id = (data["sectionBySourcedId"] as? [String: Any])?["id"] as? String else { throw BenchFailure("no section \(sourcedId)") }
        return id
    }

    /// Maps each section's categories, syncs its changes, and times until every write is done.
    static func sync(_ sections: ArraySlice<SectionRef>, base: String, tokens: [String: String], database: String) async throws -> SyncResult {
        let pool = try DatabasePool(path: database)
        let before = try await completedResults(pool)
        let w = Stopwatch()
        for s in sections {
            let client = Client(base: base, token: tokens[s.teacher]!)
            let section = try await mapCategories(client, s.sourcedId)
            _ = try payload(
                try await client.post(
                    "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { message } } }",
                    ["i": ["sectionId": section.id]]), "syncChanges")
        }
        return try await drained(pool, before: before, since: w)
    }

    /// Every section's teacher maps its categories and syncs the section's first material, 4
    /// teachers at a time; timed until every write is done. Teacher tokens are made through
    /// the store as `passback token` makes them (a process per teacher would time process starts).
    static func districtSync(_ sections: [SectionRef], base: String, database: String) async throws -> SyncResult {
        let tokenStore = TokenStore(try PassbackDatabase(path: database))
        var tokens: [String: String] = [:]
        var generator = SystemRandomNumberGenerator()
        for t in Set(sections.map(\.teacher)) {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            tokens[t] = try tokenStore.create(
                connection: "district", user: t, role: .teacher, org: nil, expiresAt: nil, label: "passback-bench",
                randomBytes: bytes, at: Date()
            ).token
        }
        let pool = try DatabasePool(path: database)
        let before = try await completedResults(pool)
        let w = Stopwatch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add(_ s: SectionRef) {
                let client = Client(base: base, token: tokens[s.teacher]!)
                group.addTask {
                    let section = try await mapCategories(client, s.sourcedId)
                    guard let material = section.firstMaterial else { throw BenchFailure("section \(s.sourcedId) has no material") }
                    _ = try payload(
                        try await client.post(
                            "mutation($i: SyncMaterialInput!) { syncMaterial(input: $i) { run { id } userErrors { message } } }",
                            ["i": ["materialId": material]]), "syncMaterial")
                }
            }
            while next < min(4, sections.count) { add(sections[next]); next += 1 }
            while try await group.next() != nil {
                if next < sections.count { add(sections[next]); next += 1 }
            }
        }
        say("district-wide sync: \(sections.count) sections queued in \(w.seconds.f1) s")
        var result = try await drained(pool, before: before, since: w)
        // Materials a rule held back (nothing sent), by code: the validation working, counted apart.
        result.heldBack = try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT error_code, count(*) AS n FROM sync_item
                    WHERE status = 'ERROR' AND sync_run_id IN (SELECT id FROM sync_run WHERE trigger = '\(SyncTrigger.item.rawValue)') GROUP BY error_code ORDER BY n DESC
                    """
            ).map { ($0["error_code"] ?? "?", $0["n"]) }
        }
        return result
    }

    /// Reads a section and maps its LMS categories onto its SIS categories in turn.
    static func mapCategories(_ client: Client, _ sourcedId: String) async throws -> (id: String, firstMaterial: String?) {
        let data = try await client.post(
            """
            query($s: String!) { sectionBySourcedId(sourcedId: $s) { id lmsCategories(first: 100) { nodes { id } } sisCategories(first: 100) { nodes { id } } materials(first: 1) { nodes { id } } } }
            """, ["s": sourcedId])
        guard let section = data["sectionBySourcedId"] as? [String: Any], let id = section["id"] as? String else {
            throw BenchFailure("no section \(sourcedId)")
        }
        let lms = (((section["lmsCategories"] as? [String: Any])?["nodes"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        let sis = (((section["sisCategories"] as? [String: Any])?["nodes"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        _ = try payload(
            try await client.post(
                "mutation($i: SaveCategoryMapInput!) { saveCategoryMap(input: $i) { userErrors { message } } }",
                ["i": ["sectionId": id, "map": lms.enumerated().map { ["lmsCategoryId": $1, "sisCategoryId": sis[$0 % sis.count]] }]]),
            "saveCategoryMap")
        let material = ((section["materials"] as? [String: Any])?["nodes"] as? [[String: Any]])?.first?["id"] as? String
        return (id, material)
    }

    static func completedResults(_ pool: DatabasePool) async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_job WHERE kind = 'put_result' AND state = 'completed'") ?? 0 }
    }

    /// Waits until nothing is left to send; counts the results the SIS accepted since `before`.
    static func drained(_ pool: DatabasePool, before: Int, since w: Stopwatch) async throws -> SyncResult {
        // Each count reads one of the outbox's partial indexes, so polling costs little while it grows.
        while try await pool.read({ db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_job WHERE state IN ('available', 'scheduled', 'retryable')") ?? 0)
                + (try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_job WHERE state = 'running'") ?? 0)
        }) > 0 {
            guard w.seconds < 3600 else { throw BenchFailure("the outbox did not drain in an hour") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let seconds = w.seconds
        return SyncResult(results: try await completedResults(pool) - before, seconds: seconds)
    }

    /// The SIS's PUT capacity without Passback: `wrk` PUTting results for 10 s with as many
    /// connections as the worker has writes in flight; and Passback's own transport alone
    /// (`URLSessionTransport` as the worker builds it) sending the same PUTs for 10 s, to tell
    /// the transport's share of the gap from the rest of the worker's.
    static func capacity(dir: URL, sisPort: Int, connections: Int) async throws -> (wrk: Double, transport: Double) {
        let token = try await runCommand(
            "/usr/bin/curl",
            [
                "-s", "-u", "passback-sandbox:sandbox-secret", "-d", "grant_type=client_credentials",
                "http://127.0.0.1:\(sisPort)/ims/oneroster/v1p1/token"
            ])
        guard let json = try JSONSerialization.jsonObject(with: Data(token.utf8)) as? [String: Any], let bearer = json["access_token"] as? String else {
            throw BenchFailure("no sandbox token: \(token)")
        }
        let pool = try DatabasePool(path: dir.appending(path: "passback.sqlite").path)
        // The last result the SIS accepted: its lineItem exists in the sandbox running now.
        let (lineItem, student) = try await pool.read { db -> (String, String) in
            let job =
                try String.fetchOne(
                    db, sql: "SELECT payload FROM outbox_job WHERE kind = 'put_result' AND state = 'completed' ORDER BY finalized_at DESC, id DESC LIMIT 1")
                ?? "{}"
            let o = (try JSONSerialization.jsonObject(with: Data(job.utf8)) as? [String: Any]) ?? [:]
            return ((o["lineItem"] as? [String: Any])?["sourcedId"] as? String ?? "", (o["student"] as? [String: Any])?["sourcedId"] as? String ?? "")
        }
        let lua = """
            local n = 0
            request = function()
              n = n + 1
              local id = "bench-" .. n
              local body = '{"result":{"sourcedId":"' .. id .. '","status":"active","lineItem":{"sourcedId":"\(lineItem)","type":"lineItem"},' ..
                '"student":{"sourcedId":"\(student)","type":"user"},"scoreStatus":"fully graded","score":90,"scoreDate":"2026-09-01"}}'
              return wrk.format("PUT", "/ims/oneroster/v1p1/results/" .. id, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer \(bearer)"}, body)
            end
            """
        let script = dir.appending(path: "put.lua").path
        try lua.write(toFile: script, atomically: true, encoding: .utf8)
        let out = try await runCommand("/usr/bin/wrk", ["-t", "2", "-c", "\(connections)", "-d", "10s", "-s", script, "http://127.0.0.1:\(sisPort)"])
        guard out.contains("Non-2xx") == false, let line = out.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
            let rate = Double(line.split(separator: " ").last ?? "")
        else { throw BenchFailure("wrk: \(out)") }

        let transport = URLSessionTransport()
        let base = "http://127.0.0.1:\(sisPort)/ims/oneroster/v1p1/results/"
        let w = Stopwatch()
        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<connections {
                group.addTask {
                    var n = 0
                    while w.seconds < 10 {
                        let id = "transport-\(lane)-\(n)"
                        let body =
                            #"{"result":{"sourcedId":"\#(id)","status":"active","lineItem":{"sourcedId":"\#(lineItem)","type":"lineItem"},"#
                            + #""student":{"sourcedId":"\#(student)","type":"user"},"scoreStatus":"fully graded","score":90,"scoreDate":"2026-09-01"}}"#
                        let response = try await transport.send(
                            HTTPRequest(
                                method: "PUT", url: URL(string: base + id)!,
                                headers: ["Content-Type": "application/json", "Authorization": "Bearer \(bearer)"],
                                body: Data(body.utf8)))
                        guard response.status < 300 else { throw BenchFailure("transport PUT: HTTP \(response.status)") }
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        return (rate, Double(sent) / w.seconds)
    }

    /// The heaviest admin request the default limits allow: nine org-wide `syncErrors` pages of
    /// 100 with their sections, schools and materials (cost 9,099 of 10,000).
    static let heaviestQuery =
        "{ "
        + (0..<9).map {
            "e\($0): syncErrors(first: 100) { totalCount nodes { code message at section { sourcedId } school { name } material { title } } }"
        }.joined(separator: " ") + " }"

    /// The simple query's latency alone, then beside three clients sending `heaviestQuery` back to
    /// back, in `rounds` rounds taken in turn.
    static func underLoad(simple shared: Client, heavy tokens: [String], base: String, reads: Int, rounds: Int = 5) async throws -> LoadResult {
        var result = LoadResult()
        for _ in 0..<rounds {
            let round = try await underLoadOnce(simple: shared, heavy: tokens, base: base, reads: reads)
            result.rounds.append((round.alone.p99, round.loaded.p99))
            result.alone.seconds += round.alone.seconds
            result.loaded.seconds += round.loaded.seconds
            result.heavy.seconds += round.heavy.seconds
        }
        return result
    }

    static func underLoadOnce(simple shared: Client, heavy tokens: [String], base: String, reads: Int) async throws -> LoadResult {
        let query = "{ viewer { role sections(first: 5) { nodes { title } } } }"
        var result = LoadResult()
        // Each client its own session, and the heavy answers are not decoded: the harness shares
        // the machine with the server, and must not queue the measured client behind its own work.
        var simple = shared
        simple.session = Client.makeSession()
        for _ in 0..<10 { _ = try await simple.post(query) }
        for _ in 0..<reads {
            let t = Stopwatch()
            _ = try await simple.post(query)
            result.alone.add(t.seconds)
        }
        let heavy = tokens.map { Client(base: base, token: $0, session: Client.makeSession()) }
        _ = try await heavy[0].post(heaviestQuery) // refused here if it were over the limits
        let stop = ManagedFlag()
        try await withThrowingTaskGroup(of: Sample.self) { group in
            for client in heavy {
                group.addTask {
                    var times = Sample()
                    while !stop.isSet {
                        let t = Stopwatch()
                        try await client.send(heaviestQuery)
                        times.add(t.seconds)
                    }
                    return times
                }
            }
            // Let the three get going, then measure the simple query among them.
            try await Task.sleep(for: .milliseconds(500))
            for _ in 0..<reads {
                let t = Stopwatch()
                _ = try await simple.post(query)
                result.loaded.add(t.seconds)
            }
            stop.set()
            for try await times in group { result.heavy.seconds += times.seconds }
        }
        return result
    }

    static func throughput(_ client: Client, _ query: String, _ variables: [String: Any], requests: Int, concurrency: Int) async throws -> Double {
        struct Box: @unchecked Sendable { let value: [String: Any] }
        let box = Box(value: variables)
        let w = Stopwatch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for _ in stride(from: worker, to: requests, by: concurrency) { _ = try await client.post(query, box.value) }
                }
            }
            try await group.waitForAll()
        }
        return Double(requests) / w.seconds
    }

    /// The widget's document, read from the widget's own file.
    static func widgetQuery() throws -> String {
        do {
            return try String(contentsOfFile: "Clients/widget/documents/Materials.graphql", encoding: .utf8)
        } catch {
            throw BenchFailure(
                "the widget's Materials document was not found in Clients/widget/documents/ (run the bench from the repository's root): \(error)")
        }
    }

    /// The floor: the same 50 rows (materials with status and problems) by one plain SQL query, JSON-encoded.
    static func floorRead(_ path: String, classID: Int64, count: Int) throws -> Sample {
        let pool = try DatabasePool(path: path)
        struct Row50: Encodable {
            var id: Int64, title: String, dueDate: String?, lastSyncedAt: String?, syncStatus: String, syncToSIS: Bool, problems: String
        }
        var sample = Sample()
        for _ in 0..<count {
            let w = Stopwatch()
            let rows = try pool.read { db in
                try Row.fetchAll(db, sql: HTTPFloor.page(limit: 50), arguments: [classID]).map {
                    Row50(
                        id: $0["id"], title: $0["title"], dueDate: $0["due_at"], lastSyncedAt: $0["last_synced_at"], syncStatus: $0["status"],
                        syncToSIS: $0["sync_to_sis"], problems: $0["problems"])
                }
            }
            _ = try JSONEncoder().encode(rows)
            sample.add(w.seconds)
        }
        return sample
    }

    /// Where the widget read's time goes, measured in this process with the gateway's own code.
    static func split(
        _ path: String, query: String, variables: [String: Any], teacher: String, count: Int
    ) async throws
        -> (parse: Sample, validate: Sample, execute: Sample, encode: Sample)
    {
        let api = try GraphQLAPI(services: APIServices(database: try PassbackDatabase(path: path)))
        let principal = Principal(tokenID: 0, connectionID: "district", userSourcedId: teacher, role: .teacher, orgSourcedId: nil)
        let map = try JSONDecoder().decode([String: Map].self, from: JSONSerialization.data(withJSONObject: variables))
        var p = Sample(), v = Sample(), e = Sample(), c = Sample()
        for _ in 0..<count {
            let profile = try await api.profile(query, variables: map, principal: principal)
            p.add(profile.parse)
            v.add(profile.validate)
            e.add(profile.execute)
            c.add(profile.encode)
        }
        return (p, v, e, c)
    }

    static func machine() -> String {
        let cpu =
            ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
            .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ProcessInfo.processInfo.physicalMemory / (1 << 30)
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(memory) GiB, \(ProcessInfo.processInfo.operatingSystemVersionString)"
    }
}

struct SyncResult {
    var results: Int = 0
    var seconds: Double = 0
    /// Items a rule stopped before anything was sent, by problem code.
    var heldBack: [(code: String, items: Int)] = []
    var rate: Double { seconds > 0 ? Double(results) / seconds : 0 }
}
