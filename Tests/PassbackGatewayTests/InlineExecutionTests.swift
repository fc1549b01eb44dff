import Foundation
import PassbackCore
import Testing

@testable import PassbackGateway

/// Where a query runs: on the thread that received it once its plan has been measured short
/// (`PlanTiming`), else on an execution pool lane; the deadline holds either way.
@Suite("Short queries run where they arrive")
struct InlineExecutionTests {
    @Test("a plan is short once two executions are measured under the budget; one long execution sends it back to the pool, short ones bring it back")
    func timing() {
        let timing = PlanTiming()
        let budget = Duration.milliseconds(2)
        #expect(!timing.isShort(within: budget))
        timing.record(.microseconds(300))
        #expect(!timing.isShort(within: budget), "one execution is not a record")
        timing.record(.microseconds(400))
        #expect(timing.isShort(within: budget))
        #expect(!timing.isShort(within: .zero), "a budget of zero sends everything to the pool")
        timing.record(.milliseconds(50))
        #expect(!timing.isShort(within: budget), "one long execution is enough")
        var runs = 0
        while !timing.isShort(within: budget) && runs < 100 {
            timing.record(.microseconds(300))
            runs += 1
        }
        #expect(runs > 1 && runs < 20, "short executions bring it back: \(runs)")
    }

    @Test(
        "the same query runs on the pool until its plan is measured, then on the receiving thread with the same answer; not with a budget of zero, nor a mutation"
    )
    func whereItRuns() async throws {
        for budget in [Duration.milliseconds(2), .zero] {
            var limits = GraphQLAPI.Limits()
            limits.inlineBudget = budget
            try await withGateway(limits: limits) { env in
                let (section, teacher) = env.yearLongSection
                let fed = try await env.feed(section: section, teacher: teacher, materials: 3)
                let token = try env.token(.teacher, user: teacher)
                let work = env.gateway.api.services.work
                let query = "query($id: ID!) { section(id: $id) { title configured materials(first: 10) { totalCount nodes { title syncStatus } } } }"
                var answers: [String] = []
                var inline: [Int] = []
                for _ in 0..<4 {
                    let reply = try await env.post(query, ["id": try env.sectionID(section)], token: token)
                    #expect(reply.status == 200 && reply.errors.isEmpty, "\(reply.text)")
                    answers.append(String(decoding: try JSONSerialization.data(withJSONObject: reply.data ?? [:], options: .sortedKeys), as: UTF8.self))
                    inline.append(work.inline.load(ordering: .relaxed))
                }
                #expect(Set(answers).count == 1)
                if budget == .zero {
                    #expect(inline == [0, 0, 0, 0])
                } else {
                    #expect(inline == [0, 0, 1, 2], "\(inline)")
                }
                // A mutation never runs inline, however often it ran.
                let before = work.inline.load(ordering: .relaxed)
                for _ in 0..<3 {
                    let reply = try await env.post(
                        "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { userErrors { message } } }",
                        ["i": ["materialId": fed.materials["m-0"]!, "syncToSIS": true]], token: token)
                    #expect(reply.status == 200 && reply.errors.isEmpty, "\(reply.text)")
                }
                #expect(work.inline.load(ordering: .relaxed) == before)
            }
        }
    }

    @Test("a query run where it arrives is still answered DEADLINE_EXCEEDED when it ends past its deadline")
    func deadline() async throws {
        var limits = GraphQLAPI.Limits()
        limits.deadline = .nanoseconds(1)
        try await withGateway(limits: limits) { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let work = env.gateway.api.services.work
            for _ in 0..<3 {
                let reply = try await env.post("{ viewer { role sections(first: 5) { nodes { title } } } }", token: token)
                #expect(reply.status == 503 && reply.codes == ["DEADLINE_EXCEEDED"], "\(reply.text)")
            }
            #expect(work.inline.load(ordering: .relaxed) == 1, "the third ran where it arrived")
        }
    }
}
