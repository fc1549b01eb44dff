import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

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

    @Test("a scheduled pull that stopped shows in the admin's rosterRuns with its cause and trigger; filters and pages; a teacher is refused")
    func stoppedScheduledPullInAdminsView() async throws {
        try await withGateway { env in
            let admin = try env.token(.admin, user: env.yearLongSection.teacher, org: env.districtOrg)
            let teacher = try env.token(.teacher, user: env.yearLongSection.teacher)
            let runner = env.gateway.api.services.rosterRunner
            runner.pullMaxWait = 0
            env.running.sandbox.faults.setRates(
                {
                    var r = FaultRates(); r.unavailable = 1; return r
                }())
            // What the runner's schedule queues when a connection's pull is due.
            let store = RosterStore(env.database)
            let scheduled = try #require(
                try store.queueScheduledPull(connection: "district", every: 60, retryAfterFailure: 60, at: Date().addingTimeInterval(3600)))
            runner.nudge()
            let id = GlobalID.make("RosterRun", scheduled)
            let stopped = try await env.finishedRosterRun(id, token: admin)
            #expect(stopped["node", "state"] as? String == "FAILED", "\(stopped.text)")
            env.running.sandbox.faults.setRates(FaultRates())
            let asked = try await env.refreshRoster(token: admin)
            #expect(asked["node", "state"] as? String == "SUCCEEDED", "\(asked.text)")

            let query = """
                query($f: RosterRunFilter, $after: String) { rosterRuns(filter: $f, first: 1, after: $after) {
                  totalCount pageInfo { hasNextPage endCursor } nodes { id trigger state requestedBy error } } }
                """
            let failed = try await env.post(query, ["f": ["state": ["FAILED"], "trigger": ["SCHEDULED"]]], token: admin)
            #expect(failed["rosterRuns", "totalCount"] as? Int == 1, "\(failed.text)")
            #expect(failed["rosterRuns", "nodes", 0, "id"] as? String == id)
            #expect(failed["rosterRuns", "nodes", 0, "trigger"] as? String == "SCHEDULED")
            #expect(failed["rosterRuns", "nodes", 0, "requestedBy"] == nil)
            #expect((failed["rosterRuns", "nodes", 0, "error"] as? String)?.contains("the SIS kept failing") == true, "\(failed.text)")

            let page1 = try await env.post(query, [:], token: admin)
            #expect(page1["rosterRuns", "totalCount"] as? Int == 2)
            #expect(page1["rosterRuns", "nodes", 0, "trigger"] as? String == "REQUESTED", "newest first: \(page1.text)")
            #expect(page1["rosterRuns", "pageInfo", "hasNextPage"] as? Bool == true)
            let page2 = try await env.post(query, ["after": page1["rosterRuns", "pageInfo", "endCursor"] as Any], token: admin)
            #expect(page2["rosterRuns", "nodes", 0, "id"] as? String == id, "\(page2.text)")
            #expect(page2["rosterRuns", "pageInfo", "hasNextPage"] as? Bool == false)

            let refused = try await env.post(query, [:], token: teacher)
            #expect(refused.codes == ["FORBIDDEN"], "\(refused.text)")
            let badCursor = try await env.post(query, ["after": "nonsense"], token: admin)
            #expect(badCursor.codes == ["BAD_USER_INPUT"], "\(badCursor.text)")
        }
    }
}
