import Foundation
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

@Suite("GraphQL reads", .serialized)
struct ReadTests {
    @Test("a teacher's viewer lists their sections with school, term, teachers, grading periods, categories and materials")
    func viewerAndSection() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 4)
            let token = try env.token(.teacher, user: teacher)
            let r = try await env.post(
                """
                { viewer { role userSourcedId user { sourcedId familyName } sections(first: 10) { totalCount nodes { id sourcedId title
                    school { sourcedId name } term { title } teachers(first: 5) { nodes { sourcedId } } gradingPeriods(first: 10) { nodes { sourcedId type startDate } }
                    sisCategories(first: 20) { nodes { sourcedId } } lmsCategories(first: 20) { nodes { lmsId title } } configured
                    categoryMap(first: 20) { nodes { lmsCategory { lmsId } } } lmsCourse { lmsId sections(first: 5) { nodes { sourcedId } } } linkedSections(first: 5) { nodes { sourcedId } }
                    materials(first: 10) { totalCount nodes { lmsId title syncStatus dueDate maxPoints lmsCategory { title } problems { nodes { code } } } } } } } }
                """, token: token)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.errors.isEmpty, "\(r.text)")
            #expect(r["viewer", "role"] as? String == "TEACHER")
            let sections = try #require(r["viewer", "sections", "nodes"] as? [[String: Any]])
            #expect(Set(sections.compactMap { $0["sourcedId"] as? String }) == Set(env.sectionsByTeacher[teacher] ?? []))
            #expect(r["viewer", "sections", "totalCount"] as? Int == env.sectionsByTeacher[teacher]?.count)
            let mine = try #require(sections.first { $0["sourcedId"] as? String == section })
            #expect((mine["school"] as? [String: Any])?["sourcedId"] as? String == env.school(of: section))
            #expect(((nodesOf(mine["teachers"]) as? [[String: Any]]) ?? []).contains { $0["sourcedId"] as? String == teacher })
            #expect(((nodesOf(mine["gradingPeriods"]) as? [[String: Any]]) ?? []).count >= 2)
            #expect(((nodesOf(mine["sisCategories"]) as? [Any]) ?? []).count == env.sisCategories.count)
            #expect(((nodesOf(mine["lmsCategories"]) as? [[String: Any]]) ?? []).map { $0["title"] as? String } == ["Homework", "Quizzes", "Tests"])
            #expect(mine["configured"] as? Bool == false)
            let materials = try #require((mine["materials"] as? [String: Any])?["nodes"] as? [[String: Any]])
            #expect(materials.map { $0["title"] as? String } == ["Material 0", "Material 1", "Material 2", "Material 3"])
            #expect(materials.allSatisfy { $0["syncStatus"] as? String == "NOT_SYNCED" })
            #expect(materials[0]["dueDate"] as? String == "2026-09-01T15:00:00.000Z")
            #expect((materials[1]["lmsCategory"] as? [String: Any])?["title"] as? String == "Quizzes")
        }
    }
}
