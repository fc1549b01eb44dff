import Foundation
import GraphQL
import Logging
import PassbackCore
import PassbackStore

/// Running a query or mutation: admission by cost and rate, the execution pool, the deadline and a
/// client that went away.
extension GraphQLAPI {
    /// Runs a query or mutation. `clientGone` tells whether the client has closed its connection:
    /// looked at while the work runs on a lane, and when it has, the work is stopped (its answer
    /// would reach no one). A short query run where it arrives is not watched: it ends first.
    public func execute(
        _ request: Request, principal: Principal, requestID: String,
        clientGone: @escaping @Sendable () -> Bool = { false }
    ) async -> Answer {
        let lane = pool.lane()
        let prepared: PreparedDocument
        switch await meteredPrepare(request, principal: principal, on: lane) {
        case .success(let p): prepared = p
        case .failure(let answer): return answer
        }
        if prepared.operation.operation == .subscription {
            return requestError(400, "subscriptions are served as server-sent events at /graphql/stream")
        }
        if request.method == "GET", prepared.operation.operation != .query {
            return requestError(405, "a GET may only run a query; send mutations with POST", headers: ["Allow": "POST"])
        }
        let cost: Int, introspects: Bool
        switch checkLimits(prepared, request.variables) {
        case .success(let m): (cost, introspects) = (m.cost, m.roots > 0)
        case .failure(let refused): return refused
        }
        let admission: PrincipalLimiter.Admission
        switch limiter.admit(token: principal.tokenID, cost: cost) {
        case .success(let a): admission = a
        case .failure(let refusal): return rateLimited(refusal)
        }
        // A query whose plan has been running short runs here, on the thread that received it: the
        // hop to a lane and back cost the widget's page a tenth of its CPU at four connections, and
        // half its p99. One at a time per two cores (these threads serve HTTP, the worker and the
        // scheduler too); only a plan compiled already, whose variables are coerced here. Mutations
        // wait for the writer, so they never run here.
        let isQuery = prepared.operation.operation == .query
        let known = isQuery && cost < limits.maxCost / 2 ? plannedRun(prepared, request, compile: false) : nil
        let inline = known?.plan.timing.isShort(within: limits.inlineBudget) == true && inlineSlots.take()
        defer { if inline { inlineSlots.give() } }
        // Priced at half the limit or more: a large request from the start of its execution (its root fields'
        // SQL is the slowest it runs), so it never holds the threads small queries run on. The
        // widget's own page is priced at about 3,600.
        if cost >= limits.maxCost / 2 { lane.promote() }
        let context = APIContext(principal: principal, services: services, requestID: requestID, executor: inline ? nil : lane)
        let (limiter, token) = (self.limiter, principal.tokenID)
        // The execution, and the encoding of its answer, run here (`inline`) or on the pool's
        // threads in a lane of their own; the slot is given back when the work really ends, even
        // after a deadline has answered the client.
        let body: @Sendable () async throws -> Answer = {
            defer { limiter.release(token: token) }
            let executed: Executed
            do {
                executed = try await self.run(prepared, request, planned: known ?? self.plannedRun(prepared, request), context: context)
            } catch  where PassbackDatabase.isBusy(error) {
                return self.busy()
            }
            // Charged its static cost before it ran, then settled with the fields its answer holds:
            // what it did not use comes back (only for an answer without errors: an error can null
            // a subtree whose work was done), and what a list held beyond its price is taken (only a
            // payload's `userErrors` can: every other list is a connection priced by its `first`).
            // Introspection is priced on purpose at one point a selected field (so
            // tools can load the schema), and is only ever refunded: the schema's answer is large.
            var spent = admission
            let answered = executed.fields
            let cost =
                introspects
                ? (executed.errors.isEmpty ? min(admission.cost, answered) : admission.cost)
                : (executed.errors.isEmpty ? answered : max(admission.cost, answered))
            spent.actualCost = cost
            limiter.settle(token: token, charged: admission.cost, cost: cost)
            spent.currentlyAvailable = min(admission.settings.maximumAvailable, spent.currentlyAvailable + admission.cost - cost)
            // No data and errors with no path: the operation could not start (bad variables).
            let status = !executed.hasData && !executed.errors.isEmpty && executed.errors.allSatisfy({ $0.path.elements.isEmpty }) ? 400 : 200
            var answer = self.present(executed, requestID: requestID, status: status, extensions: ["cost": spent.extensions])
            // A locked database is the server's state, not the request's fault: 503, and when to ask again.
            if executed.errors.contains(where: { PassbackDatabase.isBusy($0.originalError) }) {
                answer.status = 503
                answer.headers["Retry-After"] = String(Self.busyRetryAfter)
            }
            return answer
        }
        // An answer that comes after the deadline is not sent: the client has been told, or is.
        let end = ContinuousClock.now + limits.deadline
        let outcome: RaceOutcome<Answer>
        var work: Task<Void, Never>?
        if inline {
            services.work.inline.add(1, ordering: .relaxed)
            // Short by its record: nothing watches it (a hang-up is seen by its write, and not
            // counted as stopped), but an answer past the deadline is refused as on a lane.
            let result: Result<Answer, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome = ContinuousClock.now >= end ? .pastDeadline : .finished(result)
        } else {
            let once = Once<RaceOutcome<Answer>>()
            work = Task(executorPreference: lane) {
                let result: Result<Answer, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                once.resume(ContinuousClock.now >= end ? .pastDeadline : .finished(result))
            }
            // A mutation runs to its end whoever is waiting (as GitHub's and Shopify's do): stopping
            // between its fields would leave some applied and the rest not.
            let isMutation = prepared.operation.operation == .mutation
            let watched: @Sendable () -> Bool = { !isMutation && clientGone() }
            let ticket = watch.watch(deadline: limits.deadline, clientGone: watched) { ending in
                once.resume(ending == .pastDeadline ? .pastDeadline : .clientGone)
            }
            outcome = await once.value()
            watch.unwatch(ticket)
        }
        switch outcome {
        case .clientGone:
            work?.cancel()
            services.work.clientGone.add(1, ordering: .relaxed)
            logger.info("request \(requestID): the client closed its connection; its work was stopped")
            return requestError(499, "the client closed the connection before the answer")
        case .pastDeadline:
            work?.cancel()
            services.work.pastDeadline.add(1, ordering: .relaxed)
            logger.warning("request \(requestID): past its deadline of \(limits.deadline)")
            var answer = render(
                [
                    GraphQLError(
                        message:
                            "the request ran past its deadline of \(limits.deadline.components.seconds) s and was stopped; ask for less (smaller pages, fewer fields)",
                        extensions: ["code": .string(APIError.Code.deadlineExceeded.rawValue)])
                ],
                data: nil, status: 503, extensions: ["cost": admission.extensions])
            answer.headers["Retry-After"] = "5"
            return answer
        case .finished(.success(let answer)): return answer
        case .finished(.failure(let error)): return present(GraphQLResult(errors: [GraphQLError(error)]), requestID: requestID, status: 500)
        }
    }

    /// How a request's work ended, as far as its HTTP answer is concerned.
    enum RaceOutcome<T: Sendable>: Sendable {
        case finished(Result<T, any Error>)
        case pastDeadline
        case clientGone
    }

    /// Seconds a client is told to wait (`Retry-After`) when the database is locked.
    static let busyRetryAfter = 2
    static let busyMessage = "the database is busy (locked by another process); retry in a moment"

    /// The answer to a request the locked database kept from running at all.
    func busy() -> Answer {
        requestError(503, Self.busyMessage, code: .serviceUnavailable, headers: ["Retry-After": String(Self.busyRetryAfter)])
    }
}

/// The first value offered, to whoever waits for it: offered before or after the wait begins.
final class Once<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var offered: T?
    private var taken = false

    func value() async -> T {
        await withCheckedContinuation { c in
            let ready: T? = lock.withLock {
                if let offered { return offered }
                continuation = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    func resume(_ value: T) {
        let c = lock.withLock { () -> CheckedContinuation<T, Never>? in
            guard !taken else { return nil }
            taken = true
            defer { continuation = nil }
            if continuation == nil { offered = value }
            return continuation
        }
        c?.resume(returning: value)
    }
}

/// Running queries and mutations, watched for their deadline and their client by one loop for
/// all of them (every 25 ms while any runs), so a request starts no task of its own to watch.
final class RequestWatch: @unchecked Sendable {
    enum Ending: Sendable {
        case pastDeadline
        case clientGone
    }

    private struct Entry {
        var end: ContinuousClock.Instant
        var clientGone: @Sendable () -> Bool
        var ended: @Sendable (Ending) -> Void
    }

    /// How often a running request's client and deadline are looked at.
    static let interval = Duration.milliseconds(25)

    private let lock = NSLock()
    private var entries: [UInt64: Entry] = [:]
    private var issued: UInt64 = 0
    private var looping = false

    /// Watches a request until `unwatch`; `ended` is called once if its deadline passes or its
    /// client goes first.
    func watch(deadline: Duration, clientGone: @escaping @Sendable () -> Bool, ended: @escaping @Sendable (Ending) -> Void) -> UInt64 {
        let (ticket, start) = lock.withLock { () -> (UInt64, Bool) in
            issued += 1
            entries[issued] = Entry(end: .now + deadline, clientGone: clientGone, ended: ended)
            defer { looping = true }
            return (issued, !looping)
        }
        if start { Task.detached { await self.loop() } }
        // A deadline shorter than the loop's beat gets a timer of its own.
        if deadline < Self.interval {
            Task.detached {
                try? await Task.sleep(for: deadline)
                self.end(ticket, .pastDeadline)
            }
        }
        return ticket
    }

    private func end(_ ticket: UInt64, _ why: Ending) {
        lock.withLock { entries.removeValue(forKey: ticket) }?.ended(why)
    }

    func unwatch(_ ticket: UInt64) { lock.withLock { entries[ticket] = nil } }

    private func loop() async {
        while true {
            try? await Task.sleep(for: Self.interval)
            let now = ContinuousClock.now
            let watched = lock.withLock { entries }
            var due: [(UInt64, Ending)] = []
            for (ticket, entry) in watched {
                if now >= entry.end {
                    due.append((ticket, .pastDeadline))
                } else if entry.clientGone() {
                    due.append((ticket, .clientGone))
                }
            }
            let (ending, stop) = lock.withLock { () -> ([(Entry, Ending)], Bool) in
                var ending: [(Entry, Ending)] = []
                for (ticket, why) in due {
                    if let entry = entries.removeValue(forKey: ticket) { ending.append((entry, why)) }
                }
                if entries.isEmpty { looping = false }
                return (ending, entries.isEmpty)
            }
            for (entry, why) in ending { entry.ended(why) }
            if stop { return }
        }
    }
}
