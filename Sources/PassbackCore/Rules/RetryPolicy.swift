import Foundation
import OneRosterModels

/// What the outbox does with a job after one attempt: a closed set, so the worker's
/// bookkeeping (state, attempt count, `scheduled_at`, `finalized_at`) has one case per branch.
public enum JobOutcome: Sendable, Hashable {
    /// The SIS accepted the write.
    case success
    /// Try again after a backoff; the attempt counts.
    case retry(error: String, after: TimeInterval)
    /// The SIS asked us to slow down: wait, the attempt was not the job's fault.
    case snooze(after: TimeInterval)
    /// Stop for good; the reason becomes the item's error.
    case cancel(reason: String)
}

extension OneRosterError.Kind {
    /// The problem code an item gets when a failure of this kind ends its job: `SIS_REJECTED`
    /// for a refusal of the data, `SIS_AUTH_FAILED` for credentials, `SIS_UNAVAILABLE` otherwise.
    public var problemCode: ProblemCode {
        switch self {
        case .invalidData, .notFound: .sisRejected
        case .auth: .sisAuthFailed
        case .retryable, .rateLimited, .malformedResponse: .sisUnavailable
        }
    }
}

/// When to try a failed SIS write again, and when to stop. Pure: the worker passes the attempt
/// number and a random draw, so every branch is testable with a table and no clock.
public struct RetryPolicy: Sendable, Hashable {
    /// The first backoff's ceiling, in seconds.
    public var baseDelay: TimeInterval = 2
    /// Growth of the ceiling per attempt.
    public var multiplier: Double = 2
    /// The ceiling never grows past this: a SIS down for an hour is retried every ten minutes or so.
    public var maxDelay: TimeInterval = 600
    /// After this many attempts a transient failure of one write becomes final. At the defaults the
    /// eleven waits between twelve attempts have ceilings adding up to 44 minutes, and full jitter
    /// halves that: about 20 minutes of trying. This budget is for a fault of one write while the
    /// SIS answers; while it answers nothing at all, writes wait on the connection without
    /// spending attempts (the outbox worker's `unreachableWindow`, a day by default).
    public var maxAttempts: Int = 12
    /// Wait after a 429/403 that gives no `Retry-After`.
    public var defaultRateLimitDelay: TimeInterval = 30
    /// A longer `Retry-After` is capped, so a misconfigured SIS cannot park a job for days.
    public var maxRetryAfter: TimeInterval = 3600

    /// The defaults above.
    public init() {}

    /// The delay before retry number `attempt` + 1, after failed attempt `attempt` (1-based).
    ///
    /// Exponential with jitter: the ceiling is `min(maxDelay, baseDelay × multiplier^(attempt−1))`
    /// and the delay is spread uniformly by `random` (in 0..<1) over `[floor, ceiling)`, where
    /// the floor is `baseDelay / 2`. Jitter over the whole range (AWS's "full jitter") keeps
    /// many jobs failing together from retrying together; the floor keeps an unlucky draw from
    /// retrying at once, straight into the fault. An attempt below 1 counts as 1; a `random`
    /// outside 0..<1 (or NaN) is clamped.
    public func backoff(attempt: Int, random: Double) -> TimeInterval {
        let exponent = Double(max(1, attempt) - 1)
        let ceiling = max(0, min(maxDelay, baseDelay * pow(multiplier, exponent)))
        let floor = min(baseDelay / 2, ceiling)
        let r = random.isNaN ? 0 : min(max(random, 0), 1)
        return floor + r * (ceiling - floor)
    }

    /// The outcome of failed attempt `attempt` (1-based), decided on the error's `kind` (never
    /// its text); the reasons carry its `message`:
    /// - rate limited → `snooze`: the SIS's `Retry-After` wins over any backoff (capped at
    ///   `maxRetryAfter`; `defaultRateLimitDelay` when absent or not a valid number; an HTTP
    ///   date counts from `now`);
    /// - retryable / malformed response → `retry` after `backoff` while `attempt < maxAttempts`,
    ///   then `cancel(reason: "gave up after N attempts: …")`;
    /// - invalid data / not found → `cancel` with the SIS's message (resending cannot help);
    /// - auth → `cancel` with the message (the caller has already refreshed the token once).
    public func outcome(for failure: OneRosterError, attempt: Int, random: Double, at now: Date) -> JobOutcome {
        let message = failure.message
        switch failure.kind {
        case .rateLimited:
            let retryAfter = failure.retryAfter?.delay(from: now)
            let wait = retryAfter.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } ?? defaultRateLimitDelay
            return .snooze(after: min(wait, maxRetryAfter))
        case .retryable, .malformedResponse:
            if attempt >= maxAttempts { return .cancel(reason: "gave up after \(attempt) attempts: \(message)") }
            return .retry(error: message, after: backoff(attempt: attempt, random: random))
        case .invalidData, .notFound, .auth:
            return .cancel(reason: message)
        }
    }
}
