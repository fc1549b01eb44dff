import Foundation
import OneRoster
import Synchronization

/// Which authentication the sandbox demands.
public enum SandboxAuthMode: String, Sendable, CaseIterable {
    case none, oauth1, oauth2
}

/// The sandbox's credentials and token rules.
public struct SandboxAuthConfiguration: Sendable {
    public var mode: SandboxAuthMode
    public var clientID: String
    public var clientSecret: String
    /// Seconds an OAuth 2 token lives.
    public var tokenLifetime: TimeInterval
    /// Scopes this client may be granted.
    public var allowedScopes: Set<String>
    /// OAuth 1.0a: how far a timestamp may lag behind the server clock.
    public var maxClockSkewBehind: TimeInterval = 600
    /// OAuth 1.0a: how far a timestamp may run ahead of the server clock.
    public var maxClockSkewAhead: TimeInterval = 300

    public init(
        mode: SandboxAuthMode, clientID: String = "passback-sandbox", clientSecret: String = "sandbox-secret",
        tokenLifetime: TimeInterval = 3600, allowedScopes: Set<String> = Set(OneRosterScope.all)
    ) {
        self.mode = mode
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.tokenLifetime = tokenLifetime
        self.allowedScopes = allowedScopes
    }
}

/// What an authenticated request may do.
struct Grant {
    var scopes: Set<String>
}

/// Issues and checks credentials.
final class SandboxAuth: Sendable {
    struct IssuedToken {
        var expiresAt: Date
        var scopes: Set<String>
        var cookie: String
    }

    struct State {
        var tokens: [String: IssuedToken] = [:]
        var nonces: [String: Date] = [:]
        var tokensIssued = 0
    }

    let configuration: SandboxAuthConfiguration
    let quirks: SandboxQuirks
    let clock: any WallClock
    private let state = Mutex(State())

    init(configuration: SandboxAuthConfiguration, quirks: SandboxQuirks, clock: any WallClock) {
        self.configuration = configuration
        self.quirks = quirks
        self.clock = clock
    }

    var tokensIssued: Int { state.withLock { $0.tokensIssued } }

    /// Expires every token now, as if their lifetime had run out.
    func expireAllTokens() {
        let now = clock.now
        state.withLock { s in
            for k in s.tokens.keys { s.tokens[k]!.expiresAt = now.addingTimeInterval(-1) }
        }
    }

    // MARK: OAuth 2 token endpoint

    struct TokenAnswer {
        var status: Int
        var body: JSONValue
        var cookie: String?
    }

    func issueToken(authorization: String?, form: [(String, String)]) -> TokenAnswer {
        func fail(_ status: Int, _ error: String, _ description: String) -> TokenAnswer {
            TokenAnswer(status: status, body: ["error": .string(error), "error_description": .string(description)])
        }
        guard let authorization, authorization.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        else { return fail(401, "invalid_client", "send the client id and secret with HTTP Basic authentication") }
        let id = PercentEncoding.decode(pair[..<colon], plusAsSpace: true) ?? ""
        let secret = PercentEncoding.decode(pair[pair.index(after: colon)...], plusAsSpace: true) ?? ""
        guard id == configuration.clientID, secret == configuration.clientSecret else {
            return fail(401, "invalid_client", "unknown client id or wrong secret")
        }
        let params = Dictionary(form, uniquingKeysWith: { a, _ in a })
        guard params["grant_type"] == "client_credentials" else {
            return fail(400, "unsupported_grant_type", "grant_type must be client_credentials")
        }
        var scopes: Set<String>
        if let requested = params["scope"], !requested.isEmpty {
            let asked = Set(requested.split(separator: " ").map(String.init))
            let refused = asked.subtracting(configuration.allowedScopes)
            guard refused.isEmpty else { return fail(400, "invalid_scope", "not granted to this client: \(refused.sorted().joined(separator: " "))") }
            scopes = asked
        } else if quirks.requireScope {
            return fail(400, "invalid_scope", "this SIS requires the scope parameter")
        } else {
            scopes = configuration.allowedScopes
        }
        let token = OAuth1Signer.randomNonce() + OAuth1Signer.randomNonce()
        let cookie = "sandbox_affinity=node-" + String(OAuth1Signer.randomNonce().prefix(8))
        state.withLock { s in
            s.tokens[token] = IssuedToken(expiresAt: clock.now.addingTimeInterval(configuration.tokenLifetime), scopes: scopes, cookie: cookie)
            s.tokensIssued += 1
        }
        return TokenAnswer(
            status: 200,
            body: [
                "access_token": .string(token), "token_type": "bearer", "expires_in": .number(configuration.tokenLifetime),
                "scope": .string(scopes.sorted().joined(separator: " "))
            ],
            cookie: cookie)
    }

    // MARK: Checking API requests

    struct Denied: Error {
        var status: Int
        var codeMinor: String
        var description: String
    }

    /// Checks a request's credentials. `url` is the URL as the client addressed it (for OAuth 1 signatures).
    func authenticate(method: String, url: URL, authorization: String?, cookie: String?) throws(Denied) -> Grant {
        switch configuration.mode {
        case .none:
            return Grant(scopes: Set(OneRosterScope.all))
        case .oauth2:
            guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
                throw Denied(status: 401, codeMinor: "unauthorisedrequest", description: "missing bearer token")
            }
            let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            guard let issued = state.withLock({ $0.tokens[token] }) else {
                throw Denied(status: 401, codeMinor: "unauthorisedrequest", description: "unknown access token")
            }
            guard issued.expiresAt > clock.now else {
                throw Denied(status: 401, codeMinor: "unauthorisedrequest", description: "access token expired")
            }
            if quirks.requireAffinityCookie, !(cookie ?? "").contains(issued.cookie) {
                throw Denied(
                    status: 401, codeMinor: "unauthorisedrequest", description: "session not known on this node (send the cookie from the token response)")
            }
            return Grant(scopes: issued.scopes)
        case .oauth1:
            return Grant(scopes: try verifyOAuth1(method: method, url: url, authorization: authorization))
        }
    }

    func verifyOAuth1(method: String, url: URL, authorization: String?) throws(Denied) -> Set<String> {
        func deny(_ d: String) -> Denied { Denied(status: 401, codeMinor: "unauthorisedrequest", description: d) }
        guard let authorization, let params = OAuth1Signature.parseAuthorizationHeader(authorization) else {
            throw deny("missing OAuth 1.0a Authorization header")
        }
        guard params["oauth_consumer_key"] == configuration.clientID else { throw deny("unknown oauth_consumer_key") }
        guard let methodName = params["oauth_signature_method"], let sigMethod = OAuth1Signer.Method(rawValue: methodName) else {
            throw deny("oauth_signature_method must be HMAC-SHA256 or HMAC-SHA1")
        }
        if quirks.oauth1SHA1Only, sigMethod != .hmacSHA1 { throw deny("this SIS accepts only HMAC-SHA1 signatures") }
        guard let ts = params["oauth_timestamp"].flatMap(TimeInterval.init), let nonce = params["oauth_nonce"], !nonce.isEmpty,
            let signature = params["oauth_signature"]
        else { throw deny("oauth_timestamp, oauth_nonce and oauth_signature are required") }
        let now = clock.now.timeIntervalSince1970
        guard ts >= now - configuration.maxClockSkewBehind, ts <= now + configuration.maxClockSkewAhead else {
            throw deny("oauth_timestamp is outside the allowed clock skew (server time \(Int(now)))")
        }
        let query = url.query(percentEncoded: true).flatMap { PercentEncoding.parseQuery($0) } ?? []
        let oauthParams = params.filter { $0.key != "oauth_signature" }.map { ($0.key, $0.value) }
        let base = OAuth1Signature.baseString(method: method, url: url, parameters: query + oauthParams)
        let expected = OAuth1Signature.sign(base, consumerSecret: configuration.clientSecret, method: sigMethod)
        guard expected == signature else { throw deny("signature does not match") }
        let replay = state.withLock { s -> Bool in
            // Forget nonces older than the skew window: their timestamps are refused anyway.
            if s.nonces.count > 10_000 {
                let cutoff = clock.now.addingTimeInterval(-(configuration.maxClockSkewBehind + configuration.maxClockSkewAhead))
                s.nonces = s.nonces.filter { $0.value > cutoff }
            }
            let key = "\(Int(ts)):\(nonce)"
            if s.nonces[key] != nil { return true }
            s.nonces[key] = clock.now
            return false
        }
        if replay { throw deny("oauth_nonce was already used") }
        return Set(OneRosterScope.all)
    }

    /// The scope a request needs, and whether the grant has it.
    static func requiredScopes(method: String, kind: RecordKind) -> [String] {
        switch (method, kind) {
        case ("PUT", _): return [OneRosterScope.gradebookCreatePut]
        case ("DELETE", _): return [OneRosterScope.gradebookDelete]
        case (_, .demographics): return [OneRosterScope.rosterDemographicsReadonly, OneRosterScope.rosterReadonly]
        case (_, let k) where k.isGradebook: return [OneRosterScope.gradebookReadonly, OneRosterScope.gradebookCreatePut]
        default: return [OneRosterScope.rosterCoreReadonly, OneRosterScope.rosterReadonly]
        }
    }
}
