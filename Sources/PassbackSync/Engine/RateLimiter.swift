import Foundation

/// Spaces requests to one SIS evenly under its requests-per-minute limit, and holds them all
/// back while the SIS has asked to slow down (a 429 or a 403 "rate limit" with Retry-After).
actor RateLimiter {
    let interval: Duration
    var nextSlot: ContinuousClock.Instant
    var pausedUntil: ContinuousClock.Instant

    init(requestsPerMinute: Int) {
        interval = .nanoseconds(Int64(60_000_000_000 / Double(max(1, requestsPerMinute))))
        nextSlot = .now
        pausedUntil = .now
    }

    /// Waits for this request's slot; a pause that begins while it waits holds it too.
    func acquire() async throws {
        var now = ContinuousClock.now
        var slot = max(now, nextSlot, pausedUntil)
        nextSlot = slot + interval
        while slot > now {
            try await Task.sleep(until: slot, clock: .continuous)
            now = ContinuousClock.now
            slot = max(slot, pausedUntil)
        }
    }

    /// Every request waits at least `seconds` from now.
    func pause(for seconds: TimeInterval) {
        let until = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        if until > pausedUntil { pausedUntil = until }
    }
}

