import Foundation
import GraphQL
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

@testable import PassbackGateway

/// The permission matrix where it is easiest to get wrong: one LMS course linked to two
/// sections whose teachers work in different schools (issue 13, findings 1, 8 and 11). Grades,
/// people and replayed mutations must stay inside what each viewer may read.
@Suite("Permissions across linked sections", .serialized)
struct LinkedCoursePermissionTests {
    /// Teacher A's section and teacher B's section, in different schools, fed by one LMS course
    /// with one material graded for the students of both (B's students get a private comment).
    struct Linked {
        var sectionA: String
        var teacherA: String
        var schoolA: String
        var sectionB: String
        var teacherB: String
        var schoolB: String
        var studentA: String
        var studentB: String
        /// The material's row id (grade ids are `Grade:<row>|<student>`).
        var materialRow: Int64
        var integration: String

        func gradeID(_ student: String) -> String { GlobalID.make("Grade", "\(materialRow)|\(student)") }
    }

    static let privateComment = "private: talk to the counselor"

    func link(_ env: GatewayEnv) async throws -> Linked {
        let byTeacher = env.sectionsByTeacher
        let teacherA = try #require(byTeacher.keys.sorted().first)
        let sectionA = try #require(byTeacher[teacherA]?.first)
        let schoolA = env.school(of: sectionA)
        let teacherB = try #require(byTeacher.keys.sorted().first { t in (byTeacher[t] ?? []).contains { env.school(of: $0) != schoolA } })
        let sectionB = try #require(byTeacher[teacherB]?.first { env.school(of: $0) != schoolA })
        #expect(!(byTeacher[teacherA] ?? []).contains(sectionB) && !(byTeacher[teacherB] ?? []).contains(sectionA))
        let studentA = try #require(env.students(of: sectionA).first)
        let studentB = try #require(env.students(of: sectionB).first { !env.students(of: sectionA).contains($0) })

        let integration = try env.token(.integration, user: "lms-feed")
        let course = try await env.post(
            """
            mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { userErrors { message } } }
            """,
            [
                "i": [
                    "lmsId": "shared", "title": "Shared course", "sectionSourcedIds": [sectionA, sectionB],
                    "categories": [["lmsId": "lc-0", "title": "Homework"]]
                ]
            ], token: integration)
        #expect((course["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(course.text)")
        let fed = try await env.post(
            """
            mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { materials { nodes { ids } } userErrors { message } } }
            """, ["i": ["courseLmsId": "shared", "materials": [["lmsId": "m-0", "title": "Essay", "categoryLmsId": "lc-0", "maxPoints": 10]]]],
            token: integration)
        let materialID = try #require((fed["upsertMaterials", "materials", "nodes", 0, "ids"] as? [String])?.first, "\(fed.text)")
        var grades: [[String: Any]] = env.students(of: sectionA).map { ["materialLmsId": "m-0", "studentSourcedId": $0, "score": 7.0] }
        grades += env.students(of: sectionB).map { ["materialLmsId": "m-0", "studentSourcedId": $0, "score": 4.0, "comment": Self.privateComment] }
        let recorded = try await env.post(
            """
            mutation($i: RecordGradesInput!) { recordGrades(input: $i) { recorded userErrors { message } } }
            """, ["i": ["courseLmsId": "shared", "grades": grades]], token: integration)
        #expect(recorded["recordGrades", "recorded"] as? Int == grades.count, "\(recorded.text)")
        return Linked(
            sectionA: sectionA, teacherA: teacherA, schoolA: schoolA, sectionB: sectionB, teacherB: teacherB, schoolB: env.school(of: sectionB),
            studentA: studentA, studentB: studentB, materialRow: try GlobalID.materialKey(materialID, argument: "id").materialID,
            integration: integration)
    }

    static let gradeQuery = "query($id: ID!) { node(id: $id) { ... on Grade { studentSourcedId score comment student { email } } } }"
    static let gradesQuery = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Grade { studentSourcedId score comment } } }"
    static let userQuery = "query($id: ID!) { node(id: $id) { ... on User { sourcedId familyName email role } } }"
    static let usersQuery = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on User { sourcedId familyName email } } }"

    func expectForbidden(_ r: Reply, _ what: String, hiding secret: String? = nil) {
        #expect(r.codes == ["FORBIDDEN"], "\(what) should be FORBIDDEN: \(r.text)")
        if let secret { #expect(!r.text.contains(secret), "\(what) leaked \(secret): \(r.text)") }
    }

    @Test("node and nodes on a Grade: a teacher reads only their own section's students in a linked course, a school admin only their school's")
    func gradesStayInTheirSection() async throws {
        try await withGateway { env in
            let l = try await link(env)
            let teacherA = try env.token(.teacher, user: l.teacherA)
            let own = try await env.post(Self.gradeQuery, ["id": l.gradeID(l.studentA)], token: teacherA)
            #expect(own["node", "score"] as? Double == 7, "\(own.text)")
            #expect((own["node", "student", "email"] as? String)?.isEmpty == false, "a teacher sees their own student's email: \(own.text)")
            let other = try await env.post(Self.gradeQuery, ["id": l.gradeID(l.studentB)], token: teacherA)
            expectForbidden(other, "teacher A reading B's student's grade", hiding: Self.privateComment)
            let batch = try await env.post(Self.gradesQuery, ["ids": env.students(of: l.sectionB).map(l.gradeID)], token: teacherA)
            expectForbidden(batch, "teacher A reading B's students' grades with nodes", hiding: Self.privateComment)
            let mixed = try await env.post(Self.gradesQuery, ["ids": [l.gradeID(l.studentA), l.gradeID(l.studentB)]], token: teacherA)
            expectForbidden(mixed, "nodes mixing A's and B's students", hiding: Self.privateComment)
            // The connection agrees: A's section lists only A's students.
            let listed = try await env.post(
                """
                query($id: ID!) { section(id: $id) { materials(first: 1) { nodes { grades(first: 100) { totalCount nodes { studentSourcedId } } } } } }
                """, ["id": try env.sectionID(l.sectionA)], token: teacherA)
            let students = (listed["section", "materials", "nodes", 0, "grades", "nodes"] as? [[String: Any]] ?? []).compactMap {
                $0["studentSourcedId"] as? String
            }
            #expect(students == env.students(of: l.sectionA), "\(listed.text)")

            let teacherB = try env.token(.teacher, user: l.teacherB)
            let mine = try await env.post(Self.gradeQuery, ["id": l.gradeID(l.studentB)], token: teacherB)
            #expect(mine["node", "comment"] as? String == Self.privateComment, "B reads their own student's comment: \(mine.text)")
            expectForbidden(try await env.post(Self.gradeQuery, ["id": l.gradeID(l.studentA)], token: teacherB), "teacher B reading A's student's grade")

            // A school admin who teaches neither section: their school's students only.
            let bystander = try #require(env.sectionsByTeacher.keys.sorted().first { $0 != l.teacherA && $0 != l.teacherB })
            let adminA = try env.token(.admin, user: bystander, org: l.schoolA)
            let inSchool = try await env.post(Self.gradeQuery, ["id": l.gradeID(l.studentA)], token: adminA)
            #expect(inSchool["node", "score"] as? Double == 7, "\(inSchool.text)")
            expectForbidden(
                try await env.post(Self.gradeQuery, ["id": l.gradeID(l.studentB)], token: adminA), "school A's admin reading school B's grade",
                hiding: Self.privateComment)
            expectForbidden(
                try await env.post(Self.gradesQuery, ["ids": [l.gradeID(l.studentB)]], token: adminA), "school A's admin with nodes",
                hiding: Self.privateComment)
            // The district admin reads both.
            let district = try env.token(.admin, user: bystander, org: env.districtOrg)
            let both = try await env.post(Self.gradesQuery, ["ids": [l.gradeID(l.studentA), l.gradeID(l.studentB)]], token: district)
            #expect((both["nodes"] as? [Any])?.count == 2, "\(both.text)")
        }
    }

    @Test("node and nodes on a User: a teacher reads their own students in full, linked teachers and run starters by name, nobody else; admins their org only")
    func peopleStayInScope() async throws {
        try await withGateway { env in
            let l = try await link(env)
            let teacherA = try env.token(.teacher, user: l.teacherA)
            let user = { (id: String) in GlobalID.make("User", id) }
            let schoolBPeople = env.data.all(.users).filter { u in
                (u["orgs"]?.arrayValue ?? []).contains { $0.objectValue?["sourcedId"]?.stringValue == l.schoolB }
            }
            let staffB = try #require(schoolBPeople.first { $0["role"]?.stringValue == "administrator" }?["sourcedId"]?.stringValue)
            let otherTeacherB = try #require(
                env.sectionsByTeacher.keys.sorted().first { t in
                    t != l.teacherB && (env.sectionsByTeacher[t] ?? []).allSatisfy { env.school(of: $0) == l.schoolB }
                })
            let districtAdmin = try #require(
                env.data.all(.users).first { u in
                    (u["orgs"]?.arrayValue ?? []).contains { $0.objectValue?["sourcedId"]?.stringValue == env.districtOrg }
                }?["sourcedId"]?.stringValue)
            let sectionsOfA = env.sectionsByTeacher[l.teacherA] ?? []
            let strangerA = try #require(
                env.data.all(.users).compactMap { $0["sourcedId"]?.stringValue }.first { s in
                    s.contains("stu") && env.data.all(.enrollments).allSatisfy { $0.ref("user") != s || !sectionsOfA.contains($0.ref("class")!) }
                        && env.data.all(.enrollments).contains { $0.ref("user") == s && env.school(of: $0.ref("class")!) == l.schoolA }
                })

            // Their own student, in full; themselves, through the viewer.
            let own = try await env.post(Self.userQuery, ["id": user(l.studentA)], token: teacherA)
            #expect(own["node", "sourcedId"] as? String == l.studentA && (own["node", "email"] as? String)?.contains("@") == true, "\(own.text)")
            let me = try await env.post("{ viewer { user { sourcedId email } } }", token: teacherA)
            #expect((me["viewer", "user", "email"] as? String)?.contains("@") == true, "\(me.text)")
            // The teacher of the linked section: the name, not the email.
            let linked = try await env.post(Self.userQuery, ["id": user(l.teacherB)], token: teacherA)
            #expect(linked.errors.isEmpty && linked["node", "familyName"] as? String != nil, "\(linked.text)")
            #expect(linked["node", "email"] == nil, "a linked section's teacher's email is hidden: \(linked.text)")
            // Nobody else: B's student, another school's teacher and staff, a student of A's school not in A's sections.
            let emailOf = { (id: String) in env.data.record(.users, id)?["email"]?.stringValue ?? "-" }
            for (what, id) in [
                ("B's student", l.studentB), ("a teacher of school B", otherTeacherB), ("school B's staff", staffB),
                ("a student of school A outside A's sections", strangerA), ("the district admin", districtAdmin)
            ] {
                expectForbidden(try await env.post(Self.userQuery, ["id": user(id)], token: teacherA), "teacher A reading \(what)", hiding: emailOf(id))
            }
            let guessed = env.data.all(.users).compactMap { $0["sourcedId"]?.stringValue }.prefix(100).map(user)
            expectForbidden(
                try await env.post(Self.usersQuery, ["ids": Array(guessed)], token: teacherA), "teacher A guessing 100 users with nodes",
                hiding: emailOf(l.studentB))

            // Whoever started a run of A's section becomes readable to A, by name.
            try await env.mapToFirstSISCategory(sectionID: try env.sectionID(l.sectionA), token: teacherA)
            _ = try SyncPlanner(database: env.database).start(
                classID: try env.classID(l.sectionA), materialIDs: nil, trigger: .syncChanges, startedBy: districtAdmin)
            let starter = try await env.post(Self.userQuery, ["id": user(districtAdmin)], token: teacherA)
            #expect(starter["node", "familyName"] as? String != nil && starter["node", "email"] == nil, "\(starter.text)")

            // A school admin: their school's people in full, not the other school's.
            let bystander = try #require(env.sectionsByTeacher.keys.sorted().first { $0 != l.teacherA && $0 != l.teacherB && $0 != otherTeacherB })
            let adminA = try env.token(.admin, user: bystander, org: l.schoolA)
            for id in [l.studentA, strangerA, l.teacherA] {
                let r = try await env.post(Self.userQuery, ["id": user(id)], token: adminA)
                #expect((r["node", "email"] as? String)?.contains("@") == true, "school A's admin reads \(id): \(r.text)")
            }
            for (what, id) in [("B's student", l.studentB), ("B", l.teacherB), ("school B's staff", staffB)] {
                expectForbidden(try await env.post(Self.userQuery, ["id": user(id)], token: adminA), "school A's admin reading \(what)", hiding: emailOf(id))
            }
            // Section.teachers and Grade.student answer the same way as node.
            let teachers = try await env.post(
                "query($id: ID!) { section(id: $id) { teachers { nodes { sourcedId email } } } }", ["id": try env.sectionID(l.sectionA)],
                token: adminA)
            #expect((teachers["section", "teachers", "nodes", 0, "email"] as? String)?.contains("@") == true, "\(teachers.text)")
            let district = try env.token(.admin, user: bystander, org: env.districtOrg)
            let all = try await env.post(Self.usersQuery, ["ids": [l.studentB, staffB, l.teacherB].map(user)], token: district)
            #expect((all["nodes"] as? [[String: Any]])?.allSatisfy { ($0["email"] as? String)?.contains("@") == true } == true, "\(all.text)")
        }
    }

    @Test("nodes on many users loads the people and what the viewer may see of them in one batch, whatever the count")
    func peopleLoadInOneBatch() async throws {
        try await withGateway { env in
            let admin = try #require(env.data.all(.users).first { $0["role"]?.stringValue == "administrator" }?["sourcedId"]?.stringValue)
            let principal = Principal(tokenID: 0, connectionID: "district", userSourcedId: admin, role: .admin, orgSourcedId: env.districtOrg)
            let everyone = env.data.all(.users).compactMap { $0["sourcedId"]?.stringValue }.map { GlobalID.make("User", $0) }
            var fetches: [Int] = []
            for n in [3, 100] {
                let context = APIContext(principal: principal, services: env.gateway.api.services, requestID: "people\(n)")
                let result = try await GraphQL.execute(
                    schema: env.gateway.api.schema,
                    documentAST: try GraphQL.parse(source: Source(body: Self.usersQuery)), rootValue: Root(),
                    context: context, variableValues: ["ids": .array(everyone.prefix(n).map { .string($0) })])
                #expect(result.errors.isEmpty, "\(result.errors)")
                #expect(result.data?["nodes"].array?.count == n)
                fetches.append(await context.loaders.totalFetches())
            }
            #expect(fetches == [2, 2], "loader fetches for 3 and 100 users: \(fetches)")
        }
    }

    @Test("sync reads in a linked course: planSync, problems, write payloads, jobs, history and error lists show no other section's students")
    func syncReadsStayInTheirSection() async throws {
        try await withGateway { env in
            let l = try await link(env)
            // Both materials due in a grading period; a second one, where A's students score 8.5, B's 3.25 and one of B's -1.5 (SCORE_INVALID, an error of B's section alone).
            let studentsB = env.students(of: l.sectionB), studentsA = env.students(of: l.sectionA)
            let fed = try await env.post(
                """
                mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { userErrors { message } } }
                """,
                [
                    "i": [
                        "courseLmsId": "shared",
                        "materials": [
                            ["lmsId": "m-0", "title": "Essay", "categoryLmsId": "lc-0", "maxPoints": 10, "dueDate": "2026-09-10T15:00:00Z"],
                            ["lmsId": "m-1", "title": "Quiz", "categoryLmsId": "lc-0", "maxPoints": 10, "dueDate": "2026-09-11T15:00:00Z"]
                        ]
                    ]
                ],
                token: l.integration)
            #expect((fed["upsertMaterials", "userErrors"] as? [Any])?.isEmpty == true, "\(fed.text)")
            var grades: [[String: Any]] = studentsA.map { ["materialLmsId": "m-1", "studentSourcedId": $0, "score": 8.5] }
            grades += studentsB.enumerated().map { i, s in
                ["materialLmsId": "m-1", "studentSourcedId": s, "score": i == 0 ? -1.5 : 3.25, "comment": Self.privateComment]
            }
            // And a student no linked section enrolls: nobody's, reported by one section.
            grades.append(["materialLmsId": "m-1", "studentSourcedId": "stranger-1", "score": 5.0])
            let recorded = try await env.post(
                "mutation($i: RecordGradesInput!) { recordGrades(input: $i) { recorded } }",
                ["i": ["courseLmsId": "shared", "grades": grades]], token: l.integration)
            #expect(recorded["recordGrades", "recorded"] as? Int == grades.count, "\(recorded.text)")

            let teacherA = try env.token(.teacher, user: l.teacherA), teacherB = try env.token(.teacher, user: l.teacherB)
            let sectionA = try env.sectionID(l.sectionA), sectionB = try env.sectionID(l.sectionB)
            try await env.mapToFirstSISCategory(sectionID: sectionA, token: teacherA)
            try await env.mapToFirstSISCategory(sectionID: sectionB, token: teacherB)
            let adminA = try env.token(.admin, user: l.teacherA, org: l.schoolA), adminB = try env.token(.admin, user: l.teacherB, org: l.schoolB)

            /// Whether an answer names a student of the other section, or their scores or comments.
            func leaks(_ r: Reply, from others: [String], own: [String]) -> [String] {
                var found = others.filter { !own.contains($0) && r.text.contains($0) }
                if others == studentsB {
                    if r.text.contains(Self.privateComment) { found.append("B's comment") }
                    // Scores as a payload or a message holds them (a timestamp's seconds have two digits).
                    if r.text.contains(":3.25") || r.text.contains("-1.5") { found.append("B's scores") }
                } else if r.text.contains(":8.5") {
                    found.append("A's scores")
                }
                return found
            }

            let plan = """
                mutation($i: PlanSyncInput!) { planSync(input: $i) { writeCount userErrors { message }
                  items(first: 5) { nodes { decision material { lmsId } problems { nodes { code message studentSourcedId } } writes { nodes { kind targetSourcedId payload } } } } } }
                """
            for (token, section, own, others, who) in [(teacherA, sectionA, studentsA, studentsB, "A"), (teacherB, sectionB, studentsB, studentsA, "B")] {
                let planned = try await env.post(plan, ["i": ["sectionId": section]], token: token)
                #expect((planned["planSync", "items", "nodes"] as? [Any])?.count == 2, "\(planned.text)")
                #expect(
                    leaks(planned, from: others, own: own).isEmpty, "teacher \(who)'s planSync shows \(leaks(planned, from: others, own: own)): \(planned.text)"
                )
                // Each write of a result names one of the section's own students.
                for item in planned["planSync", "items", "nodes"] as? [[String: Any]] ?? [] {
                    for w in nodesOf(item["writes"]) as? [[String: Any]] ?? [] where w["kind"] as? String == "PUT_RESULT" {
                        let payload = try JSONSerialization.jsonObject(with: Data((w["payload"] as? String ?? "{}").utf8)) as? [String: Any]
                        let student = (payload?["student"] as? [String: Any])?["sourcedId"] as? String
                        #expect(student.map(own.contains) == true, "teacher \(who)'s plan writes a result for \(student ?? "?"): \(w)")
                    }
                }
            }

            // Both teachers sync; every run finishes.
            var runs: [String: String] = [:]
            for (token, section, who) in [(teacherA, sectionA, "A"), (teacherB, sectionB, "B")] {
                let sync = try await env.post(
                    "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { message } } }",
                    ["i": ["sectionId": section]], token: token)
                runs[who] = try #require(sync["syncChanges", "run", "id"] as? String, "\(sync.text)")
            }
            let runQuery = """
                query($id: ID!) { node(id: $id) { ... on SyncRun { state jobs(first: 100) { nodes { id kind targetSourcedId state lastError material { lmsId problems { nodes { code message studentSourcedId } } } } } } } }
                """
            for (who, token) in [("A", teacherA), ("B", teacherB)] {
                try await env.waitUntil {
                    let r = try await env.post(runQuery, ["id": runs[who]!], token: token)
                    return (r["node", "state"] as? String).map { $0 != "RUNNING" } ?? false
                }
            }
            for (token, run, own, others, otherRun, who) in [
                (teacherA, runs["A"]!, studentsA, studentsB, runs["B"]!, "A"),
                (teacherB, runs["B"]!, studentsB, studentsA, runs["A"]!, "B")
            ] {
                let r = try await env.post(runQuery, ["id": run], token: token)
                let jobs = r["node", "jobs", "nodes"] as? [[String: Any]] ?? []
                #expect(!jobs.isEmpty, "\(r.text)")
                #expect(leaks(r, from: others, own: own).isEmpty, "teacher \(who)'s SyncRun.jobs shows \(leaks(r, from: others, own: own)): \(r.text)")
                // The jobs' targets are the section's lineItems and its own students' results, nothing else.
                let section = who == "A" ? l.sectionA : l.sectionB
                let lineItems = ["m-0", "m-1"].map { SourcedIDs.lineItem(connection: "district", materialLmsID: $0, sectionSourcedId: section) }
                let allowed = Set(lineItems + lineItems.flatMap { li in own.map { SourcedIDs.result(lineItemSourcedId: li, studentSourcedId: $0) } })
                let targets = jobs.compactMap { $0["targetSourcedId"] as? String }
                #expect(
                    targets.allSatisfy(allowed.contains), "teacher \(who)'s run writes objects of another section: \(targets.filter { !allowed.contains($0) })")
                // Each job by node, and the other section's run and jobs refused.
                for id in jobs.compactMap({ $0["id"] as? String }).prefix(3) {
                    let job = try await env.post("query($id: ID!) { node(id: $id) { ... on SyncJob { targetSourcedId lastError } } }", ["id": id], token: token)
                    #expect(job.errors.isEmpty && leaks(job, from: others, own: own).isEmpty, "\(job.text)")
                }
                expectForbidden(try await env.post(runQuery, ["id": otherRun], token: token), "teacher \(who) reading the other section's run")

                // The materials as the widget lists them: problems and history.
                let listed = try await env.post(
                    """
                    query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { lmsId syncStatus problems { nodes { code message studentSourcedId } }
                      history(first: 50) { nodes { action outcome code message run { id } } } } } } }
                    """, ["id": who == "A" ? sectionA : sectionB], token: token)
                #expect((listed["section", "materials", "nodes"] as? [Any])?.count == 2, "\(listed.text)")
                #expect(
                    leaks(listed, from: others, own: own).isEmpty,
                    "teacher \(who)'s problems and history show \(leaks(listed, from: others, own: own)): \(listed.text)")
            }
            // B's own error is B's to see: the invalid score names B's student.
            let listedB = try await env.post(
                "query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { lmsId problems { nodes { code studentSourcedId } } } } } }",
                ["id": sectionB], token: teacherB)
            #expect(listedB.text.contains("SCORE_INVALID") && listedB.text.contains(studentsB[0]), "\(listedB.text)")
            // The stranger is nobody's student: one section reports them (the first linked one by
            // sourcedId), once; the other section shows no such problem.
            let reporter = min(l.sectionA, l.sectionB)
            for (token, section, sourcedId) in [(teacherA, sectionA, l.sectionA), (teacherB, sectionB, l.sectionB)] {
                let r = try await env.post(
                    "query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { problems { nodes { code studentSourcedId } } } } } }",
                    ["id": section], token: token)
                if sourcedId == reporter {
                    #expect(r.text.contains(#"{"code":"STUDENT_NOT_ENROLLED","studentSourcedId":"stranger-1"}"#), "\(r.text)")
                    #expect(r.text.components(separatedBy: "STUDENT_NOT_ENROLLED").count == 2, "only the stranger is not enrolled, once: \(r.text)")
                } else {
                    #expect(!r.text.contains("STUDENT_NOT_ENROLLED"), "\(r.text)")
                }
            }

            // School admins: each sees the errors of their school's section, nothing of the other's.
            let errorsQuery = """
                { syncErrors(first: 50) { totalCount nodes { code message field section { sourcedId } school { sourcedId }
                    material { lmsId problems { nodes { code message studentSourcedId } } history(first: 50) { nodes { message } } } } }
                  byCode: syncErrorSummary(groupBy: CODE) { nodes { key label count } } bySchool: syncErrorSummary(groupBy: SCHOOL) { nodes { key label count } }
                  byTeacher: syncErrorSummary(groupBy: TEACHER) { nodes { key label count } } }
                """
            for (token, own, others, otherSection, otherSchool, who) in [
                (adminA, studentsA, studentsB, l.sectionB, l.schoolB, "A"), (adminB, studentsB, studentsA, l.sectionA, l.schoolA, "B")
            ] {
                let r = try await env.post(errorsQuery, token: token)
                #expect(r.errors.isEmpty, "\(r.text)")
                #expect(leaks(r, from: others, own: own).isEmpty, "school \(who)'s admin sees \(leaks(r, from: others, own: own)): \(r.text)")
                let sections = (r["syncErrors", "nodes"] as? [[String: Any]] ?? []).compactMap { ($0["section"] as? [String: Any])?["sourcedId"] as? String }
                #expect(!sections.contains(otherSection) && sections.allSatisfy { env.school(of: $0) != otherSchool }, "\(r.text)")
                let schoolKeys = (nodesOf(r["bySchool"]) as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
                #expect(!schoolKeys.contains(otherSchool), "school \(who)'s admin counts the other school: \(r.text)")
            }
            let errorsB = try await env.post("{ syncErrors(first: 50) { nodes { code section { sourcedId } } } }", token: adminB)
            #expect(errorsB.text.contains("SCORE_INVALID") && errorsB.text.contains(l.sectionB), "school B's admin sees B's own error: \(errorsB.text)")
        }
    }

    @Test("an idempotency replay is authorized like a new request, and a key answers only the selection it was first asked with")
    func replaysAreAuthorized() async throws {
        try await withGateway { env in
            let l = try await link(env)
            let teacherB = try env.token(.teacher, user: l.teacherB)
            let sectionB = try env.sectionID(l.sectionB)
            let categories = try await env.post(
                "query($id: ID!) { section(id: $id) { lmsCategories { nodes { id } } sisCategories { nodes { id } } } }", ["id": sectionB], token: teacherB)
            let lms = try #require(categories["section", "lmsCategories", "nodes", 0, "id"] as? String),
                sis = try #require(categories["section", "sisCategories", "nodes", 0, "id"] as? String)
            let input: [String: Any] = ["sectionId": sectionB, "map": [["lmsCategoryId": lms, "sisCategoryId": sis]], "idempotencyKey": "map-1"]
            func save(_ fragment: String) async throws -> Reply {
                try await env.post(
                    """
                    mutation($i: SaveCategoryMapInput!) { saveCategoryMap(input: $i) { section { ...S } userErrors { code field } } }
                    fragment S on Section { \(fragment) }
                    """, ["i": input], token: teacherB)
            }
            let reading = "title materials(first: 1) { nodes { title grades(first: 100) { nodes { studentSourcedId comment } } } }"
            let first = try await save(reading)
            #expect(first.text.contains(Self.privateComment), "B reads their students' comments: \(first.text)")
            let again = try await save(reading)
            // The data is the first answer's; `extensions.cost` reports the bucket now.
            #expect(again.data.map(NSDictionary.init) == first.data.map(NSDictionary.init), "the same request replays the first answer: \(again.text)")

            // The same key with another selection (a fragment of the same name that reads more, or less) is not that request.
            for other in ["title", reading + " teachers { nodes { email } }"] {
                let r = try await save(other)
                #expect(r["saveCategoryMap", "userErrors", 0, "code"] as? String == "CONFLICT", "another selection, same key: \(r.text)")
                #expect(r["saveCategoryMap", "userErrors", 0, "field"] as? [String] == ["input", "idempotencyKey"])
                #expect(r["saveCategoryMap", "section"] == nil, "\(r.text)")
            }
            let inline = try await env.post(
                """
                mutation($i: SaveCategoryMapInput!) { saveCategoryMap(input: $i) { section { title } userErrors { code } } }
                """, ["i": input], token: teacherB)
            #expect(inline["saveCategoryMap", "userErrors", 0, "code"] as? String == "CONFLICT", "\(inline.text)")

            // B leaves the section in the SIS; the roster is refreshed. The replay is refused, not answered.
            let admin = try env.token(
                .admin, user: env.data.all(.users).first { $0["role"]?.stringValue == "administrator" }!["sourcedId"]!.stringValue!,
                org: env.districtOrg)
            env.data.markDeleted(.enrollments, "\(l.sectionB)-\(l.teacherB)")
            let refreshed = try await env.refreshRoster(token: admin)
            #expect(refreshed["node", "state"] as? String == "SUCCEEDED", "\(refreshed.text)")
            expectForbidden(
                try await env.post("query($id: ID!) { section(id: $id) { title } }", ["id": sectionB], token: teacherB), "B reading the section they left")
            let replay = try await save(reading)
            expectForbidden(replay, "B replaying the key after leaving the section", hiding: Self.privateComment)
            #expect(replay["saveCategoryMap"] == nil, "\(replay.text)")

            // A key belongs to one principal: the same person's admin token for another org acts for that org.
            let schedule: [String: Any] = ["schedule": ["weekday": 5, "startTime": "17:00", "timeZone": "America/Chicago"], "idempotencyKey": "default-1"]
            let saveDefault = "mutation($i: SaveDefaultSyncScheduleInput!) { saveDefaultSyncSchedule(input: $i) { org { sourcedId } userErrors { code } } }"
            let forA = try await env.post(saveDefault, ["i": schedule], token: try env.token(.admin, user: l.teacherA, org: l.schoolA))
            #expect(forA["saveDefaultSyncSchedule", "org", "sourcedId"] as? String == l.schoolA, "\(forA.text)")
            let forB = try await env.post(saveDefault, ["i": schedule], token: try env.token(.admin, user: l.teacherA, org: l.schoolB))
            #expect(forB["saveDefaultSyncSchedule", "org", "sourcedId"] as? String == l.schoolB, "another org's token is another principal: \(forB.text)")
        }
    }
}
