import Foundation
import GraphQL
import Logging
import PassbackCore
import PassbackStore

/// Running a query or mutation: admission by cost and rate, the execution pool, the deadline and a
/// client that went away.
extension GraphQLAPI {
    /// Runs a query or mutation. `clientGone` tells whether the client has closed its connection:
    /// looked at while the work runs, and when it has, the work is stopped (its answer would
    /// reach no one).
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
        // Priced at half the limit or more: a large request from the start of its execution (its root fields'
        // SQL is the slowest it runs), so it never holds the threads small queries run on. The
        // widget's own page is priced at about 3,600.
        if cost >= limits.maxCost / 2 { lane.promote() }
        let context = APIContext(principal: principal, services: services, requestID: requestID, executor: lane)
        let (limiter, token) = (self.limiter, principal.tokenID)
        // The execution, and the encoding of its answer, run on the pool's threads in a lane of
        // their own; the slot is given back when the work really ends, even after a deadline has
        // answered the client.
        let work = Task(executorPreference: lane) { () async throws -> Answer in
            defer { limiter.release(token: token) }
            let executed: Executed
            do {
                executed = try await self.run(prepared, request, context: context)
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
        // A mutation runs to its end whoever is waiting (as GitHub's and Shopify's do): stopping
        // between its fields would leave some applied and the rest not.
        let isMutation = prepared.operation.operation == .mutation
        let watched: @Sendable () -> Bool = { !isMutation && clientGone() }
        switch await Self.race(work, deadline: limits.deadline, clientGone: watched) {
        case .clientGone:
            work.cancel()
            services.work.clientGone.add(1, ordering: .relaxed)
            logger.info("request \(requestID): the client closed its connection; its work was stopped")
            return requestError(499, "the client closed the connection before the answer")
        case .pastDeadline:
            work.cancel()
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

    /// How often a running request looks whether its client is still there.
    static let clientCheckInterval = Duration.milliseconds(25)

    /// The task's result, unless `deadline` passes or `clientGone` says so first.
    static func race<T: Sendable>(
        _ work: Task<T, any Error>, deadline: Duration, clientGone: @escaping @Sendable () -> Bool = { false }
    ) async
        -> RaceOutcome<T>
    {
        let once = Once<RaceOutcome<T>>()
        return await withCheckedContinuation { continuation in
            once.set(continuation)
            let watch = Task {
                let end = ContinuousClock.now + deadline
                while !Task.isCancelled {
                    let now = ContinuousClock.now
                    if now >= end { return once.resume(.pastDeadline) }
                    if clientGone() { return once.resume(.clientGone) }
                    try? await Task.sleep(for: min(clientCheckInterval, end - now))
                }
            }
            Task {
                let result = await work.result
                once.resume(.finished(result))
                watch.cancel()
            }
        }
    }

    /// Seconds a client is told to wait (`Retry-After`) when the database is locked.
    static let busyRetryAfter = 2
    static let busyMessage = "the database is busy (locked by another process); retry in a moment"

    /// The answer to a request the locked database kept from running at all.
    func busy() -> Answer {
        requestError(503, Self.busyMessage, code: .serviceUnavailable, headers: ["Retry-After": String(Self.busyRetryAfter)])
    }
}

/// Resumes a continuation once, with the first value offered.
final class Once<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?

    func set(_ c: CheckedContinuation<T, Never>) { lock.withLock { continuation = c } }

    func resume(_ value: T) {
        let c = lock.withLock { () -> CheckedContinuation<T, Never>? in
            defer { continuation = nil }
            return continuation
        }
        c?.resume(returning: value)
    }
}
