import Foundation

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

/// What went wrong with a write, as the sync layer classifies the SIS's answer (mirrors
/// `OneRosterError.Kind`, which Core cannot import). Decisions are taken on this kind, never
/// on message text.
public enum WriteFailure: Sendable, Hashable {
    /// 5xx, dropped connection, timeout: may work next time.
    case retryable(String)
    /// 429, or 403 "Rate Limit"; `retryAfter` is the SIS's `Retry-After` in seconds, if any.
    case rateLimited(retryAfter: TimeInterval?, message: String)
    /// Credentials refused (the caller has already refreshed once).
    case auth(String)
    /// 400/409/422: the SIS refused the data; sending it again will not help.
    case invalidData(String)
    /// 404: what the write refers to does not exist in the SIS.
    case notFound(String)
    /// An answer that could not be understood: treated like a transient fault.
    case malformedResponse(String)

    /// The text to show and log (an excerpt of the SIS's answer, as the sync layer made it).
    public var message: String {
        switch self {
        case .retryable(let m), .auth(let m), .invalidData(let m), .notFound(let m), .malformedResponse(let m): m
        case .rateLimited(_, let m): m
        }
    }

    /// The problem code an item gets when this failure ends its job: `SIS_REJECTED` for a
    /// refusal of the data, `SIS_AUTH_FAILED` for credentials, `SIS_UNAVAILABLE` otherwise.
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

    /// The outcome of failed attempt `attempt` (1-based):
    /// - rate limited → `snooze`: the SIS's `Retry-After` wins over any backoff (capped at
    ///   `maxRetryAfter`; `defaultRateLimitDelay` when absent or not a valid number);
    /// - retryable / malformed response → `retry` after `backoff` while `attempt < maxAttempts`,
    ///   then `cancel(reason: "gave up after N attempts: …")`;
    /// - invalid data / not found → `cancel` with the SIS's message (resending cannot help);
    /// - auth → `cancel` with the message (the caller has already refreshed the token once).
    public func outcome(for failure: WriteFailure, attempt: Int, random: Double) -> JobOutcome {
        switch failure {
        case .rateLimited(let retryAfter, _):
            let wait = retryAfter.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } ?? defaultRateLimitDelay
            return .snooze(after: min(wait, maxRetryAfter))
        case .retryable(let message), .malformedResponse(let message):
            if attempt >= maxAttempts { return .cancel(reason: "gave up after \(attempt) attempts: \(message)") }
            return .retry(error: message, after: backoff(attempt: attempt, random: random))
        case .invalidData(let message), .notFound(let message), .auth(let message):
            return .cancel(reason: message)
        }
    }

    /// The problem an item shows when `failure` ended its job at attempt `attempt`, worded
    /// for the teacher (see `Problem.sisRejected` and friends).
    public func problem(for failure: WriteFailure, attempt: Int) -> Problem {
        switch failure.problemCode {
        case .sisRejected: .sisRejected(message: failure.message)
        case .sisAuthFailed: .sisAuthFailed(message: failure.message)
        default: .sisUnavailable(attempts: attempt, message: failure.message)
        }
    }
}
