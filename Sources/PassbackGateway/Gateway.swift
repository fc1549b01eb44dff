import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PassbackCore
import PassbackStore
import PassbackSync
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The `passback serve` process: the HTTP server (the GraphQL API at `/graphql`, its live
/// updates at `/graphql/stream`, `/healthz` and `/metrics`), the outbox worker, the roster
/// runner and the scheduler, built in one place so the command and the tests run the same thing.
public struct Gateway: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// The bearer token `/metrics` asks for (`metricsToken`); nil keeps `/metrics` off, so the
        /// queue and traffic figures are never open to whoever reaches the port.
        public var metricsToken: String?
        /// A connection that sends nothing (no request, or a request stalled half-sent) this long
        /// is closed. A response being written is never cut: subscription streams stay open.
        public var idleTimeout: Duration
        /// How long `/healthz` waits to read and write the database before it says `busy`.
        public var healthTimeout: Double
        /// Passback's LTI key file (`lti.keyFile`); nil: beside the database, `<database>.lti-keys.json`.
        public var ltiKeyFile: String?
        /// The URL LMSs and browsers reach Passback at (`publicURL`); nil: the request's host, over http.
        public var publicURL: String?

        public init(host: String = "127.0.0.1", port: Int = 8080, metricsToken: String? = nil, idleTimeout: Duration = .seconds(60), healthTimeout: Double = 2)
        {
            self.host = host
            self.port = port
            self.metricsToken = metricsToken
            self.idleTimeout = idleTimeout
            self.healthTimeout = healthTimeout
        }
    }

    public let database: PassbackDatabase
    public let worker: OutboxWorker
    public let scheduler: SyncScheduler
    public let metrics = RequestMetrics()
    public let api: GraphQLAPI
    let lti: LTILaunch
    let health: HealthProbe
    let configuration: Configuration
    let logger: Logger

    /// - Parameter services: what the API acts on (default: the database, the system clock and no SIS credentials).
    public init(
        configuration: Configuration, database: PassbackDatabase, worker: OutboxWorker, scheduler: SyncScheduler,
        services: APIServices? = nil, limits: GraphQLAPI.Limits = GraphQLAPI.Limits(),
        logger: Logger = Logger(label: "passback.gateway")
    ) throws {
        self.configuration = configuration
        self.database = database
        self.worker = worker
        self.scheduler = scheduler
        self.logger = logger
        self.health = HealthProbe(database: database, timeout: configuration.healthTimeout)
        self.api = try GraphQLAPI(services: services ?? APIServices(database: database), limits: limits, logger: logger)
        self.lti = LTILaunch(
            settings: LTILaunch.Settings(keyFile: configuration.ltiKeyFile ?? database.path + ".lti-keys.json", publicURL: configuration.publicURL),
            database: database)
    }

    /// The HTTP application; `onRunning` gets the bound port.
    public func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol & Service {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: RequestIDMiddleware(metrics: metrics))
        router.get("/healthz") { _, _ -> Response in
            let health = await self.health.check()
            guard health == .ok else {
                var response = Self.text(.serviceUnavailable, "{\"status\":\"unavailable\",\"database\":\"\(health.rawValue)\"}", type: "application/json")
                if health == .busy { response.headers[.retryAfter] = String(GraphQLAPI.busyRetryAfter) }
                return response
            }
            return Self.text(.ok, "{\"status\":\"ok\",\"database\":\"ok\"}", type: "application/json")
        }
        router.get("/metrics") { request, _ -> Response in
            guard let expected = configuration.metricsToken else {
                return Self.text(
                    .forbidden, "metrics are off: set metricsToken (METRICS_TOKEN) and scrape with that bearer token\n", type: "text/plain; charset=utf-8")
            }
            guard Self.bearerMatches(request.headers[.authorization], expected) else {
                var refused = Self.text(.unauthorized, "send the metrics token: Authorization: Bearer <metricsToken>\n", type: "text/plain; charset=utf-8")
                refused.headers[.wwwAuthenticate] = "Bearer realm=\"passback metrics\""
                return refused
            }
            return Self.text(.ok, try self.metricsText(), type: "text/plain; version=0.0.4")
        }
        let graphQL: @Sendable (Request, GatewayRequestContext) async throws -> Response = { request, context in
            let channel = context.channel
            let hangUp = ClientHangUps.flag(for: channel)
            return try await self.graphQL(
                request, requestID: Self.requestID(request, context),
                clientGone: { hangUp?.isClosed ?? !channel.isActive })
        }
        router.post("/graphql", use: graphQL)
        router.get("/graphql", use: graphQL)
        let stream: @Sendable (Request, GatewayRequestContext) async throws -> Response = { request, context in
            try await self.stream(request, requestID: Self.requestID(request, context))
        }
        router.post("/graphql/stream", use: stream)
        router.get("/graphql/stream", use: stream)
        let lti = self.lti
        router.get("/widget") { _, _ in Widget.response(for: "index.html", frameAncestors: lti.frameAncestors()) }
        router.get("/widget/{file}") { _, context in
            Widget.response(for: context.parameters.get("file") ?? "", frameAncestors: lti.frameAncestors())
        }
        addLTIRoutes(to: router)
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientHangUps.Watch()], idleTimeout: TimeAmount(configuration.idleTimeout))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "passback"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// The server, worker, roster runner and scheduler as one group; SIGTERM and SIGINT stop the
    /// scheduler, then the roster runner (a pull in progress stops; the next resumes it), then
    /// the worker (writes in flight finish, the rest are released), then the server.
    public func serviceGroup(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }, signals: [UnixSignal] = [.sigterm, .sigint]) -> ServiceGroup {
        ServiceGroup(
            configuration: .init(
                services: [makeApplication(onRunning: onRunning), StreamCloser(api: api), worker, api.services.rosterRunner, scheduler],
                gracefulShutdownSignals: signals, logger: logger))
    }

    /// Queue depth by state, jobs finished by outcome, the API's work, and the request metrics.
    func metricsText() throws -> String {
        let counts = try EngineStore(database).jobCounts()
        for state in JobState.allCases {
            metrics.gauge(RequestMetrics.Name.outboxJobs, [("state", state.rawValue)], value: counts[state.rawValue] ?? 0)
        }
        let outcomes = worker.outcomeCounts
        for outcome in [OutboxWorker.Outcome.succeeded, .retry, .snoozed, .cancelled, .discarded, .released] {
            metrics.count(RequestMetrics.Name.workerJobs, [("outcome", outcome.rawValue)], total: outcomes[outcome] ?? 0)
        }
        api.services.work.write(into: metrics)
        return metrics.text()
    }

    /// Whether `Authorization` carries `Bearer <expected>`, compared in time independent of
    /// where they differ (both sides hashed first, so lengths leak nothing either).
    static func bearerMatches(_ authorization: String?, _ expected: String) -> Bool {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return false }
        let given = SHA256.hash(data: Data(authorization.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8))
        let wanted = SHA256.hash(data: Data(expected.utf8))
        return zip(given, wanted).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// `/healthz`'s look at the database: one probe at a time, on a thread of its own (it blocks
/// for up to its timeout), and an answer under a second old is reused, so a flood of health
/// checks neither piles up threads nor contends for the write lock.
final class HealthProbe: Sendable {
    let database: PassbackDatabase
    let timeout: Double
    private let queue = DispatchQueue(label: "passback.healthz")
    private let last = Mutex<(at: ContinuousClock.Instant, health: PassbackDatabase.Health)?>(nil)

    init(database: PassbackDatabase, timeout: Double) {
        self.database = database
        self.timeout = timeout
    }

    func check() async -> PassbackDatabase.Health {
        await withCheckedContinuation { continuation in
            queue.async {
                if let recent = self.last.withLock({ $0 }), ContinuousClock.now - recent.at < .seconds(1) {
                    continuation.resume(returning: recent.health)
                    return
                }
                let health = self.database.probe(timeout: self.timeout)
                self.last.withLock { $0 = (ContinuousClock.now, health) }
                continuation.resume(returning: health)
            }
        }
    }
}

/// Ends the open subscription streams when shutdown begins, so the server's drain does not
/// wait on streams that would never end by themselves.
struct StreamCloser: Service {
    let api: GraphQLAPI

    func run() async throws {
        try? await gracefulShutdown()
        api.live.finishAll()
    }
}

/// The id of the request being handled.
enum RequestID {
    @TaskLocal static var current: String?

    /// A new id: a random (version 4) UUID in lowercase. Foundation's `UUID()` opens and reads
    /// `/dev/urandom` for each one (three system calls a request); this asks `getrandom` once.
    static func make() -> String {
        var random = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        for (i, word) in [random.next() as UInt64, random.next() as UInt64].enumerated() {
            for j in 0..<8 { bytes[i * 8 + j] = UInt8(truncatingIfNeeded: word >> (j * 8)) }
        }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Gives every request an id (the caller's `X-Request-Id`, or a new one), logs it, answers with
/// it, and records the request in the metrics.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: RequestMetrics
    static var header: HTTPField.Name { HTTPField.Name("X-Request-Id")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = request.headers[Self.header].flatMap { $0.count <= 128 ? $0 : nil } ?? RequestID.make()
        let started = ContinuousClock.now
        // The id is given with each line, not set on the logger: setting metadata makes the
        // stream handler format all of it again, on every request, for lines mostly not logged.
        let logger = context.logger
        let tagged: Logger.Metadata = ["request_id": .string(id)]
        let route = context.endpointPath ?? "unmatched"
        do {
            // The handlers read the same id (the GraphQL error presenter names it).
            var response = try await RequestID.$current.withValue(id) { try await next(request, context) }
            response.headers[Self.header] = id
            let elapsed = ContinuousClock.now - started
            metrics.record(route: route, status: response.status.code, duration: elapsed)
            logger.debug("\(request.method) \(request.uri.path) \(response.status.code)", metadata: tagged)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.record(route: route, status: status, duration: .zero)
            logger.info("\(request.method) \(request.uri.path) failed: \(status)", metadata: tagged)
            throw error
        }
    }
}
