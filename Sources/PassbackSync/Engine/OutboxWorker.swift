import Foundation
import Logging
import OneRoster
import PassbackCore
import PassbackStore
import ServiceLifecycle
import Synchronization

/// Sends the outbox to each connection's SIS: claims due jobs, sends them with the OneRoster
/// client under the connection's rate limit and concurrency, and applies the closed outcome
/// (success, retry with backoff, snooze until Retry-After, cancel with the SIS's reason).
///
/// A `Service`: at start it puts back jobs a dead process left running; on graceful shutdown it
/// stops claiming, lets in-flight sends finish (up to `shutdownGrace`), and releases the rest.
public final class OutboxWorker: Service, Sendable {
    public struct Configuration: Sendable {
        /// Writes in flight at once per SIS, for every SIS (`nil`: each target's own `concurrency`).
        public var concurrencyPerConnection: Int?
        /// How often to look for due work when idle.
        public var pollInterval: Duration = .milliseconds(200)
        public var retryPolicy = RetryPolicy()
        /// How long in-flight sends may take to finish at shutdown before they are released.
        public var shutdownGrace: Duration = .seconds(10)
        /// How often a SIS that does not answer is probed (`GET orgs?limit=1`) while its writes wait.
        public var probeInterval: TimeInterval = 5
        /// How long writes wait on a SIS that does not answer before they end `SIS_UNAVAILABLE`.
        public var unreachableWindow: TimeInterval = 24 * 3600
        /// How often a blocked connection (credentials refused, no OneRoster service at its base
        /// URL) is tried with a light read; the first try is at once, so a worker started with a
        /// fixed configuration sends the held writes straight away.
        public var blockedProbeInterval: Duration = .seconds(30)

        public init() {}
    }

    /// One SIS the worker writes to.
    public struct Target: Sendable {
        public var client: OneRosterClient
        public var requestsPerMinute: Int
        /// Writes in flight at once.
        public var concurrency: Int
        /// Read each accepted write back and compare what the SIS holds (`connection.ID.verifyWrites`).
        public var verifyWrites: Bool

        public init(client: OneRosterClient, requestsPerMinute: Int, concurrency: Int = 4, verifyWrites: Bool = false) {
            self.client = client
            self.verifyWrites = verifyWrites
            self.requestsPerMinute = requestsPerMinute
            self.concurrency = max(1, concurrency)
        }
    }

    let store: EngineStore
    let targets: [String: Target]
    /// Each connection's client: the roster runner and the drift checks use the same ones.
    public var clients: [String: OneRosterClient] { targets.mapValues(\.client) }
    let limiters: [String: RateLimiter<ContinuousClock>]
    let configuration: Configuration
    let clock: any WallClock
    let random: @Sendable () -> Double
    let logger: Logger
    private let stopping = Mutex(false)
    private let counters = Mutex([Outcome: Int]())
    /// Connections whose SIS does not answer, and when to probe each next.
    let unreachable = Mutex([String: Date]())

    public init(
        database: PassbackDatabase, targets: [String: Target], configuration: Configuration = Configuration(),
        clock: any WallClock = SystemWallClock(), random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        logger: Logger = Logger(label: "passback.outbox")
    ) {
        store = EngineStore(database)
        self.targets = targets
        limiters = targets.mapValues { RateLimiter(requestsPerMinute: $0.requestsPerMinute) }
        self.configuration = configuration
        self.clock = clock
        self.random = random
        self.logger = logger
    }

    /// What the worker did with a job it took.
    public enum Outcome: String, Sendable, CaseIterable {
        /// The SIS accepted the write.
        case succeeded
        /// It failed and will be tried again (an attempt spent).
        case retry
        /// The SIS asked to wait (a rate limit): tried again later, no attempt spent.
        case snoozed
        /// It failed for good, or a newer write replaced it.
        case cancelled
        /// It failed after its last attempt.
        case discarded
        /// Put back unsent (the worker was stopping).
        case released
        /// Held: the connection is blocked (credentials refused, wrong base URL) until fixed.
        case held
        /// Waiting, its attempt not spent: nothing at the SIS answers.
        case waiting
    }

    /// Jobs the worker took since start, by outcome, for metrics.
    public var outcomeCounts: [Outcome: Int] { counters.withLock { $0 } }

    public func run() async throws {
        let rescued = try store.rescueStuckJobs(at: clock.now)
        if rescued > 0 { logger.notice("put back \(rescued) write(s) left running by a stopped worker") }
        loadHealth()
        await withGracefulShutdownHandler {
            await loop(drain: false)
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
        }
        // With no connection configured the loop ends at once; a service that returns early
        // would stop its whole group, so stay until shutdown.
        if !stopping.withLock({ $0 }) { try? await gracefulShutdown() }
    }

    /// Sends until nothing is due or waiting and nothing is in flight (for tests and one-shot
    /// commands). Jobs waiting on a retry or snooze delay are waited for.
    public func drain() async throws {
        _ = try store.rescueStuckJobs(at: clock.now)
        loadHealth()
        await loop(drain: true)
    }

    /// Stops claiming; in-flight sends finish (up to the grace period) and the loop returns.
    public func stop() { stopping.withLock { $0 = true } }

    func loop(drain: Bool) async {
        await withTaskGroup(of: Void.self) { group in
            for (connection, target) in targets {
                group.addTask { await self.connectionLoop(connection, target: target, drain: drain) }
            }
        }
    }

    enum Event: Sendable {
        case finished(ClaimedJob)
        case tick
    }

    /// One SIS: keep up to its concurrency of writes in flight; wake when one finishes or every
    /// poll interval to claim newly due work.
    func connectionLoop(_ connection: String, target: Target, drain: Bool) async {
        let limiter = limiters[connection]!
        let concurrency = max(1, configuration.concurrencyPerConnection ?? target.concurrency)
        await withTaskGroup(of: Event.self) { group in
            var inFlight: [Int64: ClaimedJob] = [:]
            var ticking = false
            var deadline: ContinuousClock.Instant?
            var cancelled = false
            var nextProbe = ContinuousClock.now
            while true {
                if Task.isCancelled { stopping.withLock { $0 = true } }
                let stop = stopping.withLock { $0 }
                if stop {
                    if inFlight.isEmpty { break }
                    let d = deadline ?? .now + configuration.shutdownGrace
                    deadline = d
                    if ContinuousClock.now >= d, !cancelled {
                        group.cancelAll()
                        cancelled = true
                    }
                } else {
                    // A blocked connection claims nothing (the claim skips it); a light read tells
                    // when it works again.
                    if ((try? store.connectionBlock(connection)) ?? nil) != nil {
                        if ContinuousClock.now >= nextProbe {
                            nextProbe = .now + configuration.blockedProbeInterval
                            if await probe(target) == nil {
                                if (try? store.unblock(connection: connection, at: clock.now)) == true {
                                    logger.notice("connection \(connection) works again: sending its held writes")
                                }
                            }
                        }
                        // Draining: nothing can move until the configuration is fixed.
                        if drain, inFlight.isEmpty, ((try? store.connectionBlock(connection)) ?? nil) != nil { break }
                    }
                    // A SIS that does not answer gets no writes, only a probe now and then.
                    let waiting = await waitOnUnreachable(connection, target: target)
                    let free = waiting ? 0 : concurrency - inFlight.count
                    let jobs = free > 0 ? ((try? store.claim(connection: connection, limit: free, at: clock.now)) ?? []) : []
                    for job in jobs {
                        inFlight[job.id] = job
                        group.addTask {
                            await self.process(job, target: target, limiter: limiter)
                            return .finished(job)
                        }
                    }
                    if drain, inFlight.isEmpty,
                        ((try? store.jobCounts(connection: connection)) ?? [:])
                            .filter({ ["available", "scheduled", "retryable", "running"].contains($0.key) }).isEmpty
                    {
                        break
                    }
                }
                // After the grace period the sends are cancelled: wait for them, no more ticks
                // (a tick started in a cancelled group would return at once and spin).
                if !ticking, !cancelled {
                    ticking = true
                    let interval = configuration.pollInterval
                    group.addTask {
                        try? await Task.sleep(for: interval)
                        return .tick
                    }
                }
                guard let event = await group.next() else { continue }
                switch event {
                case .finished(let job): inFlight[job.id] = nil
                case .tick: ticking = false
                }
            }
            group.cancelAll()
            if !inFlight.isEmpty { try? store.release(Array(inFlight.values), at: clock.now) }
        }
    }

    /// Sends one job and records its outcome (or puts it back, if the worker is stopping).
    func process(_ job: ClaimedJob, target: Target, limiter: RateLimiter<ContinuousClock>) async {
        do {
            try await limiter.acquire()
            try Task.checkCancellation()
        } catch {
            try? store.release([job], at: clock.now)
            count(.released)
            return
        }
        do {
            let status = try await send(job, client: target.client)
            let differs = target.verifyWrites ? await readBack(job, client: target.client, limiter: limiter) : nil
            do {
                try store.complete(job, httpStatus: status, differs: differs, at: clock.now)
                count(.succeeded)
            } catch {
                // The SIS accepted it but the outcome could not be recorded: the job stays
                // claimed, is put back at the next start and sent again (the PUT is idempotent).
                logger.error("job \(job.id) was accepted but its outcome could not be recorded: \(error)")
            }
        } catch let error as OneRosterError {
            await handle(error, job: job, target: target, limiter: limiter)
        } catch is CancellationError {
            try? store.release([job], at: clock.now)
            count(.released)
            return
        } catch {
            // A payload this build cannot read: retrying will not help.
            try? store.fail(job, code: .sisRejected, message: "internal: \(error)", httpStatus: nil, discarded: true, at: clock.now)
            count(.discarded)
        }
    }

    /// A light read of the SIS (one academic session): `nil` when it works, else what failed.
    func probe(_ target: Target) async -> OneRosterError? {
        do {
            for try await _ in target.client.pages(.academicSessions, query: ListQuery(pageSize: 1)) { break }
            return nil
        } catch let error as OneRosterError {
            return error
        } catch {
            return OneRosterError(kind: .retryable, operation: "GET academicSessions", bodyExcerpt: "\(error)")
        }
    }

    /// Sends the payload; returns the HTTP status it got.
    func send(_ job: ClaimedJob, client: OneRosterClient) async throws -> Int {
        // The payload is the record's JSON as planned: checked by its model (a payload the model
        // refuses is never sent), then sent as it is, not encoded again from the model.
        guard case .object(let object) = try JSONValue.parse(job.payload) else { throw PayloadError() }
        let id = object["sourcedId"]?.stringValue ?? job.targetSourcedId
        let outcome: OneRosterClient.PutOutcome
        switch job.kind {
        case .putCategory:
            _ = try OneRoster.Category(json: object)
            outcome = try await client.put(OneRoster.Category.self, sourcedId: id, json: object)
        case .putLineItem:
            _ = try LineItem(json: object)
            outcome = try await client.put(LineItem.self, sourcedId: id, json: object)
        case .putResult:
            _ = try GradebookResult(json: object)
            outcome = try await client.put(GradebookResult.self, sourcedId: id, json: object)
        case .deleteLineItem:
            try await client.delete(LineItem.self, id: job.targetSourcedId)
            return 204
        }
        return outcome == .created ? 201 : 200
    }

    struct PayloadError: Error {}

    func count(_ outcome: Outcome) { counters.withLock { $0[outcome, default: 0] += 1 } }
}
