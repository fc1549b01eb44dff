import Foundation
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

/// Search, filters, sorts and pages of a section's materials, checked against a model the
/// test computes from the full list.
@Suite("Materials of a section: search, filter, sort, pages", .serialized)
struct MaterialListTests {
    struct Item {
        var id: String
        var title: String
        var due: String?
        var status: String
        var lastSynced: String?
    }

    static let titles = [
        "Pop-Quiz 1", "quiz review", "Essay: Macbeth", "Lab report", "QUIZ 3", "Unit test", "Homework 1", "Homework 2", "Project",
        "Reading log"
    ]
    static let dues: [String?] = [
        "2026-09-02T15:00:00Z", "2026-09-20T15:00:00Z", "2026-11-03T15:00:00Z", nil, "2026-10-17T15:00:00Z",
        "2026-12-01T15:00:00Z", "2026-08-25T15:00:00Z", "2026-09-02T15:00:00Z", nil, "2026-10-01T15:00:00Z"
    ]

    func upsert(_ env: GatewayEnv, _ fed: FedCourse, _ materials: [[String: Any]]) async throws {
        let r = try await env.post(
            """
            mutation($input: UpsertMaterialsInput!) { upsertMaterials(input: $input) { userErrors { message } } }
            """, ["input": ["courseLmsId": fed.lmsID, "materials": materials]], token: fed.integration)
        guard r.errors.isEmpty, (r["upsertMaterials", "userErrors"] as? [Any])?.isEmpty == true else { throw HarnessFailure(r.text) }
    }

    /// A section with materials in every status: synced, failing two rules, opted out, never synced.
    func seeded(_ env: GatewayEnv) async throws -> (fed: FedCourse, sectionID: String, token: String) {
        let (section, teacher) = env.yearLongSection
        let fed = try await env.feed(section: section, teacher: teacher, materials: 0)
        let materials: [[String: Any]] = Self.titles.enumerated().map { i, title in
            var m: [String: Any] = ["lmsId": "t-\(i)", "title": title, "categoryLmsId": "lc-\(i % 3)", "maxPoints": 10]
            if let d = Self.dues[i] { m["dueDate"] = d }
            return m
        }
        try await upsert(env, fed, materials)
        let token = try env.token(.teacher, user: teacher)
        let sectionID = try env.sectionID(section)
        try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
        let run = try await env.post("mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } } }", ["i": ["sectionId": sectionID]], token: token)
        let runID = try #require(run["syncChanges", "run", "id"] as? String)
        try await env.waitUntil {
            let r = try await env.post("query($id: ID!) { node(id: $id) { ... on SyncRun { finishedAt } } }", ["id": runID], token: token)
            return r["node", "finishedAt"] != nil
        }
        // Opt one out, and add two the SIS has never seen.
        let all = try await list(env, sectionID, token, [:])
        let project = try #require(all.first { $0.title == "Unit test" })
        _ = try await env.post(
            "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncStatus } } }",
            ["i": ["materialId": project.id, "syncToSIS": false]], token: token)
        try await upsert(
            env, fed,
            [
                ["lmsId": "t-new-1", "title": "Pop quiz 4", "dueDate": "2026-09-10T15:00:00Z", "categoryLmsId": "lc-0"],
                ["lmsId": "t-new-2", "title": "Field trip", "categoryLmsId": "lc-1"]
            ])
        return (fed, sectionID, token)
    }

    /// Every material matching `arguments`, reading page after page of `pageSize`.
    func list(_ env: GatewayEnv, _ sectionID: String, _ token: String, _ arguments: [String: Any], pageSize: Int = 50) async throws -> [Item] {
        var out: [Item] = []
        var after: Any = NSNull()
        var total: Int?
        while true {
            var variables = arguments
            variables["id"] = sectionID
            variables["first"] = pageSize
            variables["after"] = after
            let r = try await env.post(
                """
                query($id: ID!, $filter: MaterialFilter, $orderBy: MaterialOrder, $first: Int, $after: String) {
                  section(id: $id) { materials(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { id title dueDate syncStatus lastSyncedAt } } } }
                """, variables, token: token)
            guard r.errors.isEmpty, let page = r["section", "materials"] as? [String: Any] else { throw HarnessFailure(r.text) }
            for n in page["nodes"] as! [[String: Any]] {
                out.append(
                    Item(
                        id: n["id"] as! String, title: n["title"] as! String, due: n["dueDate"] as? String, status: n["syncStatus"] as! String,
                        lastSynced: n["lastSyncedAt"] as? String))
            }
            if let t = total { #expect(t == page["totalCount"] as? Int, "totalCount is the same on every page") }
            total = page["totalCount"] as? Int
            let info = page["pageInfo"] as! [String: Any]
            guard info["hasNextPage"] as? Bool == true else { break }
            after = info["endCursor"] as Any
        }
        #expect(total == out.count, "totalCount \(String(describing: total)) matches the \(out.count) rows read for \(arguments)")
        return out
    }

    @Test("every combination of search, grading period, statuses and order matches the model, across pages")
    func combinations() async throws {
        try await withGateway { env in
            let (_, sectionID, token) = try await seeded(env)
            let all = try await list(env, sectionID, token, [:])
            #expect(all.count == 12)
            #expect(Set(all.map(\.status)) == ["SUCCESSFUL", "ERROR", "OPT_OUT", "NOT_SYNCED"], "\(all.map { ($0.title, $0.status) })")
            let periods = try await env.post(
                "query($id: ID!) { section(id: $id) { gradingPeriods { nodes { id startDate endDate } } } }", ["id": sectionID], token: token)
            let q1 = try #require((periods["section", "gradingPeriods", "nodes"] as? [[String: Any]])?.first)

            let searches: [String?] = [nil, "quiz", "Qu", "MACBETH", "zzz"]
            let statusSets: [[String]?] = [nil, ["ERROR"], ["NOT_SYNCED", "OPT_OUT"], ["SUCCESSFUL", "ERROR"]]
            let orders: [(String, String)?] = [
                nil, ("TITLE", "DESC"), ("DUE_DATE", "ASC"), ("DUE_DATE", "DESC"), ("LAST_SYNCED_AT", "DESC"), ("LAST_SYNCED_AT", "ASC")
            ]
            let grading: [[String: Any]?] = [nil, q1]
            var checked = 0
            for search in searches {
                for statuses in statusSets {
                    for order in orders {
                        for period in grading {
                            var filter: [String: Any] = [:]
                            if let search { filter["search"] = search }
                            if let statuses { filter["status"] = statuses }
                            if let period { filter["gradingPeriodId"] = period["id"] }
                            var args: [String: Any] = ["filter": filter]
                            if let order { args["orderBy"] = ["field": order.0, "direction": order.1] }
                            let got = try await list(env, sectionID, token, args, pageSize: 3).map(\.id)
                            let want = expected(
                                all, search: search, statuses: statuses, order: order,
                                period: period.map { ($0["startDate"] as! String, $0["endDate"] as! String) })
                            #expect(
                                got == want, "search \(search ?? "-") statuses \(statuses ?? []) order \(String(describing: order)) period \(period != nil)")
                            checked += 1
                        }
                    }
                }
            }
            #expect(checked == 240)
        }
    }

    /// The model: filters, then the order with missing values last and id as the tie-breaker.
    func expected(_ all: [Item], search: String?, statuses: [String]?, order: (String, String)?, period: (String, String)?) -> [String] {
        // Ids grow with insertion; `all` in the default order (title) is not insertion order, so use the row id.
        func rowID(_ id: String) -> Int64 { Int64(GlobalID.parse(id)!.key.split(separator: ".")[0])! }
        var rows = all.filter { item in
            if let search, !item.title.lowercased().contains(search.lowercased()) { return false }
            if let statuses, !statuses.contains(item.status) { return false }
            if let (start, end) = period {
                guard let due = item.due else { return false }
                let day = String(due.prefix(10))
                if day < start || day > end { return false }
            }
            return true
        }
        let (field, direction) = order ?? ("TITLE", "ASC")
        let descending = direction == "DESC"
        func key(_ i: Item) -> String? {
            switch field {
            case "DUE_DATE": return i.due
            case "LAST_SYNCED_AT": return i.lastSynced
            default: return i.title.lowercased()
            }
        }
        rows.sort { a, b in
            let ka = key(a), kb = key(b)
            if ka != kb {
                guard let ka else { return false }
                guard let kb else { return true }
                return descending ? ka > kb : ka < kb
            }
            return descending ? rowID(a.id) > rowID(b.id) : rowID(a.id) < rowID(b.id)
        }
        return rows.map(\.id)
    }

    @Test("a cursor stays valid while rows are inserted before and after it; bad cursors and page sizes are refused")
    func pagesWithInserts() async throws {
        try await withGateway { env in
            let (fed, sectionID, token) = try await seeded(env)
            let query = """
                query($id: ID!, $after: String, $first: Int) { section(id: $id) { materials(first: $first, after: $after) { pageInfo { hasNextPage hasPreviousPage endCursor } nodes { title } } } }
                """
            let first = try await env.post(query, ["id": sectionID, "first": 4], token: token)
            let page1 = (first["section", "materials", "nodes"] as! [[String: Any]]).map { $0["title"] as! String }
            #expect(page1 == ["Essay: Macbeth", "Field trip", "Homework 1", "Homework 2"])
            #expect(first["section", "materials", "pageInfo", "hasPreviousPage"] as? Bool == false)
            let cursor = try #require(first["section", "materials", "pageInfo", "endCursor"] as? String)
            try await upsert(
                env, fed,
                [
                    ["lmsId": "ins-1", "title": "Algebra warm-up"], ["lmsId": "ins-2", "title": "Zoology notes"],
                    ["lmsId": "ins-3", "title": "Homework 3"]
                ])
            var rest: [String] = []
            var after = cursor
            while true {
                let r = try await env.post(query, ["id": sectionID, "first": 4, "after": after], token: token)
                #expect(r["section", "materials", "pageInfo", "hasPreviousPage"] as? Bool == true)
                rest += (r["section", "materials", "nodes"] as! [[String: Any]]).map { $0["title"] as! String }
                guard r["section", "materials", "pageInfo", "hasNextPage"] as? Bool == true else { break }
                after = r["section", "materials", "pageInfo", "endCursor"] as! String
            }
            #expect(
                rest == [
                    "Homework 3", "Lab report", "Pop quiz 4", "Pop-Quiz 1", "Project", "QUIZ 3", "quiz review", "Reading log", "Unit test",
                    "Zoology notes"
                ], "nothing repeated, nothing skipped; the row inserted before the cursor is not shown")

            let bad = try await env.post(query, ["id": sectionID, "after": "not-a-cursor"], token: token)
            #expect(bad.codes == ["BAD_USER_INPUT"], "\(bad.text)")
            let ordered = try await env.post(
                """
                query($id: ID!, $after: String) { section(id: $id) { materials(after: $after, orderBy: { field: DUE_DATE, direction: ASC }) { nodes { title } } } }
                """, ["id": sectionID, "after": cursor], token: token)
            #expect(ordered.codes == ["BAD_USER_INPUT"], "a cursor of another ordering is refused: \(ordered.text)")
            for size in [0, 101] {
                let r = try await env.post(query, ["id": sectionID, "first": size], token: token)
                #expect(r.codes == ["BAD_USER_INPUT"])
                #expect((r.errors.first?["message"] as? String)?.contains("between 1 and 100") == true)
            }
        }
    }
}
