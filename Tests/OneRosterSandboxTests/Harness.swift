import Foundation
import OneRoster
import OneRosterSandbox
import Synchronization

/// Starts a sandbox SIS on a free loopback port, runs `body`, and always stops it.
func withSandbox<R>(
    clock: ManualWallClock = ManualWallClock(DateTime.parse("2026-11-22T12:00:00Z")!),
    _ configure: (inout SandboxConfiguration) -> Void = { _ in },
    _ body: (RunningSandbox, ManualWallClock) async throws -> R
) async throws -> R {
    var configuration = SandboxConfiguration()
    configure(&configuration)
    let running = try await Sandbox(configuration: configuration, clock: clock).start()
    do {
        let r = try await body(running, clock)
        await running.stop()
        return r
    } catch {
        await running.stop()
        throw error
    }
}

/// Generous: the whole suite shares two cores, and CPU-bound tests of other targets can hold
/// both cooperative threads (which serve the in-process SIS) for tens of seconds at its start;
/// at 10 s these loopback tests timed out (-1001) in some full runs. A test of timeouts sets its own.
let sharedTransport = URLSessionTransport(timeout: 120)

/// A client for a running sandbox with the auth it was configured with.
func makeClient(
    _ running: RunningSandbox, clock: any WallClock, pageSize: Int = 100, scopes: [String] = OneRosterScope.all,
    replayCookies: Bool = false, secret: String? = nil, oauth1Method: OAuth1Signer.Method = .hmacSHA256,
    nonce: (@Sendable () -> String)? = nil, transport: (any HTTPTransport)? = nil
) -> (OneRosterClient, OAuth2ClientCredentials?) {
    let auth = running.sandbox.configuration.auth
    let transport = transport ?? sharedTransport
    let config = OneRosterClient.Configuration(baseURL: running.baseURL, pageSize: pageSize)
    switch auth.mode {
    case .none:
        return (OneRosterClient(configuration: config, transport: transport, authorizer: nil), nil)
    case .oauth1:
        let signer = OAuth1Signer(
            consumerKey: auth.clientID, consumerSecret: secret ?? auth.clientSecret, method: oauth1Method, clock: clock,
            nonce: nonce ?? OAuth1Signer.randomNonce)
        return (OneRosterClient(configuration: config, transport: transport, authorizer: signer), nil)
    case .oauth2:
        let provider = OAuth2ClientCredentials(
            configuration: .init(
                tokenURL: running.tokenURL, clientID: auth.clientID, clientSecret: secret ?? auth.clientSecret, scopes: scopes,
                replayCookies: replayCookies),
            transport: transport, clock: clock)
        return (OneRosterClient(configuration: config, transport: transport, authorizer: provider), provider)
    }
}

/// Runs `body` and returns the `OneRosterError` it threw; fails the caller if it threw none.
func oneRosterError(_ body: () async throws -> Void) async -> OneRosterError? {
    do {
        try await body()
        return nil
    } catch let e as OneRosterError {
        return e
    } catch {
        return OneRosterError(kind: .malformedResponse, operation: "unexpected", bodyExcerpt: "\(error)")
    }
}

/// A transport that counts what it sent and what came back: token requests, and API answers by status.
final class CountingTransport: HTTPTransport {
    struct Counts {
        var tokenRequests = 0
        var apiStatuses: [Int: Int] = [:]
        var apiRequests: Int { apiStatuses.values.reduce(0, +) }
    }
    let inner: any HTTPTransport
    private let state = Mutex(Counts())

    init(_ inner: any HTTPTransport = sharedTransport) { self.inner = inner }

    var counts: Counts { state.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await inner.send(request)
        let isToken = request.url.path.hasSuffix("/token")
        state.withLock { c in
            if isToken { c.tokenRequests += 1 } else { c.apiStatuses[response.status, default: 0] += 1 }
        }
        return response
    }
}

/// A transport that, once armed, lets the first 401 through and holds every later 401 until
/// an API request has succeeded after it: the first refused request has then been retried
/// with a fresh token, so the held ones reach the client after the refresh, not during it.
final class HoldingRefusalsTransport: HTTPTransport {
    struct State {
        var armed = false
        var firstRefusalPassed = false
        var released = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    let inner: any HTTPTransport
    private let state = Mutex(State())

    init(_ inner: any HTTPTransport) { self.inner = inner }

    func arm() { state.withLock { $0.armed = true } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await inner.send(request)
        if request.url.path.hasSuffix("/token") { return response }
        if response.status == 401 {
            let hold = state.withLock { s -> Bool in
                guard s.armed, !s.released else { return false }
                if !s.firstRefusalPassed {
                    s.firstRefusalPassed = true
                    return false
                }
                return true
            }
            if hold {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s -> Bool in
                        if s.released { return true }
                        s.waiting.append(c)
                        return false
                    }
                    if now { c.resume() }
                }
            }
        } else if (200..<300).contains(response.status) {
            let waiting = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                guard s.firstRefusalPassed, !s.released else { return [] }
                s.released = true
                defer { s.waiting = [] }
                return s.waiting
            }
            for c in waiting { c.resume() }
        }
        return response
    }
}

/// A transport that hands each request to `edit` after it was signed, to tamper with it.
struct EditingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let edit: @Sendable (inout HTTPRequest) -> Void
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var r = request
        edit(&r)
        return try await inner.send(r)
    }
}

extension JSONObject {
    var id: String { self["sourcedId"]?.stringValue ?? "" }
}
