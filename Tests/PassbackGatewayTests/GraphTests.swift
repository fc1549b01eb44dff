import Foundation
import GraphQL
import PassbackCore
import Testing

@testable import PassbackGateway
@testable import PassbackStore

@Suite("Graph: nodes, batching, live status", .serialized)
struct GraphTests {
    @Test("node and nodes refetch every kind of entity by its id, in order; an id of nothing is left out of nodes and is null for node")
    func nodes() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 2)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            _ = try await env.post("mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } } }", ["i": ["sectionId": sectionID]], token: token)
            let r = try await env.post(
                """
                query($id: ID!) { section(id: $id) { id school { id } term { id } teachers { nodes { id } } lmsCourse { id } lmsCategories { nodes { id } } sisCategories { nodes { id } }
                  syncRuns { nodes { id jobs(first: 1) { nodes { id } } } } materials(first: 1) { nodes { id grades(first: 1) { nodes { id } } } } } }
                """, ["id": sectionID], token: token)
            let s = try #require(r["section"] as? [String: Any], "\(r.text)")
            func id(_ v: Any?) -> String { ((v as? [String: Any])?["id"] as? String) ?? "" }
            func first(_ v: Any?) -> String { id((v as? [Any])?.first) }
            let material = (s["materials"] as! [String: Any])["nodes"] as! [[String: Any]]
            let run = ((s["syncRuns"] as! [String: Any])["nodes"] as! [[String: Any]])[0]
            let ids: [(String, String)] = [
                ("Section", id(s)), ("Org", id(s["school"])), ("AcademicSession", id(s["term"])), ("User", first(nodesOf(s["teachers"]))),
                ("LmsCourse", id(s["lmsCourse"])),
                ("LmsCategory", first(nodesOf(s["lmsCategories"]))), ("SisCategory", first(nodesOf(s["sisCategories"]))), ("SyncRun", id(run)),
                ("SyncJob", first((run["jobs"] as? [String: Any])?["nodes"])),
                ("Material", id(material[0])), ("Grade", first((material[0]["grades"] as! [String: Any])["nodes"]))
            ]
            #expect(ids.allSatisfy { !$0.1.isEmpty }, "\(ids)")
            let missing = GlobalID.make("Section", 999_999)
            let all = try await env.post("query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", ["ids": ids.map(\.1) + [missing]], token: token)
            let got = try #require(all["nodes"] as? [Any], "\(all.text)")
            #expect(got.count == ids.count)
            for (i, (type, nodeID)) in ids.enumerated() {
                let n = got[i] as? [String: Any]
                #expect(n?["__typename"] as? String == type && n?["id"] as? String == nodeID, "\(type): \(String(describing: n))")
            }
            let one = try await env.post("query($id: ID!) { node(id: $id) { id } }", ["id": missing], token: token)
            #expect(one.errors.isEmpty && one.data?["node"] is NSNull, "\(one.text)")
        }
    }

    @Test("child fields of a list load in one query per field, whatever the length of the list")
    func noNPlusOne() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 24)
            let principal = Principal(tokenID: 0, connectionID: "district", userSourcedId: teacher, role: .teacher, orgSourcedId: nil)
            let query = """
                query($id: ID!, $n: Int) { section(id: $id) { school { name } materials(first: $n) { nodes { title lmsCategory { title } problems { nodes { code } }
                  section { title school { name } } grades(first: 3) { totalCount nodes { score student { familyName } } } history { totalCount } } } } }
                """
            var fetches: [Int] = []
            for n in [2, 24] {
                let context = APIContext(principal: principal, services: env.gateway.api.services, requestID: "n\(n)")
                let result = try await GraphQL.execute(
                    schema: env.gateway.api.schema, documentAST: try GraphQL.parse(source: Source(body: query)), rootValue: Root(),
                    context: context, variableValues: ["id": .string(try env.sectionID(section)), "n": .number(Number(n))])
                #expect(result.errors.isEmpty, "\(result.errors)")
                #expect(result.data?["section"]["materials"]["nodes"].array?.count == n)
                fetches.append(await context.loaders.totalFetches())
            }
            #expect(fetches[0] == fetches[1], "loader fetches for 2 and 24 materials: \(fetches)")
            #expect(fetches[1] <= 9, "\(fetches)")
        }
    }

    @Test("a section's materials page reads its items' problems with it: the widget's page fetches none of its own, and they are what a fetch gives")
    func problemsComeWithThePage() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 4)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            // Synced before its map is saved: every item is stopped with a problem.
            _ = try await env.post("mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } } }", ["i": ["sectionId": sectionID]], token: token)
            let principal = Principal(tokenID: 0, connectionID: "district", userSourcedId: teacher, role: .teacher, orgSourcedId: nil)
            let widget = try String(contentsOf: ClientDocuments.root.appending(path: "Clients/widget/documents/Materials.graphql"), encoding: .utf8)
            let context = APIContext(principal: principal, services: env.gateway.api.services, requestID: "page")
            let result = try await GraphQL.execute(
                schema: env.gateway.api.schema, documentAST: try GraphQL.parse(source: Source(body: widget)), rootValue: Root(), context: context,
                variableValues: ["id": .string(sectionID)])
            #expect(result.errors.isEmpty, "\(result.errors)")
            let nodes = try #require(result.data?["section"]["materials"]["nodes"].array)
            let codes = nodes.map { $0["problems"]["nodes"].array?.compactMap { $0["code"].string } ?? [] }
            #expect(nodes.count == 4 && codes.allSatisfy { $0.contains("SECTION_NOT_CONFIGURED") }, "\(codes)")
            #expect(context.problems.fetches == 0, "the page's problems came with it")
            // The same problems as the loader's own read gives.
            let keys = try nodes.map { n in
                let (m, c) = try GlobalID.materialKey(try #require(n["id"].string), argument: "id")
                return MaterialKey(materialID: m, classID: c)
            }
            let fetched = try APIReads(env.database).problems(keys)
            #expect(zip(keys, codes).allSatisfy { key, shown in (fetched[key] ?? []).map(\.code.rawValue).sorted() == shown.sorted() }, "\(fetched)")
        }
    }

    @Test("a section asked for by id is read with its permission check and whether it is configured, in one read; configured follows the category map")
    func sectionReadOnce() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 2)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            let principal = Principal(tokenID: 0, connectionID: "district", userSourcedId: teacher, role: .teacher, orgSourcedId: nil)
            let widget = try String(contentsOf: ClientDocuments.root.appending(path: "Clients/widget/documents/Materials.graphql"), encoding: .utf8)
            func page() async throws -> (configured: Bool?, loads: Int) {
                let context = APIContext(principal: principal, services: env.gateway.api.services, requestID: "section")
                let result = try await GraphQL.execute(
                    schema: env.gateway.api.schema, documentAST: try GraphQL.parse(source: Source(body: widget)), rootValue: Root(), context: context,
                    variableValues: ["id": .string(sectionID)])
                #expect(result.errors.isEmpty, "\(result.errors)")
                return (result.data?["section"]["configured"].bool, await context.loaders.totalFetches())
            }
            let before = try await page()
            #expect(before.configured == false)
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            let after = try await page()
            #expect(after.configured == true)
            // Neither the section nor its category map was loaded apart: the page's only loads are its own.
            #expect(before.loads == 0 && after.loads == 0, "loader fetches: \(before.loads), \(after.loads)")
            // Another teacher is refused, as before.
            let other = Principal(tokenID: 0, connectionID: "district", userSourcedId: "nobody", role: .teacher, orgSourcedId: nil)
            let refused = try await GraphQL.execute(
                schema: env.gateway.api.schema, documentAST: try GraphQL.parse(source: Source(body: widget)), rootValue: Root(),
                context: APIContext(principal: other, services: env.gateway.api.services, requestID: "other"), variableValues: ["id": .string(sectionID)])
            #expect(refused.errors.first?.message.contains("not a teacher of this section") == true, "\(refused.errors)")
        }
    }

    @Test("materialStatusChanged streams each material whose status changes in the section")
    func liveStatus() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            let fed = try await env.feed(section: section, teacher: teacher, materials: 2)
            let principal = Principal(tokenID: 0, connectionID: "district", userSourcedId: teacher, role: .teacher, orgSourcedId: nil)
            let request = GraphQLAPI.Request(
                query: "subscription($id: ID!) { materialStatusChanged(sectionId: $id) { lmsId syncStatus } }",
                operationName: nil, variables: ["id": .string(try env.sectionID(section))], method: "POST")
            let events = try await env.gateway.api.subscribe(request, principal: principal, requestID: "live").get()
            let token = try env.token(.teacher, user: teacher)
            let optOut = try await env.post(
                "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncStatus } } }",
                ["i": ["materialId": fed.materials["m-1"]!, "syncToSIS": false]], token: token)
            #expect(optOut["setMaterialSyncToSIS", "material", "syncStatus"] as? String == "OPT_OUT")
            var iterator = events.makeAsyncIterator()
            let first = try #require(try await iterator.next())
            #expect(first.contains("\"lmsId\":\"m-1\"") && first.contains("\"syncStatus\":\"OPT_OUT\""), "\(first)")
            let sync = try await env.post(
                "mutation($i: SyncMaterialInput!) { syncMaterial(input: $i) { run { id } userErrors { message } } }",
                ["i": ["materialId": fed.materials["m-0"]!]], token: token)
            #expect(sync.errors.isEmpty)
            let next = try #require(try await iterator.next())
            #expect(next.contains("\"lmsId\":\"m-0\""), "\(next)")
        }
    }
}

extension GraphQLAPI.Answer: CustomStringConvertible {
    public var description: String { "HTTP \(status): \(body)" }
}
