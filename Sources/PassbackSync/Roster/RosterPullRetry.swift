import Foundation
import OneRoster
import PassbackCore

/// Why a REST pull stopped before the end: what the operator reads, and what decides whether
/// running it again can help.
public struct RosterPullError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The SIS refused the connection's credentials: nobody can fix that by waiting.
        case credentialsRefused
        /// The SIS kept failing (or asking to slow down) for longer than the pull waits.
        case sisUnavailable
    }

    public var kind: Kind
    /// The SIS's last answer.
    public var cause: OneRosterError
    /// Seconds waited on the failing request before stopping.
    public var waited: TimeInterval
    /// Where to fix credentials: the configuration key of the client id and the environment
    /// variable of the secret.
    public var clientIdKey: String
    public var secretVariable: String

    public var description: String {
        switch kind {
        case .credentialsRefused:
            return "the SIS refused the credentials of this connection (\(cause.description)). Fix \(clientIdKey) in the configuration "
                + "or the secret in the environment variable \(secretVariable), then pull again; what was stored so far is kept"
        case .sisUnavailable:
            return "the SIS kept failing for \(Int(waited.rounded())) s (\(cause.description)), so the pull stopped. "
                + "What was stored so far is kept; the next run resumes from the page it was reading"
        }
    }
}

/// How a REST pull rides out a failing or rate-limited SIS: each GET is tried again after the
/// SIS's `Retry-After` (429, a 403 "rate limit", a 503 that sends one) or an exponential backoff
/// with jitter (the outbox's ``RetryPolicy``), so a pull resumes the very page it was reading and
/// finishes in one run; a request that keeps failing for longer than ``maxWait`` stops the pull
/// with its cause (the next run resumes from the same page). Refused credentials (a 401 after a
/// fresh token, a 403 that is not a rate limit) are never retried.
public struct RosterPullRetry: Sendable {
    /// Backoff and `Retry-After` handling, as the outbox worker uses them.
    public var policy = RetryPolicy()
    /// The longest one request of a pull waits for the SIS, in seconds, summed over its retries
    /// (`roster.maxWaitSeconds`): five minutes.
    public var maxWait: TimeInterval = 300
    /// Waits; tests pass one that advances a manual clock.
    public var sleep: @Sendable (TimeInterval) async throws -> Void = { try await Task.sleep(for: .milliseconds(Int64($0 * 1000))) }
    /// Draws the jitter, in 0..<1.
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

    public init() {}

    /// Runs `request` until it succeeds, a failure is final, or the wait runs out. `limiter`
    /// spaces the attempts under the connection's rate (a pull is sequential, so the wait after
    /// a `Retry-After` holds it back already).
    func run<T>(
        connection: ConnectionSettings, limiter: RateLimiter<ContinuousClock>?, at clock: any WallClock,
        _ request: () async throws -> T
    ) async throws -> T {
        var attempt = 0
        var waited: TimeInterval = 0
        while true {
            try await limiter?.acquire()
            do {
                return try await request()
            } catch let error as OneRosterError {
                attempt += 1
                func stop(_ kind: RosterPullError.Kind) -> RosterPullError {
                    RosterPullError(
                        kind: kind, cause: error, waited: waited, clientIdKey: "connection.\(connection.id).clientId",
                        secretVariable: connection.secretVariable.isEmpty
                            ? "CONNECTION_\(connection.id.uppercased())_CLIENT_SECRET" : connection.secretVariable)
                }
                let delay: TimeInterval
                switch error.kind {
                case .auth:
                    throw stop(.credentialsRefused)
                case .invalidData, .notFound:
                    throw error
                case .rateLimited, .retryable, .malformedResponse:
                    switch policy.outcome(for: error, attempt: attempt, random: random(), at: clock.now) {
                    case .snooze(let after): delay = after
                    case .retry(_, let after):
                        // A 503 that says when to come back is taken at its word.
                        delay = error.retryAfter.map { min(policy.maxRetryAfter, $0.delay(from: clock.now)) } ?? after
                    case .success, .cancel: throw stop(.sisUnavailable)
                    }
                }
                guard waited + delay <= maxWait else { throw stop(.sisUnavailable) }
                try await sleep(delay)
                waited += delay
            }
        }
    }
}
