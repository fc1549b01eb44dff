import Foundation
import PassbackTesting
import Testing

/// `Clients/examples`: the same tasks as plain curl scripts, run against a gateway.
@Suite("Example curl scripts", .serialized)
struct ExampleScriptTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Clients/examples")

    func run(_ env: GatewayEnv, _ token: String, _ script: String, _ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(
            URL(fileURLWithPath: "/bin/bash"), [Self.folder.appending(path: script).path] + arguments,
            environment: ["PASSBACK_URL": env.base.absoluteString, "PASSBACK_TOKEN": token])
    }

    @Test("feed, map categories, sync changes, status and errors, each with curl alone")
    func scripts() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            let student = try #require(env.students(of: section).first)
            let integration = try env.token(.integration, user: "lms-feed")
            let token = try env.token(.teacher, user: teacher)
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)

            let feed = try await run(env, integration, "feed.sh", ["course-x", section, student])
            #expect(feed.status == 0 && feed.out.contains("\"recorded\":1") && feed.out.contains("\"lmsId\":\"essay-1\""), "\(feed.out) \(feed.err)")
            let map = try await run(env, token, "map-categories.sh", [section, "Homework=Homework"])
            #expect(map.status == 0 && map.out.contains("\"configured\":true"), "\(map.out) \(map.err)")
            let badMap = try await run(env, token, "map-categories.sh", [section, "Homework=Gym"])
            #expect(badMap.status != 0 && badMap.err.contains("no SIS category 'Gym'"), "\(badMap.err)")
            let sync = try await run(env, token, "sync-changes.sh", [section])
            #expect(sync.status == 0 && sync.out.contains("\"state\":\"SUCCEEDED\""), "\(sync.out) \(sync.err)")
            let status = try await run(env, token, "status.sh", [section])
            #expect(status.status == 0 && status.out.contains("\"syncStatus\":\"SUCCESSFUL\""), "\(status.out) \(status.err)")
            let errors = try await run(env, admin, "errors.sh", ["school"])
            #expect(errors.status == 0 && errors.out.contains("\"syncErrorSummary\":{\"totalCount\":0,\"nodes\":[]}"), "\(errors.out) \(errors.err)")
            let noToken = try await runProcess(
                URL(fileURLWithPath: "/bin/bash"), [Self.folder.appending(path: "errors.sh").path],
                environment: ["PASSBACK_URL": env.base.absoluteString, "PASSBACK_TOKEN": ""])
            #expect(noToken.status != 0 && noToken.err.contains("PASSBACK_TOKEN"))
        }
    }
}
