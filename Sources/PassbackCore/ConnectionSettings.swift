import Foundation
import OneRosterModels

/// One SIS as the operator configured it. The secret is never here: only the name of the
/// environment variable (or secrets-file entry) that holds it.
public struct ConnectionSettings: Sendable, Hashable {
    /// How Passback authenticates to the SIS.
    public enum AuthKind: String, Sendable, Hashable, CaseIterable {
        case oauth2, oauth1, none
    }

    /// Short id (`[a-z0-9_]`), used in commands and stored with every rostered row.
    public var id: String
    /// The OneRoster base URL, e.g. `https://sis.example.org/ims/oneroster/v1p1`.
    public var baseURL: URL
    /// Vendor profile name (`standard` when unknown).
    public var profile: String
    public var auth: AuthKind
    public var clientID: String
    /// Environment variable holding the client secret.
    public var secretVariable: String
    /// OAuth 2 token URL; `nil` means the standard's `{base URL}/token`.
    public var tokenURL: URL?
    /// OAuth 2 scopes; empty means every OneRoster scope.
    public var scopes: [String]
    /// OAuth 1.0a signature method: `HMAC-SHA256` or `HMAC-SHA1`.
    public var signatureMethod: OAuthSignatureMethod
    /// Send the cookies of the token response on later calls.
    public var replayTokenCookies: Bool
    /// Requests per minute this SIS allows (1,800 is a documented public limit).
    public var requestsPerMinute: Int
    /// `limit` for collection reads.
    public var pageSize: Int
    /// Writes in flight to this SIS at once.
    public var concurrency: Int
    /// IANA name of the zone the connection's schools keep their calendar in (`timeZone`): due dates
    /// are placed in grading periods by their local day there, and shown in it.
    public var timeZone: String
    /// Org `sourcedId` → IANA zone, for schools (or districts) of the connection in another zone
    /// (`orgTimeZones`); a school takes the nearest of itself and its parents that is listed.
    public var orgTimeZones: [String: String]
    /// The district's overrides of the vendor profile's limits.
    public var limits: ProfileLimits
    /// Read every accepted write back (`GET`) and compare the fields Passback owns (`verifyWrites`):
    /// a SIS that answers 200 but keeps other values shows `SIS_DIFFERS` instead of `SUCCESSFUL`.
    public var verifyWrites = false
    /// Minutes between scheduled delta pulls of the roster (`rosterRefreshMinutes`); 0 (the
    /// default here; the config file's is 1440, daily) means pulls happen only when asked for.
    public var rosterRefreshMinutes = 0
    /// The values `concurrency` may take.
    public static let concurrencyRange = 1...64

    public init(
        id: String, baseURL: URL, profile: String = "standard", auth: AuthKind = .oauth2, clientID: String = "",
        secretVariable: String = "", tokenURL: URL? = nil, scopes: [String] = [], signatureMethod: OAuthSignatureMethod = .hmacSHA256,
        replayTokenCookies: Bool = false, requestsPerMinute: Int = 1800, pageSize: Int = 500, concurrency: Int = 4,
        timeZone: String = SchoolCalendar.defaultZoneName, orgTimeZones: [String: String] = [:], limits: ProfileLimits = ProfileLimits(),
        verifyWrites: Bool = false, rosterRefreshMinutes: Int = 0
    ) {
        self.verifyWrites = verifyWrites
        self.rosterRefreshMinutes = rosterRefreshMinutes
        self.id = id
        self.baseURL = baseURL
        self.profile = profile
        self.auth = auth
        self.clientID = clientID
        self.secretVariable = secretVariable
        self.tokenURL = tokenURL
        self.scopes = scopes
        self.signatureMethod = signatureMethod
        self.replayTokenCookies = replayTokenCookies
        self.requestsPerMinute = requestsPerMinute
        self.pageSize = pageSize
        self.concurrency = concurrency
        self.timeZone = timeZone
        self.orgTimeZones = orgTimeZones
        self.limits = limits
    }

    /// The vendor profile the rules use: the named one (the standard when the name is unknown)
    /// with this connection's `limits` in force.
    public var effectiveProfile: VendorProfile {
        limits.applied(to: VendorProfile.named(profile) ?? .standard)
    }

    /// Whether `id` is a valid connection id.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }
}
