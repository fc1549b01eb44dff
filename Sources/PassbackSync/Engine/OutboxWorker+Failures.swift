import Foundation
import Logging
import OneRoster
import PassbackCore
import PassbackStore
import ServiceLifecycle
import Synchronization

/// What the worker does when a write fails: hold the connection, wait on an unreachable SIS,
/// snooze on a rate limit, retry, or give up; and the SIS's health behind the waiting.
extension OutboxWorker {
    func handle(_ error: OneRosterError, job: ClaimedJob, target: Target, limiter: RateLimiter<ContinuousClock>) async {
        if Task.isCancelled {
            // Shutdown cut this send short: whether it landed is unknown, and the PUT is idempotent.
            try? store.release([job], at: clock.now)
            count(.released)
            return
        }
        let now = clock.now
        do {
            let id = job.connectionID
            let env = "CONNECTION_\(id.uppercased())"
            if error.kind == .auth {
                // The client already fetched a fresh token once after the 401: the credentials are
                // wrong. No write of this connection can go: hold them all until they work.
                let cause =
                    "the SIS refused Passback's credentials (\(error.message)): an administrator sets the right secret in "
                    + "\(env)_CLIENT_SECRET (connection.\(id).clientSecret) and the client id in connection.\(id).clientId"
                try store.hold(job, code: ProblemCode.sisAuthFailed.rawValue, cause: cause, httpStatus: error.httpStatus, at: now)
                count(.held)
                logger.error("\(cause)")
                return
            }
            if error.kind == .notFound, job.kind != .deleteLineItem, let probed = await probe(target), probed.kind == .notFound {
                // Not this object: the OneRoster path itself is not there.
                let base = target.client.configuration.baseURL.absoluteString
                let cause =
                    "the SIS answers 404 Not Found on the OneRoster path \(base) (\(error.message)): an administrator fixes "
                    + "connection.\(id).baseURL (\(env)_BASE_URL), the OneRoster base URL with its prefix (…/ims/oneroster/v1p1)"
                try store.hold(job, code: "SIS_NOT_FOUND", cause: cause, httpStatus: error.httpStatus, at: now)
                count(.held)
                logger.error("\(cause)")
                return
            }
            if error.kind == .retryable, await isUnreachable(job.connectionID, client: target.client) {
                // Nothing answers: the write waits on the connection, its attempt not spent.
                try store.waitOnConnection(job, error: error.message, httpStatus: error.httpStatus, at: now)
                count(.waiting)
                return
            }
            switch configuration.retryPolicy.outcome(for: error, attempt: job.attempt, random: random(), at: now) {
            case .success:
                try store.complete(job, httpStatus: error.httpStatus, at: now)
                count(.succeeded)
            case .retry(let message, let delay):
                try store.retry(job, error: message, httpStatus: error.httpStatus, after: delay, at: now)
                count(.retry)
            case .snooze(let delay):
                await limiter.pause(for: delay)
                try store.snooze(job, error: error.message, httpStatus: error.httpStatus, after: delay, at: now)
                count(.snoozed)
            case .cancel(let reason):
                let gaveUp = error.kind.problemCode == .sisUnavailable
                // The SIS refused this content itself: the same content would be refused again, so
                // Sync Changes holds it until it changes (or the teacher syncs the item on purpose).
                let refusedContent = error.kind == .invalidData
                try store.fail(
                    job, code: error.kind.problemCode, message: reason, httpStatus: error.httpStatus, discarded: gaveUp, resend: !refusedContent,
                    at: now)
                count(gaveUp ? .discarded : .cancelled)
            }
        } catch {
            logger.error("cannot record the outcome of job \(job.id): \(error)")
        }
    }

    /// Takes up what the last worker found: a connection it left unreachable is probed at once.
    func loadHealth() {
        for connection in targets.keys {
            if (try? store.health(connection: connection))??.unreachableSince != nil {
                unreachable.withLock { $0[connection] = clock.now }
            }
        }
    }

    /// After a write failed for connectivity or a 5xx: whether the SIS answers nothing at all
    /// (already known, or the probe fails too). A 5xx of one write while the probe answers is
    /// that write's fault, retried on its own.
    func isUnreachable(_ connection: String, client: OneRosterClient) async -> Bool {
        if unreachable.withLock({ $0[connection] != nil }) { return true }
        guard case .unreachable(let answer) = await client.probe() else { return false }
        let why = Self.unreachable(answer, connection: connection, client: client)
        let now = clock.now
        unreachable.withLock { $0[connection] = $0[connection] ?? now.addingTimeInterval(configuration.probeInterval) }
        try? store.markUnreachable(connection: connection, error: why, at: now)
        logger.warning(
            "the SIS of connection \(connection) does not answer (\(why)); its writes wait and it is probed every \(Int(configuration.probeInterval)) s")
        return true
    }

    /// For the connection loop: true while the SIS does not answer. When its probe is due it
    /// is sent: an answer ends the wait at once; otherwise writes queued longer than
    /// `unreachableWindow` end `SIS_UNAVAILABLE`.
    func waitOnUnreachable(_ connection: String, target: Target) async -> Bool {
        guard let due = unreachable.withLock({ $0[connection] }) else { return false }
        let now = clock.now
        guard now >= due else { return true }
        switch await target.client.probe() {
        case .reachable:
            unreachable.withLock { $0[connection] = nil }
            try? store.markReachable(connection: connection, at: clock.now)
            logger.notice("the SIS of connection \(connection) answers again; sending its writes")
            return false
        case .unreachable(let answer):
            let why = Self.unreachable(answer, connection: connection, client: target.client)
            unreachable.withLock { $0[connection] = clock.now.addingTimeInterval(configuration.probeInterval) }
            try? store.markUnreachable(connection: connection, error: why, at: now)
            let since = (try? store.health(connection: connection))??.unreachableSince ?? now
            let message = "the SIS could not be reached for \(Self.span(configuration.unreachableWindow)) (since \(Timestamp.text(since))): \(why)"
            if let n = try? store.giveUpWaiting(
                connection: connection, queuedBefore: now.addingTimeInterval(-configuration.unreachableWindow), message: message, at: now), n > 0
            {
                logger.error(
                    "\(n) write(s) of connection \(connection) waited \(Self.span(configuration.unreachableWindow)) on a SIS that does not answer and were given up"
                )
            }
            return true
        }
    }

    /// What the widget and the give-up message say of a SIS that does not answer: what failed, and
    /// the key to check in case the address itself is wrong (a DNS failure or a refused port is
    /// also what a mistyped host or port looks like).
    static func unreachable(_ answer: String, connection: String, client: OneRosterClient) -> String {
        "\(client.configuration.baseURL.absoluteString) does not answer (\(answer)); if that address is wrong, fix connection.\(connection).baseURL "
            + "(CONNECTION_\(connection.uppercased())_BASE_URL)"
    }

    static func span(_ seconds: TimeInterval) -> String {
        seconds >= 3600 ? "\(Int(seconds / 3600)) h" : seconds >= 60 ? "\(Int(seconds / 60)) min" : "\(Int(seconds)) s"
    }
}
