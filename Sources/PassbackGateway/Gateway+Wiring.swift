import Foundation
import OneRoster
import PassbackConfig
import PassbackCore
import PassbackStore
import PassbackSync

/// The one place the engine is assembled from a configuration: `serve`, `demo`, `worker` and
/// the tests all build their worker, scheduler, API services and gateway here, so each runs the
/// same parts wired the same way (one client per connection, shared by the worker, the roster
/// runner and the drift checks, so they share its OAuth 2 token and rate limit).
extension PassbackConfiguration {
    /// The outbox worker's settings this configuration gives (how it waits on a SIS that does not answer).
    public func outboxConfiguration() -> OutboxWorker.Configuration {
        var c = OutboxWorker.Configuration()
        c.probeInterval = TimeInterval(outboxProbeIntervalSeconds)
        c.unreachableWindow = TimeInterval(outboxUnreachableWindowHours) * 3600
        return c
    }

    /// Each configured connection as a target of the outbox worker, with its own client.
    public func outboxTargets() -> [String: OutboxWorker.Target] {
        connections.mapValues {
            OutboxWorker.Target(
                client: ClientFactory.client(for: $0), requestsPerMinute: $0.settings.requestsPerMinute, concurrency: $0.settings.concurrency,
                verifyWrites: $0.settings.verifyWrites)
        }
    }

    /// The outbox worker of every connection (`worker` tunes its settings, e.g. for tests).
    public func outboxWorker(database: PassbackDatabase, tune worker: (inout OutboxWorker.Configuration) -> Void = { _ in }) -> OutboxWorker {
        var settings = outboxConfiguration()
        worker(&settings)
        return OutboxWorker(database: database, targets: outboxTargets(), configuration: settings)
    }

    /// The scheduler of scheduled syncs.
    public func syncScheduler(database: PassbackDatabase) -> SyncScheduler {
        SyncScheduler(database: database, planner: SyncPlanner(database: database))
    }
}

extension Gateway {
    /// `serve`'s parts from `configuration`: the outbox worker, the scheduler, the API with the
    /// roster runner (its deletion limit and pull wait from the configuration) and the server.
    /// `limits` defaults to the configuration's `api.*`; `worker` tunes the worker's settings.
    public init(
        _ configuration: PassbackConfiguration, database: PassbackDatabase, server: Configuration,
        limits: GraphQLAPI.Limits? = nil, worker tune: (inout OutboxWorker.Configuration) -> Void = { _ in }
    ) throws {
        let worker = configuration.outboxWorker(database: database, tune: tune)
        let services = APIServices(database: database, connections: configuration.connections, clients: worker.clients)
        services.rosterDeletionLimit = configuration.rosterDeletionLimit
        services.rosterRunner.pullMaxWait = TimeInterval(configuration.rosterMaxWaitSeconds)
        // The configuration's LMS platforms, registered (or brought up to date) as the command does.
        for platform in configuration.ltiPlatforms {
            do {
                try LTIStore(database).register(platform.registration, at: Date())
            } catch let refusal as LTIStore.Refusal {
                throw PassbackConfiguration.Problem("lti.platform.\(platform.id): \(refusal.description)")
            }
        }
        var server = server
        if server.metricsToken == nil { server.metricsToken = configuration.metricsToken }
        if server.ltiKeyFile == nil { server.ltiKeyFile = configuration.ltiKeyFile }
        if server.publicURL == nil { server.publicURL = configuration.publicURL }
        // One planner: the scheduler's and the API's syncs plan the same way.
        try self.init(
            configuration: server, database: database, worker: worker, scheduler: SyncScheduler(database: database, planner: services.planner),
            services: services, limits: limits ?? GraphQLAPI.Limits(configuration.api))
    }
}
