import Foundation
import PassbackCore
import Testing

@testable import PassbackGateway

/// Regressions from the review of the API: scope through linked sections, grades of other
/// sections' students, limiter arithmetic, introspection floods, mutation floods, key owners.
@Suite("API hardening", .serialized)
struct HardeningTests {
    @Test("a linked section of another teacher, and its students' grades, stay out of reach")
    func linkedSections() async throws {
        try await withGateway { env in
            let (own, teacher) = env.yearLongSection
            let byTeacher = env.sectionsByTeacher
            let foreign = try #require(env.data.all(.classes).compactMap { $0["sourcedId"]?.stringValue }.first { !(byTeacher[teacher] ?? []).contains($0) })
            let integration = try env.token(.integration, user: "lms-feed")
            // One LMS course feeds both sections, with a grade for a student of each.
            let ownStudent = try #require(env.students(of: own).first),
                foreignStudent = try #require(env.students(of: foreign).first { !env.students(of: own).contains($0) })
            _ = try await env.post(
                "mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { userErrors { message } } }",
                ["i": ["lmsId": "shared", "title": "Shared", "sectionSourcedIds": [own, foreign]]], token: integration)
            _ = try await env.post(
                "mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { userErrors { message } } }",
                ["i": ["courseLmsId": "shared", "materials": [["lmsId": "m", "title": "M"]]]], token: integration)
            _ = try await env.post(
                "mutation($i: RecordGradesInput!) { recordGrades(input: $i) { userErrors { message } } }",
                [
                    "i": [
                        "courseLmsId": "shared",
                        "grades": [
                            ["materialLmsId": "m", "studentSourcedId": ownStudent, "score": 1],
                            ["materialLmsId": "m", "studentSourcedId": foreignStudent, "score": 2]
                        ]
                    ]
                ], token: integration)
            let token = try env.token(.teacher, user: teacher)
            let r = try await env.post(
                """
                query($id: ID!) { section(id: $id) { linkedSections { nodes { sourcedId } } lmsCourse { sections { nodes { sourcedId } } }
                  materials { nodes { grades { totalCount nodes { studentSourcedId } } } } } }
                """, ["id": try env.sectionID(own)], token: token)
            #expect(r.errors.isEmpty, "\(r.text)")
            #expect((r["section", "linkedSections", "nodes"] as? [Any])?.isEmpty == true, "\(r.text)")
            #expect((r["section", "lmsCourse", "sections", "nodes"] as? [[String: Any]])?.map { $0["sourcedId"] as? String } == [own])
            #expect((r["section", "materials", "nodes", 0, "grades", "nodes"] as? [[String: Any]])?.map { $0["studentSourcedId"] as? String } == [ownStudent])
            #expect(r["section", "materials", "nodes", 0, "grades", "totalCount"] as? Int == 1)
        }
    }

    @Test("huge page sizes, introspection floods and mutation floods are refused, and the server stays up")
    func floods() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let nested =
                "{ viewer { sections(first: 10000) { nodes { materials(first: 10000) { nodes { section { materials(first: 10000) { nodes { section { materials(first: 10000) { nodes { section { materials(first: 10000) { nodes { title } } } } } } } } } } } } } } }"
            let overflow = try await env.post(nested, token: token)
            #expect(overflow.codes == ["QUERY_TOO_COMPLEX"], "\(overflow.text.prefix(300))")
            var flood = "{ "
            for i in 0..<40 { flood += "a\(i): __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } " }
            flood += "}"
            let introspection = try await env.post(flood, token: token)
            #expect(introspection.codes == ["QUERY_TOO_COMPLEX"], "\(introspection.text.prefix(300))")
            let deepIntrospection = try await env.post(
                "{ __schema { types { " + String(repeating: "fields { type { ", count: 12) + "name" + String(repeating: " } }", count: 12) + " } } }",
                token: token)
            #expect(deepIntrospection.codes == ["QUERY_TOO_COMPLEX"], "\(deepIntrospection.text.prefix(300))")
            let defaulted = try await env.post(
                "query($n: Int = 100) { viewer { sections(first: $n) { nodes { materials(first: $n) { nodes { title problems { nodes { code } } } } } } } }",
                token: token)
            #expect(defaulted.codes == ["QUERY_TOO_COMPLEX"], "a variable's default counts: \(defaulted.text.prefix(300))")
            var many = "mutation { "
            for i in 0..<11 { many += "m\(i): planSync(input: { sectionId: \"x\" }) { writeCount } " }
            many += "}"
            let mutations = try await env.post(many, token: token)
            #expect(
                mutations.codes == ["QUERY_TOO_COMPLEX"] && (mutations.errors.first?["message"] as? String)?.contains("at most 10") == true, "\(mutations.text)"
            )
            let alive = try await env.post("{ viewer { role } }", token: token)
            #expect(alive["viewer", "role"] as? String == "TEACHER")
        }
    }

    @Test("an idempotency key belongs to a role and user: an integration token named like a teacher gets its own answer")
    func keyOwners() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 1)
            let token = try env.token(.teacher, user: teacher)
            let impostor = try env.token(.integration, user: teacher)
            let create = "mutation($i: CreateLmsCategoryInput!) { createLmsCategory(input: $i) { lmsCategory { id } userErrors { code } } }"
            let first = try await env.post(create, ["i": ["sectionId": try env.sectionID(section), "title": "Labs", "idempotencyKey": "k1"]], token: token)
            #expect(first["createLmsCategory", "lmsCategory", "id"] != nil)
            let replay = try await env.post(create, ["i": ["sectionId": try env.sectionID(section), "title": "Labs", "idempotencyKey": "k1"]], token: impostor)
            #expect(replay.codes == ["FORBIDDEN"], "the impostor runs the mutation itself, and is refused: \(replay.text)")
        }
    }
}
