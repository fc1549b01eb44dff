import Foundation
import PassbackStore
import Testing

@Suite("passback demo", .serialized)
struct DemoTests {
    @Test("the demo starts with tokens that work, stops on Ctrl-C, and a second run reuses its database")
    func startStopReuse() async throws {
        let database = FileManager.default.temporaryDirectory.appending(path: "passback-demo-\(UUID().uuidString).sqlite").path
        defer { DemoProcess.cleanup(database) }
        let first = try await DemoProcess(database: database)
        #expect(first.printed.contains("Rostering the demo district"))
        #expect(first.teacherWidget.hasPrefix(first.base + "/widget#token=pb_"))
        let teacher = try await graphQL(first.base, "{ viewer { role sections { totalCount } } }", token: first.teacherToken)
        #expect(teacher["viewer", "role"] as? String == "TEACHER" && (teacher["viewer", "sections", "totalCount"] as? Int ?? 0) >= 2, "\(teacher.text)")
        let admin = try await graphQL(first.base, "{ viewer { role } syncErrorSummary(groupBy: CODE) { key count } }", token: first.adminToken)
        let codes = Set((admin["syncErrorSummary"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        // The demo's first syncs meet the rule breakers it fed; wait for them.
        var seen = codes
        let deadline = Date().addingTimeInterval(60)
        while !seen.isSuperset(of: ["DUE_DATE_MISSING", "DUE_DATE_OUTSIDE_GRADING_PERIOD", "UNCATEGORIZED"]), Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let again = try await graphQL(first.base, "{ syncErrorSummary(groupBy: CODE) { key } }", token: first.adminToken)
            seen = Set((again["syncErrorSummary"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        }
        #expect(seen.isSuperset(of: ["DUE_DATE_MISSING", "DUE_DATE_OUTSIDE_GRADING_PERIOD", "UNCATEGORIZED"]), "\(seen)")
        let feed = try await graphQL(first.base, "mutation { recordGrades(input: { courseLmsId: \"none\", grades: [] }) { userErrors { code } } }",
                                     token: first.integrationToken)
        #expect(feed["recordGrades", "userErrors", 0, "code"] as? String == "NOT_FOUND", "the integration token works: \(feed.text)")
        let oldToken = first.teacherToken
        #expect(await first.stop() == 0)

        let second = try await DemoProcess(database: database, reset: false)
        #expect(second.printed.contains("Reusing"), "\(second.printed)")
        #expect(!second.printed.contains("Feeding"))
        let reused = try await graphQL(second.base, "{ viewer { role } }", token: oldToken)
        #expect(reused["viewer", "role"] as? String == "TEACHER", "tokens of the first run still work")
        // The same three tokens, not three more: a rerun reuses them, and they expire.
        #expect(second.teacherToken == first.teacherToken && second.adminToken == first.adminToken && second.integrationToken == first.integrationToken,
                "\(second.printed)")
        #expect(await second.stop() == 0)
        let tokens = try TokenStore(try PassbackDatabase(path: database)).list()
        #expect(tokens.count == 3, "\(tokens.map(\.label))")
        #expect(tokens.allSatisfy { ($0.expiresAt ?? .distantFuture) < Date().addingTimeInterval(31 * 86_400) }, "the demo's tokens expire")
    }

    @Test("a demo whose kept tokens no longer work (revoked) mints three new ones and revokes the rest")
    func revokedDemoTokensAreReplaced() async throws {
        let database = FileManager.default.temporaryDirectory.appending(path: "passback-demo-\(UUID().uuidString).sqlite").path
        defer { DemoProcess.cleanup(database) }
        let first = try await DemoProcess(database: database)
        #expect(await first.stop() == 0)
        try TokenStore(try PassbackDatabase(path: database)).revoke(String(first.adminToken.prefix(10)), at: Date())
        let second = try await DemoProcess(database: database, reset: false)
        #expect(second.teacherToken != first.teacherToken && second.adminToken != first.adminToken)
        let admin = try await graphQL(second.base, "{ viewer { role } }", token: second.adminToken)
        #expect(admin["viewer", "role"] as? String == "ADMIN", "\(admin.text)")
        let old = try await graphQL(second.base, "{ viewer { role } }", token: first.teacherToken)
        #expect(old.status == 401, "the first run's teacher token was revoked with the set")
        #expect(await second.stop() == 0)
        let live = try TokenStore(try PassbackDatabase(path: database)).list().filter { $0.revokedAt == nil }
        #expect(live.count == 3)
    }
}
