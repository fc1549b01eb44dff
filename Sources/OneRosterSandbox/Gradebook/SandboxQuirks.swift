import Foundation
import OneRoster

/// Ways a real SIS departs from the plain standard, switched on per run to test against.
public struct SandboxQuirks: Sendable, Hashable {
    /// Longest lineItem title accepted (many SIS: 50).
    public var titleLimit: Int?
    /// Longest category title accepted (some: 30).
    public var categoryTitleLimit: Int?
    /// Refuse a due date outside the lineItem's grading period.
    public var dueDateInGradingPeriod = false
    /// Derive the grading period from the due date when none is sent.
    public var deriveGradingPeriod = false
    /// Use a fixed placeholder category when none is sent.
    public var placeholderCategory = false
    /// No DELETE at all (answers 405).
    public var noDelete = false
    /// Signal rate limits with 403 "Rate Limit" instead of 429.
    public var rateLimitAs403 = false
    /// Require the OAuth 2 scope parameter (400 without it).
    public var requireScope = false
    /// Require the cookies set by the token response on every call (load-balancer affinity).
    public var requireAffinityCookie = false
    /// Accept only HMAC-SHA1 OAuth 1.0a signatures.
    public var oauth1SHA1Only = false
    /// Longest result comment accepted.
    public var commentLimit: Int?
    /// Leave out `X-Total-Count` (the client must then stop on a short page or a missing `next`).
    public var omitTotalCount = false
    /// The zone the SIS keeps its school calendar in: a due date's grading period is decided by its
    /// local day there (as a real SIS of a school in that zone does), not its UTC day.
    public var timeZone: TimeZone?
    /// Fields of a PUT body the SIS ignores: it answers 200 (or 201) but keeps the value it
    /// held, or, for a new record, a placeholder (a text field) or nothing. As a real SIS whose
    /// PUT answers 200 but leaves fields as they were.
    public var ignorePutFields: Set<String> = []
    /// The text a new record gets for an ignored text field.
    public static let ignoredFieldPlaceholder = "placeholder"

    public init() {}

    /// The quirk names `passback sandbox --quirks` accepts.
    public static let names = [
        "title-limit=N", "category-title-limit=N", "due-date-in-grading-period", "derive-grading-period",
        "placeholder-category", "no-delete", "rate-limit-403", "require-scope", "affinity-cookie", "oauth1-sha1-only",
        "comment-limit=N", "no-total-count", "time-zone=IANA_NAME", "ignore-put-fields=FIELD[+FIELD…]"
    ]

    /// Parses a comma-separated list such as `title-limit=50,no-delete`.
    public init(parsing text: String) throws(SandboxOptionError) {
        self.init()
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            func number() throws(SandboxOptionError) -> Int {
                guard parts.count == 2, let n = Int(parts[1]), n > 0 else {
                    throw SandboxOptionError("quirk '\(parts[0])' needs a positive number, as in \(parts[0])=50")
                }
                return n
            }
            switch parts[0] {
            case "title-limit": titleLimit = try number()
            case "category-title-limit": categoryTitleLimit = try number()
            case "comment-limit": commentLimit = try number()
            case "due-date-in-grading-period": dueDateInGradingPeriod = true
            case "derive-grading-period": deriveGradingPeriod = true
            case "placeholder-category": placeholderCategory = true
            case "no-delete": noDelete = true
            case "rate-limit-403": rateLimitAs403 = true
            case "require-scope": requireScope = true
            case "affinity-cookie": requireAffinityCookie = true
            case "oauth1-sha1-only": oauth1SHA1Only = true
            case "no-total-count": omitTotalCount = true
            case "ignore-put-fields":
                // `+` separates the fields (the list of quirks is comma-separated); a comma list
                // also works when this is the last quirk.
                guard parts.count == 2, !parts[1].isEmpty else {
                    throw SandboxOptionError("quirk 'ignore-put-fields' needs the fields, as in ignore-put-fields=title+comment")
                }
                ignorePutFields.formUnion(parts[1].split(separator: "+").map(String.init))
            case "time-zone":
                guard parts.count == 2, parts[1].contains("/") || parts[1] == "UTC", let zone = TimeZone(identifier: parts[1]) else {
                    throw SandboxOptionError("quirk 'time-zone' needs an IANA zone name, as in time-zone=America/Los_Angeles")
                }
                timeZone = zone
            default:
                throw SandboxOptionError("unknown quirk '\(parts[0])'; known: \(Self.names.joined(separator: ", "))")
            }
        }
    }
}

/// A bad sandbox option, with what to write instead.
public struct SandboxOptionError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}
