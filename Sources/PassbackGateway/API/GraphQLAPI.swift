import Foundation
import GraphQL
import Logging
import OrderedCollections
import PassbackCore
import PassbackStore
import PassbackSync

/// The GraphQL API over HTTP (API.md, convention 9): authentication, request limits, the
/// parsed-document cache, execution, and the error presenter.
public final class GraphQLAPI: Sendable {
    public struct Limits: Sendable {
        /// Largest request body, in bytes.
        public var maxBodyBytes = 256 * 1024
        public var maxDepth = 12
        public var maxCost = 10_000
        /// Parsed documents kept.
        public var documentCacheSize = 500
        /// Most mutations one request may carry (aliases and fragments included).
        public var maxMutations = 10
        /// Most fields one operation may select once its fragments are expanded (`__typename` and introspection included).
        public var maxFields = 2_000
        /// Bounds on the document's text, checked before it is parsed.
        var document = DocumentGuard()
        /// Deepest nesting of lists and objects in variables' JSON.
        public var maxVariableNesting = 16
        /// How long a subscription stream may stay open; the client reconnects after it ends.
        public var streamLifetime: Duration = .seconds(3600)
        /// Subscription streams one token may hold open at once (a widget tab holds one); one
        /// more is refused with `RATE_LIMITED`.
        public var maxStreamsPerToken = 16
        /// How long a query or mutation may run before the client is answered `DEADLINE_EXCEEDED`
        /// (503) and its execution cancelled.
        public var deadline: Duration = .seconds(10)
        /// Threads that run GraphQL execution (and so its SQLite reads), off the cooperative pool.
        public var executionThreads = 4
        /// What one token may spend: requests at once and cost per second.
        public var perToken = PrincipalLimiter.Settings()
        /// How often an idle stream sends a comment line: it re-checks the token, and a write to
        /// a client that has gone ends the stream.
        public var streamHeartbeat: Duration = .seconds(15)

        public init() {}

        /// The defaults with what the configuration sets (`api.*`).
        public init(_ settings: PassbackConfiguration.APISettings) {
            if let n = settings.maxInFlightPerToken { perToken.maxInFlight = n }
            if let n = settings.costBucket { perToken.maximumAvailable = n }
            if let n = settings.costPerSecond { perToken.restoreRate = n }
            if let n = settings.deadlineSeconds { deadline = .seconds(n) }
        }
    }

    let schema: GraphQLSchema
    let services: APIServices
    let limits: Limits
    let documents: DocumentCache
    let logger: Logger
    /// Open subscription streams, ended when the server shuts down.
    let live = LiveStreams()
    /// The threads GraphQL execution runs on.
    let pool: ExecutionPool
    let limiter: PrincipalLimiter

    public init(services: APIServices, limits: Limits = Limits(), logger: Logger = Logger(label: "passback.api")) throws {
        self.schema = try ExecutableSchema.build(Self.resolvers)
        self.services = services
        self.limits = limits
        self.documents = DocumentCache(capacity: limits.documentCacheSize)
        self.pool = ExecutionPool(threads: limits.executionThreads)
        // A query the cost limit allows must fit in a full bucket, or it could never run.
        var perToken = limits.perToken
        perToken.maximumAvailable = max(perToken.maximumAvailable, limits.maxCost)
        self.limiter = PrincipalLimiter(settings: perToken)
        self.logger = logger
    }

    deinit { pool.shutdown() }

    static var resolvers: ResolverTable {
        var t = ResolverTable()
        QueryResolvers.register(&t)
        TypeResolvers.register(&t)
        MutationResolvers.register(&t)
        SubscriptionResolvers.register(&t)
        return t
    }

    /// The schema as SDL, printed from the executable schema (the golden test compares it with `Schema/schema.graphql`).
    public var printedSchema: String { printSchema(schema: schema) }

    /// An HTTP answer.
    public struct Answer: Error, Sendable {
        public var status: Int
        public var body: String
        public var headers: [String: String] = [:]
    }

    /// A parsed request.
    public struct Request: Sendable {
        public var query: String
        public var operationName: String?
        public var variables: [String: Map]
        public var method: String
    }

    /// Turns an HTTP request into a GraphQL request, or an answer saying what is wrong with it.
    public func decode(method: String, body: [UInt8]?, queryItems: [String: String]) -> Result<Request, Answer> {
        decodeRequest(method: method, body: body, queryItems: queryItems).flatMap { request in
            // Variables reach the library's coercion, which recurses per level and quotes refused values.
            guard RequestBody.nesting(of: request.variables, upTo: limits.maxVariableNesting) <= limits.maxVariableNesting else {
                return .failure(requestError(400, "`variables` nest lists and objects more than \(limits.maxVariableNesting) levels deep"))
            }
            return .success(request)
        }
    }

    private func decodeRequest(method: String, body: [UInt8]?, queryItems: [String: String]) -> Result<Request, Answer> {
        if method == "GET" {
            guard let query = queryItems["query"] else { return .failure(requestError(400, "a GET needs a `query` parameter")) }
            var variables: [String: Map] = [:]
            if let text = queryItems["variables"] {
                do { variables = try RequestBody.variables(text) } catch { return .failure(requestError(400, error.message)) }
            }
            return .success(Request(query: query, operationName: queryItems["operationName"], variables: variables, method: method))
        }
        guard let body, !body.isEmpty else { return .failure(requestError(400, "the body must be JSON: {\"query\": \"...\", \"variables\": {...}}")) }
        do {
            let r = try RequestBody.request(body)
            return .success(Request(query: r.query, operationName: r.operationName, variables: r.variables, method: method))
        } catch {
            return .failure(requestError(400, error.message))
        }
    }

    /// Who a bearer token acts as, or the 401 answer.
    public func authenticate(_ authorization: String?) -> Result<Principal, Answer> {
        guard let header = authorization, header.lowercased().hasPrefix("bearer ") else {
            return .failure(unauthenticated("send a token: `Authorization: Bearer pb_…` (create one with `passback token create`)"))
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard APIToken.looksValid(token) else { return .failure(unauthenticated("this is not a Passback token")) }
        do {
            guard let principal = try TokenStore(services.database).principal(for: token, at: services.clock.now) else {
                return .failure(unauthenticated("this token is unknown, expired or revoked"))
            }
            return .success(principal)
        } catch where PassbackDatabase.isBusy(error) {
            return .failure(busy())
        } catch {
            logger.error("token lookup failed: \(error)")
            return .failure(requestError(503, "the database cannot be read", code: .internalError))
        }
    }

    /// Runs a query or mutation. `clientGone` tells whether the client has closed its connection:
    /// looked at while the work runs, and when it has, the work is stopped (its answer would
    /// reach no one).
    public func execute(_ request: Request, principal: Principal, requestID: String,
                        clientGone: @escaping @Sendable () -> Bool = { false }) async -> Answer {
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
        let (schema, limiter, token) = (self.schema, self.limiter, principal.tokenID)
        // The execution, and the encoding of its answer, run on the pool's threads in a lane of
        // their own; the slot is given back when the work really ends, even after a deadline has
        // answered the client.
        let work = Task(executorPreference: lane) { () async throws -> Answer in
            defer { limiter.release(token: token) }
            let result: GraphQLResult
            do {
                result = try await GraphQL.execute(schema: schema, documentAST: prepared.document.value, rootValue: Root(), context: context,
                                                   variableValues: request.variables, operationName: request.operationName)
            } catch where PassbackDatabase.isBusy(error) {
                return self.busy()
            }
            // Charged its static cost before it ran, then settled with the fields its answer holds:
            // what it did not use comes back (only for an answer without errors: an error can null
            // a subtree whose work was done), and what a list held beyond its price is taken (only a
            // payload's `userErrors` can: every other list is a connection priced by its `first`).
            // Introspection is priced on purpose at one point a selected field (so
            // tools can load the schema), and is only ever refunded: the schema's answer is large.
            var spent = admission
            let answered = PrincipalLimiter.actualCost(result.data)
            let cost = introspects ? (result.errors.isEmpty ? min(admission.cost, answered) : admission.cost)
                : (result.errors.isEmpty ? answered : max(admission.cost, answered))
            spent.actualCost = cost
            limiter.settle(token: token, charged: admission.cost, cost: cost)
            spent.currentlyAvailable = min(admission.settings.maximumAvailable, spent.currentlyAvailable + admission.cost - cost)
            // No data and errors with no path: the operation could not start (bad variables).
            let status = result.data == nil && !result.errors.isEmpty && result.errors.allSatisfy({ $0.path.elements.isEmpty }) ? 400 : 200
            var answer = self.present(result, requestID: requestID, status: status, extensions: ["cost": spent.extensions])
            // A locked database is the server's state, not the request's fault: 503, and when to ask again.
            if result.errors.contains(where: { PassbackDatabase.isBusy($0.originalError) }) {
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
            var answer = render([GraphQLError(message: "the request ran past its deadline of \(limits.deadline.components.seconds) s and was stopped; ask for less (smaller pages, fewer fields)",
                                              extensions: ["code": .string(APIError.Code.deadlineExceeded.rawValue)])],
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
    static func race<T: Sendable>(_ work: Task<T, any Error>, deadline: Duration, clientGone: @escaping @Sendable () -> Bool = { false }) async
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
            return .failure(requestError(429, "this token already holds \(limits.maxStreamsPerToken) live streams open, the most one token may; close one (each open widget holds one) and subscribe again",
                                         code: .rateLimited))
        }
        let context = APIContext(principal: principal, services: services, requestID: requestID)
        let outcome: Result<AsyncThrowingStream<GraphQLResult, any Error>, GraphQLErrors>
        do {
            outcome = try await graphqlSubscribe(schema: schema, request: request.query, rootValue: Root(), context: context,
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
        let refused = "event: next\ndata: " + render([GraphQLError(message: "the token was revoked or has expired; sign in again",
                                                                    extensions: ["code": .string(APIError.Code.unauthenticated.rawValue)])],
                                                     data: nil, status: 401).body + "\n\n"
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

    /// Where one request's time goes, in seconds (for the benchmarks): parse, validate, execute, encode.
    public struct Profile: Sendable {
        public var parse: Double
        public var validate: Double
        public var execute: Double
        public var encode: Double
        public var bytes: Int
    }

    /// Runs a query step by step, timing each step; no cache, as on a first request.
    public func profile(_ query: String, variables: [String: Map], principal: Principal) async throws -> Profile {
        func seconds(_ since: ContinuousClock.Instant) -> Double {
            let d = ContinuousClock.now - since
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        var t = ContinuousClock.now
        if let refusal = limits.document.refusal(query) { throw APIError(.parseFailed, refusal) }
        let document = try GraphQL.parse(source: Source(body: query, name: "request"))
        let parse = seconds(t)
        t = ContinuousClock.now
        let errors = validate(document)
        let validate = seconds(t)
        guard errors.isEmpty else { throw APIError(.validationFailed, errors.map(\.message).joined(separator: "; ")) }
        t = ContinuousClock.now
        let result = try await GraphQL.execute(schema: schema, documentAST: document, rootValue: Root(),
                                               context: APIContext(principal: principal, services: services, requestID: "profile"), variableValues: variables)
        let execute = seconds(t)
        t = ContinuousClock.now
        let body = render(result.errors, data: result.data, status: 200).body
        return Profile(parse: parse, validate: validate, execute: execute, encode: seconds(t), bytes: body.utf8.count)
    }

    struct PreparedDocument: Sendable {
        var document: DocumentBox
        var operation: OperationDefinition
        var fragments: [String: FragmentDefinition]
    }

    /// Parse and validate (cached per document text), then pick the operation.
    /// Points a document the cache does not hold costs to parse and validate: one per 100 bytes
    /// (a widget query about 10, the largest body 2,600).
    static func parseCost(_ query: String) -> Int { max(1, query.utf8.count / 100) }

    /// `prepare`, with the parse and validation of a document the cache does not hold charged to
    /// the token (its bucket and one of its in-flight slots) before the work is done: distinct
    /// large documents cannot be sent to make the server parse for free. A cached one is free.
    ///
    /// A new document is parsed and validated on `lane` (the execution pool's threads): that work
    /// grows with the document (validation compares the fields of a selection pairwise), and on
    /// the cooperative pool it would hold a thread that serves HTTP, the worker and the scheduler.
    func meteredPrepare(_ request: Request, principal: Principal, on lane: ExecutionPool.Lane) async -> Result<PreparedDocument, Answer> {
        guard !documents.contains(request.query) else { return prepare(request) }
        switch limiter.admit(token: principal.tokenID, cost: Self.parseCost(request.query)) {
        case .success:
            defer { limiter.release(token: principal.tokenID) }
            return await withTaskExecutorPreference(lane) { self.prepare(request) }
        case .failure(let refusal): return .failure(rateLimited(refusal))
        }
    }

    /// 429 `RATE_LIMITED`, with the token's bucket and when to ask again.
    func rateLimited(_ refusal: PrincipalLimiter.Refusal) -> Answer {
        var answer = render([GraphQLError(message: refusal.message, extensions: ["code": .string(APIError.Code.rateLimited.rawValue)])], data: nil,
                            status: 429, extensions: ["cost": refusal.admission.extensions])
        answer.headers["Retry-After"] = String(refusal.retryAfter)
        return answer
    }

    func prepare(_ request: Request) -> Result<PreparedDocument, Answer> {
        guard request.query.utf8.count <= limits.maxBodyBytes else { return .failure(requestError(413, "the query is too large")) }
        let entry: DocumentCache.Entry
        if let cached = documents.get(request.query) {
            entry = cached
        } else {
            do {
                let (document, errors) = try parseAndValidate(request.query)
                entry = DocumentCache.Entry(document: DocumentBox(value: document), errors: errors)
            } catch let error as GraphQLError {
                entry = DocumentCache.Entry(document: nil, errors: [error], parseFailed: true)
            } catch {
                entry = DocumentCache.Entry(document: nil, errors: [GraphQLError(error)], parseFailed: true)
            }
            // Only valid documents of ordinary size are kept, so the cache cannot be filled with junk.
            if entry.errors.isEmpty, request.query.utf8.count <= 16 * 1024 { documents.put(request.query, entry) }
        }
        guard let document = entry.document, entry.errors.isEmpty else {
            let code: APIError.Code = entry.parseFailed ? .parseFailed : .validationFailed
            return .failure(render(entry.errors.map { presentable($0, code: code) }, data: nil, status: 400))
        }
        var operations: [OperationDefinition] = []
        var fragments: [String: FragmentDefinition] = [:]
        for definition in document.value.definitions {
            if let op = definition as? OperationDefinition { operations.append(op) }
            if let f = definition as? FragmentDefinition { fragments[f.name.value] = f }
        }
        let chosen: OperationDefinition?
        if let name = request.operationName {
            chosen = operations.first { $0.name?.value == name }
        } else {
            chosen = operations.count == 1 ? operations[0] : nil
        }
        guard let operation = chosen else {
            return .failure(requestError(400, request.operationName == nil
                ? "the document has several operations: say which with operationName"
                : "no operation named '\(request.operationName!)' in the document"))
        }
        return .success(PreparedDocument(document: document, operation: operation, fragments: fragments))
    }

    /// The document's syntax tree and its validation errors. The lexical guard runs first, so
    /// the library's recursive parser never sees a document nested deep enough to exhaust the
    /// stack; literal shapes are checked before the library's rules (`LiteralShapeRule`).
    func parseAndValidate(_ query: String) throws -> (Document, [GraphQLError]) {
        if let refusal = limits.document.refusal(query) { throw GraphQLError(message: refusal) }
        let document = try GraphQL.parse(source: Source(body: query, name: "request"))
        return (document, validate(document))
    }

    /// Validation errors: literal shapes first, and the library's rules only if they pass.
    func validate(_ document: Document) -> [GraphQLError] {
        let shapes = GraphQL.validate(schema: schema, ast: document, rules: [LiteralShapeRule.rule])
        return shapes.isEmpty ? GraphQL.validate(schema: schema, ast: document) : shapes
    }

    /// The operation's static cost, or the answer refusing it.
    /// The operation's measure (cost, and `roots`: whether it introspects, fragments included), or
    /// the answer refusing it.
    func checkLimits(_ prepared: PreparedDocument, _ variables: [String: Map]) -> Result<QueryLimits.Measure, Answer> {
        let limits = QueryLimits(maxDepth: self.limits.maxDepth, maxCost: self.limits.maxCost, maxFields: self.limits.maxFields)
        var m = limits.measure(prepared.operation, fragments: prepared.fragments, variables: variables)
        // Mutations are counted once fragments are expanded: `mutation { ...M }` carries what M selects.
        if m.refusal == nil, prepared.operation.operation == .mutation, m.rootFields > self.limits.maxMutations {
            m.refusal = "a request may carry at most \(self.limits.maxMutations) mutations; send the rest in another request"
        }
        guard m.depth > limits.maxDepth || m.cost > limits.maxCost || m.refusal != nil else { return .success(m) }
        let message = m.refusal ?? (m.depth > limits.maxDepth
            ? "the query is \(m.depth) levels deep; the limit is \(limits.maxDepth)"
            : "the query's cost is \(m.cost); the limit is \(limits.maxCost) (each connection multiplies what it selects by `first`: ask for smaller pages)")
        let error = GraphQLError(message: message, extensions: ["code": .string(APIError.Code.queryTooComplex.rawValue), "cost": .number(Number(m.cost)),
                                                                 "depth": .number(Number(m.depth)), "maxCost": .number(Number(limits.maxCost)),
                                                                 "maxDepth": .number(Number(limits.maxDepth))])
        return .failure(render([error], data: nil, status: 400))
    }

    // MARK: Presenting

    func requestError(_ status: Int, _ message: String, code: APIError.Code = .badUserInput, headers: [String: String] = [:]) -> Answer {
        var answer = render([GraphQLError(message: message, extensions: ["code": .string(code.rawValue)])], data: nil, status: status)
        answer.headers.merge(headers) { _, new in new }
        return answer
    }

    func unauthenticated(_ message: String) -> Answer {
        requestError(401, message, code: .unauthenticated, headers: ["WWW-Authenticate": "Bearer realm=\"passback\""])
    }

    /// Errors as clients see them: our own with their code; anything else as INTERNAL, logged
    /// with the request id and never shown.
    func present(_ result: GraphQLResult, requestID: String, status: Int, extensions: [String: Map] = [:]) -> Answer {
        let errors = result.errors.map { error -> GraphQLError in
            if let api = error.originalError as? APIError {
                var extensions = api.extra
                extensions["code"] = .string(api.code.rawValue)
                return GraphQLError(message: api.message, locations: error.locations, path: error.path, extensions: extensions)
            }
            if PassbackDatabase.isBusy(error.originalError) {
                logger.warning("request \(requestID): \(String(describing: error.originalError!)) at \(error.path)")
                return GraphQLError(message: Self.busyMessage, locations: error.locations, path: error.path,
                                    extensions: ["code": .string(APIError.Code.serviceUnavailable.rawValue)])
            }
            if error.originalError == nil || error.originalError is GraphQLError {
                // The library's own errors (argument and variable coercion): the caller's input.
                return presentable(error, code: .badUserInput)
            }
            logger.error("request \(requestID): \(String(describing: error.originalError!)) at \(error.path)")
            return GraphQLError(message: "internal error (request \(requestID)); the server log has the details", locations: error.locations, path: error.path,
                                extensions: ["code": .string(APIError.Code.internalError.rawValue)])
        }
        return render(errors, data: result.data, status: status, extensions: extensions)
    }

    func presentable(_ error: GraphQLError, code: APIError.Code) -> GraphQLError {
        var extensions = error.extensions
        if extensions["code"] == nil { extensions["code"] = .string(code.rawValue) }
        return GraphQLError(message: error.message, locations: error.locations, path: error.path, extensions: extensions)
    }

    func render(_ errors: [GraphQLError], data: Map?, status: Int, extensions: [String: Map] = [:]) -> Answer {
        let encoder = GraphQLJSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let result = Envelope(result: GraphQLResult(data: data, errors: errors), extensions: extensions)
        let body = (try? encoder.encode(result)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"errors\":[{\"message\":\"the answer could not be encoded\"}]}"
        return Answer(status: status, body: body)
    }
}

/// A GraphQL response with its `extensions` (the library's result has none).
struct Envelope: Encodable {
    var result: GraphQLResult
    var extensions: [String: Map]

    enum Keys: String, CodingKey { case extensions }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        guard !extensions.isEmpty else { return }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(Map.dictionary(OrderedDictionary(uniqueKeysWithValues: extensions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
                             forKey: .extensions)
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

/// Parsed documents are immutable after parsing; these boxes let the cache share them.
struct DocumentBox: @unchecked Sendable {
    var value: Document
}


/// Parse and validation results by document text, least recently used out first.
final class DocumentCache: @unchecked Sendable {
    struct Entry {
        var document: DocumentBox?
        var errors: [GraphQLError]
        var parseFailed = false
    }

    private let lock = NSLock()
    private var entries: [String: (entry: Entry, used: UInt64)] = [:]
    private var clock: UInt64 = 0
    let capacity: Int
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Whether `key` is held, without counting a hit or a miss.
    func contains(_ key: String) -> Bool { lock.withLock { entries[key] != nil } }

    func get(_ key: String) -> Entry? {
        lock.withLock {
            clock += 1
            guard var hit = entries[key] else {
                misses += 1
                return nil
            }
            hits += 1
            hit.used = clock
            entries[key] = hit
            return hit.entry
        }
    }

    func put(_ key: String, _ entry: Entry) {
        lock.withLock {
            clock += 1
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key { entries[oldest] = nil }
            entries[key] = (entry, clock)
        }
    }

    var stats: (hits: Int, misses: Int) { lock.withLock { (hits, misses) } }
}
