import Foundation
@testable import PassbackGateway
import PassbackCore
import PassbackStore
import PassbackSync
import Testing

/// The permission matrix where it is easiest to get wrong: one LMS course linked to two
/// sections whose teachers work in different schools (issue 13). Grades must stay inside what
/// each viewer may read.
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
        let course = try await env.post("""
            mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { userErrors { message } } }
            """, ["i": ["lmsId": "shared", "title": "Shared course", "sectionSourcedIds": [sectionA, sectionB],
                        "categories": [["lmsId": "lc-0", "title": "Homework"]]]], token: integration)
        #expect((course["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(course.text)")
        let fed = try await env.post("""
            mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { materials { ids } userErrors { message } } }
            """, ["i": ["courseLmsId": "shared", "materials": [["lmsId": "m-0", "title": "Essay", "categoryLmsId": "lc-0", "maxPoints": 10]]]],
            token: integration)
        let materialID = try #require((fed["upsertMaterials", "materials", 0, "ids"] as? [String])?.first, "\(fed.text)")
        var grades: [[String: Any]] = env.students(of: sectionA).map { ["materialLmsId": "m-0", "studentSourcedId": $0, "score": 7.0] }
        grades += env.students(of: sectionB).map { ["materialLmsId": "m-0", "studentSourcedId": $0, "score": 4.0, "comment": Self.privateComment] }
        let recorded = try await env.post("""
            mutation($i: RecordGradesInput!) { recordGrades(input: $i) { recorded userErrors { message } } }
            """, ["i": ["courseLmsId": "shared", "grades": grades]], token: integration)
        #expect(recorded["recordGrades", "recorded"] as? Int == grades.count, "\(recorded.text)")
        return Linked(sectionA: sectionA, teacherA: teacherA, schoolA: schoolA, sectionB: sectionB, teacherB: teacherB, schoolB: env.school(of: sectionB),
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
            let listed = try await env.post("""
                query($id: ID!) { section(id: $id) { materials(first: 1) { nodes { grades(first: 100) { totalCount nodes { studentSourcedId } } } } } }
                """, ["id": try env.sectionID(l.sectionA)], token: teacherA)
            let students = (listed["section", "materials", "nodes", 0, "grades", "nodes"] as? [[String: Any]] ?? []).compactMap { $0["studentSourcedId"] as? String }
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
            expectForbidden(try await env.post(Self.gradeQuery, ["id": l.gradeID(l.studentB)], token: adminA), "school A's admin reading school B's grade",
                            hiding: Self.privateComment)
            expectForbidden(try await env.post(Self.gradesQuery, ["ids": [l.gradeID(l.studentB)]], token: adminA), "school A's admin with nodes",
                            hiding: Self.privateComment)
            // The district admin reads both.
            let district = try env.token(.admin, user: bystander, org: env.districtOrg)
            let both = try await env.post(Self.gradesQuery, ["ids": [l.gradeID(l.studentA), l.gradeID(l.studentB)]], token: district)
            #expect((both["nodes"] as? [Any])?.count == 2, "\(both.text)")
        }
    }
}
