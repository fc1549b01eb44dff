import Foundation
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

/// Heavy requests within the static limits (issue 13, finding 5): queries are priced by the
/// queries they run, each token has a bucket of cost and a number of requests in flight, and a
/// request past its deadline is answered and stopped.
@Suite("load limits", .serialized)
struct LoadLimitTests {
    @Test("a root connection is priced as its page query and its COUNT: 1,000 aliases of syncRuns { totalCount } are refused")
    func rootConnectionsPriced() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let aliases = "{ " + (0..<1_000).map { "r\($0): syncRuns(first: 1) { totalCount }" }.joined(separator: " ") + " }"
            let refused = try await env.post(aliases, token: token)
            #expect(refused.codes == ["QUERY_TOO_COMPLEX"], "\(refused.text.prefix(300))")
            let cost = (refused.errors.first?["extensions"] as? [String: Any])?["cost"] as? Int
            // Each alias costs 11 (it was 2); measuring stops once past the limit.
            #expect((cost ?? 0) > 10_000, "\(refused.text.prefix(300))")
            let one = try await env.post("{ syncRuns(first: 1) { totalCount } }", token: token)
            #expect(one.errors.isEmpty, "\(one.text.prefix(300))")
        }
    }

    @Test("each answer reports the token's bucket; a token that spent it gets 429 RATE_LIMITED with Retry-After, another token does not")
    func costBucket() async throws {
        var limits = GraphQLAPI.Limits()
        limits.maxCost = 100
        limits.perToken.maximumAvailable = 100
        limits.perToken.restoreRate = 1
        try await withGateway(limits: limits) { env in
            let teacher = env.yearLongSection.teacher
            let token = try env.token(.teacher, user: teacher)
            // viewer (1) and its sections, a connection of its own (10) with first: 20 of nodes { title } (2 each): 51 points.
            let query = "{ viewer { sections(first: 20) { nodes { title } } } }"
            let first = try await env.post(query, token: token)
            #expect(first.errors.isEmpty, "\(first.text.prefix(300))")
            let cost = first.json["extensions"] as? [String: Any]
            let status = cost?["cost"] as? [String: Any]
            #expect(status?["requestedQueryCost"] as? Int == 51, "\(first.text.prefix(400))")
            let throttle = status?["throttleStatus"] as? [String: Any]
            #expect(throttle?["maximumAvailable"] as? Int == 100 && throttle?["restoreRate"] as? Int == 1, "\(first.text.prefix(400))")
            // Charged 51 up front; what the answer did not use (one point per field it holds) came back.
            let actual = try #require(status?["actualQueryCost"] as? Int)
            #expect(actual > 0 && actual < 51, "\(first.text.prefix(400))")
            #expect((throttle?["currentlyAvailable"] as? Int ?? 0) >= 100 - actual - 1, "\(first.text.prefix(400))")
            // An answer with errors is not refunded: an error may null a subtree whose work was done.
            let foreign = try #require(
                env.data.all(.classes).compactMap { $0["sourcedId"]?.stringValue }
                    .first { !(env.sectionsByTeacher[teacher] ?? []).contains($0) })
            let refused = try await env.post(
                "query($id: ID!) { viewer { role } section(id: $id) { title } }", ["id": try env.sectionID(foreign)],
                token: try env.token(.teacher, user: teacher))
            let refusedCost = (refused.json["extensions"] as? [String: Any])?["cost"] as? [String: Any]
            #expect(
                refused.codes == ["FORBIDDEN"] && refusedCost?["actualQueryCost"] as? Int == refusedCost?["requestedQueryCost"] as? Int,
                "\(refused.text.prefix(400))")
            var last = first
            for _ in 0..<40 {
                last = try await env.post(query, token: token)
                if last.status == 429 { break }
            }
            #expect(last.status == 429 && last.codes == ["RATE_LIMITED"], "\(last.text.prefix(300))")
            #expect(Int(last.headers["retry-after"] ?? "") ?? 0 >= 1, "\(last.headers)")
            let other = try await env.post(query, token: try env.token(.teacher, user: teacher))
            #expect(other.errors.isEmpty, "each token has its own bucket: \(other.text.prefix(300))")
        }
    }

    @Test(
        "a section's list is a connection: a page holds at most `first` items, with the total and a cursor to the rest, and is charged no more than its price")
    func listsArePaged() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            let integration = try env.token(.integration, user: "lms-feed")
            // Thirty LMS categories, read ten at a time.
            let categories = (0..<30).map { ["lmsId": "c-\($0)", "title": "Category \($0)"] }
            let course = try await env.post(
                """
                mutation($input: UpsertLmsCourseInput!) { upsertLmsCourse(input: $input) { userErrors { message } } }
                """, ["input": ["lmsId": "wide", "title": "Wide course", "sectionSourcedIds": [section], "categories": categories]], token: integration)
            #expect((course["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(course.text)")
            let token = try env.token(.teacher, user: teacher)
            let query =
                "query($id: ID!, $after: String) { section(id: $id) { lmsCategories(first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id title } } } }"
            var titles: [String] = []
            var after: Any = NSNull()
            for page in 1...3 {
                let r = try await env.post(query, ["id": try env.sectionID(section), "after": after], token: token)
                let nodes = try #require(r["section", "lmsCategories", "nodes"] as? [[String: Any]], "\(r.text.prefix(300))")
                #expect(nodes.count == 10 && r["section", "lmsCategories", "totalCount"] as? Int == 30, "\(r.text.prefix(300))")
                #expect(r["section", "lmsCategories", "pageInfo", "hasNextPage"] as? Bool == (page < 3))
                titles += nodes.compactMap { $0["title"] as? String }
                after = r["section", "lmsCategories", "pageInfo", "endCursor"] as Any
                let cost = try #require((r.json["extensions"] as? [String: Any])?["cost"] as? [String: Any])
                let requested = try #require(cost["requestedQueryCost"] as? Int), actual = try #require(cost["actualQueryCost"] as? Int)
                #expect(actual <= requested, "a page is charged at most its price: \(cost)")
            }
            // By title, byte by byte ("Category 10" before "Category 2"), every category once.
            #expect(titles == categories.map { $0["title"]! }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            let forged = try await env.post(query, ["id": try env.sectionID(section), "after": "bm90LWEtY3Vyc29y"], token: token)
            #expect(forged.codes == ["BAD_USER_INPUT"], "\(forged.text.prefix(300))")
            let tooMany = try await env.post(
                "query($id: ID!) { section(id: $id) { teachers(first: 101) { totalCount } } }", ["id": try env.sectionID(section)], token: token)
            #expect(tooMany.codes == ["BAD_USER_INPUT"], "\(tooMany.text.prefix(300))")
        }
    }

    @Test("introspection is charged its price at most, however large the schema's answer (tools must be able to load it)")
    func introspectionNotChargedUp() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let r = try await env.post(
                "{ __schema { types { name description fields { name description args { name description } } enumValues { name } } } }", token: token)
            #expect(r.errors.isEmpty, "\(r.text.prefix(300))")
            let cost = try #require((r.json["extensions"] as? [String: Any])?["cost"] as? [String: Any])
            let requested = try #require(cost["requestedQueryCost"] as? Int), actual = try #require(cost["actualQueryCost"] as? Int)
            #expect(actual <= requested, "\(cost)")
            func fields(_ v: Any?) -> Int {
                if let d = v as? [String: Any] { return d.count + d.values.map(fields).reduce(0, +) }
                if let a = v as? [Any] { return a.map(fields).reduce(0, +) }
                return 0
            }
            #expect(fields(r.json["data"]) > requested, "the answer holds more fields than its price; it is not what is charged")
            // The same behind a fragment: introspection is known wherever it is selected.
            let spread = try await env.post(
                "{ ...S } fragment S on Query { __schema { types { name description fields { name description args { name description } } enumValues { name } } } }",
                token: token)
            let spreadCost = try #require((spread.json["extensions"] as? [String: Any])?["cost"] as? [String: Any])
            #expect(
                spread.errors.isEmpty && (spreadCost["actualQueryCost"] as? Int ?? .max) <= (spreadCost["requestedQueryCost"] as? Int ?? 0), "\(spreadCost)")
        }
    }

    @Test("a request past its deadline is answered 503 DEADLINE_EXCEEDED, its slot comes back, and the server goes on")
    func deadline() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            _ = try await env.feed(section: section, teacher: teacher, materials: 20)
            let token = try env.token(.teacher, user: teacher)
            let principal = try #require(try TokenStore(env.database).principal(for: token, at: Date()))
            // A second API on the same database, whose deadline every request misses.
            var limits = GraphQLAPI.Limits()
            limits.deadline = .nanoseconds(1)
            limits.perToken.maxInFlight = 1
            limits.maxCost = 1_000_000
            let api = try GraphQLAPI(services: APIServices(database: env.database), limits: limits)
            let heavy =
                "query($id: ID!) { section(id: $id) { materials(first: 100) { nodes { title grades(first: 100) { nodes { score comment student { givenName familyName } } } } } } }"
            let late = await api.execute(
                .init(query: heavy, operationName: nil, variables: ["id": .string(try env.sectionID(section))], method: "POST"),
                principal: principal, requestID: "late")
            #expect(late.status == 503 && late.body.contains("DEADLINE_EXCEEDED") && late.headers["Retry-After"] != nil, "\(late.body.prefix(300))")
            // The execution ends by itself and gives its one slot back: the token is admitted again
            // (and is late again), not refused as busy.
            try await env.waitUntil(timeout: 20) {
                let again = await api.execute(
                    .init(query: "{ viewer { role } }", operationName: nil, variables: [:], method: "POST"), principal: principal,
                    requestID: "again")
                return again.body.contains("DEADLINE_EXCEEDED")
            }
            // The gateway's own API, with the default deadline, answers as usual.
            let fine = try await env.post("{ viewer { role } }", token: token)
            #expect(fine["viewer", "role"] as? String == "TEACHER")
        }
    }

    @Test("a run's jobs are a connection: pages of at most 100, priced by their first, with totalCount")
    func jobsArePaged() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            _ = try await env.feed(section: section, teacher: teacher, materials: 1)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            let sync = try await env.post(
                "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } } }", ["i": ["sectionId": sectionID]], token: token)
            let run = try #require(sync["syncChanges", "run", "id"] as? String, "\(sync.text)")
            let query =
                "query($id: ID!, $after: String) { node(id: $id) { ... on SyncRun { jobs(first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } } } }"
            var seen: [String] = []
            var after: Any = NSNull()
            var total = 0
            for _ in 0..<20 {
                let page = try await env.post(query, ["id": run, "after": after], token: token)
                total = page["node", "jobs", "totalCount"] as? Int ?? -1
                let ids = (page["node", "jobs", "nodes"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                #expect(ids.count <= 10, "\(page.text.prefix(300))")
                seen += ids
                guard page["node", "jobs", "pageInfo", "hasNextPage"] as? Bool == true, let cursor = page["node", "jobs", "pageInfo", "endCursor"] as? String
                else { break }
                after = cursor
            }
            #expect(total > 10 && seen.count == total && Set(seen).count == total, "every job once, in pages: \(seen.count) of \(total)")
            // By state: the page and its total narrow together, so the failed ones can be read first.
            // Counted once the run has ended: the two aliases are two queries, and a job the worker
            // finishes between them would be counted in neither.
            try await env.waitUntil(timeout: 60) {
                let r = try await env.post("query($id: ID!) { node(id: $id) { ... on SyncRun { finishedAt } } }", ["id": run], token: token)
                return r["node", "finishedAt"] as? String != nil
            }
            let byState = try await env.post(
                """
                query($id: ID!) { node(id: $id) { ... on SyncRun { done: jobs(first: 100, state: [COMPLETED]) { totalCount nodes { state } }
                  other: jobs(first: 100, state: [AVAILABLE, SCHEDULED, RUNNING, RETRYABLE, DISCARDED, CANCELLED]) { totalCount nodes { state } } } } }
                """, ["id": run], token: token)
            let done = byState["node", "done", "totalCount"] as? Int ?? -1, other = byState["node", "other", "totalCount"] as? Int ?? -1
            #expect(done + other == total && done >= 0 && other >= 0, "\(byState.text.prefix(300))")
            #expect((byState["node", "done", "nodes"] as? [[String: Any]] ?? []).allSatisfy { $0["state"] as? String == "COMPLETED" })
            #expect((byState["node", "other", "nodes"] as? [[String: Any]] ?? []).allSatisfy { $0["state"] as? String != "COMPLETED" })
            let tooMany = try await env.post(
                "query($id: ID!) { node(id: $id) { ... on SyncRun { jobs(first: 101) { totalCount } } } }", ["id": run], token: token)
            #expect(tooMany.codes == ["BAD_USER_INPUT"], "\(tooMany.text.prefix(300))")
            // 100 runs of 100 jobs of 2 fields: priced as what it could return, and refused.
            let wide = try await env.post("{ syncRuns(first: 100) { nodes { jobs(first: 100) { nodes { id state } } } } }", token: token)
            #expect(wide.codes == ["QUERY_TOO_COMPLEX"], "\(wide.text.prefix(300))")
        }
    }

    @Test("the limiter: slots per token, a bucket that refills with time")
    func limiter() {
        let clock = TestInstant()
        var settings = PrincipalLimiter.Settings()
        settings.maxInFlight = 2
        settings.maximumAvailable = 100
        settings.restoreRate = 10
        let limiter = PrincipalLimiter(settings: settings) { clock.now }
        #expect((try? limiter.admit(token: 1, cost: 10).get())?.currentlyAvailable == 90)
        #expect((try? limiter.admit(token: 1, cost: 10).get())?.currentlyAvailable == 80)
        guard case .failure(let busy) = limiter.admit(token: 1, cost: 10) else { Issue.record("a third request in flight was admitted"); return }
        #expect(busy.message.contains("2 requests running"))
        #expect((try? limiter.admit(token: 2, cost: 10).get()) != nil, "another token has its own slots")
        limiter.release(token: 1)
        guard case .failure(let poor) = limiter.admit(token: 1, cost: 81) else { Issue.record("admitted past the bucket"); return }
        #expect(poor.retryAfter == 1 && poor.admission.currentlyAvailable == 80)
        clock.advance(.seconds(2))
        #expect((try? limiter.admit(token: 1, cost: 100).get())?.currentlyAvailable == 0, "refilled to 100 (capped), all spent")
        limiter.release(token: 1)
        limiter.release(token: 1)
        clock.advance(.seconds(60))
        #expect((try? limiter.admit(token: 1, cost: 100).get()) != nil, "capped at maximumAvailable, never more")
    }
}

/// A clock the test moves by hand.
final class TestInstant: @unchecked Sendable {
    private let lock = NSLock()
    private var current = ContinuousClock.now
    var now: ContinuousClock.Instant { lock.withLock { current } }
    func advance(_ d: Duration) { lock.withLock { current = current.advanced(by: d) } }
}

@Suite("Parsing is metered")
struct ParseMeteringTests {
    @Test(
        "a document the cache does not hold is charged to the token before it is parsed (one point per 100 bytes); once the bucket is spent the next is refused unparsed; a cached one is free"
    )
    func distinctDocumentsCost() async throws {
        var limits = GraphQLAPI.Limits()
        // The bucket holds at least the largest query the cost limit allows.
        limits.maxCost = 100
        limits.perToken.maximumAvailable = 1_000
        limits.perToken.restoreRate = 1
        try await withGateway(limits: limits) { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            // 30 KB of comment makes each document distinct and costly to read: 300 points to parse.
            func document(_ n: Int) -> String { "# \(n) " + String(repeating: "x", count: 30_000) + "\n{ viewer { role } }" }
            #expect(GraphQLAPI.parseCost(document(1)) == 300)
            var statuses: [Int] = []
            for n in 0..<4 { statuses.append(try await env.post(document(n), token: token).status) }
            #expect(statuses == [200, 200, 200, 429], "three parses spend 900 points plus three queries' own cost; the fourth is refused: \(statuses)")
            let refused = try await env.post(document(99), token: token)
            #expect(refused.codes == ["RATE_LIMITED"], "\(refused.text.prefix(300))")
            #expect(Int(refused.headers["retry-after"] ?? "") ?? 0 >= 1)
            // A document the cache holds is not charged for parsing again: only its own cost.
            let other = try env.token(.teacher, user: env.yearLongSection.teacher)
            let small = "# " + String(repeating: "y", count: 1_500) + "\n{ viewer { role } }"
            func available(_ r: Reply) -> Int? {
                (((r.json["extensions"] as? [String: Any])?["cost"] as? [String: Any])?["throttleStatus"] as? [String: Any])?["currentlyAvailable"] as? Int
            }
            let first = try #require(available(try await env.post(small, token: other)))
            let second = try #require(available(try await env.post(small, token: other)))
            #expect(1_000 - first >= GraphQLAPI.parseCost(small), "the first send paid for its parse: \(first)")
            #expect(first - second <= 2, "the second was served from the cache, charged only its own cost: \(first) then \(second)")
        }
    }
}
