import Foundation
import GRDB
import PassbackCore
import Testing

@testable import PassbackGateway
@testable import PassbackStore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// GraphQL over HTTP: malformed and over-limit requests, GET, content types, introspection,
/// and what an internal failure shows.
@Suite("GraphQL over HTTP", .serialized)
struct ProtocolTests {
    static let introspection = """
        query IntrospectionQuery {
          __schema {
            queryType { name } mutationType { name } subscriptionType { name }
            types { ...FullType }
            directives { name description locations args { ...InputValue } }
          }
        }
        fragment FullType on __Type {
          kind name description
          fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
          inputFields { ...InputValue }
          interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
          possibleTypes { ...TypeRef }
        }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type {
          kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
        }
        """

    func raw(
        _ env: GatewayEnv, method: String = "POST", path: String = "graphql", query: [URLQueryItem] = [], body: Data?,
        contentType: String? = "application/json",
        token: String?, accept: String? = nil
    ) async throws -> Reply {
        var components = URLComponents(url: env.base.appending(path: path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.httpBody = body
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
        return try await env.send(request)
    }

    @Test("malformed, invalid and over-limit requests are refused before running, each with a code that says what to fix")
    func refusals() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let admin = try env.token(.admin, user: env.yearLongSection.teacher, org: env.districtOrg)

            let notJSON = try await raw(env, body: Data("{query:".utf8), token: token)
            #expect(notJSON.status == 400 && notJSON.codes == ["BAD_USER_INPUT"] && notJSON.text.contains("not JSON (invalid JSON at byte"), "\(notJSON.text)")
            for (body, says) in [
                ("[1]", "must be a JSON object"), (#"{"variables": {}}"#, "needs `query`"), (#"{"query": 5}"#, "needs `query`"),
                (#"{"query": "{ viewer { role } }", "operationName": 3}"#, "`operationName` must be a string"),
                (#"{"query": "{ viewer { role } }", "variables": [1]}"#, "`variables` must be a JSON object")
            ] {
                let refused = try await raw(env, body: Data(body.utf8), token: token)
                #expect(refused.status == 400 && refused.codes == ["BAD_USER_INPUT"] && refused.text.contains(says), "\(body): \(refused.text)")
            }
            let nulls = try await raw(
                env, body: Data(#"{"query": "{ viewer { role } }", "operationName": null, "variables": null, "extensions": {}}"#.utf8), token: token)
            #expect(nulls.status == 200 && nulls.text.contains("TEACHER"), "null operationName and variables mean none: \(nulls.text)")
            let getVariables = try await raw(
                env, method: "GET",
                query: [
                    URLQueryItem(name: "query", value: "{ viewer { role } }"),
                    URLQueryItem(name: "variables", value: "{oops")
                ], body: nil, token: token)
            #expect(getVariables.status == 400 && getVariables.text.contains("`variables` is not JSON"), "\(getVariables.text)")
            let wrongType = try await raw(env, body: Data("{ viewer { role } }".utf8), contentType: "text/plain", token: token)
            #expect(wrongType.status == 415 && wrongType.codes == ["BAD_USER_INPUT"], "\(wrongType.text)")

            let syntax = try await env.post("{ viewer { role ", token: token)
            #expect(syntax.status == 400 && syntax.codes == ["GRAPHQL_PARSE_FAILED"], "\(syntax.text)")
            #expect((syntax.errors.first?["locations"] as? [Any])?.isEmpty == false)
            let unknown = try await env.post("{ viewer { nickname } }", token: token)
            #expect(unknown.status == 400 && unknown.codes == ["GRAPHQL_VALIDATION_FAILED"], "\(unknown.text)")
            let badVariable = try await env.post("query($id: ID!) { section(id: $id) { title } }", ["id": 12], token: token)
            #expect(badVariable.status == 400 && badVariable.codes == ["BAD_USER_INPUT"], "\(badVariable.text)")
            let badID = try await env.post("query($id: ID!) { section(id: $id) { title } }", ["id": "nonsense"], token: token)
            #expect(badID.status == 200 && badID.codes == ["BAD_USER_INPUT"], "\(badID.text)")
            let wrongKind = try await env.post("query($id: ID!) { section(id: $id) { title } }", ["id": GlobalID.make("Org", "x")], token: token)
            #expect((wrongKind.errors.first?["message"] as? String)?.contains("expected the id of a Section") == true, "\(wrongKind.text)")

            var deep = "{ viewer { org " + String(repeating: "{ parent ", count: 12) + "{ name }" + String(repeating: " }", count: 12) + " } }"
            let tooDeep = try await env.post(deep, token: token)
            #expect(tooDeep.status == 400 && tooDeep.codes == ["QUERY_TOO_COMPLEX"], "\(tooDeep.text)")
            #expect((tooDeep.errors.first?["extensions"] as? [String: Any])?["depth"] as? Int == 15)
            deep = "{ viewer { sections(first: 100) { nodes { materials(first: 100) { nodes { grades(first: 100) { nodes { score } } } } } } } }"
            let tooCostly = try await env.post(deep, token: token)
            #expect(tooCostly.status == 400 && tooCostly.codes == ["QUERY_TOO_COMPLEX"], "\(tooCostly.text)")
            #expect(
                (tooCostly.errors.first?["extensions"] as? [String: Any])?["cost"] as? Int == 1 + 10 + 100 * (1 + 2 + 100 * (1 + 2 + 100 * 2)),
                "viewer 1, its sections 10 (a query and a COUNT of their own), materials and grades 2 (batched per level): \(tooCostly.text.prefix(200))")
            let viaVariable = try await env.post(
                "query($n: Int) { viewer { sections(first: $n) { nodes { materials(first: $n) { nodes { title } } } } } }", ["n": 100],
                token: token)
            #expect(viaVariable.codes == ["QUERY_TOO_COMPLEX"], "a page size from a variable counts too: \(viaVariable.text)")
            let manyIDs = try await env.post(
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ["ids": (0..<101).map { GlobalID.make("Org", "o\($0)") }],
                token: token)
            #expect(manyIDs.codes == ["BAD_USER_INPUT"], "\(manyIDs.text)")

            let big = try JSONSerialization.data(withJSONObject: ["query": "{ viewer { role } }" + String(repeating: " ", count: 300 * 1024)])
            let tooLarge = try await raw(env, body: big, token: token)
            #expect(tooLarge.status == 413, "\(tooLarge.text.prefix(200))")

            let getQuery = try await raw(
                env, method: "GET", query: [URLQueryItem(name: "query", value: "{ viewer { role } }")], body: nil, contentType: nil,
                token: token, accept: "application/graphql-response+json")
            #expect(getQuery.status == 200 && getQuery["viewer", "role"] as? String == "TEACHER", "\(getQuery.text)")
            #expect(getQuery.headers["content-type"]?.hasPrefix("application/graphql-response+json") == true)
            let getMutation = try await raw(
                env, method: "GET", query: [URLQueryItem(name: "query", value: "mutation { planSync(input: {sectionId: \"x\"}) { writeCount } }")],
                body: nil, contentType: nil, token: token)
            #expect(getMutation.status == 405 && getMutation.headers["allow"] == "POST", "\(getMutation.text)")
            let subscriptionHere = try await env.post("subscription { syncRunUpdated(id: \"x\") { state } }", token: token)
            #expect(subscriptionHere.status == 400 && (subscriptionHere.errors.first?["message"] as? String)?.contains("/graphql/stream") == true)
            let two = try await env.post("query A { viewer { role } } query B { viewer { role } }", token: token)
            #expect(two.status == 400 && (two.errors.first?["message"] as? String)?.contains("operationName") == true)

            let cap = try await env.post(
                "mutation($i: RetrySyncJobsInput!) { retrySyncJobs(input: $i) { userErrors { message } } }",
                ["i": ["jobIds": (0..<501).map { GlobalID.make("SyncJob", Int64($0)) }]], token: admin)
            #expect(cap.codes == ["BAD_USER_INPUT"] && (cap.errors.first?["message"] as? String)?.contains("at most 500") == true, "\(cap.text)")
        }
    }

    @Test("a JSON body sent in a charset other than UTF-8 is refused with 415 and says to send UTF-8, never misread")
    func nonUTF8CharsetIsRefused() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            // JSON is UTF-8: another charset is refused, never misread as UTF-8.
            let utf16 = Data("{\"query\": \"{ viewer { role } }\"}".data(using: .utf16BigEndian)!)
            for type in ["application/json; charset=utf-16", "application/json;charset=\"UTF-16BE\"", "application/json; charset=iso-8859-1"] {
                let refused = try await raw(env, body: utf16, contentType: type, token: token)
                #expect(refused.status == 415 && refused.codes == ["BAD_USER_INPUT"] && refused.text.contains("UTF-8"), "\(type): \(refused.text)")
            }
            for type in ["application/json; charset=utf-8", "application/json;charset=\"UTF-8\"", "application/json"] {
                let accepted = try await raw(env, body: Data(#"{"query": "{ viewer { role } }"}"#.utf8), contentType: type, token: token)
                #expect(accepted.status == 200 && accepted.text.contains("TEACHER"), "\(type): \(accepted.text)")
            }
            let lookalike = try await raw(env, body: Data(#"{"query": "{ viewer { role } }"}"#.utf8), contentType: "application/jsonx", token: token)
            #expect(lookalike.status == 415, "\(lookalike.text)")
        }
    }

    @Test("the standard introspection query runs, and describes the whole contract")
    func introspection() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let r = try await env.post(Self.introspection, token: token)
            #expect(r.status == 200 && r.errors.isEmpty, "\(r.text.prefix(500))")
            let types = try #require(r["__schema", "types"] as? [[String: Any]])
            let names = Set(types.compactMap { $0["name"] as? String })
            #expect(names.isSuperset(of: ["Query", "Mutation", "Subscription", "Section", "Material", "SyncRun", "Node", "DateTime", "SyncStatus"]))
            let node = try #require(types.first { $0["name"] as? String == "Node" })
            let implementors = Set(((node["possibleTypes"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
            #expect(
                implementors == [
                    "Section", "Material", "Org", "User", "AcademicSession", "SisCategory", "LmsCourse", "LmsCategory", "Grade", "SyncRun",
                    "SyncJob", "RosterRun"
                ])
            #expect(r["__schema", "subscriptionType", "name"] as? String == "Subscription")
        }
    }

    @Test("a failure inside shows INTERNAL with the request id and no SQL; the same document is parsed once")
    func internalFailure() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let query = "{ syncRuns(first: 5) { totalCount } }"
            let before = try await env.post(query, token: token)
            #expect(before.errors.isEmpty, "\(before.text)")
            try await env.database.pool.write { db in try db.execute(sql: "ALTER TABLE sync_run RENAME TO sync_run_gone") }
            let r = try await env.post(query, token: token, headers: ["X-Request-Id": "req-broken-1"])
            #expect(r.status == 200)
            #expect(r.codes == ["INTERNAL"], "\(r.text)")
            let message = r.errors.first?["message"] as? String ?? ""
            #expect(message.contains("req-broken-1"))
            #expect(!r.text.lowercased().contains("sql") && !r.text.contains("sync_run"), "\(r.text)")
            let stats = env.gateway.api.documents.stats
            #expect(stats.hits >= 1, "the repeated document came from the cache")
        }
    }
}
