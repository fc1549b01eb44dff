import Foundation
import Hummingbird
import Logging
import NIOCore
import OneRoster
import ServiceLifecycle
import Synchronization

/// Everything that defines one sandbox SIS run.
public struct SandboxConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    /// Where the OneRoster endpoints live; the token endpoint is `{basePath}/token`.
    public var basePath: String
    public var plan: DistrictPlan
    public var seed: UInt64
    public var auth: SandboxAuthConfiguration
    public var quirks: SandboxQuirks
    public var faults: FaultRates
    /// The most records one page holds, whatever `limit` asks (some servers cap).
    public var maxPageSize: Int

    public init(
        host: String = "127.0.0.1", port: Int = 0, basePath: String = "/ims/oneroster/v1p1", plan: DistrictPlan = .small,
        seed: UInt64 = 1, auth: SandboxAuthConfiguration = SandboxAuthConfiguration(mode: .oauth2), quirks: SandboxQuirks = SandboxQuirks(),
        faults: FaultRates = FaultRates(), maxPageSize: Int = 1000
    ) {
        self.host = host
        self.port = port
        self.basePath = basePath
        self.plan = plan
        self.seed = seed
        self.auth = auth
        self.quirks = quirks
        self.faults = faults
        self.maxPageSize = maxPageSize
    }
}

/// A complete OneRoster 1.1 SIS for demos, tests, benchmarks and vendors: a generated
/// district, the rostering and gradebook endpoints, OAuth 1.0a and OAuth 2, vendor quirks and
/// fault injection.
public final class Sandbox: Sendable {
    public let configuration: SandboxConfiguration
    /// The records it holds; tests read and change them directly.
    public let data: SandboxData
    /// Its fault injector; tests script exact failures here.
    public let faults: FaultInjector
    let auth: SandboxAuth
    public let clock: any WallClock
    let concurrency = Mutex((now: 0, peak: 0))

    public init(configuration: SandboxConfiguration, clock: any WallClock = SystemWallClock()) {
        self.configuration = configuration
        self.clock = clock
        data = SandboxData(clock: clock)
        data.load(District.generate(configuration.plan, seed: configuration.seed))
        faults = FaultInjector(rates: configuration.faults, seed: configuration.seed)
        auth = SandboxAuth(configuration: configuration.auth, quirks: configuration.quirks, clock: clock)
    }

    /// The most API requests the sandbox was answering at once (token requests excluded).
    public var peakConcurrentRequests: Int { concurrency.withLock { $0.peak } }

    /// Forgets the peak, to measure a new phase.
    public func resetPeakConcurrentRequests() { concurrency.withLock { $0.peak = $0.now } }

    func enter() {
        concurrency.withLock {
            $0.now += 1; $0.peak = max($0.peak, $0.now)
        }
    }
    func leave() { concurrency.withLock { $0.now -= 1 } }

    /// How many OAuth 2 tokens were issued.
    public var tokensIssued: Int { auth.tokensIssued }

    /// Ends every token's life now (the next call with one gets 401).
    public func expireAllTokens() { auth.expireAllTokens() }

    /// The HTTP application, as a `Service` for a `ServiceGroup`; `onRunning` gets the bound port.
    public func makeApplication(
        logger: Logger? = nil, port: Int? = nil, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol & Service {
        var log = logger ?? Logger(label: "passback.sandbox")
        if logger == nil { log.logLevel = .warning }
        return Application(
            responder: SandboxResponder(sandbox: self),
            configuration: .init(address: .hostname(configuration.host, port: port ?? configuration.port), serverName: "passback-sandbox"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: log)
    }

    /// Starts serving on loopback and returns once the port is bound. `port` overrides the
    /// configuration's: a sandbox stopped to play an outage comes back where it was, with its data.
    public func start(port: Int? = nil) async throws -> RunningSandbox {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = makeApplication(port: port) { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "passback.sandbox")))
        // A server that cannot listen ends the group at once: end the wait for its port with it
        // (waiting on the stream alone hung forever on a port in use).
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else {
            task.cancel()
            var cause = ""
            do { try await task.value } catch { cause = " (\(error))" }
            throw SandboxOptionError(
                "the sandbox could not listen on \(configuration.host):\(port ?? configuration.port)\(cause); "
                    + "another process may be using that port: choose another, or 0 for a free one")
        }
        let port = bound
        continuation.finish()
        return RunningSandbox(sandbox: self, port: port, group: group, task: task)
    }
}

/// A sandbox serving on a port.
public final class RunningSandbox: Sendable {
    public let sandbox: Sandbox
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(sandbox: Sandbox, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.sandbox = sandbox
        self.port = port
        self.group = group
        self.task = task
    }

    /// The OneRoster base URL, e.g. `http://127.0.0.1:8080/ims/oneroster/v1p1`.
    public var baseURL: URL { URL(string: "http://\(sandbox.configuration.host):\(port)\(sandbox.configuration.basePath)")! }

    /// The OAuth 2 token URL (the standard's `{base}/token`).
    public var tokenURL: URL { baseURL.appending(path: "token") }

    /// Stops serving and waits until the port is released.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
