import Foundation
import GraphQL
import PassbackCore

/// Subscriptions over `/graphql/stream`: the event stream, its heartbeats, and the streams open now.
extension GraphQLAPI {
    /// Starts a subscription: the events as answers to stream, or an answer refusing it.
    public func subscribe(_ request: Request, principal: Principal, requestID: String) async -> Result<AsyncThrowingStream<String, any Error>, Answer> {
        let prepared: PreparedDocument
        switch await meteredPrepare(request, principal: principal, on: pool.lane()) {
        case .success(let p): prepared = p
        case .failure(let answer): return .failure(answer)
        }
        guard prepared.operation.operation == .subscription else {
            return .failure(requestError(400, "/graphql/stream serves subscriptions; send queries and mutations to /graphql"))
        }
        if case .failure(let refused) = checkLimits(prepared, request.variables) { return .failure(refused) }
        let live = self.live
        guard let key = live.reserve(token: principal.tokenID, limit: limits.maxStreamsPerToken) else {
            return .failure(
                requestError(
                    429,
                    "this token already holds \(limits.maxStreamsPerToken) live streams open, the most one token may; close one (each open widget holds one) and subscribe again",
                    code: .rateLimited))
        }
        let context = APIContext(principal: principal, services: services, requestID: requestID)
        let outcome: Result<AsyncThrowingStream<GraphQLResult, any Error>, GraphQLErrors>
        do {
            outcome = try await graphqlSubscribe(
                schema: schema, request: request.query, rootValue: Root(), context: context,
                variableValues: request.variables, operationName: request.operationName)
        } catch {
            live.remove(key)
            return .failure(present(GraphQLResult(errors: [GraphQLError(error)]), requestID: requestID, status: 400))
        }
        switch outcome {
        case .failure(let errors):
            live.remove(key)
            let status = errors.errors.contains { ($0.originalError as? APIError)?.code == .forbidden } ? 200 : 400
            return .failure(present(GraphQLResult(errors: errors.errors), requestID: requestID, status: status))
        case .success(let results):
            let stream = AsyncThrowingStream<String, any Error> { continuation in
                live.attach(key) { continuation.finish() }
                let task = Task {
                    do {
                        for try await result in results { continuation.yield(self.present(result, requestID: requestID, status: 200).body) }
                        continuation.finish()
                    } catch {
                        continuation.yield(self.present(GraphQLResult(errors: [GraphQLError(error)]), requestID: requestID, status: 200).body)
                        continuation.finish()
                    }
                }
                continuation.onTermination = { _ in
                    task.cancel()
                    live.remove(key)
                }
            }
            return .success(stream)
        }
    }

    /// A subscription's events as server-sent-event text (graphql-sse, distinct connections
    /// mode): `next` per result, a comment line every `streamHeartbeat`, then `complete`. Before
    /// each event and on each heartbeat `authorized` is asked again: a token revoked or expired
    /// ends the stream with an `UNAUTHENTICATED` error. The stream also ends after
    /// `streamLifetime`, and when its consumer goes away (a write to a gone client fails).
    func serverSentEvents(_ events: AsyncThrowingStream<String, any Error>, authorized: @escaping @Sendable () -> Bool) -> AsyncStream<String> {
        // A client that stops reading does not make the server hold every event: the newest 256 wait.
        let (out, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(256))
        let refused =
            "event: next\ndata: "
            + render(
                [
                    GraphQLError(
                        message: "the token was revoked or has expired; sign in again",
                        extensions: ["code": .string(APIError.Code.unauthenticated.rawValue)])
                ],
                data: nil, status: 401
            ).body + "\n\n"
        let forward = Task {
            do {
                for try await event in events {
                    guard authorized() else {
                        continuation.yield(refused)
                        break
                    }
                    continuation.yield("event: next\ndata: \(event)\n\n")
                }
            } catch {}
            continuation.yield("event: complete\ndata:\n\n")
            continuation.finish()
        }
        let heartbeat = limits.streamHeartbeat
        let deadline = ContinuousClock.now + limits.streamLifetime
        let ticker = Task {
            while !Task.isCancelled {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { break }
                try? await Task.sleep(for: min(heartbeat, left))
                if Task.isCancelled { return }
                if ContinuousClock.now >= deadline { break }
                guard authorized() else {
                    continuation.yield(refused)
                    break
                }
                continuation.yield(": keep-alive\n\n")
            }
            // Ending the events ends `forward`, which sends `complete`.
            forward.cancel()
        }
        continuation.onTermination = { _ in
            forward.cancel()
            ticker.cancel()
        }
        return out
    }
}

/// The subscription streams open now, by token, so a shutdown can end them (each then sends
/// `complete`) and one token cannot hold more than its share.
final class LiveStreams: @unchecked Sendable {
    private let lock = NSLock()
    private var streams: [Int: (token: Int64, finish: (@Sendable () -> Void)?)] = [:]
    private var perToken: [Int64: Int] = [:]
    private var next = 0

    /// Takes a place for a stream of `token`, or nil when the token already holds `limit`.
    func reserve(token: Int64, limit: Int) -> Int? {
        lock.withLock {
            guard perToken[token, default: 0] < limit else { return nil }
            perToken[token, default: 0] += 1
            next += 1
            streams[next] = (token, nil)
            return next
        }
    }

    /// How the stream in place `key` is ended at shutdown.
    func attach(_ key: Int, _ finish: @escaping @Sendable () -> Void) {
        lock.withLock { streams[key]?.finish = finish }
    }

    func remove(_ key: Int) {
        lock.withLock {
            guard let gone = streams.removeValue(forKey: key) else { return }
            perToken[gone.token, default: 1] -= 1
            if perToken[gone.token] == 0 { perToken[gone.token] = nil }
        }
    }

    var count: Int { lock.withLock { streams.count } }

    func finishAll() {
        let all = lock.withLock { streams.values.compactMap(\.finish) }
        for f in all { f() }
    }
}
