import Foundation
import OneRosterSandbox
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

@Suite("An outage of the SIS, as the API shows it")
struct OutageTests {
    @Test("while the SIS does not answer, a section says since when and its writes wait; when it answers again they go, and the section says nothing more")
    func unreachableThenBack() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 2)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            let query = "query($id: ID!) { section(id: $id) { sisUnreachableSince materials(first: 10) { nodes { syncStatus } } } }"
            #expect(try await env.post(query, ["id": sectionID], token: token)["section", "sisUnreachableSince"] == nil)

            // The SIS goes away: its port refuses connections.
            await env.running.stop()
            let sync = try await env.post(
                "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { message } } }",
                ["i": ["sectionId": sectionID]], token: token)
            #expect(sync["syncChanges", "run", "id"] != nil, "\(sync.text)")
            var seen: Reply?
            try await env.waitUntil(timeout: 30) {
                seen = try await env.post(query, ["id": sectionID], token: token)
                return seen?["section", "sisUnreachableSince"] != nil
            }
            let statuses = (seen?["section", "materials", "nodes"] as? [[String: Any]])?.compactMap { $0["syncStatus"] as? String }
            #expect(statuses == ["IN_PROGRESS", "IN_PROGRESS"], "\(seen?.text ?? "")")

            // It comes back where it was, with its data: the next probe finds it (5 s) and the writes go.
            let back = try await env.running.sandbox.start(port: env.running.port)
            defer { Task { await back.stop() } }
            try await env.waitUntil(timeout: 40) {
                let r = try await env.post(query, ["id": sectionID], token: token)
                let s = (r["section", "materials", "nodes"] as? [[String: Any]])?.compactMap { $0["syncStatus"] as? String }
                return r["section", "sisUnreachableSince"] == nil && s == ["SUCCESSFUL", "SUCCESSFUL"]
            }
            let jobs = try EngineStore(env.database).jobCounts(connection: "district")
            #expect(jobs["discarded"] == nil && jobs["cancelled"] == nil, "\(jobs)")
        }
    }
}
