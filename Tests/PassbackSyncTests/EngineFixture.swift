import Foundation
import OneRoster
import OneRosterSandbox
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync

/// A rostered district with one LMS course linked to one section, its categories mapped, and
/// materials with a grade for every student: what the engine tests sync.
struct EngineFixture {
    let database: PassbackDatabase
    let running: RunningSandbox
    var connection: PassbackConfiguration.Connection
    let classID: Int64
    let courseID: Int64
    let section: String
    let students: [String]
    let lms: LMSStore
    let engine: EngineStore
    let clock: any WallClock

    /// Rosters the sandbox and builds the LMS side. Due dates fall inside Quarter 1 or 2 unless told otherwise.
    static func make(
        database: PassbackDatabase, running: RunningSandbox, materials: Int, clock: any WallClock = SystemWallClock(),
        profile: String = "standard"
    ) async throws -> EngineFixture {
        var conn = settings(for: running, pageSize: 200)
        conn.settings.profile = profile
        _ = try await RosterImporter(store: RosterStore(database), clock: clock).pull(
            connection: conn.settings, client: ClientFactory.client(for: conn, clock: clock))
        let data = running.sandbox.data
        // A year-long class (both semesters), so the fixture's due dates fall in its grading periods.
        guard let cls = data.all(.classes).first(where: { ($0["terms"]?.arrayValue?.count ?? 0) == 2 }) else {
            throw TestFailure("the generated district has no year-long class; pick another plan or seed")
        }
        let section = cls["sourcedId"]!.stringValue!
        let students = data.all(.enrollments).filter { $0["class"]?.objectValue?["sourcedId"]?.stringValue == section && $0["role"] == "student" }
            .compactMap { $0["user"]?.objectValue?["sourcedId"]?.stringValue }.sorted()
        let lms = LMSStore(database)
        let now = clock.now
        let courseID = try lms.upsertCourse(connection: "district", lmsID: "lms-course-1", title: "Course 1", sectionSourcedIds: [section], at: now)
        let sisCategories = data.all(.categories).compactMap { $0["sourcedId"]?.stringValue }
        for (i, title) in ["Homework", "Quizzes", "Tests"].enumerated() {
            try lms.upsertCategory(courseID: courseID, lmsID: "lc-\(i)", title: title, at: now)
        }
        let classID = try lms.classID(connection: "district", sourcedId: section)!
        let problems = try lms.saveCategoryMap(
            classID: classID, map: ["lc-0": sisCategories[0], "lc-1": sisCategories[2], "lc-2": sisCategories[3]],
            savedBy: "teacher", at: now)
        precondition(problems.isEmpty, "\(problems)")
        let fixture = EngineFixture(
            database: database, running: running, connection: conn, classID: classID, courseID: courseID, section: section,
            students: students, lms: lms, engine: EngineStore(database), clock: clock)
        for i in 0..<materials { try fixture.addMaterial(i) }
        return fixture
    }

    /// A due date inside the sandbox's Quarter 1 (Aug 17 – Oct 16, 2026) or Quarter 2.
    static func dueDate(_ i: Int) -> Date { DateTime.parse("2026-09-01T15:00:00Z")!.addingTimeInterval(Double(i % 90) * 86_400) }

    func addMaterial(_ i: Int, title: String? = nil, due: Date? = nil, category: String? = "lc-\(0)") throws {
        let id = try lms.upsertMaterial(
            courseID: courseID,
            .init(
                lmsID: "m-\(i)", title: title ?? "Assignment \(i + 1)", dueAt: due ?? Self.dueDate(i),
                categoryLmsID: category.map { _ in "lc-\(i % 3)" }, maxPoints: 20), at: clock.now)
        // One write for the material's grades, as the LMS feed sends them (each write refreshes
        // the item's status, so grade by grade would cost a refresh each).
        _ = try lms.recordGrades(
            students.enumerated().map { n, s in
                let exception: String? = n % 10 == 3 ? "excused" : n % 10 == 7 ? "missing" : nil
                return LMSStore.GradeInput(
                    materialID: id, studentSourcedId: s, score: exception == nil ? Double((i + n) % 21) : nil, exception: exception,
                    comment: n == 0 ? "Well done" : nil)
            }, at: clock.now)
    }

    func materialID(_ i: Int) throws -> Int64 { try lms.materialID(courseID: courseID, lmsID: "m-\(i)")! }

    func worker(
        _ configure: (inout OutboxWorker.Configuration) -> Void = { _ in }, transport: any HTTPTransport = URLSessionTransport(),
        verifyWrites: Bool = false
    ) -> OutboxWorker {
        var c = OutboxWorker.Configuration()
        c.pollInterval = .milliseconds(20)
        c.retryPolicy.baseDelay = 0.02
        c.retryPolicy.maxDelay = 0.2
        c.retryPolicy.defaultRateLimitDelay = 0.1
        configure(&c)
        return OutboxWorker(
            database: database,
            targets: [
                "district": .init(
                    client: ClientFactory.client(for: connection, transport: transport, clock: clock),
                    requestsPerMinute: 60_000, concurrency: connection.settings.concurrency,
                    verifyWrites: verifyWrites)
            ],
            configuration: c, clock: clock)
    }

    func planner() -> SyncPlanner {
        var p = SyncPlanner(database: database, clock: clock)
        p.retryPolicy.baseDelay = 0.02
        return p
    }

    /// Every lineItem and result the sandbox holds for this section.
    func sisLineItems() -> [JSONObject] {
        running.sandbox.data.all(.lineItems).filter { $0["class"]?.objectValue?["sourcedId"]?.stringValue == section }
    }

    func sisResults() -> [JSONObject] {
        let items = Set(sisLineItems().compactMap { $0["sourcedId"]?.stringValue })
        return running.sandbox.data.all(.results).filter { items.contains($0["lineItem"]?.objectValue?["sourcedId"]?.stringValue ?? "") }
    }

    func statuses() throws -> [SyncStatus] {
        try CacheQueries(database).materials(ofSection: classID, first: 1000, after: nil).items.map(\.status)
    }
}
