import Foundation
import OneRosterSandbox
import PassbackCore
import Testing

@testable import PassbackGateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Generated GraphQL requests against a live gateway for a bounded time: deep nesting, huge
/// alias lists, fragment trees, odd literals, odd variables and broken bytes. Every answer must
/// be a GraphQL answer (JSON with `data` or `errors`, never `INTERNAL`), within a per-request
/// deadline, and the server must still answer a plain query at the end.
///
/// `PASSBACK_FUZZ_SECONDS` sets the time (default 20) and `PASSBACK_FUZZ_SEED` the seed
/// (default: a new one, printed, so a failure can be replayed). However busy the machine (the
/// whole suite runs beside it on two cores), at least `minimumRequests` are sent: the time
/// stretches to that count rather than the test failing for want of CPU.
@Suite("GraphQL fuzz", .serialized)
struct GraphQLFuzzTests {
    /// Sent whatever the time: each request has its own 15 s deadline, so this cannot hang.
    static let minimumRequests = 40

    @Test("generated documents never crash, hang or leak an internal error")
    func fuzz() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["PASSBACK_FUZZ_SECONDS"] ?? "") ?? 20
        let seed = UInt64(environment["PASSBACK_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max / 2)
        print("GraphQL fuzz: seed \(seed), \(seconds) s (PASSBACK_FUZZ_SEED=\(seed) replays it)")
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            let fed = try await env.feed(section: section, teacher: teacher, materials: 3)
            let tokens = [
                try env.token(.teacher, user: teacher), try env.token(.admin, user: teacher, org: env.districtOrg),
                try env.token(.integration, user: "lms-feed")
            ]
            var generator = DocumentGenerator(seed: seed, ids: [try env.sectionID(section)] + fed.materials.values.sorted())
            let deadline = Date().addingTimeInterval(seconds)
            var sent = 0
            while Date() < deadline || sent < Self.minimumRequests {
                let (query, variables) = generator.request()
                if environment["PASSBACK_FUZZ_TRACE"] != nil {
                    FileHandle.standardError.write(Data("request \(sent): \(query.prefix(300))\n".utf8))
                }
                var request = URLRequest(url: env.base.appending(path: "graphql"))
                request.httpMethod = "POST"
                request.timeoutInterval = 15
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.setValue("Bearer \(tokens[sent % tokens.count])", forHTTPHeaderField: "Authorization")
                request.httpBody = generator.body(query: query, variables: variables)
                let reply: Reply
                do {
                    reply = try await env.send(request)
                } catch {
                    Issue.record("request \(sent) (seed \(seed)) got no answer: \(error)\n\(query.prefix(500))")
                    return
                }
                sent += 1
                // A token that spent its cost bucket is told so (429 RATE_LIMITED): an answer too, whatever the seed.
                let ok =
                    ([200, 400, 413].contains(reply.status) || (reply.status == 429 && reply.codes == ["RATE_LIMITED"]))
                    && (reply.json["data"] != nil || reply.json["errors"] != nil)
                #expect(ok, "request \(sent) (seed \(seed)): \(reply.status) \(reply.text.prefix(300))\n\(query.prefix(500))")
                #expect(!reply.codes.contains("INTERNAL"), "request \(sent) (seed \(seed)): \(reply.text.prefix(300))\n\(query.prefix(500))")
                if !ok { return }
            }
            print("GraphQL fuzz: \(sent) requests")
            let alive = try await env.post("{ viewer { role } }", token: tokens[0])
            #expect(alive["viewer", "role"] as? String == "TEACHER")
        }
    }
}

/// Random GraphQL documents over the schema's own names, and worse.
struct DocumentGenerator {
    var rng: SeededRandom
    let ids: [String]
    static let fields = [
        "viewer", "sections", "section", "node", "nodes", "materials", "grades", "history", "syncRuns", "syncErrors", "syncErrorSummary",
        "nodes", "edges", "node", "pageInfo", "totalCount", "title", "id", "sourcedId", "syncStatus", "problems", "code", "message",
        "lmsCourse", "linkedSections", "teachers", "school", "categoryMap", "jobs", "items", "student", "score", "comment",
        "__typename", "__schema", "__type", "types", "fields", "name", "kind", "ofType", "role", "user", "org", "hasNextPage"
    ]
    static let mutations = [
        "planSync", "syncChanges", "syncMaterial", "saveCategoryMap", "createLmsCategory", "setMaterialSyncToSIS",
        "recordGrades", "upsertMaterials", "retrySyncJobs", "refreshRoster", "saveSyncSchedule"
    ]
    static let arguments = ["first", "after", "id", "ids", "filter", "input", "orderBy", "sectionId", "search", "status", "groupBy", "last", "before"]

    init(seed: UInt64, ids: [String]) {
        rng = SeededRandom(seed: seed)
        self.ids = ids
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(max(1, n))) }
    mutating func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) / 10_000 < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    mutating func request() -> (String, Any?) {
        switch int(10) {
        case 0: return (deepSelections(), nil)
        case 1: return (aliases(), nil)
        case 2: return (fragmentTree(), nil)
        case 3: return ("{ sections(filter: { search: \(literal(depth: int(40)))}) { totalCount } }", nil)
        case 4:
            return (
                "query($v: \(pick(["String", "[String]", "ID!", "SectionFilter", "[[Int]]", "Int"]))) { sections(filter: { search: $v }) { totalCount } }",
                jsonValue(depth: int(40))
            )
        case 5: return (broken(document(depth: 4)), nil)
        case 6:
            return (
                "mutation { "
                    + (0..<(1 + int(15))).map { "m\($0): \(pick(Self.mutations))(input: \(literal(depth: int(4)))) { __typename }" }.joined(separator: " ")
                    + " }", nil
            )
        default: return (document(depth: 1 + int(6)), nil)
        }
    }

    /// The JSON body, with `variables` holding `value` under every name the document might use.
    mutating func body(query: String, variables: Any?) -> Data {
        var object: [String: Any] = ["query": query]
        if let variables { object["variables"] = ["v": variables] }
        if chance(0.05) { return Data(("{\"query\": " + String(repeating: "[", count: int(5_000)) + "}").utf8) }
        return (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
    }

    mutating func document(depth: Int) -> String {
        (chance(0.5) ? "query " : "") + "{ " + selections(depth: depth) + " }"
    }

    mutating func selections(depth: Int) -> String {
        (0..<(1 + int(3))).map { _ in
            let name = pick(Self.fields)
            var field = chance(0.2) ? "a\(int(1000)): \(name)" : name
            if chance(0.4) { field += "(\(pick(Self.arguments)): \(literal(depth: int(3))))" }
            if depth > 0, chance(0.7) { field += " { " + selections(depth: depth - 1) + " }" }
            return field
        }.joined(separator: " ")
    }

    mutating func deepSelections() -> String {
        let levels = pick([10, 31, 32, 33, 100, 1_000, 20_000])
        return String(repeating: "{ \(pick(Self.fields)) ", count: levels) + String(repeating: "}", count: levels)
    }

    mutating func aliases() -> String {
        let n = pick([100, 2_000, 2_001, 4_999, 6_000])
        let field = pick(["__typename", "viewer { role }", "syncRuns(first: 1) { totalCount }", "sections(first: 100) { totalCount }"])
        return "{ " + (0..<n).map { "a\($0): \(field)" }.joined(separator: " ") + " }"
    }

    mutating func fragmentTree() -> String {
        let n = 2 + int(40)
        var text = "query { ...F\(n - 1) }\nfragment F0 on Query { __typename viewer { role } }\n"
        for i in 1..<n {
            let spreads = (0..<(1 + int(3))).map { _ in "...F\(int(i))" }.joined(separator: " ")
            text += "fragment F\(i) on Query { \(spreads) \(chance(0.3) ? "__schema { types { name } }" : "") }\n"
        }
        if chance(0.2) { text += "fragment F0 on Query { ...F\(n - 1) }\n" } // a cycle, or a duplicate name
        return text
    }

    mutating func literal(depth: Int) -> String {
        if depth <= 0 {
            if chance(0.03) { return "\"\(String(repeating: "x", count: int(20_000)))\"" }
            return pick([
                "1", "-0", "1e308", "-1e400", "99999999999999999999999", "true", "null", "DUE_DATE", "$v", "\"\(ids.isEmpty ? "x" : pick(ids))\"",
                "\"é\\n\\u00e9\\\"\\\\\"", "\"\"\"block \"\" \\\"\"\" string\"\"\""
            ])
        }
        // Wide near the leaves, a chain further up, so a value stays small however deep it is.
        let width = depth > 3 ? 1 : 1 + int(3)
        if chance(0.5) {
            return "[" + (0..<width).map { _ in literal(depth: depth - 1) }.joined(separator: ", ") + "]"
        }
        return "{ " + (0..<width).map { _ in "\(pick(Self.arguments)): \(literal(depth: depth - 1))" }.joined(separator: ", ") + " }"
    }

    mutating func jsonValue(depth: Int) -> Any {
        if depth <= 0 { return pick([1, -1.5e300, "x", String(repeating: "y", count: int(10_000)), true, NSNull()] as [Any]) }
        return chance(0.5) ? [jsonValue(depth: depth - 1)] : ["search": jsonValue(depth: depth - 1), "first": 5]
    }

    /// A document with bytes cut, doubled or swapped for GraphQL punctuation.
    mutating func broken(_ document: String) -> String {
        var bytes = Array(document.utf8)
        for _ in 0..<(1 + int(6)) where !bytes.isEmpty {
            let at = int(bytes.count)
            switch int(4) {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(pick(Array("{}[]()\"\\#.$@:=!|&,\u{0}".utf8)), at: at)
            case 2: bytes = Array(bytes.prefix(at))
            default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + int(50))], at: at)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
