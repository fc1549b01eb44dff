import Foundation
import OneRosterModels
import Testing

@testable import PassbackCore

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy()

    /// attempt → ceiling: 2 × 2^(attempt−1), capped at 600.
    static let ceilings: [Int: TimeInterval] = [
        1: 2, 2: 4, 3: 8, 4: 16, 5: 32, 6: 64, 7: 128, 8: 256, 9: 512, 10: 600, 11: 600, 12: 600, 13: 600, 14: 600, 15: 600
    ]

    @Test("backoff stays in [base/2, ceiling) and is spread linearly by the random draw", arguments: 1...15, [0.0, 0.5, 0.999])
    func backoffTable(attempt: Int, random: Double) throws {
        let ceiling = try #require(Self.ceilings[attempt])
        let delay = policy.backoff(attempt: attempt, random: random)
        #expect(delay >= 1)
        #expect(delay < ceiling || (random == 0 && delay == 1))
        #expect(abs(delay - (1 + random * (ceiling - 1))) < 1e-9)
    }

    @Test("backoff grows with the attempt until the 600 s cap, then stays there")
    func growthAndCap() {
        var previous = 0.0
        for attempt in 1...15 {
            let delay = policy.backoff(attempt: attempt, random: 0.999)
            #expect(delay >= previous)
            previous = delay
        }
        #expect(policy.backoff(attempt: 9, random: 0.999) < policy.backoff(attempt: 10, random: 0.999))
        #expect(policy.backoff(attempt: 10, random: 0.999) == policy.backoff(attempt: 15, random: 0.999))
        #expect(policy.backoff(attempt: 1000, random: 0.999) < 600)
        #expect(policy.backoff(attempt: Int.max, random: 0.5) == policy.backoff(attempt: 10, random: 0.5))
    }

    @Test("jitter really spreads: the same attempt gives different delays for different draws")
    func jitterSpreads() {
        let delays = Set(stride(from: 0.0, to: 1.0, by: 0.1).map { policy.backoff(attempt: 8, random: $0) })
        #expect(delays.count == 10)
    }

    @Test("out-of-range inputs are clamped, never negative or past the cap")
    func clamping() {
        #expect(policy.backoff(attempt: 0, random: 0.5) == policy.backoff(attempt: 1, random: 0.5))
        #expect(policy.backoff(attempt: -5, random: 0.5) == policy.backoff(attempt: 1, random: 0.5))
        #expect(policy.backoff(attempt: 3, random: -1) == 1)
        #expect(policy.backoff(attempt: 3, random: .nan) == 1)
        #expect(policy.backoff(attempt: 3, random: 7) == 8)
    }

    struct OutcomeCase: Sendable, CustomTestStringConvertible {
        var name: String
        var failure: OneRosterError
        var attempt: Int
        var expected: JobOutcome
        var testDescription: String { name }
    }

    static let outcomes: [OutcomeCase] = [
        OutcomeCase(name: "5xx retries with backoff", failure: .retryable("503 busy"), attempt: 3, expected: .retry(error: "503 busy", after: 4.5)),
        OutcomeCase(name: "malformed answer retries", failure: .malformedResponse("not JSON"), attempt: 1, expected: .retry(error: "not JSON", after: 1.5)),
        OutcomeCase(name: "retry just before the last attempt", failure: .retryable("timeout"), attempt: 11, expected: .retry(error: "timeout", after: 300.5)),
        OutcomeCase(
            name: "gives up at the last attempt", failure: .retryable("timeout"), attempt: 12,
            expected: .cancel(reason: "gave up after 12 attempts: timeout")),
        OutcomeCase(
            name: "malformed gives up too", failure: .malformedResponse("garbage"), attempt: 13,
            expected: .cancel(reason: "gave up after 13 attempts: garbage")),
        OutcomeCase(name: "Retry-After is honoured", failure: .rateLimited(retryAfter: 5, message: "429"), attempt: 1, expected: .snooze(after: 5)),
        OutcomeCase(
            name: "no Retry-After uses the default", failure: .rateLimited(retryAfter: nil, message: "403 Rate Limit"), attempt: 4, expected: .snooze(after: 30)
        ),
        OutcomeCase(
            name: "a huge Retry-After is capped", failure: .rateLimited(retryAfter: 86_400, message: "429"), attempt: 1, expected: .snooze(after: 3600)),
        OutcomeCase(
            name: "a negative Retry-After is ignored", failure: .rateLimited(retryAfter: -10, message: "429"), attempt: 1, expected: .snooze(after: 30)),
        OutcomeCase(name: "rate limiting never gives up", failure: .rateLimited(retryAfter: 7, message: "429"), attempt: 40, expected: .snooze(after: 7)),
        OutcomeCase(name: "refused data is final", failure: .invalidData("422 score locked"), attempt: 1, expected: .cancel(reason: "422 score locked")),
        OutcomeCase(name: "not found is final", failure: .notFound("404 class"), attempt: 1, expected: .cancel(reason: "404 class")),
        OutcomeCase(name: "auth is final after the caller's refresh", failure: .auth("401"), attempt: 2, expected: .cancel(reason: "401"))
    ]

    @Test("each kind of failure gets its closed outcome", arguments: outcomes)
    func outcome(_ c: OutcomeCase) {
        #expect(policy.outcome(for: c.failure, attempt: c.attempt, random: 0.5, at: Self.now) == c.expected)
    }

    @Test("Retry-After wins over the (longer or shorter) backoff")
    func retryAfterWins() {
        // At attempt 10 the backoff would be around 300 s; the SIS said 2 s.
        #expect(policy.outcome(for: .rateLimited(retryAfter: 2, message: "429"), attempt: 10, random: 0.5, at: Self.now) == .snooze(after: 2))
        // At attempt 1 the backoff would be about 1.5 s; the SIS said 1200 s.
        #expect(policy.outcome(for: .rateLimited(retryAfter: 1200, message: "429"), attempt: 1, random: 0.5, at: Self.now) == .snooze(after: 1200))
        var strict = RetryPolicy()
        strict.maxRetryAfter = 60
        #expect(strict.outcome(for: .rateLimited(retryAfter: 1200, message: "429"), attempt: 1, random: 0.5, at: Self.now) == .snooze(after: 60))
    }

    @Test("the retry delay is the backoff of the failed attempt")
    func retryUsesBackoff() {
        for attempt in 1..<12 {
            #expect(
                policy.outcome(for: .retryable("x"), attempt: attempt, random: 0.25, at: Self.now)
                    == .retry(error: "x", after: policy.backoff(attempt: attempt, random: 0.25)))
        }
    }

    @Test("a Retry-After given as an HTTP date counts from the time the policy is told, never negative")
    func retryAfterDate() {
        let later = OneRosterError.failing(.rateLimited, "429", retryAfter: .date(Self.now.addingTimeInterval(90)))
        #expect(policy.outcome(for: later, attempt: 1, random: 0.5, at: Self.now) == .snooze(after: 90))
        #expect(policy.outcome(for: later, attempt: 1, random: 0.5, at: Self.now.addingTimeInterval(60)) == .snooze(after: 30))
        #expect(policy.outcome(for: later, attempt: 1, random: 0.5, at: Self.now.addingTimeInterval(600)) == .snooze(after: 0))
    }

    static let problems: [(OneRosterError.Kind, ProblemCode)] = [
        (.invalidData, .sisRejected), (.notFound, .sisRejected), (.auth, .sisAuthFailed),
        (.retryable, .sisUnavailable), (.malformedResponse, .sisUnavailable), (.rateLimited, .sisUnavailable)
    ]

    @Test("a final failure's kind names the item's SIS problem", arguments: problems)
    func problemForFailure(kind: OneRosterError.Kind, code: ProblemCode) {
        #expect(kind.problemCode == code)
        #expect(Set(OneRosterError.Kind.allCases) == Set(Self.problems.map(\.0)), "every kind has its row")
    }

    static let now = Date(timeIntervalSince1970: 1_800_000_000)
}

/// The failures of the tables above, as the client makes them: the SIS's message in the body.
extension OneRosterError {
    static func failing(_ kind: Kind, _ message: String, retryAfter: RetryAfter? = nil) -> OneRosterError {
        OneRosterError(kind: kind, operation: "PUT lineItems/li-1", body: ErrorBody(description: message), retryAfter: retryAfter)
    }
    static func retryable(_ message: String) -> OneRosterError { failing(.retryable, message) }
    static func malformedResponse(_ message: String) -> OneRosterError { failing(.malformedResponse, message) }
    static func rateLimited(retryAfter: TimeInterval?, message: String) -> OneRosterError {
        failing(.rateLimited, message, retryAfter: retryAfter.map(RetryAfter.seconds))
    }
    static func invalidData(_ message: String) -> OneRosterError { failing(.invalidData, message) }
    static func notFound(_ message: String) -> OneRosterError { failing(.notFound, message) }
    static func auth(_ message: String) -> OneRosterError { failing(.auth, message) }
}
