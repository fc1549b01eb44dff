import Foundation
import Logging
import OneRoster
import PassbackConfig
import PassbackCore
import PassbackStore
import ServiceLifecycle
import Synchronization

/// The queued request a pull was asked to carry out has already been started or refused.
struct RosterRequestTaken: Error, CustomStringConvertible {
    var request: Int64
    var description: String { "roster request \(request) is no longer queued" }
}

/// Carries out the roster pulls queued through the API (`refreshRoster`), one at a time, oldest
/// first, in the serve process: the mutation only writes the request, so no HTTP request waits
/// on the SIS. Requests left queued by a stopped process are taken at the next start; a run a
/// stopped process left running is marked failed by the next pull of its connection, and that
/// pull resumes where it stopped. It also queues each connection's scheduled pulls
/// (`rosterRefreshMinutes`): a delta pull when the last pull started that long ago, or
/// `retryAfterFailure` after a failed one.
public final class RosterRequestRunner: Service, Sendable {
    let store: RosterStore
    let connections: [String: PassbackConfiguration.Connection]
    let clients: [String: OneRosterClient]
    let transport: any HTTPTransport
    let clock: any WallClock
    let pollInterval: Duration
    let logger: Logger
    /// How soon a scheduled pull is tried again after a pull that failed (a SIS that stayed
    /// down past `roster.maxWaitSeconds`), when that is sooner than the schedule.
    public static let retryAfterFailure: TimeInterval = 30 * 60
    private let limit = Mutex(RosterDeletionLimit())
    private let maxWait = Mutex(RosterPullRetry().maxWait)
    /// A nudge that came while the runner was busy, or the runner's wait to resume.
    private let wake = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// - Parameter clients: each connection's client (the outbox worker's, so both share one
    ///   OAuth 2 token); a connection missing here gets one built from its configuration.
    public init(
        database: PassbackDatabase, connections: [String: PassbackConfiguration.Connection], clients: [String: OneRosterClient] = [:],
        transport: any HTTPTransport = URLSessionTransport(), clock: any WallClock = SystemWallClock(), pollInterval: Duration = .seconds(2),
        logger: Logger = Logger(label: "passback.roster")
    ) {
        store = RosterStore(database)
        self.connections = connections
        self.clients = clients
        self.transport = transport
        self.clock = clock
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// How much a full pull may mark deleted before it stops and asks; a refused pull fails
    /// its run with the collection, the count and the flag that lets it through.
    public var deletionLimit: RosterDeletionLimit {
        get { limit.withLock { $0 } }
        set { limit.withLock { $0 = newValue } }
    }

    /// The longest one GET of a pull waits for a failing SIS (`roster.maxWaitSeconds`).
    public var pullMaxWait: TimeInterval {
        get { maxWait.withLock { $0 } }
        set { maxWait.withLock { $0 = newValue } }
    }

    /// Tells the runner a request was queued, so it starts now rather than at its next poll.
    public func nudge() {
        wake.withLock { w -> CheckedContinuation<Void, Never>? in
            guard let waiter = w.waiter else { w.pending = true; return nil }
            w.waiter = nil
            return waiter
        }?.resume()
    }

    public func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            do {
                // A shutdown stops a pull in progress: it fails its run, and the next pull of
                // that connection resumes where it stopped.
                try await cancelWhenGracefulShutdown {
                    try self.queueScheduledPulls()
                    while !Task.isCancelledOrShuttingDown, try await self.runNext() != nil {}
                }
            } catch is CancellationError {
            } catch {
                logger.error("roster runner could not read its queue: \(error)")
            }
            await sleepUntilNudged()
        }
    }

    /// Queues the pull of each scheduled connection that is due; returns the requests queued.
    @discardableResult
    public func queueScheduledPulls() throws -> [Int64] {
        var queued: [Int64] = []
        for (id, connection) in connections.sorted(by: { $0.key < $1.key }) where connection.settings.rosterRefreshMinutes > 0 {
            let every = TimeInterval(connection.settings.rosterRefreshMinutes) * 60
            // One connection's trouble (a database busy for a moment) does not hold back the others or the queue.
            do {
                if let request = try store.queueScheduledPull(connection: id, every: every, retryAfterFailure: Self.retryAfterFailure, at: clock.now) {
                    logger.info("roster request \(request): scheduled pull of \(id) queued (every \(connection.settings.rosterRefreshMinutes) minutes)")
                    queued.append(request)
                }
            } catch {
                logger.warning("the scheduled pull of \(id) could not be queued now, trying at the next look: \(error)")
            }
        }
        return queued
    }

    /// Carries out the oldest queued request; returns its id, or nil when none is queued.
    @discardableResult
    public func runNext() async throws -> Int64? {
        guard let request = try store.nextQueuedRequest() else { return nil }
        await carryOut(request)
        return request.id
    }

    func carryOut(_ request: RosterRequest) async {
        guard let connection = connections[request.connectionID] else {
            try? store.refuseRequest(request.id, error: "connection '\(request.connectionID)' is no longer configured on this server", at: clock.now)
            return
        }
        let client = clients[request.connectionID] ?? ClientFactory.client(for: connection, transport: transport, clock: clock)
        do {
            var importer = RosterImporter(store: store, clock: clock)
            importer.deletionLimit = deletionLimit
            importer.pullRetry.maxWait = pullMaxWait
            let report = try await importer.pull(connection: connection.settings, client: client, forceFull: request.full, request: request.id)
            logger.info("roster request \(request.id): \(report.mode) pull of \(request.connectionID) finished (run \(report.runID))")
        } catch is RosterRequestTaken {
            // Made full (or taken) since it was read: the next look at the queue takes it as it is now.
        } catch {
            // The run records the cause; a request that never got its run says why here.
            // What an admin reads says why in words; a database's own error (with its SQL) stays in the log.
            if (try? store.request(request.id))?.state == .queued {
                let words =
                    PassbackDatabase.isBusy(error)
                    ? "the database was busy (another process held it); ask for the pull again"
                    : (error is RosterPullError || error is OneRosterError)
                        ? "\(error)"
                        : "the pull could not start (an internal error; the server's log has it, under roster request \(request.id))"
                try? store.refuseRequest(request.id, error: words, at: clock.now)
            }
            logger.warning("roster request \(request.id) of \(request.connectionID) failed: \(error)")
        }
    }

    func sleepUntilNudged() async {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                        let nudged = self.wake.withLock { w -> Bool in
                            if w.pending { w.pending = false; return true }
                            w.waiter = c
                            return false
                        }
                        if nudged { c.resume() }
                    }
                }
                group.addTask { try? await Task.sleep(for: self.pollInterval) }
                await group.next()
                // Whichever ended first, end the other: a parked waiter is resumed here; one not
                // yet parked finds `pending` and returns at once (the next wait may then wake
                // once for nothing, which costs one look at the queue).
                self.wake.withLock { w -> CheckedContinuation<Void, Never>? in
                    guard let waiter = w.waiter else { w.pending = true; return nil }
                    w.waiter = nil
                    return waiter
                }?.resume()
                group.cancelAll()
            }
        }
    }
}
