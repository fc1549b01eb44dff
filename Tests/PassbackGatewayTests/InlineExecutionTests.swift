import Foundation
import PassbackCore
import Testing

@testable import PassbackGateway

/// Where a query runs: on the thread that received it once its plan has been measured short
/// (`PlanTiming`), else on an execution pool lane; the deadline holds either way.
@Suite("Short queries run where they arrive")
struct InlineExecutionTests {
    @Test(
        "a plan is short once two executions are measured under the budget on average and the newest was not long; one long execution sends it back to the pool, short ones bring it back; a stopped one only counts if longer"
    )
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
        // Stopped early (its client left): a short time says nothing, a long one counts.
        for _ in 0..<20 { timing.record(.microseconds(1), stoppedEarly: true) }
        #expect(timing.isShort(within: .microseconds(250)) == false, "stopped executions did not make it look shorter")
        timing.record(.milliseconds(9), stoppedEarly: true)
        #expect(!timing.isShort(within: budget), "the newest took more than four times the budget")
    }

    @Test("at most the slots' limit of queries run where they arrive at once")
    func slots() {
        let slots = InlineSlots(limit: 1)
        #expect(slots.take())
        #expect(!slots.take(), "the second waits for the pool")
        slots.give()
        #expect(slots.take() && slots.inUse == 1)
        slots.give()
        #expect(slots.inUse == 0)
    }

    @Test(
        "the same query runs on the pool until its plan is measured, then on the receiving thread with the same answer; not with a budget of zero, nor a mutation"
    )
    func whereItRuns() async throws {
        for budget in [Duration.milliseconds(2), .zero] {
            var limits = GraphQLAPI.Limits()
            // Generous: a debug build on a busy machine, measured in wall time.
            limits.inlineBudget = budget == .zero ? .zero : .seconds(1)
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
        limits.inlineBudget = .seconds(1)
        try await withGateway(limits: limits) { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let api = env.gateway.api
            let query = "{ viewer { role sections(first: 5) { nodes { title } } } }"
            // Every execution here is stopped at its deadline, so none is recorded as short: the
            // plan is given a record of two short runs.
            let request = GraphQLAPI.Request(query: query, operationName: nil, variables: [:], method: "POST")
            let prepared = try api.prepare(request).get()
            let plan = try #require(api.plannedRun(prepared, request)).plan
            plan.timing.record(.microseconds(200))
            plan.timing.record(.microseconds(200))
            let reply = try await env.post(query, token: token)
            #expect(reply.status == 503 && reply.codes == ["DEADLINE_EXCEEDED"], "\(reply.text)")
            #expect(api.services.work.inline.load(ordering: .relaxed) == 1, "it ran where it arrived")
            #expect(api.inlineSlots.inUse == 0)
        }
    }
}
