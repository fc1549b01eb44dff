import Foundation

/// The OneRoster 1.1 OAuth 2 scopes.
public enum OneRosterScope {
    public static let prefix = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
    public static let rosterCoreReadonly = prefix + "roster-core.readonly"
    public static let rosterReadonly = prefix + "roster.readonly"
    public static let rosterDemographicsReadonly = prefix + "roster-demographics.readonly"
    public static let resourceReadonly = prefix + "resource.readonly"
    public static let gradebookReadonly = prefix + "gradebook.readonly"
    public static let gradebookCreatePut = prefix + "gradebook.createput"
    public static let gradebookDelete = prefix + "gradebook.delete"
    /// Every scope, for a client that rosters and writes grades.
    public static let all = [
        rosterCoreReadonly, rosterReadonly, rosterDemographicsReadonly, resourceReadonly, gradebookReadonly,
        gradebookCreatePut, gradebookDelete
    ]
}

/// How long before a token expires it is replaced: a share of its lifetime, at least `floor`
/// and at most `ceiling`, and never more than half the lifetime.
///
/// A fixed margin does not fit every SIS: a 60 s margin on a 20 s token meant the token was
/// "about to expire" the moment it arrived, so every request asked for a new one. Scaling with
/// the lifetime keeps a token in use for most of its life (a 20 s token serves 18 s, an hour's
/// token 59 minutes). The floor covers what a fraction cannot: the time a request spends
/// reaching the SIS and a little clock difference between the two, so a short token is not
/// sent with a few milliseconds left and refused on arrival. The ceiling keeps long tokens
/// from being replaced needlessly early; one minute is far more than a request takes. Half
/// the lifetime is the cap for very short tokens, so a token always serves at least half its
/// life, whatever the floor says.
public struct TokenRefreshMargin: Sendable, Hashable {
    /// The share of the lifetime kept in reserve.
    public var fraction: Double
    /// The least margin, in seconds (unless that is more than half the lifetime).
    public var floor: TimeInterval
    /// The most margin, in seconds.
    public var ceiling: TimeInterval

    public init(fraction: Double = 0.1, floor: TimeInterval = 1, ceiling: TimeInterval = 60) {
        self.fraction = fraction
        self.floor = floor
        self.ceiling = ceiling
    }

    /// 10 % of the lifetime, at least 1 s, at most 60 s.
    public static let standard = TokenRefreshMargin()

    /// Seconds before expiry at which a token of this lifetime is replaced.
    public func margin(forLifetime lifetime: TimeInterval) -> TimeInterval {
        guard lifetime > 0 else { return 0 }
        return Swift.min(Swift.max(lifetime * fraction, floor), ceiling, lifetime / 2)
    }
}

/// OAuth 2 client credentials: one token shared by every request, fetched with HTTP Basic
/// auth, refreshed shortly before it expires (`TokenRefreshMargin`) and once after a 401.
/// At most one token request is in flight at a time: concurrent requests wait on the same
/// fetch instead of asking for a token each (which trips rate limits), and many requests
/// refused with the same token cause one refresh, not one each.
public actor OAuth2ClientCredentials: RequestAuthorizer {
    /// Where and how to ask for tokens.
    public struct Configuration: Sendable {
        public var tokenURL: URL
        public var clientID: String
        public var clientSecret: String
        /// Space-joined into `scope`; empty sends no scope.
        public var scopes: [String]
        /// When to replace a token, from the lifetime the server gave it.
        public var refreshMargin: TokenRefreshMargin
        /// Send the cookies set by the token response on every call (load-balancer affinity).
        public var replayCookies: Bool

        public init(
            tokenURL: URL, clientID: String, clientSecret: String, scopes: [String] = OneRosterScope.all,
            refreshMargin: TokenRefreshMargin = .standard, replayCookies: Bool = false
        ) {
            self.tokenURL = tokenURL
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.scopes = scopes
            self.refreshMargin = refreshMargin
            self.replayCookies = replayCookies
        }

        /// The token URL the standard recommends when the vendor documents none: `{base}/token`.
        public static func defaultTokenURL(baseURL: URL) -> URL { baseURL.appending(path: "token") }
    }

    struct Token {
        var accessToken: String
        var expiresAt: Date
        /// `expiresAt` less the refresh margin: from then on a new token is fetched.
        var refreshAt: Date
        var cookies: String?
    }

    let configuration: Configuration
    let transport: any HTTPTransport
    let clock: any WallClock
    var token: Token?
    var inflight: Task<Token, any Error>?
    /// How many tokens were fetched, for tests and metrics.
    public private(set) var fetchCount = 0

    public init(configuration: Configuration, transport: any HTTPTransport, clock: any WallClock = SystemWallClock()) {
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
    }

    public func authorize(_ request: inout HTTPRequest) async throws {
        let t = try await currentToken()
        request.headers["Authorization"] = "Bearer \(t.accessToken)"
        if configuration.replayCookies, let cookies = t.cookies { request.headers["Cookie"] = cookies }
    }

    /// Drops the token the refused request carried, so the retry gets a fresh one. A request
    /// sent with an older token (one already replaced) leaves the current token alone: when
    /// many requests are refused at once, only the first one's retry fetches a token and the
    /// others' retries use it.
    public func credentialsRejected(_ request: HTTPRequest) async -> Bool {
        if let token, request.headers["Authorization"] == "Bearer \(token.accessToken)" { self.token = nil }
        return true
    }

    func currentToken() async throws -> Token {
        if let token, clock.now < token.refreshAt { return token }
        if let inflight { return try await inflight.value }
        let task = Task { [configuration, transport, clock] in
            try await Self.fetch(configuration: configuration, transport: transport, clock: clock)
        }
        inflight = task
        defer { inflight = nil }
        let t = try await task.value
        token = t
        fetchCount += 1
        return t
    }

    static func fetch(configuration c: Configuration, transport: any HTTPTransport, clock: any WallClock) async throws -> Token {
        var form: [(String, String)] = [("grant_type", "client_credentials")]
        if !c.scopes.isEmpty { form.append(("scope", c.scopes.joined(separator: " "))) }
        let basic = Data("\(PercentEncoding.encode(c.clientID)):\(PercentEncoding.encode(c.clientSecret))".utf8).base64EncodedString()
        let request = HTTPRequest(
            method: "POST", url: c.tokenURL,
            headers: [
                "Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json"
            ],
            body: Data(PercentEncoding.query(form).utf8))
        let operation = "POST \(c.tokenURL.path) (OAuth 2 token)"
        let sentAt = clock.now
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw OneRosterError(kind: .retryable, operation: operation, bodyExcerpt: "\(error)")
        }
        guard (200..<300).contains(response.status) else {
            var e = OneRosterError(operation: operation, response: response)
            // A refusal from the token endpoint is a credentials problem, whatever its status.
            if [400, 401, 403].contains(response.status), e.kind != .rateLimited { e.kind = .auth }
            throw e
        }
        guard case .object(let o)? = try? JSONValue.parse(response.body), case .string(let access)? = o["access_token"],
            !access.isEmpty
        else {
            throw OneRosterError(
                kind: .malformedResponse, operation: operation, httpStatus: response.status,
                bodyExcerpt: "token response has no access_token")
        }
        var lifetime: TimeInterval = 3600
        switch o["expires_in"] {
        case .number(let n)?: lifetime = n
        case .string(let s)?: lifetime = Double(s) ?? lifetime
        default: break
        }
        let cookies = Self.cookieHeader(fromSetCookie: response.headers.values("Set-Cookie"))
        let expiresAt = sentAt.addingTimeInterval(lifetime)
        return Token(
            accessToken: access, expiresAt: expiresAt,
            refreshAt: expiresAt.addingTimeInterval(-c.refreshMargin.margin(forLifetime: lifetime)), cookies: cookies)
    }

    /// Builds a `Cookie` header from `Set-Cookie` lines (which some stacks fold into one,
    /// comma-separated): the `name=value` before each `;`, attributes dropped.
    static func cookieHeader(fromSetCookie lines: [String]) -> String? {
        var pairs: [String] = []
        for line in lines {
            for segment in line.split(separator: ",") {
                let first = segment.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
                let kv = first.trimmingCharacters(in: .whitespaces)
                guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex, !kv[..<eq].contains(" ") else { continue }
                let name = kv[..<eq].lowercased()
                if ["expires", "path", "domain", "max-age", "samesite"].contains(name) { continue }
                pairs.append(kv)
            }
        }
        return pairs.isEmpty ? nil : pairs.joined(separator: "; ")
    }
}
