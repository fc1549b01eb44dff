import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import Testing

@Suite("refreshRoster and the roster's safety valve")
struct RefreshRosterSafetyTests {
    @Test("a full refresh that would empty a collection fails its run with a cause naming the collection and the key; nothing is marked deleted")
    func massDeletionIsAUserError() async throws {
        try await withGateway { env in
            let admin = try env.token(.admin, user: env.yearLongSection.teacher, org: env.districtOrg)
            let categories = env.data.all(.categories).map { $0["sourcedId"]!.stringValue! }
            for id in categories { env.data.delete(.categories, id) }
            let refreshed = try await env.refreshRoster(token: admin, full: true)
            #expect(refreshed["node", "state"] as? String == "FAILED", "\(refreshed.text)")
            let message = try #require(refreshed["node", "error"] as? String, "\(refreshed.text)")
            #expect(message.contains("categories listing names no record at all"), "\(message)")
            #expect(message.contains("roster.allowMassDelete"))
            #expect(try RosterStore(env.database).count(connection: "district", collection: .categories, status: .toBeDeleted) == 0)
        }
    }
}
