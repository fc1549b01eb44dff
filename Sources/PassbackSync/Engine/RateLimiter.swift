import Foundation

/// Spaces requests to one SIS evenly under its requests-per-minute limit, and holds them all
/// back while the SIS has asked to slow down (a 429 or a 403 "rate limit" with Retry-After).
/// The clock is injected: the product runs on `ContinuousClock`, the tests on a clock they move.
actor RateLimiter<C: Clock> where C.Duration == Duration {
    let clock: C
    let interval: Duration
    var nextSlot: C.Instant
    var pausedUntil: C.Instant
    /// How many times a request went to sleep for its slot (tests watch a waiting request with it).
    private(set) var sleeps = 0

    init(requestsPerMinute: Int, clock: C) {
        self.clock = clock
        interval = .nanoseconds(Int64(60_000_000_000 / Double(max(1, requestsPerMinute))))
        nextSlot = clock.now
        pausedUntil = clock.now
    }

    /// Waits for this request's slot; a pause that begins while it waits holds it too.
    func acquire() async throws {
        var now = clock.now
        var slot = max(now, nextSlot, pausedUntil)
        nextSlot = slot.advanced(by: interval)
        while slot > now {
            sleeps += 1
            try await clock.sleep(until: slot, tolerance: nil)
            now = clock.now
            slot = max(slot, pausedUntil)
        }
    }

    /// Every request waits at least `seconds` from now.
    func pause(for seconds: TimeInterval) {
        let until = clock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        if until > pausedUntil { pausedUntil = until }
    }
}

extension RateLimiter where C == ContinuousClock {
    init(requestsPerMinute: Int) { self.init(requestsPerMinute: requestsPerMinute, clock: ContinuousClock()) }
}
