import Foundation

/// How one SIS product departs from plain OneRoster 1.1: the limits and habits the rules and
/// the sync layer must respect so that a write is accepted the first time.
///
/// Profiles hold only facts that can be sourced (the standard, `shared/docs/ONEROSTER.md`,
/// the seeds). Where a fact about a named SIS is not known, its profile keeps the standard
/// default **and names that field in `usesStandardDefaultFor`**, so an operator (and the
/// admin UI) can tell a verified limit from a guess and override it for their district.
public struct VendorProfile: Sendable, Hashable {
    /// Who picks the grading period of a lineItem.
    public enum GradingPeriodPolicy: String, Sendable, Hashable {
        /// Passback derives it from the due date and sends it (what 1.1 expects).
        case send
        /// Send none: the SIS derives it from the due date itself.
        case sisDerives
    }

    /// What happens to a material that has no category.
    public enum Uncategorized: Sendable, Hashable {
        /// It is not synced (`UNCATEGORIZED`).
        case notSynced
        /// It is synced under one generic SIS category with this title (see `Validation.genericCategory`).
        case genericCategory(title: String)
    }

    /// The HTTP status the SIS uses to say "slow down"; both are honoured with `Retry-After`.
    public enum RateLimitSignal: String, Sendable, Hashable {
        case status429, status403
    }

    /// How the SIS authenticates clients.
    public enum OAuthVersion: String, Sendable, Hashable {
        /// OAuth 2 client credentials, the norm.
        case oauth2
        /// OAuth 1.0a signed requests, legacy but still deployed.
        case oauth1
    }

    /// Short id (`[a-z_]`), stored in connection settings.
    public var id: String
    /// The SIS's own display name, as in seed 003: what users pick from a list.
    public var displayName: String
    /// Most characters a lineItem title may have; `nil` = no limit.
    public var titleLimit: Int?
    /// Most characters a category title may have; `nil` = no limit.
    public var categoryTitleLimit: Int?
    /// Most characters of a result comment; longer ones are cut (a warning, not an error).
    public var commentLimit: Int
    /// Whether a lineItem without a due date is refused.
    public var dueDateRequired: Bool
    /// Whether a due date outside every grading period of the term is refused.
    public var dueDateMustBeInGradingPeriod: Bool
    /// Who picks the lineItem's grading period.
    public var gradingPeriod: GradingPeriodPolicy
    /// What happens to a material with no category.
    public var uncategorized: Uncategorized
    /// Whether the SIS accepts DELETE on gradebook objects.
    public var deleteSupported: Bool
    /// The status the SIS answers when rate limiting.
    public var rateLimitSignal: RateLimitSignal
    /// The authentication the SIS expects.
    public var oauthVersion: OAuthVersion
    /// Whether the OAuth 2 token request must carry a scope (some answer 400 without one).
    public var scopeRequired: Bool
    /// Whether the token URL follows the standard's `{base URL}/token`; if not, an operator must type it in.
    public var standardTokenURL: Bool
    /// A score above this many times the item's maximum points is sent but flagged
    /// (`SCORE_UNUSUALLY_HIGH`, a warning). Passback's own guard against typos such as 1e308,
    /// not a fact about the SIS (so not in `factFields`): extra credit above the maximum is
    /// legitimate, a hundredfold is not. 10 unless a profile says otherwise.
    public var scoreWarningMultiple: Double = 10
    /// Names of the fields above whose value is not a known fact about this SIS and is the
    /// standard profile's default. Empty for the standard profile itself.
    public var usesStandardDefaultFor: Set<String>

    /// Every profile field that can be a defaulted guess, by name: the vocabulary of `usesStandardDefaultFor`.
    public static let factFields: [String] = [
        "titleLimit", "categoryTitleLimit", "commentLimit", "dueDateRequired", "dueDateMustBeInGradingPeriod",
        "gradingPeriod", "uncategorized", "deleteSupported", "rateLimitSignal", "oauthVersion", "scopeRequired",
        "standardTokenURL"
    ]

    /// A profile with every field given; see the static profiles for the ones that ship.
    public init(
        id: String, displayName: String, titleLimit: Int?, categoryTitleLimit: Int?, commentLimit: Int, dueDateRequired: Bool,
        dueDateMustBeInGradingPeriod: Bool, gradingPeriod: GradingPeriodPolicy, uncategorized: Uncategorized,
        deleteSupported: Bool, rateLimitSignal: RateLimitSignal, oauthVersion: OAuthVersion, scopeRequired: Bool,
        standardTokenURL: Bool, usesStandardDefaultFor: Set<String>
    ) {
        self.id = id
        self.displayName = displayName
        self.titleLimit = titleLimit
        self.categoryTitleLimit = categoryTitleLimit
        self.commentLimit = commentLimit
        self.dueDateRequired = dueDateRequired
        self.dueDateMustBeInGradingPeriod = dueDateMustBeInGradingPeriod
        self.gradingPeriod = gradingPeriod
        self.uncategorized = uncategorized
        self.deleteSupported = deleteSupported
        self.rateLimitSignal = rateLimitSignal
        self.oauthVersion = oauthVersion
        self.scopeRequired = scopeRequired
        self.standardTokenURL = standardTokenURL
        self.usesStandardDefaultFor = usesStandardDefaultFor
    }

    /// Plain OneRoster 1.1, for any SIS not listed and the default of every unknown fact.
    ///
    /// 1.1 puts no limit on titles (many SIS cap them at 50, but that is theirs to say);
    /// its lineItem model requires a due date and a grading period, so Passback derives the
    /// period from the due date and sends it; it defines DELETE; rate limiting is 429;
    /// OAuth 2 with the `{base URL}/token` pattern is what the standard recommends. Comments
    /// are cut at 100 characters, the limit seed 001 states for every SIS partner.
    /// Uncategorised items are not synced, as seed 001 says for every SIS but one.
    public static let standard = VendorProfile(
        id: "standard", displayName: "Standard OneRoster 1.1", titleLimit: nil, categoryTitleLimit: nil, commentLimit: 100,
        dueDateRequired: true, dueDateMustBeInGradingPeriod: true, gradingPeriod: .send, uncategorized: .notSynced,
        deleteSupported: true, rateLimitSignal: .status429, oauthVersion: .oauth2, scopeRequired: false,
        standardTokenURL: true, usesStandardDefaultFor: [])

    /// A partner of seed 003 about which nothing beyond its name is sourced: the standard
    /// profile under its own id and display name, with every fact field marked as defaulted
    /// except `commentLimit` (seed 001 states the 100-character comment limit for every partner).
    static func partner(id: String, displayName: String) -> VendorProfile {
        var profile = standard
        profile.id = id
        profile.displayName = displayName
        profile.usesStandardDefaultFor = Set(factFields).subtracting(["commentLimit"])
        return profile
    }

    /// Infinite Campus (seed 003: Available). Known: its display name; the 100-character
    /// comment limit (seed 001). Everything else is the standard default.
    public static let infiniteCampus = partner(id: "infinite_campus", displayName: "Infinite Campus")

    /// Aeries (seed 003: Available). Known: its display name; the comment limit (seed 001).
    /// Everything else is the standard default.
    public static let aeries = partner(id: "aeries", displayName: "Aeries")

    /// Focus School Software (seed 003: Available). Known: its display name; the comment
    /// limit (seed 001). Everything else is the standard default.
    public static let focusSchoolSoftware = partner(id: "focus_school_software", displayName: "Focus School Software")

    /// Progressbook (seed 003: Available; spelled so there). Known: its display name; the
    /// comment limit (seed 001). Everything else is the standard default.
    public static let progressbook = partner(id: "progressbook", displayName: "Progressbook")

    /// Skyward (seed 003: Available). Known: its display name; the comment limit (seed 001).
    /// Everything else is the standard default.
    public static let skyward = partner(id: "skyward", displayName: "Skyward")

    /// Synergy (seed 003: Available). Known: its display name; the comment limit; and that an
    /// uncategorised item still syncs "under a generic category" (seed 001), so `uncategorized`
    /// is a fact. The category's title is not given anywhere: "General" is Passback's choice
    /// (the SIS's settings decide how it shows). Everything else is the standard default.
    public static let synergy: VendorProfile = {
        var profile = partner(id: "synergy", displayName: "Synergy")
        profile.uncategorized = .genericCategory(title: "General")
        profile.usesStandardDefaultFor.remove("uncategorized")
        return profile
    }()

    /// eSchool Data (seed 003: In Pilot). Known: its display name; the comment limit (seed 001).
    /// Everything else is the standard default.
    public static let eSchoolData = partner(id: "eschool_data", displayName: "eSchool Data")

    /// Follett Aspen (seed 003: In Pilot). Known: its display name; the comment limit (seed 001).
    /// Everything else is the standard default.
    public static let follettAspen = partner(id: "follett_aspen", displayName: "Follett Aspen")

    /// SchoolTool (seed 003: In Pilot). Known: its display name; the comment limit (seed 001).
    /// Everything else is the standard default.
    public static let schoolTool = partner(id: "schooltool", displayName: "SchoolTool")

    /// Aequitas (seed 003: In Contact, so not yet integrated anywhere). Known: its display
    /// name; the comment limit (seed 001). Everything else is the standard default.
    public static let aequitas = partner(id: "aequitas", displayName: "Aequitas")

    /// FACTS SIS (seed 003: In Testing). Known: its display name; the comment limit (seed 001).
    /// Everything else is the standard default.
    public static let factsSIS = partner(id: "facts_sis", displayName: "FACTS SIS")

    /// Every shipped profile: the standard first (the default choice), then the partners in
    /// seed 003's order, which is the order users see them listed.
    public static let all: [VendorProfile] = [
        standard, infiniteCampus, aeries, focusSchoolSoftware, progressbook, skyward, synergy, eSchoolData, follettAspen,
        schoolTool, aequitas, factsSIS
    ]

    /// The profile with this id or display name, ignoring case and surrounding spaces (a
    /// configuration file may say `Infinite Campus` or `infinite_campus`); `nil` if none.
    public static func named(_ idOrDisplayName: String) -> VendorProfile? {
        let wanted = idOrDisplayName.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return all.first { $0.id.lowercased() == wanted || $0.displayName.lowercased() == wanted }
    }
}
