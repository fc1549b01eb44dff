import Configuration
import Foundation
import OneRoster
import PassbackCore
import SystemPackage

/// What `passback` reads at start: the database file and the SIS connections, from a JSON
/// file with environment variables on top (an environment value wins). Secrets are read as
/// secrets (never logged) and are never stored.
///
/// ```json
/// {
///   "database": "passback.sqlite",
///   "connectionIds": ["district"],
///   "connection": {
///     "district": {
///       "baseURL": "https://sis.example.org/ims/oneroster/v1p1",
///       "profile": "standard", "auth": "oauth2", "clientId": "passback",
///       "tokenURL": "https://sis.example.org/oauth2/token", "scopes": "",
///       "requestsPerMinute": 1800, "concurrency": 4, "verifyWrites": false
///     }
///   }
/// }
/// ```
/// The secret comes from `CONNECTION_DISTRICT_CLIENT_SECRET` (any key can be set that way:
/// `CONNECTION_DISTRICT_BASE_URL`, `DATABASE`, `CONNECTION_IDS`...).
public struct PassbackConfiguration: Sendable {
    /// One connection and its secret.
    public struct Connection: Sendable {
        public var settings: ConnectionSettings
        /// The client secret (OAuth 2) or consumer secret (OAuth 1.0a).
        public var secret: String

        public init(settings: ConnectionSettings, secret: String) {
            self.settings = settings
            self.secret = secret
        }
    }

    public var databasePath: String
    public var connections: [String: Connection]
    /// The bearer token `GET /metrics` asks for (`metricsToken`, `METRICS_TOKEN`): a secret like
    /// the SIS's. Without one, `serve` keeps `/metrics` off.
    public var metricsToken: String?

    /// What one API token may spend (`api.*`, `API_*`): the gateway's defaults unless set.
    public struct APISettings: Sendable, Equatable {
        /// Requests one token may have running at once (`api.maxInFlightPerToken`).
        public var maxInFlightPerToken: Int?
        /// Cost points a token's bucket holds (`api.costBucket`).
        public var costBucket: Int?
        /// Cost points restored each second (`api.costPerSecond`).
        public var costPerSecond: Int?
        /// Seconds a query or mutation may run (`api.deadlineSeconds`).
        public var deadlineSeconds: Int?
        /// Whether queries and mutations run on GraphQLSwift's executor only (`api.engine`:
        /// `reference`), not the planner (`planned`, the default).
        public var referenceEngine: Bool
        /// Whether only documents the server knows run (`api.documents`: `trusted`): its clients'
        /// and the operator's (`trustedDocuments`), sent whole or by their SHA-256. With `any`
        /// (the default) any document runs, and clients may register one by its hash.
        public var onlyTrustedDocuments: Bool
        /// The operator's own documents (`api.trustedDocuments`, `API_TRUSTED_DOCUMENTS`: a
        /// `.graphql` file, or a directory of them), each file's path and exact text.
        public var trustedDocuments: [TrustedDocument]

        public init(
            maxInFlightPerToken: Int? = nil, costBucket: Int? = nil, costPerSecond: Int? = nil, deadlineSeconds: Int? = nil, referenceEngine: Bool = false,
            onlyTrustedDocuments: Bool = false, trustedDocuments: [TrustedDocument] = []
        ) {
            self.maxInFlightPerToken = maxInFlightPerToken
            self.costBucket = costBucket
            self.costPerSecond = costPerSecond
            self.deadlineSeconds = deadlineSeconds
            self.referenceEngine = referenceEngine
            self.onlyTrustedDocuments = onlyTrustedDocuments
            self.trustedDocuments = trustedDocuments
        }
    }

    /// A GraphQL document an operator lets run, read from a file.
    public struct TrustedDocument: Sendable, Equatable {
        public var path: String
        public var text: String

        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    public var api: APISettings
    /// How much a bulk CSV file or a full pull may mark deleted before it stops and asks
    /// (`roster.maxDeleteShare`, `roster.maxDeleteRows`, `roster.allowMassDelete`).
    public var rosterDeletionLimit: RosterDeletionLimit
    /// The longest one GET of a roster pull waits for a failing SIS, in seconds, before the pull
    /// stops and leaves the rest to the next run (`roster.maxWaitSeconds`, `ROSTER_MAX_WAIT_SECONDS`).
    public var rosterMaxWaitSeconds: Int = 300
    /// An LMS registered in the configuration (`lti.platformIds`, `lti.platform.<id>.*`), as
    /// `passback lti platform add` registers one; `serve` registers each at start.
    public struct LTIPlatform: Sendable, Equatable {
        /// Its id in the configuration (the keys under `lti.platform.<id>`).
        public var id: String
        public var registration: LTIRegistration
    }
    public var ltiPlatforms: [LTIPlatform] = []
    /// Passback's LTI key file (`lti.keyFile`, `LTI_KEY_FILE`); nil: `<database>.lti-keys.json`.
    public var ltiKeyFile: String?
    /// The URL LMSs and browsers reach this server at (`publicURL`, `PUBLIC_URL`), as LTI
    /// registrations name it; nil: the request's host, over http.
    public var publicURL: String?
    /// Bounds on CSV zips (`csv.maxFieldBytes`, `csv.maxRowBytes`, `csv.maxEntryBytes`,
    /// `csv.maxCompressionRatio`; `CSV_MAX_FIELD_BYTES`...).
    public var csvLimits = CSVLimits.standard
    /// How often the outbox worker probes a SIS that does not answer (`outbox.probeIntervalSeconds`,
    /// `OUTBOX_PROBE_INTERVAL_SECONDS`), and how long writes wait on it before they end
    /// `SIS_UNAVAILABLE` (`outbox.unreachableWindowHours`, `OUTBOX_UNREACHABLE_WINDOW_HOURS`).
    public var outboxProbeIntervalSeconds = 5
    public var outboxUnreachableWindowHours = 24

    public init(
        databasePath: String, connections: [String: Connection], metricsToken: String? = nil, api: APISettings = APISettings(),
        rosterDeletionLimit: RosterDeletionLimit = RosterDeletionLimit()
    ) {
        self.databasePath = databasePath
        self.connections = connections
        self.metricsToken = metricsToken
        self.api = api
        self.rosterDeletionLimit = rosterDeletionLimit
    }

    /// Minutes between scheduled roster pulls when a connection does not say: a daily delta pull.
    public static let defaultRosterRefreshMinutes = 1440

    /// The shortest metrics token accepted: a guessable one would reopen what it closes.
    public static let minimumMetricsTokenLength = 16

    /// A configuration problem, saying which key to fix.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// Reads the file (optional) and the environment.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> PassbackConfiguration {
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider(environmentVariables: environment)]
        if let file {
            guard FileManager.default.fileExists(atPath: file) else { throw Problem("config file \(file) does not exist") }
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
            } catch {
                throw Problem("config file \(file) is not valid JSON: \(error)")
            }
        }
        return try read(ConfigReader(providers: providers))
    }

    /// `lti.platformIds` (`LTI_PLATFORM_IDS`) and each one's `lti.platform.<id>.issuer`,
    /// `clientId`, `deploymentIds`, `authURL`, `jwksURL`, and optional `tokenURL`, `connection`, `org`.
    static func ltiPlatforms(_ config: ConfigReader) throws -> [LTIPlatform] {
        func list(_ key: ConfigKey) -> [String] {
            (config.stringArray(forKey: key) ?? config.string(forKey: key)?.split(separator: ",").map(String.init) ?? [])
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return try list(ConfigKey(["lti", "platformIds"])).map { id in
            guard ConnectionSettings.isValidID(id) else { throw Problem("LTI platform id '\(id)' must be 1-64 characters of a-z, 0-9 and _") }
            func key(_ name: String) -> ConfigKey { ConfigKey(["lti", "platform", id, name]) }
            func environment(_ name: String) -> String {
                "LTI_PLATFORM_\(id.uppercased())_"
                    + name.replacingOccurrences(of: "URL", with: "Url").reduce(into: "") { out, c in
                        if c.isUppercase, !out.isEmpty { out += "_" }
                        out += c.uppercased()
                    }
            }
            func required(_ name: String) throws -> String {
                guard let value = config.string(forKey: key(name)), !value.isEmpty else {
                    throw Problem("lti.platform.\(id).\(name) is missing (environment: \(environment(name)))")
                }
                return value
            }
            let deployments = list(key("deploymentIds"))
            guard !deployments.isEmpty else {
                throw Problem(
                    "lti.platform.\(id).deploymentIds is missing: the LMS's deployment ids of Passback (environment: \(environment("deploymentIds")))")
            }
            return LTIPlatform(
                id: id,
                registration: LTIRegistration(
                    issuer: try required("issuer"), clientID: try required("clientId"), deploymentIDs: deployments, authURL: try required("authURL"),
                    jwksURL: try required("jwksURL"), tokenURL: config.string(forKey: key("tokenURL")), connectionID: config.string(forKey: key("connection")),
                    orgSourcedId: config.string(forKey: key("org"))))
        }
    }

    static func read(_ config: ConfigReader) throws -> PassbackConfiguration {
        var connections: [String: Connection] = [:]
        let ids =
            config.stringArray(forKey: "connectionIds") ?? config.string(forKey: "connectionIds")?.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            } ?? []
        for id in ids {
            guard ConnectionSettings.isValidID(id) else {
                throw Problem("connection id '\(id)' must be 1-64 characters of a-z, 0-9 and _")
            }
            func key(_ name: String) -> ConfigKey { ConfigKey(["connection", id, name]) }
            guard let base = config.string(forKey: key("baseURL")), let baseURL = URL(string: base), baseURL.scheme != nil else {
                throw Problem("connection.\(id).baseURL is missing or not a URL (environment: CONNECTION_\(id.uppercased())_BASE_URL)")
            }
            let authText = config.string(forKey: key("auth"), default: "oauth2")
            guard let auth = ConnectionSettings.AuthKind(rawValue: authText) else {
                throw Problem("connection.\(id).auth must be oauth2, oauth1 or none (got '\(authText)')")
            }
            let secret = config.string(forKey: key("clientSecret"), isSecret: true) ?? ""
            if auth != .none, secret.isEmpty {
                throw Problem("connection \(id) has no secret: set CONNECTION_\(id.uppercased())_CLIENT_SECRET in the environment")
            }
            var tokenURL: URL?
            if let t = config.string(forKey: key("tokenURL")), !t.isEmpty {
                guard let u = URL(string: t), u.scheme != nil else { throw Problem("connection.\(id).tokenURL is not a URL") }
                tokenURL = u
            }
            let scopes = config.string(forKey: key("scopes"), default: "").split(separator: " ").map(String.init)
            guard let method = OAuthSignatureMethod(rawValue: config.string(forKey: key("signatureMethod"), default: "HMAC-SHA256")) else {
                throw Problem("connection.\(id).signatureMethod must be HMAC-SHA256 or HMAC-SHA1")
            }
            let calendar = try calendar(config, id: id)
            let limits = try limits(config, id: id)
            let settings = ConnectionSettings(
                id: id, baseURL: baseURL, profile: config.string(forKey: key("profile"), default: "standard"), auth: auth,
                clientID: config.string(forKey: key("clientId"), default: ""), secretVariable: "CONNECTION_\(id.uppercased())_CLIENT_SECRET",
                tokenURL: tokenURL, scopes: scopes, signatureMethod: method,
                replayTokenCookies: config.bool(forKey: key("replayTokenCookies"), default: false),
                requestsPerMinute: config.int(forKey: key("requestsPerMinute"), default: 1800),
                pageSize: config.int(forKey: key("pageSize"), default: 500),
                concurrency: config.int(forKey: key("concurrency"), default: 4),
                timeZone: calendar.zone, orgTimeZones: calendar.orgZones, limits: limits,
                verifyWrites: config.bool(forKey: key("verifyWrites"), default: false),
                rosterRefreshMinutes: config.int(forKey: key("rosterRefreshMinutes"), default: defaultRosterRefreshMinutes))
            guard settings.rosterRefreshMinutes >= 0 else {
                throw Problem(
                    "connection.\(id).rosterRefreshMinutes (CONNECTION_\(id.uppercased())_ROSTER_REFRESH_MINUTES) is the minutes between "
                        + "scheduled roster pulls, 0 for none, got \(settings.rosterRefreshMinutes)")
            }
            guard settings.requestsPerMinute > 0, (1...10_000).contains(settings.pageSize) else {
                throw Problem("connection.\(id): requestsPerMinute must be positive and pageSize between 1 and 10000")
            }
            let range = ConnectionSettings.concurrencyRange
            guard range.contains(settings.concurrency) else {
                throw Problem(
                    "connection.\(id).concurrency (writes in flight at once) must be between \(range.lowerBound) and \(range.upperBound), got \(settings.concurrency)"
                )
            }
            if let problem = limits.problems(on: VendorProfile.named(settings.profile) ?? .standard, keyPrefix: "connection.\(id).").first {
                throw Problem(problem)
            }
            connections[id] = Connection(settings: settings, secret: secret)
        }
        var metricsToken = config.string(forKey: "metricsToken", isSecret: true)
        if metricsToken?.isEmpty == true { metricsToken = nil }
        if let t = metricsToken, t.count < minimumMetricsTokenLength || t.contains(where: \.isWhitespace) {
            throw Problem(
                "metricsToken (METRICS_TOKEN) must be at least \(minimumMetricsTokenLength) characters without spaces; generate one, e.g. `openssl rand -hex 32`"
            )
        }
        func positive(_ name: String, environment: String) throws -> Int? {
            guard let n = config.int(forKey: ConfigKey(["api", name])) else { return nil }
            guard n > 0 else { throw Problem("api.\(name) (\(environment)) must be a positive whole number, got \(n)") }
            return n
        }
        let engine = config.string(forKey: ConfigKey(["api", "engine"]), default: "planned")
        guard engine == "planned" || engine == "reference" else {
            throw Problem("api.engine (API_ENGINE) is planned (the default) or reference (GraphQLSwift's executor for everything), got \(engine)")
        }
        let documents = config.string(forKey: ConfigKey(["api", "documents"]), default: "any")
        guard documents == "any" || documents == "trusted" else {
            throw Problem(
                "api.documents (API_DOCUMENTS) is any (the default: any document runs) or trusted (only the clients' documents and api.trustedDocuments), got \(documents)"
            )
        }
        let api = APISettings(
            maxInFlightPerToken: try positive("maxInFlightPerToken", environment: "API_MAX_IN_FLIGHT_PER_TOKEN"),
            costBucket: try positive("costBucket", environment: "API_COST_BUCKET"),
            costPerSecond: try positive("costPerSecond", environment: "API_COST_PER_SECOND"),
            deadlineSeconds: try positive("deadlineSeconds", environment: "API_DEADLINE_SECONDS"), referenceEngine: engine == "reference",
            onlyTrustedDocuments: documents == "trusted",
            trustedDocuments: try Self.trustedDocuments(at: config.string(forKey: ConfigKey(["api", "trustedDocuments"]))))
        let share = config.double(forKey: ConfigKey(["roster", "maxDeleteShare"]), default: RosterDeletionLimit.defaultMaxShare)
        guard (0...1).contains(share) else {
            throw Problem(
                "roster.maxDeleteShare (ROSTER_MAX_DELETE_SHARE) is the share of a collection's active rows a bulk file or full pull may delete, between 0 and 1 (0.2 is 20 %), got \(share)"
            )
        }
        let rows = config.int(forKey: ConfigKey(["roster", "maxDeleteRows"]), default: RosterDeletionLimit.defaultMaxRows)
        guard rows >= 0 else { throw Problem("roster.maxDeleteRows (ROSTER_MAX_DELETE_ROWS) must be 0 or more, got \(rows)") }
        let limit = RosterDeletionLimit(
            maxShare: share, maxRows: rows,
            allowMassDelete: config.bool(forKey: ConfigKey(["roster", "allowMassDelete"]), default: false))
        var result = PassbackConfiguration(
            databasePath: config.string(forKey: "database", default: "passback.sqlite"), connections: connections,
            metricsToken: metricsToken, api: api, rosterDeletionLimit: limit)
        func nonNegative(_ key: [String], environment: String) throws -> Int? {
            guard let n = config.int(forKey: ConfigKey(key)) else { return nil }
            guard n >= 0 else { throw Problem("\(key.joined(separator: ".")) (\(environment)) must be a whole number, 0 or more, got \(n)") }
            return n
        }
        if let wait = try nonNegative(["roster", "maxWaitSeconds"], environment: "ROSTER_MAX_WAIT_SECONDS") { result.rosterMaxWaitSeconds = wait }
        if let file = config.string(forKey: ConfigKey(["lti", "keyFile"])), !file.isEmpty { result.ltiKeyFile = file }
        result.ltiPlatforms = try ltiPlatforms(config)
        if let url = config.string(forKey: "publicURL"), !url.isEmpty {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw Problem("publicURL (PUBLIC_URL) is the http(s) URL LMSs reach this server at, such as https://passback.district.org; got \(url)")
            }
            result.publicURL = url
        }
        for (key, environment) in [("probeIntervalSeconds", "OUTBOX_PROBE_INTERVAL_SECONDS"), ("unreachableWindowHours", "OUTBOX_UNREACHABLE_WINDOW_HOURS")] {
            guard let n = config.int(forKey: ConfigKey(["outbox", key])) else { continue }
            guard n > 0 else { throw Problem("outbox.\(key) (\(environment)) must be a positive whole number, got \(n)") }
            if key == "probeIntervalSeconds" { result.outboxProbeIntervalSeconds = n } else { result.outboxUnreachableWindowHours = n }
        }
        func positiveLimit(_ name: String, _ environment: String) throws -> Int? {
            guard let n = config.int(forKey: ConfigKey(["csv", name])) else { return nil }
            guard n > 0 else { throw Problem("csv.\(name) (\(environment)) must be a positive whole number, got \(n)") }
            return n
        }
        if let n = try positiveLimit("maxFieldBytes", "CSV_MAX_FIELD_BYTES") { result.csvLimits.maxFieldBytes = n }
        if let n = try positiveLimit("maxRowBytes", "CSV_MAX_ROW_BYTES") { result.csvLimits.maxRowBytes = n }
        if let n = try positiveLimit("maxEntryBytes", "CSV_MAX_ENTRY_BYTES") { result.csvLimits.maxEntryBytes = Int64(n) }
        if let n = try positiveLimit("maxCompressionRatio", "CSV_MAX_COMPRESSION_RATIO") { result.csvLimits.maxCompressionRatio = n }
        return result
    }

    /// The connection's time zone and its schools' own (`timeZone`, `orgTimeZones`): IANA names only.
    static func calendar(_ config: ConfigReader, id: String) throws -> (zone: String, orgZones: [String: String]) {
        let prefix = "connection.\(id)."
        let environment = "CONNECTION_\(id.uppercased())_"
        let zone = config.string(forKey: ConfigKey(["connection", id, "timeZone"]), default: SchoolCalendar.defaultZoneName)
        guard SchoolCalendar.isIANAName(zone) else {
            throw Problem(
                "\(prefix)timeZone (\(environment)TIME_ZONE) must be an IANA time zone name such as America/Los_Angeles "
                    + "or Europe/London, got '\(zone)'\(zoneHint(zone))")
        }
        let key = ConfigKey(["connection", id, "orgTimeZones"])
        let pairs = config.stringArray(forKey: key) ?? config.string(forKey: key)?.split(separator: ",").map(String.init) ?? []
        var orgZones: [String: String] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw Problem(
                    "\(prefix)orgTimeZones (\(environment)ORG_TIME_ZONES) lists ORG_SOURCEDID=ZONE pairs, "
                        + "e.g. [\"school-12=America/Phoenix\"]; '\(pair)' is not one")
            }
            guard SchoolCalendar.isIANAName(parts[1]) else {
                throw Problem(
                    "\(prefix)orgTimeZones: the zone of org '\(parts[0])' must be an IANA time zone name such as "
                        + "America/Phoenix, got '\(parts[1])'\(zoneHint(parts[1]))")
            }
            guard orgZones[parts[0]] == nil || orgZones[parts[0]] == parts[1] else {
                throw Problem("\(prefix)orgTimeZones gives org '\(parts[0])' two zones (\(orgZones[parts[0]]!) and \(parts[1])); keep one")
            }
            orgZones[parts[0]] = parts[1]
        }
        return (zone, orgZones)
    }

    /// A hint for a zone name that is close to a real one (an abbreviation, or the wrong case).
    static func zoneHint(_ name: String) -> String {
        if let match = TimeZone.knownTimeZoneIdentifiers.first(where: { $0.lowercased() == name.lowercased() }) { return " (did you mean \(match)?)" }
        if name.count <= 5, name == name.uppercased() { return " (abbreviations such as PST do not follow daylight saving; use the zone's name)" }
        return ""
    }

    /// The connection's overrides of its vendor profile's limits. A value of the wrong type is
    /// refused, never read as "not set".
    static func limits(_ config: ConfigReader, id: String) throws -> ProfileLimits {
        func present(_ name: String) -> Bool {
            let key = ConfigKey(["connection", id, name])
            return config.string(forKey: key) != nil || config.int(forKey: key) != nil || config.bool(forKey: key) != nil
                || config.double(forKey: key) != nil
        }
        func environment(_ name: String) -> String {
            "CONNECTION_\(id.uppercased())_" + name.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression).uppercased()
        }
        func int(_ name: String) throws -> Int? {
            let key = ConfigKey(["connection", id, name])
            if let n = config.int(forKey: key) ?? config.string(forKey: key).flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) { return n }
            guard !present(name) else {
                throw Problem(
                    "connection.\(id).\(name) (\(environment(name))) must be a whole number of characters, got "
                        + "'\(config.string(forKey: key) ?? config.double(forKey: key).map { "\($0)" } ?? config.bool(forKey: key).map { "\($0)" } ?? "?")'")
            }
            return nil
        }
        let dueKey = ConfigKey(["connection", id, "dueDateRequired"])
        let dueDateRequired = config.bool(forKey: dueKey)
        if dueDateRequired == nil, present("dueDateRequired") {
            throw Problem(
                "connection.\(id).dueDateRequired (\(environment("dueDateRequired"))) must be true or false, got "
                    + "'\(config.string(forKey: dueKey) ?? config.int(forKey: dueKey).map { "\($0)" } ?? "?")'")
        }
        return ProfileLimits(
            titleLimit: try int("titleLimit"), categoryTitleLimit: try int("categoryTitleLimit"), commentLimit: try int("commentLimit"),
            dueDateRequired: dueDateRequired, genericCategory: config.string(forKey: ConfigKey(["connection", id, "genericCategory"])))
    }

    /// The connection named `id`, or an error listing the configured ones.
    public func connection(_ id: String) throws -> Connection {
        guard let c = connections[id] else {
            throw Problem(
                "no connection '\(id)' is configured (configured: \(connections.keys.sorted().joined(separator: ", ").isEmpty ? "none" : connections.keys.sorted().joined(separator: ", ")))"
            )
        }
        return c
    }
}

extension PassbackConfiguration {
    /// The documents at `path` (`api.trustedDocuments`): the file, or each `.graphql` file of the
    /// directory in name order. A path that cannot be read stops the start, naming it.
    static func trustedDocuments(at path: String?) throws -> [TrustedDocument] {
        guard let path, !path.isEmpty else { return [] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Problem("api.trustedDocuments (API_TRUSTED_DOCUMENTS) names \(path), which does not exist: give a .graphql file or a directory of them")
        }
        let files: [String]
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.filter { $0.hasSuffix(".graphql") }.sorted().map { (path as NSString).appendingPathComponent($0) }
            guard !files.isEmpty else { throw Problem("api.trustedDocuments (API_TRUSTED_DOCUMENTS): \(path) holds no .graphql file") }
        } else {
            files = [path]
        }
        return try files.map { file in
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw Problem("api.trustedDocuments (API_TRUSTED_DOCUMENTS): \(file) cannot be read as UTF-8 text")
            }
            return TrustedDocument(path: file, text: text)
        }
    }
}
