import Foundation
import PassbackCore
import PassbackStore
import Testing

/// A status follows its cause at once: the rules are re-evaluated in the write that changes
/// their inputs, so what the API shows needs no sync to become true.
@Suite("Statuses follow their cause", .serialized)
struct StatusFollowsCauseTests {
    struct Setup {
        var fed: FedCourse
        var sectionID: String
        var token: String
    }

    func setup(_ env: GatewayEnv, materials: Int = 3) async throws -> Setup {
        let (section, teacher) = env.yearLongSection
        let fed = try await env.feed(section: section, teacher: teacher, materials: materials)
        return Setup(fed: fed, sectionID: try env.sectionID(section), token: try env.token(.teacher, user: teacher))
    }

    /// lmsId → (status, problem codes), as the widget's materials query reads them.
    func statuses(_ env: GatewayEnv, _ s: Setup) async throws -> [String: (status: String, codes: [String])] {
        let r = try await env.post(
            """
            query($id: ID!) { section(id: $id) { materials(first: 100) { nodes { lmsId syncStatus problems { nodes { code } } } } } }
            """, ["id": s.sectionID], token: s.token)
        var out: [String: (String, [String])] = [:]
        for n in r["section", "materials", "nodes"] as? [[String: Any]] ?? [] {
            out[n["lmsId"] as! String] = (n["syncStatus"] as! String, (nodesOf(n["problems"]) as? [[String: Any]] ?? []).map { $0["code"] as! String })
        }
        return out
    }

    /// lmsId → the dry run's decision.
    func dryRun(_ env: GatewayEnv, _ s: Setup) async throws -> [String: String] {
        let r = try await env.post(
            "mutation($i: PlanSyncInput!) { planSync(input: $i) { items { nodes { material { lmsId } decision } } } }",
            ["i": ["sectionId": s.sectionID]], token: s.token)
        var out: [String: String] = [:]
        for i in r["planSync", "items", "nodes"] as? [[String: Any]] ?? [] {
            out[(i["material"] as! [String: Any])["lmsId"] as! String] = i["decision"] as? String
        }
        return out
    }

    func syncChangesAndWait(_ env: GatewayEnv, _ s: Setup) async throws {
        let r = try await env.post(
            "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { message } } }",
            ["i": ["sectionId": s.sectionID]], token: s.token)
        let runID = try #require(r["syncChanges", "run", "id"] as? String, "\(r.text)")
        try await env.waitUntil {
            let run = try await env.post("query($id: ID!) { node(id: $id) { ... on SyncRun { finishedAt } } }", ["id": runID], token: s.token)
            return run["node", "finishedAt"] is String
        }
    }

    func saveMap(_ env: GatewayEnv, _ s: Setup, only: Int? = nil) async throws {
        let cats = try await env.post(
            "query($id: ID!) { section(id: $id) { lmsCategories { nodes { id lmsId } } sisCategories { nodes { id } } } }", ["id": s.sectionID], token: s.token)
        let lms = (cats["section", "lmsCategories", "nodes"] as! [[String: Any]]).sorted { ($0["lmsId"] as! String) < ($1["lmsId"] as! String) }.map {
            $0["id"] as! String
        }
        let sis = (cats["section", "sisCategories", "nodes"] as! [[String: Any]]).map { $0["id"] as! String }
        let rows = (only.map { [lms[$0]] } ?? lms).map { ["lmsCategoryId": $0, "sisCategoryId": sis[0]] }
        let saved = try await env.post(
            "mutation($i: SaveCategoryMapInput!) { saveCategoryMap(input: $i) { userErrors { message } } }",
            ["i": ["sectionId": s.sectionID, "map": rows]], token: s.token)
        #expect((saved["saveCategoryMap", "userErrors"] as? [Any])?.isEmpty == true, "\(saved.text)")
    }

    func rename(_ env: GatewayEnv, _ s: Setup, _ i: Int, to title: String) async throws {
        let m: [String: Any] = [
            "lmsId": "m-\(i)", "title": title, "categoryLmsId": "lc-\(i % 3)", "maxPoints": 10,
            "dueDate": "2026-09-\(String(format: "%02d", 1 + i % 28))T15:00:00Z"
        ]
        let r = try await env.post(
            "mutation($input: UpsertMaterialsInput!) { upsertMaterials(input: $input) { userErrors { message } } }",
            ["input": ["courseLmsId": s.fed.lmsID, "materials": [m]]], token: s.fed.integration)
        #expect((r["upsertMaterials", "userErrors"] as? [Any])?.isEmpty == true, "\(r.text)")
    }

    @Test("saving the missing category map takes the items out of ERROR at once, as the dry run says; a category still unmapped stays ERROR")
    func categoryMapSaved() async throws {
        try await withGateway { env in
            let s = try await setup(env)
            try await syncChangesAndWait(env, s)
            let blocked = try await statuses(env, s)
            #expect(blocked.values.allSatisfy { $0.status == "ERROR" && $0.codes.contains("SECTION_NOT_CONFIGURED") }, "\(blocked)")

            try await saveMap(env, s, only: 0) // lc-0 (m-0) mapped; lc-1 and lc-2 not
            let partly = try await statuses(env, s)
            let plan = try await dryRun(env, s)
            #expect(partly["m-0"]?.status == "NOT_SYNCED", "\(partly)")
            #expect(partly["m-0"]?.codes == [])
            #expect(plan["m-0"] == "SEND")
            for m in ["m-1", "m-2"] {
                #expect(partly[m]?.status == "ERROR" && partly[m]?.codes == ["CATEGORY_UNMAPPED"], "\(partly)")
                #expect(plan[m] == "BLOCKED")
            }

            try await saveMap(env, s)
            let mapped = try await statuses(env, s)
            #expect(mapped.values.allSatisfy { $0.status == "NOT_SYNCED" && $0.codes.isEmpty }, "\(mapped)")
            #expect(try await dryRun(env, s).values.allSatisfy { $0 == "SEND" })
        }
    }

    @Test("renaming one of two materials with the same title clears TITLE_NOT_UNIQUE on both at once")
    func duplicateRenamed() async throws {
        try await withGateway { env in
            let s = try await setup(env)
            try await saveMap(env, s)
            try await rename(env, s, 1, to: "Material 0")
            try await syncChangesAndWait(env, s)
            let before = try await statuses(env, s)
            for m in ["m-0", "m-1"] { #expect(before[m]?.status == "ERROR" && before[m]?.codes.contains("TITLE_NOT_UNIQUE") == true, "\(before)") }
            #expect(before["m-2"]?.status == "SUCCESSFUL")

            try await rename(env, s, 1, to: "Material 1, renamed")
            let after = try await statuses(env, s)
            #expect(after["m-0"]?.status == "NOT_SYNCED" && after["m-0"]?.codes == [], "\(after)")
            #expect(after["m-1"]?.status == "NOT_SYNCED" && after["m-1"]?.codes == [], "\(after)")
            #expect(after["m-2"]?.status == "SUCCESSFUL")
            // And a duplicate made after a successful sync shows at once too, on both.
            try await rename(env, s, 1, to: "Material 2")
            let again = try await statuses(env, s)
            #expect(again["m-2"]?.status == "ERROR" && again["m-2"]?.codes == ["TITLE_NOT_UNIQUE"], "\(again)")
            #expect(again["m-1"]?.status == "ERROR", "\(again)")
        }
    }

    @Test("restoring a material whose SIS object is unchanged shows SUCCESSFUL, not UPDATES_AVAILABLE; the dry run sends nothing for it")
    func restoredUnchanged() async throws {
        try await withGateway { env in
            let s = try await setup(env)
            try await saveMap(env, s)
            try await syncChangesAndWait(env, s)
            #expect(try await statuses(env, s).values.allSatisfy { $0.status == "SUCCESSFUL" })
            let delete = try await env.post(
                "mutation($i: DeleteMaterialInput!) { deleteMaterial(input: $i) { userErrors { code } } }",
                ["i": ["courseLmsId": s.fed.lmsID, "lmsId": "m-1"]], token: s.fed.integration)
            #expect((delete["deleteMaterial", "userErrors"] as? [Any])?.isEmpty == true, "\(delete.text)")
            let restore = try await env.post(
                "mutation($i: RestoreMaterialInput!) { restoreMaterial(input: $i) { userErrors { code } } }",
                ["i": ["courseLmsId": s.fed.lmsID, "lmsId": "m-1"]], token: s.fed.integration)
            #expect((restore["restoreMaterial", "userErrors"] as? [Any])?.isEmpty == true, "\(restore.text)")
            #expect(try await statuses(env, s)["m-1"]?.status == "SUCCESSFUL")
            #expect(try await dryRun(env, s)["m-1"] == "UNCHANGED")
            // A change to it while deleted is an update once it is back.
            _ = try await env.post(
                "mutation($i: DeleteMaterialInput!) { deleteMaterial(input: $i) { userErrors { code } } }",
                ["i": ["courseLmsId": s.fed.lmsID, "lmsId": "m-1"]], token: s.fed.integration)
            try await rename(env, s, 1, to: "Renamed while deleted")
            _ = try await env.post(
                "mutation($i: RestoreMaterialInput!) { restoreMaterial(input: $i) { userErrors { code } } }",
                ["i": ["courseLmsId": s.fed.lmsID, "lmsId": "m-1"]], token: s.fed.integration)
            #expect(try await statuses(env, s)["m-1"]?.status == "UPDATES_AVAILABLE")
        }
    }
}
