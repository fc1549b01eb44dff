import Foundation
import OneRoster
import OneRosterSandbox
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

@testable import PassbackGateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct HarnessFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A GraphQL answer as the tests read it.
struct Reply: @unchecked Sendable {
    var status: Int
    var text: String
    var json: [String: Any]
    var headers: [String: String]

    var data: [String: Any]? { json["data"] as? [String: Any] }
    var errors: [[String: Any]] { json["errors"] as? [[String: Any]] ?? [] }
    var codes: [String] { errors.compactMap { ($0["extensions"] as? [String: Any])?["code"] as? String } }

    /// A value by path: `reply["viewer", "sections", "nodes", 0, "title"]`.
    subscript(_ path: Any...) -> Any? {
        var current: Any? = json["data"]
        for p in path {
            if let k = p as? String {
                current = (current as? [String: Any])?[k]
            } else if let i = p as? Int {
                current = (current as? [Any]).flatMap { i < $0.count ? $0[i] : nil }
            }
        }
        return current is NSNull ? nil : current
    }
}

/// The sandbox SIS with a small district rostered into a fresh database, and a gateway
/// (API, worker, scheduler) serving it on loopback.
struct GatewayEnv: @unchecked Sendable {
    let database: PassbackDatabase
    let running: RunningSandbox
    let gateway: Gateway
    let base: URL
    let connection: PassbackConfiguration.Connection

    var data: SandboxData { running.sandbox.data }

    /// A token for a user; admins get an org.
    func token(_ role: Principal.Role, user: String, org: String? = nil, expiresAt: Date? = nil) throws -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return try TokenStore(database).create(
            connection: "district", user: user, role: role, org: org, expiresAt: expiresAt, label: "test",
            randomBytes: bytes, at: Date()
        ).token
    }

    func post(_ query: String, _ variables: [String: Any] = [:], token: String?, headers: [String: String] = [:]) async throws -> Reply {
        try await graphQL(base.absoluteString, query, variables, token: token, headers: headers)
    }

    func send(_ request: URLRequest) async throws -> Reply { try await PassbackGatewayTests.send(request) }

    // MARK: The district, from the SIS's own data

    var districtOrg: String { data.all(.orgs).first { $0["type"]?.stringValue == "district" }!["sourcedId"]!.stringValue! }

    var schools: [String] { data.all(.orgs).filter { $0["type"]?.stringValue == "school" }.compactMap { $0["sourcedId"]?.stringValue }.sorted() }

    /// Sections each teacher teaches, by teacher sourcedId.
    var sectionsByTeacher: [String: [String]] {
        var out: [String: [String]] = [:]
        for e in data.all(.enrollments) where e["role"]?.stringValue == "teacher" {
            out[e.ref("user")!, default: []].append(e.ref("class")!)
        }
        return out.mapValues { $0.sorted() }
    }

    func students(of section: String) -> [String] {
        data.all(.enrollments).filter { $0.ref("class") == section && $0["role"]?.stringValue == "student" }.compactMap { $0.ref("user") }.sorted()
    }

    func school(of section: String) -> String { data.record(.classes, section)!.ref("school")! }

    func classID(_ sourcedId: String) throws -> Int64 { try #require(try LMSStore(database).classID(connection: "district", sourcedId: sourcedId)) }

    func sectionID(_ sourcedId: String) throws -> String { GlobalID.make("Section", try classID(sourcedId)) }

    /// A section with two terms (its grading periods span the year), and its teacher.
    var yearLongSection: (section: String, teacher: String) {
        let cls = data.all(.classes).first { ($0["terms"]?.arrayValue?.count ?? 0) == 2 }!
        let section = cls["sourcedId"]!.stringValue!
        let teacher = data.all(.enrollments).first { $0.ref("class") == section && $0["role"]?.stringValue == "teacher" }.flatMap { $0.ref("user") }!
        return (section, teacher)
    }

    var sisCategories: [String] { data.all(.categories).compactMap { $0["sourcedId"]?.stringValue }.sorted() }

    /// Polls a queued roster run (`RosterRun` id) until it ends; the last answer, its fields under `node`.
    func finishedRosterRun(_ id: String, token: String) async throws -> Reply {
        var last: Reply?
        try await waitUntil {
            let r = try await post(
                """
                query($id: ID!) { node(id: $id) { ... on RosterRun { id mode state created updated unchanged deleted rejected requestedBy requestedAt startedAt finishedAt error } } }
                """, ["id": id], token: token)
            last = r
            return ["SUCCEEDED", "FAILED"].contains(r["node", "state"] as? String ?? "")
        }
        return try #require(last)
    }

    /// Queues a roster pull with `refreshRoster` and waits for it to end: its final `RosterRun`, under `node`.
    func refreshRoster(token: String, full: Bool = false) async throws -> Reply {
        let r = try await post(
            "mutation($full: Boolean) { refreshRoster(input: {full: $full}) { rosterRun { id } userErrors { message } } }",
            ["full": full], token: token)
        guard let id = r["refreshRoster", "rosterRun", "id"] as? String else { throw HarnessFailure(r.text) }
        return try await finishedRosterRun(id, token: token)
    }

    func waitUntil(timeout: Double = 20, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessFailure("timed out after \(timeout) s")
    }
}

/// Runs `body` against a fresh sandbox, database and gateway, and stops them after.
/// `retryDelay` is the worker's first backoff (short, so tests that retry finish quickly);
/// `server` the gateway's HTTP settings (its host and port are ignored); `busyTimeout` how long
/// a statement waits for a lock another connection holds.
func withGateway(
    plan: DistrictPlan = .small, limits: GraphQLAPI.Limits = GraphQLAPI.Limits(), retryDelay: Double = 0.02,
    server: Gateway.Configuration = Gateway.Configuration(), busyTimeout: Double = 10, quirks: SandboxQuirks = SandboxQuirks(),
    _ body: (GatewayEnv) async throws -> Void
) async throws {
    let path = FileManager.default.temporaryDirectory.appending(path: "passback-gw-\(UUID().uuidString).sqlite").path
    defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
    let database = try PassbackDatabase(path: path, busyTimeout: busyTimeout)
    var sandboxConfiguration = SandboxConfiguration()
    sandboxConfiguration.plan = plan
    sandboxConfiguration.quirks = quirks
    let running = try await Sandbox(configuration: sandboxConfiguration, clock: SystemWallClock()).start()
    let auth = running.sandbox.configuration.auth
    let connection = PassbackConfiguration.Connection(
        settings: ConnectionSettings(
            id: "district", baseURL: running.baseURL, auth: .oauth2, clientID: auth.clientID, requestsPerMinute: 60_000, pageSize: 200),
        secret: auth.clientSecret)
    do {
        _ = try await RosterImporter(store: RosterStore(database)).pull(connection: connection.settings, client: ClientFactory.client(for: connection))
        var configuration = server
        configuration.host = "127.0.0.1"
        configuration.port = 0
        // Wired as `serve` wires it; the worker polls and retries quickly, so tests finish soon.
        let gateway = try Gateway(
            PassbackConfiguration(databasePath: path, connections: ["district": connection]), database: database,
            server: configuration, limits: limits
        ) { worker in
            worker.pollInterval = .milliseconds(20)
            worker.retryPolicy.baseDelay = retryDelay
            worker.retryPolicy.maxDelay = max(0.2, retryDelay * 4)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = gateway.serviceGroup(onRunning: { continuation.yield($0) }, signals: [])
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let env = GatewayEnv(database: database, running: running, gateway: gateway, base: URL(string: "http://127.0.0.1:\(port)")!, connection: connection)
        do {
            try await body(env)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
        await running.stop()
    } catch {
        await running.stop()
        throw error
    }
}

/// What the LMS feed wrote for a test, through the integration mutations.
struct FedCourse {
    var lmsID: String
    var section: String
    var teacher: String
    var materials: [String: String] // lmsId → Material id in `section`
    var integration: String
}

extension GatewayEnv {
    /// The LMS feed's documents (what an LMS integration sends), by mutation: a server that runs
    /// only trusted documents needs them among `api.trustedDocuments`.
    static let feedDocuments = [
        "upsertLmsCourse": "mutation($input: UpsertLmsCourseInput!) { upsertLmsCourse(input: $input) { lmsCourse { id lmsId } userErrors { code message } } }",
        "upsertMaterials":
            "mutation($input: UpsertMaterialsInput!) { upsertMaterials(input: $input) { materials(first: 100) { nodes { lmsId ids } } userErrors { code message field } } }",
        "recordGrades": "mutation($input: RecordGradesInput!) { recordGrades(input: $input) { recorded userErrors { code message } } }"
    ]

    /// Feeds an LMS course linked to `section` with three categories and `materials` materials
    /// (`m-0`… titled "Material 0"…, due a day apart from Sep 1, 2026, in category lc-(i % 3)),
    /// each graded for every student of the section.
    @discardableResult
    func feed(
        section: String, teacher: String, course: String = "lms-1", materials count: Int, grades: Bool = true,
        dueDate: (Int) -> String? = { i in "2026-09-\(String(format: "%02d", 1 + i % 28))T15:00:00Z" }
    ) async throws -> FedCourse {
        let integration = try token(.integration, user: "lms-feed")
        let course1 = try await post(
            Self.feedDocuments["upsertLmsCourse"]!,
            [
                "input": [
                    "lmsId": course, "title": "Course \(course)", "sectionSourcedIds": [section],
                    "categories": [["lmsId": "lc-0", "title": "Homework"], ["lmsId": "lc-1", "title": "Quizzes"], ["lmsId": "lc-2", "title": "Tests"]]
                ]
            ],
            token: integration)
        guard course1.errors.isEmpty, (course1["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true else { throw HarnessFailure(course1.text) }
        var items: [[String: Any]] = []
        for i in 0..<count {
            var m: [String: Any] = ["lmsId": "m-\(i)", "title": "Material \(i)", "categoryLmsId": "lc-\(i % 3)", "maxPoints": 10]
            if let due = dueDate(i) { m["dueDate"] = due }
            items.append(m)
        }
        var ids: [String: String] = [:]
        if !items.isEmpty {
            let fed = try await post(
                Self.feedDocuments["upsertMaterials"]!, ["input": ["courseLmsId": course, "materials": items]], token: integration)
            guard fed.errors.isEmpty, (fed["upsertMaterials", "userErrors"] as? [Any])?.isEmpty == true else { throw HarnessFailure(fed.text) }
            for m in fed["upsertMaterials", "materials", "nodes"] as? [[String: Any]] ?? [] {
                ids[m["lmsId"] as! String] = (m["ids"] as! [String]).first
            }
        }
        if grades, count > 0 {
            var list: [[String: Any]] = []
            for i in 0..<count {
                for (j, s) in students(of: section).enumerated() {
                    list.append(["materialLmsId": "m-\(i)", "studentSourcedId": s, "score": Double((i + j) % 11)])
                }
            }
            for chunk in stride(from: 0, to: list.count, by: 1000) {
                let r = try await post(
                    Self.feedDocuments["recordGrades"]!, ["input": ["courseLmsId": course, "grades": Array(list[chunk..<min(chunk + 1000, list.count)])]],
                    token: integration)
                guard r.errors.isEmpty, (r["recordGrades", "userErrors"] as? [Any])?.isEmpty == true else { throw HarnessFailure(r.text) }
            }
        }
        return FedCourse(lmsID: course, section: section, teacher: teacher, materials: ids, integration: integration)
    }

    /// The teacher maps every LMS category of the section to its first SIS category.
    func mapToFirstSISCategory(sectionID: String, token: String) async throws {
        let cats = try await post(
            "query($id: ID!) { section(id: $id) { lmsCategories { nodes { id } } sisCategories { nodes { id } } } }", ["id": sectionID], token: token)
        let lms = (cats["section", "lmsCategories", "nodes"] as! [[String: Any]]).map { $0["id"] as! String }
        let sis = (cats["section", "sisCategories", "nodes"] as! [[String: Any]]).map { $0["id"] as! String }
        let saved = try await post(
            "mutation($i: SaveCategoryMapInput!) { saveCategoryMap(input: $i) { userErrors { message } } }",
            ["i": ["sectionId": sectionID, "map": lms.map { ["lmsCategoryId": $0, "sisCategoryId": sis[0]] }]], token: token)
        guard saved.errors.isEmpty, (saved["saveCategoryMap", "userErrors"] as? [Any])?.isEmpty == true else { throw HarnessFailure(saved.text) }
    }
}

/// The `nodes` of a connection in an answer (every list of the API is one).
func nodesOf(_ connection: Any?) -> Any? {
    (connection as? [String: Any])?["nodes"]
}
