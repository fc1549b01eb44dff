import Foundation
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

/// One LMS course linked to sections of two teachers in two schools: what one teacher does
/// (opting out) stays in their sections, and the feed cannot link a section twice.
@Suite("Linked courses", .serialized)
struct LinkedCourseTests {
    /// Teacher A's two sections and teacher B's section (another school), in one LMS course
    /// `shared` with materials m-0 and m-1.
    struct Shared {
        var aSections: [String]
        var bSection: String
        var a: String
        var b: String
        var integration: String

        var all: [String] { aSections + [bSection] }
    }

    static func shared(_ env: GatewayEnv) async throws -> Shared {
        let (a, aSections, b, bSection) = try sections(env)
        let integration = try env.token(.integration, user: "lms-feed")
        let course = try await env.post(
            """
            mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { userErrors { code message } } }
            """,
            [
                "i": [
                    "lmsId": "shared", "title": "Shared course", "sectionSourcedIds": aSections + [bSection],
                    "categories": [["lmsId": "lc-0", "title": "Homework"]]
                ]
            ], token: integration)
        #expect(course.errors.isEmpty && (course["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(course.text)")
        try await feedMaterials(env, integration, syncToSIS: true)
        return Shared(aSections: aSections, bSection: bSection, a: a, b: b, integration: integration)
    }

    /// Teacher `a` with two fall sections, and teacher `b` with a fall section of another school.
    static func sections(_ env: GatewayEnv) throws -> (a: String, aSections: [String], b: String, bSection: String) {
        // Sections that run in the first term (the fall semester), so the materials' September due dates fall in their grading periods.
        let fall = try #require(
            env.data.all(.academicSessions).filter { $0["type"]?.stringValue == "term" }
                .min { ($0["startDate"]?.stringValue ?? "") < ($1["startDate"]?.stringValue ?? "") }?["sourcedId"]?.stringValue)
        let byTeacher = env.sectionsByTeacher.mapValues { sections in
            sections.filter { env.data.record(.classes, $0)?["terms"]?.arrayValue?.contains { $0.objectValue?["sourcedId"]?.stringValue == fall } ?? false }
        }
        let a = try #require(byTeacher.keys.sorted().first { (byTeacher[$0] ?? []).count >= 2 })
        let aSections = Array(byTeacher[a]!.prefix(2))
        let aSchools = Set(aSections.map(env.school))
        let (b, bSection) = try #require(
            byTeacher.keys.sorted().lazy.filter { $0 != a }.compactMap { t -> (String, String)? in
                guard !(byTeacher[t] ?? []).contains(where: aSections.contains) else { return nil }
                return (byTeacher[t] ?? []).first { !aSchools.contains(env.school(of: $0)) && !(byTeacher[a] ?? []).contains($0) }.map { (t, $0) }
            }.first)
        return (a, aSections, b, bSection)
    }

    static func feedMaterials(_ env: GatewayEnv, _ integration: String, course: String = "shared", syncToSIS m0: Bool) async throws {
        let fed = try await env.post(
            """
            mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { userErrors { code message } } }
            """,
            [
                "i": [
                    "courseLmsId": course,
                    "materials": [
                        ["lmsId": "m-0", "title": "Quiz 0", "categoryLmsId": "lc-0", "maxPoints": 10, "dueDate": "2026-09-10T15:00:00Z", "syncToSIS": m0],
                        ["lmsId": "m-1", "title": "Quiz 1", "categoryLmsId": "lc-0", "maxPoints": 10, "dueDate": "2026-09-11T15:00:00Z"]
                    ]
                ]
            ], token: integration)
        #expect(fed.errors.isEmpty && (fed["upsertMaterials", "userErrors"] as? [Any])?.isEmpty == true, "\(fed.text)")
    }

    /// Each material of a section as its teacher reads it: lmsId → "syncToSIS/STATUS".
    static func states(_ env: GatewayEnv, _ section: String, _ token: String) async throws -> [String: String] {
        let r = try await env.post(
            "query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { lmsId syncToSIS syncStatus } } } }",
            ["id": try env.sectionID(section)], token: token)
        var out: [String: String] = [:]
        for n in r["section", "materials", "nodes"] as? [[String: Any]] ?? [] {
            out[n["lmsId"] as! String] = "\(n["syncToSIS"] as! Bool)/\(n["syncStatus"] as! String)"
        }
        #expect(!out.isEmpty, "\(r.text)")
        return out
    }

    static func materialID(_ env: GatewayEnv, _ lmsID: String, in section: String) throws -> String {
        let store = LMSStore(env.database)
        let course = try #require(try store.courseID(ofSection: try env.classID(section)))
        return GlobalID.material(try #require(try store.materialID(courseID: course, lmsID: lmsID)), section: try env.classID(section))
    }

    static func toggle(_ env: GatewayEnv, _ lmsID: String, in section: String, _ value: Bool, token: String) async throws -> Reply {
        try await env.post(
            """
            mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncToSIS syncStatus } userErrors { code message field } } }
            """, ["i": ["materialId": try materialID(env, lmsID, in: section), "syncToSIS": value]], token: token)
    }

    static func decisions(_ env: GatewayEnv, _ section: String, _ token: String) async throws -> [String: String] {
        let r = try await env.post(
            "mutation($i: PlanSyncInput!) { planSync(input: $i) { items { nodes { material { lmsId } decision } } } }",
            ["i": ["sectionId": try env.sectionID(section)]], token: token)
        var out: [String: String] = [:]
        for item in r["planSync", "items", "nodes"] as? [[String: Any]] ?? [] {
            out[(item["material"] as! [String: Any])["lmsId"] as! String] = item["decision"] as? String
        }
        return out
    }

    @Test("a teacher's opt-out covers every linked section they teach and never another teacher's, in status, reads and the plan")
    func optOutStaysInTheTeachersSections() async throws {
        try await withGateway { env in
            let s = try await Self.shared(env)
            let a = try env.token(.teacher, user: s.a), b = try env.token(.teacher, user: s.b)
            for section in s.aSections { try await env.mapToFirstSISCategory(sectionID: try env.sectionID(section), token: a) }
            try await env.mapToFirstSISCategory(sectionID: try env.sectionID(s.bSection), token: b)

            // A opts m-0 out from one of their sections.
            let off = try await Self.toggle(env, "m-0", in: s.aSections[0], false, token: a)
            #expect(off["setMaterialSyncToSIS", "material", "syncStatus"] as? String == "OPT_OUT", "\(off.text)")
            for section in s.aSections {
                #expect(try await Self.states(env, section, a) == ["m-0": "false/OPT_OUT", "m-1": "true/NOT_SYNCED"], "A's section \(section)")
                #expect(try await Self.decisions(env, section, a)["m-0"] == "SKIP")
            }
            // B's section, another school: untouched.
            #expect(try await Self.states(env, s.bSection, b) == ["m-0": "true/NOT_SYNCED", "m-1": "true/NOT_SYNCED"])
            #expect(try await Self.decisions(env, s.bSection, b)["m-0"] == "SEND")
            // node(Material) resolves syncToSIS for its own section.
            let nodes = try await env.post(
                "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Material { syncToSIS syncStatus } } }",
                ["ids": [try Self.materialID(env, "m-0", in: s.aSections[1])]], token: a)
            #expect(nodes["nodes", 0, "syncToSIS"] as? Bool == false, "\(nodes.text)")

            // B's own sync sends m-0 to B's section, and A's opt-out still holds.
            let run = try await env.post(
                "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { message } } }",
                ["i": ["sectionId": try env.sectionID(s.bSection)]], token: b)
            #expect(run["syncChanges", "run", "id"] != nil, "\(run.text)")
            try await env.waitUntil { try await Self.states(env, s.bSection, b)["m-0"] == "true/SUCCESSFUL" }
            #expect(try await Self.states(env, s.aSections[1], a)["m-0"] == "false/OPT_OUT")

            // A turns it back on: in A's sections only.
            let on = try await Self.toggle(env, "m-0", in: s.aSections[1], true, token: a)
            #expect((on["setMaterialSyncToSIS", "userErrors"] as? [Any])?.isEmpty == true, "\(on.text)")
            for section in s.aSections { #expect(try await Self.states(env, section, a)["m-0"] == "true/NOT_SYNCED") }
        }
    }

    @Test("the LMS feed's off holds in every section: a teacher cannot turn it on over it, and their own opt-out outlives the feed's on")
    func feedOffWins() async throws {
        try await withGateway { env in
            let s = try await Self.shared(env)
            let a = try env.token(.teacher, user: s.a), b = try env.token(.teacher, user: s.b)
            try await Self.feedMaterials(env, s.integration, syncToSIS: false)
            #expect(try await Self.states(env, s.bSection, b)["m-0"] == "false/OPT_OUT")
            #expect(try await Self.states(env, s.aSections[0], a)["m-0"] == "false/OPT_OUT")

            let on = try await Self.toggle(env, "m-0", in: s.bSection, true, token: b)
            #expect(on["setMaterialSyncToSIS", "userErrors", 0, "code"] as? String == "RULE_FAILED", "\(on.text)")
            #expect(on["setMaterialSyncToSIS", "material", "syncStatus"] as? String == "OPT_OUT")
            #expect(try await Self.states(env, s.bSection, b)["m-0"] == "false/OPT_OUT")

            // A opts out while the feed has it off; then the LMS turns it back on.
            let off = try await Self.toggle(env, "m-0", in: s.aSections[0], false, token: a)
            #expect((off["setMaterialSyncToSIS", "userErrors"] as? [Any])?.isEmpty == true, "\(off.text)")
            try await Self.feedMaterials(env, s.integration, syncToSIS: true)
            #expect(try await Self.states(env, s.bSection, b)["m-0"] == "true/NOT_SYNCED")
            for section in s.aSections { #expect(try await Self.states(env, section, a)["m-0"] == "false/OPT_OUT") }
        }
    }

    @Test("linking a section that another LMS course holds is a CONFLICT naming that course, and nothing of the call is saved")
    func linkingATakenSectionConflicts() async throws {
        try await withGateway { env in
            let byTeacher = env.sectionsByTeacher
            let teacher = try #require(byTeacher.keys.sorted().first { (byTeacher[$0] ?? []).count >= 2 })
            let (taken, free) = (byTeacher[teacher]![0], byTeacher[teacher]![1])
            let integration = try env.token(.integration, user: "lms-feed")
            let upsert = "mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { lmsCourse { lmsId } userErrors { code message field } } }"
            let first = try await env.post(upsert, ["i": ["lmsId": "first", "title": "First course", "sectionSourcedIds": [taken]]], token: integration)
            #expect((first["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(first.text)")

            let second = try await env.post(
                upsert, ["i": ["lmsId": "second", "title": "Second course", "sectionSourcedIds": [free, taken]]], token: integration)
            #expect(second["upsertLmsCourse", "userErrors", 0, "code"] as? String == "CONFLICT", "\(second.text)")
            #expect(second["upsertLmsCourse", "userErrors", 0, "field"] as? [String] == ["input", "sectionSourcedIds", "1"])
            let message = second["upsertLmsCourse", "userErrors", 0, "message"] as? String ?? ""
            #expect(message.contains("'first'") && message.contains("First course") && message.contains(taken), "\(message)")
            #expect(second["upsertLmsCourse", "lmsCourse"] == nil)

            // Nothing of the refused call was saved: no course `second`, `free` linked to nothing.
            let materials = try await env.post(
                "mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { userErrors { code } } }",
                ["i": ["courseLmsId": "second", "materials": [["lmsId": "x", "title": "X"]]]], token: integration)
            #expect(materials["upsertMaterials", "userErrors", 0, "code"] as? String == "NOT_FOUND", "\(materials.text)")
            #expect(try LMSStore(env.database).courseID(ofSection: try env.classID(free)) == nil)
            // Re-sending the course that holds the section is fine.
            let again = try await env.post(upsert, ["i": ["lmsId": "first", "title": "First course", "sectionSourcedIds": [taken]]], token: integration)
            #expect((again["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(again.text)")
        }
    }

    // MARK: Grades of a course linked to two sections

    /// An LMS course `two` linked to two fall sections of two teachers (`first` < `second` by
    /// sourcedId), materials m-0 and m-1, its category mapped in both, and every student of both
    /// sections graded on both materials.
    struct Two {
        var first: String
        var second: String
        var teachers: [String: String] // section → teacher token
        var integration: String

        var sections: [String] { [first, second] }
    }

    static func two(_ env: GatewayEnv) async throws -> Two {
        let s = try sections(env)
        let integration = try env.token(.integration, user: "lms-feed")
        let pair = [s.aSections[0], s.bSection].sorted()
        let course = try await env.post(
            """
            mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { userErrors { code message } } }
            """, ["i": ["lmsId": "two", "title": "Two sections", "sectionSourcedIds": pair, "categories": [["lmsId": "lc-0", "title": "Homework"]]]],
            token: integration)
        #expect((course["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(course.text)")
        try await feedMaterials(env, integration, course: "two", syncToSIS: true)
        var grades: [[String: Any]] = []
        for (i, m) in ["m-0", "m-1"].enumerated() {
            for (j, student) in Set(pair.flatMap(env.students(of:))).sorted().enumerated() {
                grades.append(["materialLmsId": m, "studentSourcedId": student, "score": Double((i + j) % 11)])
            }
        }
        try await record(env, integration, grades)
        var teachers: [String: String] = [:]
        for (section, teacher) in [(s.aSections[0], s.a), (s.bSection, s.b)] {
            let token = try env.token(.teacher, user: teacher)
            teachers[section] = token
            try await env.mapToFirstSISCategory(sectionID: try env.sectionID(section), token: token)
        }
        return Two(first: pair[0], second: pair[1], teachers: teachers, integration: integration)
    }

    static func record(_ env: GatewayEnv, _ integration: String, _ grades: [[String: Any]]) async throws {
        let r = try await env.post(
            "mutation($i: RecordGradesInput!) { recordGrades(input: $i) { userErrors { code message } } }",
            ["i": ["courseLmsId": "two", "grades": grades]], token: integration)
        #expect(r.errors.isEmpty && (r["recordGrades", "userErrors"] as? [Any])?.isEmpty == true, "\(r.text)")
    }

    /// The dry run of a section: lmsId → (decision, problems, students of its result writes).
    static func dryRun(
        _ env: GatewayEnv, _ section: String, _ token: String
    ) async throws
        -> [String: (decision: String, problems: [[String: Any]], students: [String])]
    {
        let r = try await env.post(
            """
            mutation($i: PlanSyncInput!) { planSync(input: $i) { items { nodes { material { lmsId } decision problems { nodes { code message studentSourcedId } }
                                                                 writes { nodes { kind payload } } } } userErrors { message } } }
            """, ["i": ["sectionId": try env.sectionID(section)]], token: token)
        #expect(r.errors.isEmpty, "\(r.text)")
        var out: [String: (String, [[String: Any]], [String])] = [:]
        for item in r["planSync", "items", "nodes"] as? [[String: Any]] ?? [] {
            let students = (nodesOf(item["writes"]) as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "PUT_RESULT" }.compactMap { w -> String? in
                let payload = try? JSONSerialization.jsonObject(with: Data((w["payload"] as? String ?? "").utf8)) as? [String: Any]
                return (payload?["student"] as? [String: Any])?["sourcedId"] as? String
            }
            out[(item["material"] as! [String: Any])["lmsId"] as! String] = (
                item["decision"] as? String ?? "", nodesOf(item["problems"]) as? [[String: Any]] ?? [], students.sorted()
            )
        }
        #expect(!out.isEmpty, "\(r.text)")
        return out
    }

    /// Starts Sync Changes in a section and waits for the run to finish; returns the run.
    static func syncChanges(_ env: GatewayEnv, _ section: String, _ token: String) async throws -> [String: Any] {
        let started = try await env.post(
            "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { message } } }",
            ["i": ["sectionId": try env.sectionID(section)]], token: token)
        let id = try #require(started["syncChanges", "run", "id"] as? String, "\(started.text)")
        var run: [String: Any] = [:]
        // Beside the whole suite on two cores a run of a few items has taken more than 20 s.
        try await env.waitUntil(timeout: 60) {
            let r = try await env.post(
                """
                query($id: ID!) { node(id: $id) { ... on SyncRun { state itemsSent itemsSucceeded itemsFailed itemsSkipped jobsTotal jobsSucceeded jobsFailed } } }
                """, ["id": id], token: token)
            run = r["node"] as? [String: Any] ?? [:]
            return run["state"] as? String != nil && run["state"] as? String != "RUNNING"
        }
        return run
    }

    /// Each material of a section: lmsId → (status, problems as "CODE student").
    static func statuses(_ env: GatewayEnv, _ section: String, _ token: String) async throws -> [String: (status: String, problems: [String])] {
        let r = try await env.post(
            """
            query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { lmsId syncStatus problems { nodes { code studentSourcedId } } } } } }
            """, ["id": try env.sectionID(section)], token: token)
        var out: [String: (String, [String])] = [:]
        for n in r["section", "materials", "nodes"] as? [[String: Any]] ?? [] {
            out[n["lmsId"] as! String] = (
                n["syncStatus"] as! String,
                (nodesOf(n["problems"]) as? [[String: Any]] ?? []).map { "\($0["code"] as? String ?? "") \($0["studentSourcedId"] as? String ?? "-")" }
            )
        }
        #expect(!out.isEmpty, "\(r.text)")
        return out
    }

    /// The students of the results the sandbox holds under a section's lineItems, per lineItem title.
    static func sisStudents(_ env: GatewayEnv, _ section: String) -> [String: [String]] {
        let lineItems = env.data.all(.lineItems).filter { $0.ref("class") == section }
        var out: [String: [String]] = [:]
        for li in lineItems {
            let id = li["sourcedId"]?.stringValue ?? ""
            out[li["title"]?.stringValue ?? id] = env.data.all(.results).filter { $0.ref("lineItem") == id }.compactMap { $0.ref("student") }.sorted()
        }
        return out
    }

    @Test("a course linked to two sections, every student graded: each grade goes to its student's section only, every item SUCCESSFUL in both, counts add up")
    func gradesGoToTheirStudentsSection() async throws {
        try await withGateway { env in
            let t = try await Self.two(env)
            #expect(Set(env.students(of: t.first)) != Set(env.students(of: t.second)), "two sections with different students")
            for section in t.sections {
                let token = t.teachers[section]!, own = env.students(of: section)
                // The dry run sends every item, with exactly this section's students, and finds nothing wrong.
                let plan = try await Self.dryRun(env, section, token)
                for m in ["m-0", "m-1"] {
                    #expect(plan[m]?.decision == "SEND", "\(section) \(m)")
                    #expect(plan[m]?.problems.isEmpty == true, "\(section) \(m): \(plan[m]?.problems ?? [])")
                    #expect(plan[m]?.students == own, "\(section) \(m)")
                }
                let run = try await Self.syncChanges(env, section, token)
                #expect(run["state"] as? String == "SUCCEEDED", "\(section): \(run)")
                #expect(run["itemsSent"] as? Int == 2 && run["itemsSucceeded"] as? Int == 2 && run["itemsFailed"] as? Int == 0, "\(section): \(run)")
                #expect(run["jobsTotal"] as? Int == 2 + 2 * own.count && run["jobsSucceeded"] as? Int == run["jobsTotal"] as? Int, "\(section): \(run)")
            }
            for section in t.sections {
                let s = try await Self.statuses(env, section, t.teachers[section]!)
                #expect(s.mapValues(\.status) == ["m-0": "SUCCESSFUL", "m-1": "SUCCESSFUL"], "\(section): \(s)")
                #expect(s.values.allSatisfy { $0.problems.isEmpty }, "\(section): \(s)")
                // The SIS holds, under each of the section's lineItems, a result for exactly its own students.
                let held = Self.sisStudents(env, section)
                #expect(held == ["Quiz 0": env.students(of: section), "Quiz 1": env.students(of: section)], "\(section)")
            }

            // A regrade of a student of the second section only is a change there, not in the first.
            let student = try #require(env.students(of: t.second).first { !env.students(of: t.first).contains($0) })
            try await Self.record(env, t.integration, [["materialLmsId": "m-0", "studentSourcedId": student, "score": 10.5]])
            #expect(try await Self.statuses(env, t.first, t.teachers[t.first]!).mapValues(\.status) == ["m-0": "SUCCESSFUL", "m-1": "SUCCESSFUL"])
            #expect(try await Self.statuses(env, t.second, t.teachers[t.second]!).mapValues(\.status) == ["m-0": "UPDATES_AVAILABLE", "m-1": "SUCCESSFUL"])
        }
    }

    @Test(
        "a student enrolled in neither linked section is STUDENT_NOT_ENROLLED once, in the first linked section where the material syncs; the other section succeeds"
    )
    func unenrolledStudentReportedOnce() async throws {
        try await withGateway { env in
            let t = try await Self.two(env)
            let linked = Set(t.sections.flatMap(env.students(of:)))
            let stranger = try #require(
                env.data.all(.enrollments).compactMap { e -> String? in
                    e["role"]?.stringValue == "student" ? e.ref("user") : nil
                }.sorted().first { !linked.contains($0) })
            try await Self.record(env, t.integration, [["materialLmsId": "m-0", "studentSourcedId": stranger, "score": 7]])

            // The dry run: the first section reports it on m-0 (and still sends its own students); the second does not.
            let first = try await Self.dryRun(env, t.first, t.teachers[t.first]!)
            #expect(
                first["m-0"]?.problems.map { "\($0["code"] as? String ?? "") \($0["studentSourcedId"] as? String ?? "")" } == [
                    "STUDENT_NOT_ENROLLED \(stranger)"
                ])
            let message = first["m-0"]?.problems.first?["message"] as? String ?? ""
            #expect(message.contains(stranger) && message.contains(t.second), "\(message)")
            #expect(first["m-0"]?.students == env.students(of: t.first))
            #expect(first["m-1"]?.problems.isEmpty == true)
            let second = try await Self.dryRun(env, t.second, t.teachers[t.second]!)
            #expect(second.values.allSatisfy { $0.problems.isEmpty && $0.decision == "SEND" }, "\(second.mapValues(\.problems))")

            let run1 = try await Self.syncChanges(env, t.first, t.teachers[t.first]!)
            #expect(run1["state"] as? String == "PARTIAL" && run1["itemsSucceeded"] as? Int == 1 && run1["itemsFailed"] as? Int == 1, "\(run1)")
            let run2 = try await Self.syncChanges(env, t.second, t.teachers[t.second]!)
            #expect(run2["state"] as? String == "SUCCEEDED" && run2["itemsSucceeded"] as? Int == 2 && run2["itemsFailed"] as? Int == 0, "\(run2)")
            let s1 = try await Self.statuses(env, t.first, t.teachers[t.first]!), s2 = try await Self.statuses(env, t.second, t.teachers[t.second]!)
            #expect(s1["m-0"]?.status == "ERROR" && s1["m-0"]?.problems == ["STUDENT_NOT_ENROLLED \(stranger)"], "\(s1)")
            #expect(s1["m-1"]?.status == "SUCCESSFUL", "\(s1)")
            #expect(s2.mapValues(\.status) == ["m-0": "SUCCESSFUL", "m-1": "SUCCESSFUL"] && s2.values.allSatisfy { $0.problems.isEmpty }, "\(s2)")
            #expect(Self.sisStudents(env, t.first)["Quiz 0"] == env.students(of: t.first))

            // Opted out in the first section, m-0 still syncs in the second, which now reports it.
            let off = try await Self.toggle(env, "m-0", in: t.first, false, token: t.teachers[t.first]!)
            #expect((off["setMaterialSyncToSIS", "userErrors"] as? [Any])?.isEmpty == true, "\(off.text)")
            let after = try await Self.dryRun(env, t.second, t.teachers[t.second]!)
            #expect(after["m-0"]?.problems.compactMap { $0["code"] as? String } == ["STUDENT_NOT_ENROLLED"])
        }
    }

    @Test("a student dropped from the second linked section is reported there, by the teacher who knew them, not by the first")
    func droppedStudentReportedWhereTheyWere() async throws {
        try await withGateway { env in
            let t = try await Self.two(env)
            let dropped = try #require(env.students(of: t.second).first { !env.students(of: t.first).contains($0) })
            let admin = try env.token(.admin, user: env.yearLongSection.teacher, org: env.districtOrg)
            env.data.markDeleted(.enrollments, "\(t.second)-\(dropped)")
            let refreshed = try await env.refreshRoster(token: admin)
            #expect(refreshed["node", "state"] as? String == "SUCCEEDED", "\(refreshed.text)")
            try await Self.record(env, t.integration, [["materialLmsId": "m-0", "studentSourcedId": dropped, "score": 7]])
            // The first section (the one that reports students no linked section ever enrolled) never had them.
            let first = try await Self.dryRun(env, t.first, t.teachers[t.first]!)
            #expect(first.values.allSatisfy { $0.problems.isEmpty }, "\(first.mapValues(\.problems))")
            let second = try await Self.dryRun(env, t.second, t.teachers[t.second]!)
            #expect(
                second["m-0"]?.problems.map { "\($0["code"] as? String ?? "") \($0["studentSourcedId"] as? String ?? "")" } == [
                    "STUDENT_NOT_ENROLLED \(dropped)"
                ],
                "\(second.mapValues(\.problems))")
        }
    }
}
