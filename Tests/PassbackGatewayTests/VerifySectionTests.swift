import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

/// `verifySection`: the drift check over the API, against the sandbox SIS.
@Suite("The drift check over the API")
struct VerifySectionTests {
    @Test(
        "a score edited by hand in the SIS: verifySection flags it SIS_DIFFERS / UPDATES_AVAILABLE without waiting on the SIS; Sync Changes rewrites that one result"
    )
    func verifySectionFlagsHandEdit() async throws {
        try await withGateway { env in
            let (teacher, section) = CalendarAndLimitsTests.teacherAndSection(env)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            _ = try await env.feed(section: section, teacher: teacher, materials: 3)
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            _ = try await LinkedCourseTests.syncChanges(env, section, token)
            #expect(try await LinkedCourseTests.statuses(env, section, token).values.allSatisfy { $0.status == "SUCCESSFUL" })

            // Behind Passback's back: someone changes one score in the SIS.
            let student = env.students(of: section)[4]
            let resultID = SourcedIDs.result(
                lineItemSourcedId: SourcedIDs.lineItem(connection: "district", materialLmsID: "m-1", sectionSourcedId: section),
                studentSourcedId: student)
            var record = try #require(env.data.record(.results, resultID))
            let sent = try #require(record["score"]?.numberValue)
            record["score"] = .number(sent + 3)
            env.data.upsert(.results, record, countAsWrite: false)

            let query = """
                mutation($i: VerifySectionInput!) { verifySection(input: $i) { section { id } objectsToCheck userErrors { code message } } }
                """
            // An admin of the district may check it too (a check writes nothing); here the teacher does.
            let started = try await env.post(query, ["i": ["sectionId": sectionID]], token: token)
            let students = env.students(of: section).count
            #expect(started["verifySection", "objectsToCheck"] as? Int == 3 + 3 * students, "\(started.text)")
            #expect((started["verifySection", "userErrors"] as? [Any])?.isEmpty == true, "\(started.text)")
            // The check reads every object back from the SIS: beside the whole suite on two cores
            // that once took more than 20 s; the status it ends in is what is tested.
            try await env.waitUntil(timeout: 60) { try await LinkedCourseTests.statuses(env, section, token)["m-1"]?.status == "UPDATES_AVAILABLE" }
            let statuses = try await LinkedCourseTests.statuses(env, section, token)
            #expect(statuses["m-1"]?.problems == ["SIS_DIFFERS \(student)"], "\(statuses)")
            #expect(statuses["m-0"]?.status == "SUCCESSFUL" && statuses["m-2"]?.status == "SUCCESSFUL")
            let problem = try await env.post(
                """
                query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { lmsId problems { nodes { code field message } } } } } }
                """, ["id": sectionID], token: token)
            #expect(problem.text.contains("score: sent \\\"\(sent)\\\", SIS holds \\\"\(sent + 3)\\\""), "\(problem.text)")

            let bystander = try #require(env.sectionsByTeacher.keys.sorted().first { !(env.sectionsByTeacher[$0] ?? []).contains(section) })
            let admin = try env.token(.admin, user: bystander, org: env.districtOrg)
            let byAdmin = try await env.post(query, ["i": ["sectionId": sectionID]], token: admin)
            #expect(byAdmin.errors.isEmpty, "\(byAdmin.text)")
            let codes = ((byAdmin["verifySection", "userErrors"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
            #expect(codes.isEmpty || codes == ["CONFLICT"], "a district admin may start it (CONFLICT only while the teacher's still runs): \(byAdmin.text)")
            let other = try env.token(.teacher, user: bystander)
            let refused = try await env.post(query, ["i": ["sectionId": sectionID]], token: other)
            #expect(refused.text.contains("FORBIDDEN"), "another teacher may not: \(refused.text)")

            // The next Sync Changes rewrites exactly that result.
            _ = await env.gateway.api.services.driftChecks.wait(classID: try env.classID(section))
            let before = env.data.writeStats.putRequestsByRecord
            _ = try await LinkedCourseTests.syncChanges(env, section, token)
            let after = env.data.writeStats.putRequestsByRecord
            #expect(after.filter { $0.value != before[$0.key] }.map(\.key) == ["results/\(resultID)"])
            #expect(after["results/\(resultID)"] == (before["results/\(resultID)"] ?? 0) + 1)
            #expect(env.data.record(.results, resultID)?["score"]?.numberValue == sent)
            #expect(try await LinkedCourseTests.statuses(env, section, token).values.allSatisfy { $0.status == "SUCCESSFUL" && $0.problems.isEmpty })
        }
    }
}
