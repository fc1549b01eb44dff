import Foundation
import GraphQL
import Logging
import OrderedCollections
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync

/// The GraphQL API over HTTP (API.md, convention 9). This file holds its settings and state; the
/// work is in its extensions: `+Requests` (decoding, authentication), `+Preparation` (bounds,
/// parse and validation through `DocumentCache`, cost), `+Execution` (admission, deadline,
/// hang-ups), `+Subscriptions` (live streams), `+Presenting` (errors and JSON) and `+Profile`
/// (the benchmarks' hook). Routes are in `GraphQLRoutes.swift`, resolvers under `Resolvers/`.
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
        /// Threads that run GraphQL execution (and so its SQLite reads), off the cooperative pool;
        /// all of it but the short queries `inlineBudget` lets run where they arrive.
        public var executionThreads = 4
        /// A query whose plan's recent executions took about this long or less (wall time, a
        /// weighted mean; `PlanTiming`) runs on the thread that received its request, not on an
        /// execution thread, one at a time per two cores (`InlineSlots`); `.zero` sends every
        /// query to the execution threads.
        public var inlineBudget: Duration = .milliseconds(2)
        /// What one token may spend: requests at once and cost per second.
        public var perToken = PrincipalLimiter.Settings()
        /// How often an idle stream sends a comment line: it re-checks the token, and a write to
        /// a client that has gone ends the stream.
        public var streamHeartbeat: Duration = .seconds(15)
        /// Which engine runs queries and mutations (`GraphQLAPI+Planning.swift`).
        public var engine: Engine = .planned
        /// Whether only the documents the server knows run (`PersistedDocuments`).
        public var onlyTrustedDocuments = false
        /// The operator's documents (`api.trustedDocuments`), known besides the clients'.
        public var trustedDocuments: [PassbackConfiguration.TrustedDocument] = []

        public init() {}

        /// The defaults with what the configuration sets (`api.*`).
        public init(_ settings: PassbackConfiguration.APISettings) {
            if let n = settings.maxInFlightPerToken { perToken.maxInFlight = n }
            if let n = settings.costBucket { perToken.maximumAvailable = n }
            if let n = settings.costPerSecond { perToken.restoreRate = n }
            if let n = settings.deadlineSeconds { deadline = .seconds(n) }
            if settings.referenceEngine { engine = .reference }
            onlyTrustedDocuments = settings.onlyTrustedDocuments
            trustedDocuments = settings.trustedDocuments
        }
    }

    let schema: GraphQLSchema
    /// The resolvers the schema was built with, which the planner calls.
    let table: ResolverTable
    /// Compiled operations (`API/Planner/`).
    let plans: PlanCache
    let services: APIServices
    let limits: Limits
    let documents: DocumentCache
    /// Documents by hash: the clients', the operator's, and those clients register.
    let persisted: PersistedDocuments
    let logger: Logger
    /// Open subscription streams, ended when the server shuts down.
    let live = LiveStreams()
    /// The threads GraphQL execution runs on.
    let pool: ExecutionPool
    let limiter: PrincipalLimiter
    /// Running requests' deadlines and clients, watched by one loop.
    let watch = RequestWatch()
    /// Queries running where they arrived (`PlanTiming`), at most one per two cores.
    let inlineSlots = InlineSlots()

    public init(services: APIServices, limits: Limits = Limits(), logger: Logger = Logger(label: "passback.api")) throws {
        self.table = Self.resolvers
        self.schema = try ExecutableSchema.build(table)
        self.plans = PlanCache(capacity: limits.documentCacheSize)
        self.services = services
        self.limits = limits
        self.documents = DocumentCache(capacity: limits.documentCacheSize)
        self.persisted = PersistedDocuments(onlyKnown: limits.onlyTrustedDocuments, operators: limits.trustedDocuments)
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
        /// The hash a client sent with the document to register it (`PersistedDocuments`), kept
        /// once the document has parsed and validated.
        public var registers: String? = nil
    }
}
