import Foundation
import PassbackCore
import PassbackTesting

/// The query engine's measure, HTTP against HTTP (issue 17): Passback's `/graphql` with the
/// widget's document, and the floor (one SQL statement building the same answer, `HTTPFloor`)
/// served by this process, both under `wrk` at 1 and 4 connections in interleaved rounds, with
/// CPU per request from /proc; then the admin's `syncErrors(first: 50)` the same way against a
/// floor of its own. Each floor is checked first to answer the same rows.
struct EngineMeasure {
    typealias Rounds = [Int: [(passback: HTTPFloor.Load, floor: HTTPFloor.Load)]]

    /// A document's rounds, or why it was not measured.
    var widget: Result<Rounds, BenchFailure>
    var admin: Result<Rounds, BenchFailure>

    /// The table's rows for one document: Passback's and the floor's medians at 1 and 4
    /// connections, and the median of the rounds' shares.
    static func table(_ rounds: Rounds, _ what: String, say: (String) -> Void) -> String {
        var lines = ""
        for connections in [1, 4] {
            let r = rounds[connections] ?? []
            func median(_ values: [Double]) -> Double { LoadResult.median(values) }
            let p = (
                median(r.map(\.passback.requestsPerSecond)), median(r.map(\.passback.p50ms)), median(r.map(\.passback.p99ms)),
                median(r.map(\.passback.cpuMS))
            )
            let f = (median(r.map(\.floor.requestsPerSecond)), median(r.map(\.floor.p50ms)), median(r.map(\.floor.p99ms)), median(r.map(\.floor.cpuMS)))
            let shares = r.map { $0.passback.requestsPerSecond / $0.floor.requestsPerSecond }
            lines += "| \(connections) | Passback `/graphql` | \(p.0.f0) | \(p.1.f2) | \(p.2.f2) | \(p.3.f2) | \(median(shares).f2) |\n"
            lines += "| \(connections) | floor: one SQL statement over HTTP | \(f.0.f0) | \(f.1.f2) | \(f.2.f2) | \(f.3.f2) | 1 |\n"
            say("\(what) over HTTP, \(connections) connection(s): Passback \(p.0.f0) req/s, floor \(f.0.f0) req/s (share \(median(shares).f2))")
        }
        return lines
    }

    /// Each round's Passback/floor req/s at `connections`.
    static func rounds(_ rounds: Rounds, _ connections: Int) -> String {
        (rounds[connections] ?? []).map { "\($0.passback.requestsPerSecond.f0)/\($0.floor.requestsPerSecond.f0)" }.joined(separator: ", ")
    }

    /// Both documents' sections of a report: what was measured, the rounds and the tables.
    func markdown(say: (String) -> Void) -> String {
        /// A document's rounds and table, or why it was not measured.
        func measured(_ result: Result<Rounds, BenchFailure>, _ what: String) -> String {
            switch result {
            case .success(let rounds):
                return " Rounds, Passback/floor req/s: 1 connection \(Self.rounds(rounds, 1)); 4 connections \(Self.rounds(rounds, 4)).\n\n"
                    + "| connections | server | req/s | p50 ms | p99 ms | CPU ms / request | share of the floor's req/s |\n"
                    + "|---|---|---|---|---|---|---|\n" + Self.table(rounds, what, say: say)
            case .failure(let why):
                return "\n\nNot measured: \(why.description)\n"
            }
        }
        return """
            The widget's document over HTTP under `wrk` (`--latency`, 5 s a run; 1 s at tiny scale), against the floor: its
            answer built by one SQLite statement (`json_object`, `json_group_array`) after the same token
            check, served over loopback HTTP by the harness (Hummingbird). Medians of 3 interleaved
            rounds; CPU is the serving process's user + system time per request (the floor's includes
            the harness's idle threads).
            """ + measured(widget, "widget")
                + """

                The admin's `syncErrors(first: 50)` with each error's section, school and material (its
                document sent whole), against a floor of its own: the same page and count by one SQLite
                statement after the same token check (`HTTPFloor.errorsStatement`). The share is the median
                of the rounds' ratios.
                """ + measured(admin, "admin errors")
    }
}

extension Bench {
    /// ``EngineMeasure`` against the server `serve` answering at `base`: the widget's document
    /// for `section` by its teacher, and the admin's errors of the district.
    func engineMeasure(
        base: String, serve: Child, section: SectionRef, teacherToken: String, adminToken: String, database: String, apiPort: Int, dir: URL
    ) async throws -> EngineMeasure {
        let seconds = scale == "tiny" ? 1 : 5
        let floorPort = apiPort + 2
        let floor = try HTTPFloor(
            database: database, classID: section.classID, connection: "district", root: try Self.district(database), port: floorPort)
        // No signal handlers of its own: Ctrl-C or a CI's SIGTERM stops the harness, not the floor alone.
        let floorTask = Task { try await floor.app.runService(gracefulShutdownSignals: []) }
        defer { floorTask.cancel() }
        let floorURL = "http://127.0.0.1:\(floorPort)/floor"
        let floorClient = Client(base: "http://127.0.0.1:\(floorPort)", token: teacherToken)
        let waitFloor = Stopwatch()
        while (try? await floorClient.postStatus("/floor", body: Data("{}".utf8))) != 200 {
            guard waitFloor.seconds < 20 else { throw BenchFailure("the HTTP floor did not answer") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let teacher = Client(base: base, token: teacherToken)
        let sectionID = try await Self.sectionID(teacher, section.sourcedId)
        let variables: [String: Any] = ["id": sectionID, "filter": [:] as [String: Any], "orderBy": ["field": "TITLE", "direction": "ASC"]]
        // As the widget sends it: the document's hash, not its text (the server knows its clients' documents).
        let body = String(
            decoding: try JSONSerialization.data(withJSONObject: [
                "extensions": ["persistedQuery": ["version": 1, "sha256Hash": Fingerprint.sha256Hex(Array(try Self.widgetQuery().utf8))]],
                "variables": variables
            ]), as: UTF8.self)
        func rounds(_ url: String, _ body: String, _ floorURL: String, token: String) async throws -> EngineMeasure.Rounds {
            var rounds: EngineMeasure.Rounds = [:]
            for _ in 0..<3 {
                for connections in [1, 4] {
                    let p = try await HTTPFloor.load(
                        url: url, body: body, token: token, connections: connections, seconds: seconds, pid: serve.process.processIdentifier, dir: dir)
                    let f = try await HTTPFloor.load(
                        url: floorURL, body: body, token: token, connections: connections, seconds: seconds, pid: getpid(), dir: dir)
                    rounds[connections, default: []].append((p, f))
                }
            }
            return rounds
        }

        // The floor reads the same rows: the same titles, statuses and problem counts in the same order.
        func summary(_ answer: [String: Any]) -> [String] {
            let nodes = (((answer["section"] as? [String: Any])?["materials"] as? [String: Any])?["nodes"] as? [[String: Any]]) ?? []
            // Problems are left out: Passback adds the SIS's refusal to the stored ones, the floor does not.
            return nodes.map { "\($0["title"] ?? "")|\($0["syncStatus"] ?? "")|\($0["syncToSIS"] ?? "")" }
        }
        let passbackAnswer = try await teacher.post(try Self.widgetQuery(), variables)
        let floorData = try await floorClient.postData("/floor", body: Data("{}".utf8))
        let floorAnswer = ((try? JSONSerialization.jsonObject(with: floorData)) as? [String: Any])?["data"] as? [String: Any] ?? [:]
        let widget: Result<EngineMeasure.Rounds, BenchFailure>
        if summary(passbackAnswer) == summary(floorAnswer), !summary(floorAnswer).isEmpty {
            widget = .success(try await rounds(base + "/graphql", body, floorURL, token: teacherToken))
        } else {
            widget = .failure(
                BenchFailure(
                    "the HTTP floor does not answer what Passback answers: \(summary(floorAnswer).prefix(3)) against \(summary(passbackAnswer).prefix(3))"))
        }

        // The admin's org-wide errors, the same way: Passback's /graphql against a floor of its own.
        let adminBody = String(decoding: try JSONSerialization.data(withJSONObject: ["query": HTTPFloor.adminDocument]), as: UTF8.self)
        func errorsSummary(_ answer: [String: Any]) -> [String] {
            let nodes = ((answer["syncErrors"] as? [String: Any])?["nodes"] as? [[String: Any]]) ?? []
            return nodes.map {
                "\($0["code"] ?? "")|\(($0["section"] as? [String: Any])?["sourcedId"] ?? "")|\(($0["material"] as? [String: Any])?["title"] ?? "")"
            }
        }
        let adminAnswer = try await Client(base: base, token: adminToken).post(HTTPFloor.adminDocument)
        let errorsFloor =
            ((try? JSONSerialization.jsonObject(
                with: try await Client(base: "http://127.0.0.1:\(floorPort)", token: adminToken).postData("/floor-errors", body: Data("{}".utf8))))
            as? [String: Any])?["data"] as? [String: Any] ?? [:]
        let admin: Result<EngineMeasure.Rounds, BenchFailure>
        if errorsSummary(adminAnswer) == errorsSummary(errorsFloor), !errorsSummary(errorsFloor).isEmpty,
            ((adminAnswer["syncErrors"] as? [String: Any])?["totalCount"] as? Int) == ((errorsFloor["syncErrors"] as? [String: Any])?["totalCount"] as? Int)
        {
            admin = .success(try await rounds(base + "/graphql", adminBody, floorURL + "-errors", token: adminToken))
        } else {
            admin = .failure(
                BenchFailure(
                    "the errors floor does not answer what Passback answers (or there are no errors): \(errorsSummary(errorsFloor).prefix(3)) against \(errorsSummary(adminAnswer).prefix(3))"
                ))
        }
        return EngineMeasure(widget: widget, admin: admin)
    }
}
