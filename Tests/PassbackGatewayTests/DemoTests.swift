import Foundation
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
        #expect(await second.stop() == 0)
    }
}
