import ArgumentParser
import Foundation
import Logging
import OneRoster
import OneRosterSandbox
import PassbackConfig
import PassbackCore
import PassbackGateway
import PassbackStore
import PassbackSync
import ServiceLifecycle

/// `passback demo`: the whole product on one machine, with nothing to configure.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a demo district: the sandbox SIS, a gateway on an SQLite file, the widget, and tokens for a teacher and an admin.",
        discussion: """
            Starts the built-in sandbox SIS with a generated district, rosters it, feeds an LMS course per section \
            (materials and grades, some of which break PRODUCT.md's rules so errors show), syncs a few sections, \
            then serves the API, the widget, the worker and the scheduler until Ctrl-C. Run again to reuse the \
            database, or with --reset to start over.
            """)

    @Option(help: "Port of the gateway (the API and the widget); 0 picks a free one.")
    var port = 8080
    @Option(help: "Port of the sandbox SIS; 0 picks a free one.")
    var sisPort = 0
    @Option(help: "Address to bind both to.")
    var host = "127.0.0.1"
    @Option(help: "The demo's SQLite file.")
    var database = "passback-demo.sqlite"
    @Flag(help: "Delete the demo database first and build it again.")
    var reset = false
    @Option(help: "District size: small, district, secondary, or a number of students.")
    var size = "small"
    @Option(help: "Seed of the generated district.")
    var seed: UInt64 = 1
    @Option(help: "Which GraphQL documents run: any, or trusted (only the widget's and passbackctl's, as `api.documents`).")
    var documents = "any"

    func run() async throws {
        guard let plan = DistrictPlan(size: size) else { throw ValidationError("--size must be \(DistrictPlan.sizeNames) (got '\(size)')") }
        // Both ports are checked before anything else (a --reset deletes nothing yet): a port in
        // use is said at once, naming it and the option, not after rostering.
        guard documents == "any" || documents == "trusted" else { throw ValidationError("--documents must be any or trusted (got '\(documents)')") }
        if port != 0, port == sisPort { throw ValidationError("--port and --sis-port must differ (both are \(port))") }
        for (chosen, option) in [(port, "--port"), (sisPort, "--sis-port")] where chosen != 0 {
            if let problem = PortCheck.problem(host: host, port: chosen) {
                throw CommandFailure(
                    "\(host):\(chosen) cannot be used (\(problem)): stop what holds it, or pass \(option) with another port (0 picks a free one)")
            }
        }
        if reset {
            for suffix in ["", "-wal", "-shm", DemoDistrict.tokensSuffix] { try? FileManager.default.removeItem(atPath: database + suffix) }
        }
        let reused = FileManager.default.fileExists(atPath: database)
        let say: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
        let running = try await Sandbox(configuration: SandboxConfiguration(host: host, port: sisPort, plan: plan, seed: seed)).start()
        do {
            let store: PassbackDatabase
            do { store = try PassbackDatabase(path: database) } catch let e as StoreError { throw CommandFailure(e.message) }
            let auth = running.sandbox.configuration.auth
            let connection = PassbackConfiguration.Connection(
                settings: ConnectionSettings(
                    id: DemoDistrict.connection, baseURL: running.baseURL, auth: .oauth2, clientID: auth.clientID,
                    requestsPerMinute: 6000, pageSize: 500),
                secret: auth.clientSecret)
            say(reused ? "Reusing \(database) (pass --reset to start over); rostering what changed…" : "Rostering the demo district into \(database)…")
            let report = try await RosterImporter(store: RosterStore(store)).pull(
                connection: connection.settings, client: ClientFactory.client(for: connection))
            say("  \(report.total.created + report.total.updated + report.total.unchanged) records (\(report.mode))")
            let demo = try DemoDistrict(database: store, data: running.sandbox.data)
            if try demo.needsFeed() {
                say("Feeding an LMS course per section, and syncing a few sections…")
                try demo.feed()
            }
            let tokens = try demo.tokens(file: database + DemoDistrict.tokensSuffix)
            var limits = GraphQLAPI.Limits()
            limits.onlyTrustedDocuments = documents == "trusted"
            let gateway = try Gateway(
                PassbackConfiguration(databasePath: database, connections: [DemoDistrict.connection: connection]), database: store,
                server: .init(host: host, port: port), limits: limits)
            let host = self.host, sis = running.baseURL.absoluteString, secret = auth.clientSecret, clientID = auth.clientID
            let group = gateway.serviceGroup(onRunning: { port in
                let base = "http://\(host):\(port)"
                say(
                    """

                    Passback demo is running.
                      widget (teacher):  \(base)/widget#token=\(tokens.teacher)
                      widget (admin):    \(base)/widget#token=\(tokens.admin)
                      GraphQL:           \(base)/graphql   (live updates: \(base)/graphql/stream)
                      teacher token:     \(tokens.teacher)   (\(tokens.teacherName), \(tokens.teacherUser); the demo's tokens expire \(tokens.expiresDay))
                      admin token:       \(tokens.admin)   (district \(tokens.district))
                      integration token: \(tokens.integration)   (the LMS feed)
                      sandbox SIS:       \(sis)   (client \(clientID), secret \(secret))
                    Press Ctrl-C to stop.
                    """)
            })
            try await group.run()
            await running.stop()
        } catch {
            await running.stop()
            throw error
        }
    }
}

/// The demo's LMS side: a course per section with categories, materials and grades (some of
/// them breaking a rule, so errors show), category maps, and a first sync of a few sections.
struct DemoDistrict {
    static let connection = "demo"

    let database: PassbackDatabase
    let data: SandboxData

    init(database: PassbackDatabase, data: SandboxData) throws {
        self.database = database
        self.data = data
    }

    /// The teacher with the most sections (ties by sourcedId), and those sections.
    var teacher: (id: String, sections: [String]) {
        var byTeacher: [String: [String]] = [:]
        for e in data.all(.enrollments) where e["role"]?.stringValue == "teacher" {
            if let t = e.ref("user"), let c = e.ref("class") { byTeacher[t, default: []].append(c) }
        }
        let best = byTeacher.max { a, b in a.value.count != b.value.count ? a.value.count < b.value.count : a.key > b.key }!
        return (best.key, best.value.sorted())
    }

    func needsFeed() throws -> Bool {
        try APIReads(database).lmsCourse(connection: Self.connection, lmsID: "demo-" + (data.all(.classes).first?["sourcedId"]?.stringValue ?? "")) == nil
    }

    static let categories = [("hw", "Homework"), ("qz", "Quizzes"), ("ts", "Tests"), ("pj", "Projects")]

    /// Materials: (lmsId, title, due, category). Due dates fall in the sandbox's quarters, but for
    /// the rule breakers: no due date, a Saturday between quarters, an unmapped category, none.
    static let materials: [(String, String, String?, String?)] = [
        ("hw-1", "Homework 1: Fractions", "2026-09-04T15:00:00Z", "hw"),
        ("qz-1", "Quiz 1", "2026-09-11T15:00:00Z", "qz"),
        ("hw-2", "Homework 2: Decimals", "2026-09-18T15:00:00Z", "hw"),
        ("ts-1", "Unit 1 Test", "2026-10-02T15:00:00Z", "ts"),
        ("hw-3", "Reading Journal", nil, "hw"),
        ("hw-4", "Field Trip Reflection", "2026-10-17T15:00:00Z", "hw"),
        ("pj-1", "Science Fair Project", "2026-11-20T15:00:00Z", "pj"),
        ("xc-1", "Extra Credit", "2026-11-06T15:00:00Z", nil),
        ("qz-2", "Quiz 2", "2026-11-06T15:00:00Z", "qz"),
        ("hw-5", "Homework 3: Percentages", "2026-11-13T15:00:00Z", "hw")
    ]

    /// Feedback longer than the SIS keeps (the standard profile's 100 characters): the demo shows
    /// the warning it gets, on an item that is otherwise sent.
    static let longComment =
        "Strong start: your reasoning in the second half is clear and well supported. "
        + "Next time, check your units in part 3 and show each step of the conversion."

    func feed() throws {
        let lms = LMSStore(database)
        let now = Date()
        // The SIS category of the same title as each LMS category (the sandbox has all four).
        let sisByTitle = Dictionary(
            data.all(.categories).compactMap { c in c["title"]?.stringValue.map { ($0, c["sourcedId"]?.stringValue ?? "") } },
            uniquingKeysWith: { a, _ in a })
        let (_, taught) = teacher
        let classes = data.all(.classes).compactMap { $0["sourcedId"]?.stringValue }.sorted()
        var started: [Int64] = []
        for (n, section) in classes.enumerated() {
            let course = try lms.upsertCourse(
                connection: Self.connection, lmsID: "demo-\(section)", title: (data.record(.classes, section)?["title"]?.stringValue ?? section),
                sectionSourcedIds: [section], at: now)
            for (id, title) in Self.categories { try lms.upsertCategory(courseID: course, lmsID: id, title: title, at: now) }
            let students = data.all(.enrollments).filter { $0.ref("class") == section && $0["role"]?.stringValue == "student" }.compactMap { $0.ref("user") }
                .sorted()
            var grades: [LMSStore.GradeInput] = []
            for (i, m) in Self.materials.enumerated() {
                let id = try lms.upsertMaterial(
                    courseID: course,
                    LMSStore.MaterialInput(
                        lmsID: m.0, title: m.1, dueAt: m.2.flatMap(OneRoster.DateTime.parse), categoryLmsID: m.3, maxPoints: m.3 == "ts" ? 50 : 10), at: now)
                for (j, student) in students.enumerated() {
                    let max: Double = m.3 == "ts" ? 50 : 10
                    switch (i + j) % 17 {
                    case 0: grades.append(.init(materialID: id, studentSourcedId: student, score: nil, exception: "excused", comment: nil))
                    case 1: grades.append(.init(materialID: id, studentSourcedId: student, score: nil, exception: "missing", comment: "Please hand this in."))
                    default:
                        grades.append(
                            .init(
                                materialID: id, studentSourcedId: student, score: Double((i * 7 + j * 3) % Int(max + 1)), exception: nil,
                                comment: i == 0 && j == 2 ? Self.longComment : j % 5 == 0 ? "Good work." : nil))
                    }
                }
            }
            try lms.recordGrades(grades, at: now)
            // Every section but the demo teacher's last is configured (Projects left unmapped), so
            // the teacher has one to configure; the teacher's first section and every third
            // other one is synced once.
            guard let classID = try lms.classID(connection: Self.connection, sourcedId: section), section != taught.last || taught.count < 2 else { continue }
            var map: [String: String] = [:]
            for (id, title) in Self.categories where id != "pj" { if let sis = sisByTitle[title] { map[id] = sis } }
            _ = try lms.saveCategoryMap(classID: classID, map: map, savedBy: "demo", at: now)
            if section == taught.first || n % 3 == 0 { started.append(classID) }
        }
        let planner = SyncPlanner(database: database)
        for classID in started { _ = try planner.start(classID: classID, trigger: .syncChanges, startedBy: "demo") }
    }

    struct Tokens: Codable {
        var teacher: String
        var teacherUser: String
        var teacherName: String
        var admin: String
        var district: String
        var integration: String
        var expiresAt: Date

        var expiresDay: String { String(Timestamp.text(expiresAt).prefix(10)) }
    }

    /// Where a demo keeps its tokens, beside its database (`--reset` removes it).
    static let tokensSuffix = ".tokens.json"
    /// How long the demo's tokens work: a demo is tried for days, not kept for years.
    static let tokenLifetime: TimeInterval = 30 * 86_400

    /// The demo's three tokens. A run on the same database reuses the ones of the last run
    /// while they all still work (their text is kept in `file`, readable by its owner only,
    /// since the database keeps only their hashes), so links stay valid and tokens do not pile
    /// up; otherwise it revokes what is left of them and mints three that expire.
    func tokens(file: String, now: Date = Date()) throws -> Tokens {
        let store = TokenStore(database)
        let (teacherID, _) = teacher
        let district = data.all(.orgs).first { $0["type"]?.stringValue == "district" }?["sourcedId"]?.stringValue ?? ""
        let adminUser = data.all(.users).first { $0["role"]?.stringValue == "administrator" }?["sourcedId"]?.stringValue ?? teacherID
        let kept = FileManager.default.contents(atPath: file).flatMap { try? Self.decoder().decode(Tokens.self, from: $0) }
        if let kept {
            func works(_ token: String, _ role: Principal.Role, _ user: String) throws -> Bool {
                guard let p = try store.principal(for: token, at: now.addingTimeInterval(3600)) else { return false }
                return p.connectionID == Self.connection && p.role == role && p.userSourcedId == user
            }
            if try works(kept.teacher, .teacher, teacherID), try works(kept.admin, .admin, adminUser), try works(kept.integration, .integration, "lms-feed") {
                return kept
            }
            for token in [kept.teacher, kept.admin, kept.integration] where token.count > 10 { try store.revoke(String(token.prefix(10)), at: now) }
        }
        func random() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: 0...255) } }
        let person = data.record(.users, teacherID)
        let name = [person?["givenName"]?.stringValue, person?["familyName"]?.stringValue].compactMap { $0 }.joined(separator: " ")
        let expires = now.addingTimeInterval(Self.tokenLifetime)
        let tokens = Tokens(
            teacher: try store.create(
                connection: Self.connection, user: teacherID, role: .teacher, org: nil, expiresAt: expires, label: "demo teacher",
                randomBytes: random(), at: now
            ).token,
            teacherUser: teacherID, teacherName: name,
            admin: try store.create(
                connection: Self.connection, user: adminUser, role: .admin, org: district, expiresAt: expires, label: "demo admin",
                randomBytes: random(), at: now
            ).token,
            district: district,
            integration: try store.create(
                connection: Self.connection, user: "lms-feed", role: .integration, org: nil, expiresAt: expires, label: "demo LMS feed",
                randomBytes: random(), at: now
            ).token,
            expiresAt: expires)
        _ = FileManager.default.createFile(atPath: file, contents: try Self.encoder().encode(tokens), attributes: [.posixPermissions: 0o600])
        return tokens
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
