import Foundation
import PassbackCore
import Testing

/// A problem about one student's result names the student, as the roster does, for a viewer who
/// may see them; the sourcedId stays beside the name.
@Suite("Problems name their student")
struct ProblemNamesTests {
    @Test("a too-long comment's warning names the student by name (and sourcedId), and gives the student")
    func warningNamesStudent() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            let fed = try await env.feed(section: section, teacher: teacher, materials: 1, grades: false)
            let student = try #require(env.students(of: section).first)
            let comment = String(repeating: "Thoughtful work; check the units. ", count: 5)
            let recorded = try await env.post(
                """
                mutation($input: RecordGradesInput!) { recordGrades(input: $input) { recorded userErrors { message } } }
                """, ["input": ["courseLmsId": fed.lmsID, "grades": [["materialLmsId": "m-0", "studentSourcedId": student, "score": 7.0, "comment": comment]]]],
                token: fed.integration)
            #expect(recorded["recordGrades", "recorded"] as? Int == 1, "\(recorded.text)")
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            let plan = try await env.post(
                """
                mutation($i: PlanSyncInput!) { planSync(input: $i) { items { nodes { problems { nodes { code message studentSourcedId student { givenName familyName } } } } } } }
                """, ["i": ["sectionId": sectionID]], token: token)
            let problems = (plan["planSync", "items", "nodes"] as? [[String: Any]] ?? []).flatMap { nodesOf($0["problems"]) as? [[String: Any]] ?? [] }
            let warning = try #require(problems.first { $0["code"] as? String == "COMMENT_TOO_LONG" }, "\(plan.text)")
            let person = try #require(env.data.record(.users, student))
            let name = "\(person["givenName"]!.stringValue!) \(person["familyName"]!.stringValue!)"
            let message = try #require(warning["message"] as? String)
            #expect(message.contains("\(name) (\(student))"), "\(message)")
            #expect(!message.contains("student \(student)"), "\(message)")
            #expect((warning["student"] as? [String: Any])?["givenName"] as? String == person["givenName"]?.stringValue)
            #expect(warning["studentSourcedId"] as? String == student)
        }
    }
}
