import Foundation
import GraphQL
import OneRoster
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync

/// What the API acts on: the store, the planner, the clock, and how to reach each SIS
/// connection (for `refreshRoster`).
public struct APIServices: Sendable {
    public var database: PassbackDatabase
    public var planner: SyncPlanner
    public var clock: any WallClock
    public var connections: [String: PassbackConfiguration.Connection]
    /// The process's client for each connection (the outbox worker's), so `refreshRoster`
    /// shares its OAuth 2 token and refreshes instead of asking for one of its own each time;
    /// a connection missing here gets a client built for the call.
    public var clients: [String: OneRosterClient]
    public var transport: any HTTPTransport
    /// How much a full `refreshRoster` may mark deleted before it stops and asks
    /// (`roster.maxDeleteShare`, `roster.maxDeleteRows`, `roster.allowMassDelete`): the roster
    /// runner's, which carries the pulls out.
    public var rosterDeletionLimit: RosterDeletionLimit {
        get { rosterRunner.deletionLimit }
        nonmutating set { rosterRunner.deletionLimit = newValue }
    }
    /// The one poller behind every subscription of this API.
    let hub: LiveHub
    /// What the API's executions did and how they ended (for `/metrics` and the tests).
    let work = ExecutionCounters()
    /// Carries out the roster pulls `refreshRoster` queues (a service of the gateway's group).
    public let rosterRunner: RosterRequestRunner
    /// Carries out the drift checks `verifySection` starts, in the background.
    public let driftChecks: DriftCheckRunner

    public init(
        database: PassbackDatabase, clock: any WallClock = SystemWallClock(), connections: [String: PassbackConfiguration.Connection] = [:],
        clients: [String: OneRosterClient] = [:], transport: any HTTPTransport = URLSessionTransport()
    ) {
        self.database = database
        self.planner = SyncPlanner(database: database, clock: clock)
        self.clock = clock
        self.connections = connections
        self.clients = clients
        self.transport = transport
        self.hub = LiveHub(reads: APIReads(database))
        self.rosterRunner = RosterRequestRunner(database: database, connections: connections, clients: clients, transport: transport, clock: clock)
        self.driftChecks = DriftCheckRunner(database: database, connections: connections, clients: clients, transport: transport, clock: clock)
    }
}

/// One request: who it acts as, its loaders, and the permission checks of PRODUCT.md.
final class APIContext: Sendable {
    let principal: Principal
    let services: APIServices
    let requestID: String
    let loaders: LoaderRegistry
    let reads: APIReads

    /// Where the request's work runs (its lane of the execution pool), if not the cooperative pool.
    let executor: (any TaskExecutor)?

    init(principal: Principal, services: APIServices, requestID: String, executor: (any TaskExecutor)? = nil) {
        self.principal = principal
        self.services = services
        self.requestID = requestID
        self.executor = executor
        self.loaders = LoaderRegistry(executor: executor)
        self.reads = APIReads(services.database)
    }

    var connection: String { principal.connectionID }

    /// The same request with empty loaders, to read what a write changed.
    func afterWrite() -> APIContext { APIContext(principal: principal, services: services, requestID: requestID, executor: executor) }
    var now: Date { services.clock.now }

    /// Whose sections a read covers; the integration role reads no sections.
    func readScope() throws -> SectionScope {
        switch principal.role {
        case .teacher: return .teacher(principal.userSourcedId)
        case .admin: return .org(principal.orgSourcedId ?? "")
        case .integration: throw APIError.forbidden("the integration role writes LMS data; it cannot read sections")
        }
    }

    /// The section of `id` in the viewer's connection, or nil; fails as `requireReadable` does
    /// unless the viewer may read it. The section, the check and whether it is configured are
    /// one read (`configured` is nil when it was not read).
    func readableSection(_ id: Int64) async throws -> (row: SectionSummary, configured: Bool?)? {
        guard let scope = try? readScope() else {
            // The integration role: nil for a section that is not there, refused for one that is.
            guard let row = try await sections.load(id), row.connectionID == connection else { return nil }
            try await requireReadable([id])
            return (row, nil)
        }
        guard let (row, readable, configured) = try reads.section(id, connection: connection, scope: scope) else { return nil }
        sections.prime([id: row])
        guard row.connectionID == connection else { return nil }
        // An admin may also read the sections they teach, outside their org; or the refusal.
        if !readable { try await requireReadable([id]) }
        return (row, configured)
    }

    /// Fails unless every section may be read: a teacher's own, or (admins) in their org subtree or their own.
    func requireReadable(_ classIDs: [Int64]) async throws {
        let wanted = Array(Set(classIDs))
        guard !wanted.isEmpty else { return }
        var allowed = try reads.readable(wanted, connection: connection, scope: try readScope())
        if principal.role == .admin, allowed.count < wanted.count {
            allowed.formUnion(try reads.readable(wanted, connection: connection, scope: .teacher(principal.userSourcedId)))
        }
        guard allowed.count == wanted.count else {
            throw APIError.forbidden(
                principal.role == .admin
                    ? "this section is outside your organization"
                    : "you are not a teacher of this section in the roster")
        }
    }

    /// The sections of `classIDs` the viewer may read (linked sections can belong to other teachers or schools).
    func visible(_ classIDs: [Int64]) async throws -> [Int64] {
        guard !classIDs.isEmpty, principal.role != .integration else { return [] }
        var allowed = try reads.readable(classIDs, connection: connection, scope: try readScope())
        if principal.role == .admin { allowed.formUnion(try reads.readable(classIDs, connection: connection, scope: .teacher(principal.userSourcedId))) }
        return classIDs.filter(allowed.contains)
    }

    /// Fails unless the viewer may configure or sync the section: only as its teacher, even for admins (PRODUCT.md).
    func requireTeacher(of classID: Int64) throws {
        guard principal.role != .integration else { throw APIError.forbidden("the integration role cannot configure or sync sections") }
        let ok = try reads.readable([classID], connection: connection, scope: .teacher(principal.userSourcedId))
        guard ok.contains(classID) else {
            throw APIError.forbidden(
                principal.role == .admin
                    ? "admins may read this section but only its teachers may configure or sync it"
                    : "you are not a teacher of this section in the roster")
        }
    }

    func requireAdmin() throws -> String {
        guard principal.role == .admin, let org = principal.orgSourcedId else { throw APIError.forbidden("only an admin token may do this") }
        return org
    }

    func requireIntegration() throws {
        guard principal.role == .integration else { throw APIError.forbidden("only an integration token (the LMS feed) may do this") }
    }
}
