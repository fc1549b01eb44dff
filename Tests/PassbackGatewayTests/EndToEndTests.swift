import Foundation
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("End to end: sandbox SIS, gateway, LMS feed, teacher, admin", .serialized)
struct EndToEndTests {
    static let statusQuery = """
        query($id: ID!) { section(id: $id) { materials(first: 50) { nodes { id lmsId syncStatus lastSyncedAt problems { nodes { code message field } } } } } }
        """

    func statuses(_ env: GatewayEnv, _ section: String, _ token: String) async throws -> [String: (status: String, problems: [String])] {
        let r = try await env.post(Self.statusQuery, ["id": try env.sectionID(section)], token: token)
        guard r.errors.isEmpty, let nodes = r["section", "materials", "nodes"] as? [[String: Any]] else { throw HarnessFailure(r.text) }
        var out: [String: (String, [String])] = [:]
        for n in nodes {
            out[n["lmsId"] as! String] = (n["syncStatus"] as! String, ((nodesOf(n["problems"]) as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String })
        }
        return out
    }

    @Test(
        "roster, feed, map, sync changes: IN_PROGRESS then SUCCESSFUL; a grade change shows UPDATES_AVAILABLE; a due date outside every grading period is an ERROR the admin sees"
    )
    func wholeFlow() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            // m-3 is due on a Saturday between quarters: outside every grading period of the sandbox's calendar.
            let fed = try await env.feed(section: section, teacher: teacher, materials: 4) { i in
                i == 3 ? "2026-10-17T15:00:00Z" : "2026-09-0\(i + 1)T15:00:00Z"
            }
            let teacherToken = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)

            // Before the map is saved, the plan says what is wrong and sends nothing.
            let plan = try await env.post(
                """
                mutation($input: PlanSyncInput!) { planSync(input: $input) { writeCount items { nodes { decision material { lmsId } problems { nodes { code } } } } userErrors { message } } }
                """, ["input": ["sectionId": sectionID]], token: teacherToken)
            #expect(plan.errors.isEmpty, "\(plan.text)")
            let planned = try #require(plan["planSync", "items", "nodes"] as? [[String: Any]])
            #expect(planned.count == 4)
            #expect(planned.allSatisfy { $0["decision"] as? String == "BLOCKED" })
            #expect(planned.allSatisfy { ((nodesOf($0["problems"]) as? [[String: Any]]) ?? []).contains { $0["code"] as? String == "SECTION_NOT_CONFIGURED" } })

            // The teacher maps the three LMS categories (two onto one SIS category).
            let section1 = try await env.post(
                """
                query($id: ID!) { section(id: $id) { lmsCategories { nodes { id lmsId } } sisCategories { nodes { id sourcedId } } } }
                """, ["id": sectionID], token: teacherToken)
            let lms = try #require(section1["section", "lmsCategories", "nodes"] as? [[String: Any]]).map { $0["id"] as! String }
            let sis = try #require(section1["section", "sisCategories", "nodes"] as? [[String: Any]]).map { $0["id"] as! String }
            let saved = try await env.post(
                """
                mutation($input: SaveCategoryMapInput!) { saveCategoryMap(input: $input) { section { configured categoryMap { nodes { lmsCategory { lmsId } sisCategory { sourcedId } } } } userErrors { message } } }
                """,
                [
                    "input": [
                        "sectionId": sectionID,
                        "map": [
                            ["lmsCategoryId": lms[0], "sisCategoryId": sis[0]], ["lmsCategoryId": lms[1], "sisCategoryId": sis[0]],
                            ["lmsCategoryId": lms[2], "sisCategoryId": sis[1]]
                        ]
                    ]
                ], token: teacherToken)
            #expect(saved.errors.isEmpty, "\(saved.text)")
            #expect(saved["saveCategoryMap", "section", "configured"] as? Bool == true)
            #expect((saved["saveCategoryMap", "section", "categoryMap", "nodes"] as? [Any])?.count == 3)

            // The first write to the SIS is slow, so the run is seen under way.
            env.running.sandbox.faults.script([.slow(milliseconds: 1500)])
            let sync = try await env.post(
                """
                mutation($input: SyncChangesInput!) { syncChanges(input: $input) { run { id state itemsSent itemsFailed } userErrors { message } } }
                """, ["input": ["sectionId": sectionID]], token: teacherToken)
            #expect(sync.errors.isEmpty, "\(sync.text)")
            let runID = try #require(sync["syncChanges", "run", "id"] as? String)
            #expect(sync["syncChanges", "run", "itemsSent"] as? Int == 3)
            #expect(sync["syncChanges", "run", "itemsFailed"] as? Int == 1)
            let during = try await statuses(env, section, teacherToken)
            #expect(["m-0", "m-1", "m-2"].allSatisfy { during[$0]?.status == "IN_PROGRESS" }, "\(during)")
            #expect(during["m-3"]?.status == "ERROR")
            // Follow the run over server-sent events until it finishes.
            let events = try await env.subscribe(
                "subscription($id: ID!) { syncRunUpdated(id: $id) { state jobsSucceeded jobsTotal } }", ["id": runID], token: teacherToken)
            let last = try #require(events.last?["data"] as? [String: Any])
            #expect((last["syncRunUpdated"] as? [String: Any])?["state"] as? String == "PARTIAL", "\(events)")

            var s = try await statuses(env, section, teacherToken)
            #expect(s["m-0"]?.status == "SUCCESSFUL" && s["m-1"]?.status == "SUCCESSFUL" && s["m-2"]?.status == "SUCCESSFUL", "\(s)")
            #expect(s["m-3"]?.status == "ERROR")
            #expect(s["m-3"]?.problems == ["DUE_DATE_OUTSIDE_GRADING_PERIOD"])
            // The SIS holds the three lineItems and every result.
            let lineItems = env.data.all(.lineItems).filter { $0["class"]?.objectValue?["sourcedId"]?.stringValue == section }
            #expect(lineItems.count == 3)

            // A grade changes in the LMS: that item has updates available.
            let student = try #require(env.students(of: section).first)
            let regrade = try await env.post(
                """
                mutation($input: RecordGradesInput!) { recordGrades(input: $input) { recorded userErrors { message } } }
                """, ["input": ["courseLmsId": fed.lmsID, "grades": [["materialLmsId": "m-1", "studentSourcedId": student, "score": 9.5]]]],
                token: fed.integration)
            #expect(regrade["recordGrades", "recorded"] as? Int == 1, "\(regrade.text)")
            s = try await statuses(env, section, teacherToken)
            #expect(s["m-1"]?.status == "UPDATES_AVAILABLE")
            #expect(s["m-0"]?.status == "SUCCESSFUL")

            // Sync changes again: only m-1 (and the still-failing m-3) are considered, and m-1 lands.
            let again = try await env.post(
                """
                mutation($input: SyncChangesInput!) { syncChanges(input: $input) { run { id itemsSent itemsSkipped } } }
                """, ["input": ["sectionId": sectionID]], token: teacherToken)
            #expect(again["syncChanges", "run", "itemsSent"] as? Int == 1, "\(again.text)")
            try await env.waitUntil { try await statuses(env, section, teacherToken)["m-1"]?.status == "SUCCESSFUL" }
            let lineItemIDs = Set(lineItems.compactMap { $0["sourcedId"]?.stringValue })
            let result = env.data.all(.results).first { r in
                r["student"]?.objectValue?["sourcedId"]?.stringValue == student
                    && lineItemIDs.contains(r["lineItem"]?.objectValue?["sourcedId"]?.stringValue ?? "")
                    && r["score"]?.jsonText == "9.5"
            }
            #expect(result != nil, "the new score reached the SIS")

            // The district admin sees the error, and can group it.
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)
            let errors = try await env.post(
                """
                { syncErrors(first: 10) { totalCount nodes { code message section { sourcedId } school { sourcedId } material { lmsId syncStatus } } }
                  byCode: syncErrorSummary(groupBy: CODE) { nodes { key count } } bySchool: syncErrorSummary(groupBy: SCHOOL) { nodes { key label count } } }
                """, token: admin)
            #expect(errors.errors.isEmpty, "\(errors.text)")
            #expect(errors["syncErrors", "totalCount"] as? Int == 1)
            #expect(errors["syncErrors", "nodes", 0, "code"] as? String == "DUE_DATE_OUTSIDE_GRADING_PERIOD")
            #expect(errors["syncErrors", "nodes", 0, "section", "sourcedId"] as? String == section)
            #expect(errors["syncErrors", "nodes", 0, "school", "sourcedId"] as? String == env.school(of: section))
            #expect(errors["syncErrors", "nodes", 0, "material", "lmsId"] as? String == "m-3")
            #expect(errors["byCode", "nodes", 0, "key"] as? String == "DUE_DATE_OUTSIDE_GRADING_PERIOD")
            #expect(errors["bySchool", "nodes", 0, "key"] as? String == env.school(of: section))

            // Each filter narrows by what it names (ids, as the API gives them).
            let filtered = """
                query($f: SyncErrorFilter) { syncErrors(filter: $f) { totalCount } byTeacher: syncErrorSummary(filter: $f, groupBy: TEACHER) { nodes { key label count } } }
                """
            let otherSchool = try #require(env.schools.first { $0 != env.school(of: section) })
            let other = try #require(env.sectionsByTeacher.keys.sorted().first { $0 != teacher })
            let cases: [([String: Any], Int)] = [
                (["schoolId": GlobalID.make("Org", env.school(of: section))], 1), (["schoolId": GlobalID.make("Org", otherSchool)], 0),
                (["teacherId": GlobalID.make("User", teacher)], 1), (["teacherId": GlobalID.make("User", other)], 0),
                (["sectionId": sectionID], 1), (["codes": ["DUE_DATE_OUTSIDE_GRADING_PERIOD"]], 1), (["codes": ["TITLE_TOO_LONG"]], 0),
                (["since": "2020-01-01T00:00:00Z"], 1), (["since": "2099-01-01T00:00:00Z"], 0)
            ]
            for (filter, count) in cases {
                let r = try await env.post(filtered, ["f": filter], token: admin)
                #expect(r["syncErrors", "totalCount"] as? Int == count, "\(filter): \(r.text)")
            }
            let byTeacher = try await env.post(filtered, ["f": [:] as [String: Any]], token: admin)
            #expect(byTeacher["byTeacher", "nodes", 0, "key"] as? String == teacher, "\(byTeacher.text)")
            #expect((byTeacher["byTeacher", "nodes", 0, "label"] as? String)?.isEmpty == false)
            // An admin of the other school sees none of it.
            let otherAdmin = try env.token(.admin, user: teacher, org: otherSchool)
            let outside = try await env.post(filtered, ["f": [:] as [String: Any]], token: otherAdmin)
            #expect(outside["syncErrors", "totalCount"] as? Int == 0, "\(outside.text)")

            // The run log: two runs, newest first, with their jobs; the material's history.
            let log = try await env.post(
                """
                query($id: ID!) { section(id: $id) { syncRuns(first: 5) { totalCount nodes { trigger state jobs(first: 100) { totalCount nodes { kind state } } } }
                  materials(first: 1, filter: { search: "Material 1" }) { nodes { history(first: 50) { totalCount nodes { action outcome httpStatus run { id } } } } } } }
                """, ["id": sectionID], token: teacherToken)
            #expect(log.errors.isEmpty, "\(log.text)")
            #expect(log["section", "syncRuns", "totalCount"] as? Int == 2)
            #expect(log["section", "syncRuns", "nodes", 1, "trigger"] as? String == "SYNC_CHANGES")
            let history = try #require(log["section", "materials", "nodes", 0, "history", "nodes"] as? [[String: Any]])
            #expect(history.contains { $0["outcome"] as? String == "succeeded" && $0["httpStatus"] as? Int != nil })
        }
    }
}

extension GatewayEnv {
    /// Runs a subscription over SSE until the server completes it; returns each `next` payload.
    func subscribe(_ query: String, _ variables: [String: Any], token: String, timeout: Double = 30) async throws -> [[String: Any]] {
        var request = URLRequest(url: base.appending(path: "graphql/stream"))
        request.httpMethod = "POST"
        request.timeoutInterval = timeout
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        let (body, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        let text = String(decoding: body, as: UTF8.self)
        guard http.statusCode == 200, http.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/event-stream") == true else {
            throw HarnessFailure("stream answered \(http.statusCode): \(text)")
        }
        guard text.hasSuffix("event: complete\ndata:\n\n") else { throw HarnessFailure("the stream did not complete: \(text)") }
        return text.components(separatedBy: "\n\n").compactMap { block -> [String: Any]? in
            let lines = block.split(separator: "\n")
            guard lines.first == "event: next", let data = lines.first(where: { $0.hasPrefix("data: ") }) else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8))) as? [String: Any]
        }
    }
}
