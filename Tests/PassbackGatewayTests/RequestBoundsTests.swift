import Foundation
import PassbackCore
import Testing

@testable import PassbackGateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Requests built to crash or pin the gateway (issue 13, findings 2, 3, 4 and 6): each is
/// answered with a clear error in bounded time, the worst document at each bound is answered
/// too, and the server keeps serving afterwards.
@Suite("request bounds", .serialized)
struct RequestBoundsTests {
    /// Posts with a deadline: a request that hangs the server fails the test instead of the suite.
    func post(_ env: GatewayEnv, _ query: String, _ variables: [String: Any] = [:], token: String, seconds: Double = 20) async throws -> Reply {
        var request = URLRequest(url: env.base.appending(path: "graphql"))
        request.httpMethod = "POST"
        request.timeoutInterval = seconds
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        return try await env.send(request)
    }

    func message(_ r: Reply) -> String { r.errors.first?["message"] as? String ?? "" }

    func nested(_ levels: Int, open: String, inner: String, close: String) -> String {
        String(repeating: open, count: levels) + inner + String(repeating: close, count: levels)
    }

    @Test("selection sets nested past the bound are refused before parsing; 60,000 levels do not crash the process")
    func deepSelections() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let bound = DocumentGuard().maxSelectionNesting
            // At the bound the document is parsed, then refused by validation (the field does not exist).
            let atBound = try await post(env, nested(bound, open: "{ a ", inner: "", close: "}"), token: token)
            #expect(atBound.status == 400 && atBound.codes == ["GRAPHQL_VALIDATION_FAILED"], "\(atBound.text.prefix(300))")
            let over = try await post(env, nested(bound + 1, open: "{ a ", inner: "", close: "}"), token: token)
            #expect(over.status == 400 && over.codes == ["GRAPHQL_PARSE_FAILED"], "\(over.text.prefix(300))")
            #expect(message(over).contains("selections nest more than \(bound) levels"), "\(over.text.prefix(300))")
            // The issue's request: about 60,000 levels inside the body limit overflowed the parser's stack.
            let bomb = try await post(env, nested(60_000, open: "{a", inner: "", close: "}"), token: token)
            #expect(bomb.codes == ["GRAPHQL_PARSE_FAILED"], "\(bomb.text.prefix(300))")
            // A block string whose escape the lexer reads as four bytes, then 60,000 levels: the
            // guard reads the string as the lexer does and still counts the levels after it.
            let escaped = try await post(
                env, #"{a(s:"""\""""x""")"# + String(repeating: "b{", count: 60_000) + String(repeating: "}", count: 60_001),
                token: token)
            #expect(escaped.codes == ["GRAPHQL_PARSE_FAILED"], "\(escaped.text.prefix(300))")
            let alive = try await post(env, "{ viewer { role } }", token: token)
            #expect(alive["viewer", "role"] as? String == "TEACHER")
        }
    }

    @Test("nested list literals: the worst refused value at the bound is quoted in linear time; deeper is refused unparsed")
    func nestedLiterals() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let bound = DocumentGuard().maxValueNesting
            // The filter object is one level; the rest are lists around a long string, which the
            // library's printer would copy 2¹⁵ times.
            let long = String(repeating: "x", count: 60_000)
            let worst = "{ sections(filter: { search: " + nested(bound - 1, open: "[", inner: "\"\(long)\"", close: "]") + " }) { totalCount } }"
            let atBound = try await post(env, worst, token: token)
            #expect(atBound.status == 400 && atBound.codes == ["GRAPHQL_VALIDATION_FAILED"], "\(atBound.text.prefix(300))")
            #expect(message(atBound).hasPrefix("Expected value of type \"String\", found [[[") && message(atBound).count < 200, "\(atBound.text.prefix(300))")
            let over = "{ sections(filter: { search: " + nested(bound, open: "[", inner: "\"a\"", close: "]") + " }) { totalCount } }"
            let refused = try await post(env, over, token: token)
            #expect(refused.codes == ["GRAPHQL_PARSE_FAILED"] && message(refused).contains("nests more than \(bound) levels"), "\(refused.text.prefix(300))")
            // The issue's 100 levels, which never finished.
            let hundred = try await post(
                env, "{ sections(filter:{search:" + nested(100, open: "[", inner: "1", close: "]") + "}) { totalCount } }", token: token)
            #expect(hundred.codes == ["GRAPHQL_PARSE_FAILED"], "\(hundred.text.prefix(300))")
            // Objects count as levels too, and so do list types in variable definitions.
            let objects = try await post(
                env, "{ sections(filter: " + nested(bound + 1, open: "{a:", inner: "1", close: "}") + ") { totalCount } }", token: token)
            #expect(objects.codes == ["GRAPHQL_PARSE_FAILED"], "\(objects.text.prefix(300))")
            let types = try await post(env, "query($v: " + nested(bound + 1, open: "[", inner: "Int", close: "]") + ") { viewer { role } }", token: token)
            #expect(types.codes == ["GRAPHQL_PARSE_FAILED"], "\(types.text.prefix(300))")
            let alive = try await post(env, "{ viewer { role } }", token: token)
            #expect(alive["viewer", "role"] as? String == "TEACHER")
        }
    }

    @Test("variables: lists nested to the bound are coerced and refused quickly; deeper is refused before coercion")
    func nestedVariables() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let bound = GraphQLAPI.Limits().maxVariableNesting
            func list(_ levels: Int) -> Any {
                var v: Any = String(repeating: "y", count: 60_000)
                for _ in 0..<levels { v = [v] }
                return v
            }
            let query = "query($s: String) { sections(filter: { search: $s }) { totalCount } }"
            let atBound = try await post(env, query, ["s": list(bound)], token: token)
            #expect(atBound.status == 400 && atBound.codes == ["BAD_USER_INPUT"], "\(atBound.text.prefix(300))")
            let over = try await post(env, query, ["s": list(bound + 1)], token: token)
            #expect(over.status == 400 && over.codes == ["BAD_USER_INPUT"] && message(over).contains("more than \(bound) levels"), "\(over.text.prefix(300))")
            var objects: Any = 1
            for _ in 0...bound { objects = ["a": objects] }
            let overObjects = try await post(env, query, ["s": objects], token: token)
            #expect(message(overObjects).contains("more than \(bound) levels"), "\(overObjects.text.prefix(300))")
        }
    }

    @Test("a document that ends inside a string's \\u escape is refused, not a crash (found by the fuzz test); a whole escape still reads")
    func unicodeEscapeAtTheEnd() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            for tail in ["\\u", "\\u1", "\\u12", "\\u123", "\\uZZZZ\"", "\\u12\" } }"] {
                let refused = try await post(env, "{ sections(filter: { search: \"a\(tail)", token: token)
                #expect(refused.codes == ["GRAPHQL_PARSE_FAILED"] && message(refused).contains("four hex digits"), "\(tail): \(refused.text.prefix(300))")
            }
            let whole = try await post(env, "{ sections(filter: { search: \"\\u00E9\" }) { totalCount } }", token: token)
            #expect(whole.errors.isEmpty, "\(whole.text.prefix(300))")
        }
    }

    @Test("token and definition counts: the worst document at each bound is answered, one more is refused")
    func counts() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let bounds = DocumentGuard()
            // `{` and `}` are two tokens, each alias three: the largest document the guard passes.
            let aliases = (bounds.maxTokens - 2) / 3
            let most = "{ " + (0..<aliases).map { "a\($0): __typename" }.joined(separator: " ") + " }"
            let atBound = try await post(env, most, token: token)
            #expect(
                atBound.codes == ["QUERY_TOO_COMPLEX"] && message(atBound).contains("fields"),
                "parsed, then refused by the field cap: \(atBound.text.prefix(300))")
            let over = try await post(env, "{ " + (0...aliases).map { "a\($0): __typename" }.joined(separator: " ") + " }", token: token)
            #expect(over.codes == ["GRAPHQL_PARSE_FAILED"] && message(over).contains("tokens"), "\(over.text.prefix(300))")
            // A chain of fragments as long as the definition bound allows.
            func chain(_ definitions: Int) -> String {
                var text = "query { ...F1 }\n"
                for i in 1..<definitions { text += "fragment F\(i) on Query { " + (i + 1 < definitions ? "...F\(i + 1)" : "viewer { role }") + " }\n" }
                return text
            }
            let longest = try await post(env, chain(bounds.maxDefinitions), token: token)
            #expect(longest.errors.isEmpty && longest["viewer", "role"] as? String == "TEACHER", "\(longest.text.prefix(300))")
            let tooMany = try await post(env, chain(bounds.maxDefinitions + 1), token: token)
            #expect(tooMany.codes == ["GRAPHQL_PARSE_FAILED"], "\(tooMany.text.prefix(300))")
        }
    }

    @Test("a __typename fragment bomb is measured once per fragment and refused by the field cap")
    func fragmentBomb() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            // D24 expands to about 2²⁴ selections of __typename; measuring it by expansion took 70 s of CPU.
            var doubling = "query { ...D24 }\nfragment D0 on Query { __typename }\n"
            for i in 1...24 { doubling += "fragment D\(i) on Query { ...D\(i - 1) x: viewer { ...E\(i - 1) ...E\(i - 1) } }\n" }
            doubling += "fragment E0 on Viewer { __typename }\n"
            for i in 1...23 { doubling += "fragment E\(i) on Viewer { ...E\(i - 1) ...E\(i - 1) }\n" }
            let bomb = try await post(env, doubling, token: token)
            #expect(bomb.codes == ["QUERY_TOO_COMPLEX"] && message(bomb).contains("fields"), "\(bomb.text.prefix(300))")
            // __typename is a field like any other: it counts toward the cap.
            let typenames = "{ " + (0..<2_001).map { "t\($0): __typename" }.joined(separator: " ") + " }"
            let capped = try await post(env, typenames, token: token)
            #expect(capped.codes == ["QUERY_TOO_COMPLEX"], "\(capped.text.prefix(300))")
            let alive = try await post(env, "{ viewer { role } }", token: token)
            #expect(alive["viewer", "role"] as? String == "TEACHER")
        }
    }

    @Test("mutations are counted after fragments are expanded: 11 behind a fragment are refused and none runs")
    func mutationsBehindFragments() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            let token = try env.token(.teacher, user: teacher)
            let id = try env.sectionID(section)
            let fields = (0..<11).map { "m\($0): syncChanges(input: { sectionId: \"\(id)\" }) { run { id } }" }.joined(separator: " ")
            let named = try await post(env, "mutation { ...M } fragment M on Mutation { \(fields) }", token: token)
            #expect(named.codes == ["QUERY_TOO_COMPLEX"] && message(named).contains("at most 10 mutations"), "\(named.text.prefix(300))")
            let inline = try await post(env, "mutation { ... on Mutation { \(fields) } }", token: token)
            #expect(inline.codes == ["QUERY_TOO_COMPLEX"], "\(inline.text.prefix(300))")
            // Five behind a fragment spread twice are ten: allowed.
            let five = (0..<5).map { "p\($0): planSync(input: { sectionId: \"\(id)\" }) { writeCount }" }.joined(separator: " ")
            let twice = try await post(env, "mutation { ...P ...P } fragment P on Mutation { \(five) }", token: token)
            #expect(twice.errors.isEmpty, "\(twice.text.prefix(300))")
            let runs = try await post(env, "query($id: ID!) { section(id: $id) { syncRuns(first: 20) { totalCount } } }", ["id": id], token: token)
            #expect(runs["section", "syncRuns", "totalCount"] as? Int == 0, "no run was started: \(runs.text.prefix(300))")
        }
    }

    @Test("the lexical guard agrees with the grammar on strings, comments, block strings and spreads")
    func guardLexing() {
        let bounds = DocumentGuard(maxSelectionNesting: 2, maxValueNesting: 2, maxTokens: 100, maxDefinitions: 3)
        // Brackets inside strings, block strings and comments do not count.
        #expect(bounds.refusal(#"{ a(s: "{{{[[[") { b } }"#) == nil)
        #expect(bounds.refusal("{ a(s: \"\"\"{{{ \\\"\"\" [[[ \"\"\") { b } }") == nil)
        #expect(bounds.refusal("# {{{{{{\n{ a { b } }") == nil)
        #expect(bounds.refusal(#"{ a(s: "") { b } }"#) == nil)
        #expect(bounds.refusal(#"{ a(s: "\"{{{") { b } }"#) == nil)
        // A block string's one escape is \""" (four bytes): `\""""` ends nothing early, and what
        // follows the string's real end is counted.
        #expect(bounds.refusal(#"{ a(s: """\""""x""") { b { c } } }"#) != nil)
        #expect(bounds.refusal(#"{ a(s: """\""""x""") { b } }"#) == nil)
        // Selection sets and literals nest separately.
        #expect(bounds.refusal("{ a(v: [[1]]) { b } }") == nil)
        #expect(bounds.refusal("{ a(v: [[[1]]]) { b } }") != nil)
        #expect(bounds.refusal("{ a { b { c } } }") != nil)
        #expect(bounds.refusal("{ a(v: {x: {y: 1}}) { b } }") == nil)
        #expect(bounds.refusal("{ a(v: {x: {y: {z: 1}}}) { b } }") != nil)
        // `...` is one token, and a spread's fragment counts as a definition.
        #expect(bounds.refusal("{ ...F } fragment F on Q { a } fragment G on Q { a }") == nil)
        #expect(bounds.refusal("{ ...F } fragment F on Q { a } fragment G on Q { a } fragment H on Q { a }") != nil)
        #expect(bounds.refusal(String(repeating: "a ", count: 100)) == nil)
        #expect(bounds.refusal(String(repeating: "a ", count: 101)) != nil)
    }
}
