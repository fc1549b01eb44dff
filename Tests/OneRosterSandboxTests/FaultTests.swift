import Foundation
import OneRoster
import OneRosterSandbox
import Testing

@Suite("Fault injection and error classification over loopback")
struct FaultTests {
    @Test(
        "each injected fault reaches the client as the error the worker must act on",
        arguments: [
            (Fault.tooManyRequests(retryAfter: 3), OneRosterError.Kind.rateLimited, 429 as Int?, RetryAfter.seconds(3) as RetryAfter?),
            (.rateLimit403(retryAfter: 2), .rateLimited, 403, .seconds(2)),
            (.serverError, .retryable, 500, nil),
            (.unavailable(retryAfter: 4), .retryable, 503, .seconds(4)),
            (.dropConnection, .retryable, nil, nil)
        ])
    func scripted(fault: Fault, kind: OneRosterError.Kind, status: Int?, retryAfter: RetryAfter?) async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            _ = try await client.list(.schools)
            running.sandbox.faults.script([fault])
            let e = await oneRosterError { _ = try await client.list(.schools) }
            #expect(e?.kind == kind)
            #expect(e?.httpStatus == status)
            #expect(e?.retryAfter == retryAfter)
            #expect(try await client.list(.schools).count == 2, "the next request is served normally")
        }
    }

    @Test("a slow answer arrives late but whole")
    func slow() async throws {
        try await withSandbox { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            running.sandbox.faults.script([.slow(milliseconds: 300)])
            let started = ContinuousClock.now
            #expect(try await client.list(.schools).count == 2)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            #expect(running.sandbox.faults.injectedCounts["slow"] == 1)
        }
    }

    @Test("an SIS that signals rate limits with 403 is still read as rate limiting")
    func rateLimitAs403() async throws {
        try await withSandbox({ $0.quirks.rateLimitAs403 = true }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            running.sandbox.faults.script([.tooManyRequests(retryAfter: 5)])
            let e = await oneRosterError { _ = try await client.list(.schools) }
            #expect(e?.httpStatus == 403)
            #expect(e?.kind == .rateLimited)
            #expect(e?.retryAfter == .seconds(5))
        }
    }

    @Test("random faults at configured rates: every failure the client sees was injected, and the rest succeed")
    func randomRates() async throws {
        var rates = FaultRates()
        rates.tooManyRequests = 0.15
        rates.rateLimit403 = 0.05
        rates.serverError = 0.1
        rates.unavailable = 0.05
        rates.dropConnection = 0.05
        try await withSandbox({
            $0.faults = rates; $0.auth.mode = .none
        }) { (running, clock) async throws in
            let (client, _) = makeClient(running, clock: clock)
            var seen: [OneRosterError.Kind: Int] = [:]
            var successes = 0
            for _ in 0..<200 {
                if let e = await oneRosterError({ _ = try await client.list(.schools) }) { seen[e.kind, default: 0] += 1 } else { successes += 1 }
            }
            let injected = running.sandbox.faults.injectedCounts
            #expect(seen[.rateLimited] == (injected["429"] ?? 0) + (injected["403"] ?? 0))
            #expect(seen[.retryable] == (injected["500"] ?? 0) + (injected["503"] ?? 0) + (injected["drop"] ?? 0))
            #expect(successes == 200 - injected.values.reduce(0, +))
            #expect((injected["429"] ?? 0) > 10, "a 15% rate over 200 requests injects some")
            #expect(successes > 100)
        }
    }

    @Test("fault and quirk options parse, and bad ones say what to write")
    func options() throws {
        let rates = try FaultRates(parsing: "429=0.1,403=0.05,500=0.02,503=0.03,slow=0.2:150,drop=0.01,retry-after=7")
        #expect(rates.tooManyRequests == 0.1)
        #expect(rates.slowMilliseconds == 150)
        #expect(rates.retryAfterSeconds == 7)
        #expect(throws: SandboxOptionError.self) { try FaultRates(parsing: "429=2") }
        #expect(throws: SandboxOptionError.self) { try FaultRates(parsing: "teapot=0.1") }
        #expect(throws: SandboxOptionError.self) { try FaultRates(parsing: "429=0.6,500=0.6") }
        let quirks = try SandboxQuirks(parsing: "title-limit=50,due-date-in-grading-period,no-delete")
        #expect(quirks.titleLimit == 50)
        #expect(quirks.noDelete)
        #expect(throws: SandboxOptionError.self) { try SandboxQuirks(parsing: "title-limit") }
        #expect(throws: SandboxOptionError.self) { try SandboxQuirks(parsing: "be-weird") }
    }
}

@Suite("Generated districts")
struct DistrictTests {
    @Test("the same seed gives the same district; another seed gives other ids")
    func deterministic() {
        let a = District.generate(.small, seed: 7), b = District.generate(.small, seed: 7), c = District.generate(.small, seed: 8)
        #expect(a.users.map(\.json) == b.users.map(\.json))
        #expect(a.enrollments.map(\.json) == b.enrollments.map(\.json))
        #expect(Set(a.users.map(\.sourcedId)).isDisjoint(with: c.users.map(\.sourcedId)))
    }

    @Test("a large district has the requested shape and every reference resolves")
    func large() {
        let d = District.generate(.district, seed: 1)
        #expect(d.users.filter { $0.role == .student }.count == 50_000)
        #expect(d.classes.count == 2_500)
        let users = Set(d.users.map(\.sourcedId)), classes = Set(d.classes.map(\.sourcedId)), orgs = Set(d.orgs.map(\.sourcedId))
        let sessions = Dictionary(uniqueKeysWithValues: d.academicSessions.map { ($0.sourcedId, $0) })
        #expect(d.enrollments.allSatisfy { users.contains($0.user.sourcedId) && classes.contains($0.class.sourcedId) && orgs.contains($0.school.sourcedId) })
        var teachers: [String: Int] = [:], students: [String: Int] = [:]
        for e in d.enrollments { if e.role == .teacher { teachers[e.class.sourcedId, default: 0] += 1 } else { students[e.class.sourcedId, default: 0] += 1 } }
        #expect(d.classes.allSatisfy { teachers[$0.sourcedId] == 1 && students[$0.sourcedId] == 30 })
        #expect(Set(d.enrollments.map(\.sourcedId)).count == d.enrollments.count)
        #expect(d.classes.allSatisfy { !$0.terms.isEmpty && $0.terms.allSatisfy { sessions[$0.sourcedId]?.type == .term } })
        for gp in d.academicSessions where gp.type == .gradingPeriod {
            let term = sessions[gp.parent!.sourcedId]!
            #expect(term.startDate <= gp.startDate && gp.endDate <= term.endDate)
        }
        #expect(d.categories.count == 6)
    }

    @Test("a secondary district puts every student in four different sections of 25")
    func secondary() throws {
        let d = District.generate(try #require(DistrictPlan(size: "secondary")), seed: 1)
        #expect(d.classes.count == 8_000)
        var sections: [String: Set<String>] = [:], sizes: [String: Int] = [:]
        for e in d.enrollments where e.role == .student {
            sections[e.user.sourcedId, default: []].insert(e.class.sourcedId)
            sizes[e.class.sourcedId, default: 0] += 1
        }
        #expect(sections.count == 50_000)
        #expect(sections.values.allSatisfy { $0.count == 4 })
        #expect(sizes.count == 8_000 && sizes.values.allSatisfy { $0 == 25 })
    }

    @Test("sizes parse from the command line's words")
    func sizes() {
        #expect(DistrictPlan(size: "small") == .small)
        #expect(DistrictPlan(size: "district")?.students == 50_000)
        #expect(DistrictPlan(size: "5000")?.classes == 250)
        #expect(DistrictPlan(size: "huge") == nil)
    }
}
