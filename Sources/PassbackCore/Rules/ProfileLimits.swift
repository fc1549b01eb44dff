import Foundation

/// A district's own word on its SIS's limits, set per connection: it replaces what the vendor
/// profile says (or guesses) for that field. A district knows that its SIS cuts titles at 50
/// characters long before a profile can; checked by the rules, a title over it is an item
/// problem before anything is queued, not a refusal after the write was sent.
///
/// Every field is optional: `nil` keeps the profile's value.
public struct ProfileLimits: Sendable, Hashable, Codable {
    /// Most characters of a lineItem title (`titleLimit`).
    public var titleLimit: Int?
    /// Most characters of a category title (`categoryTitleLimit`): Passback writes one category
    /// title, the generic category's, so it is checked against that.
    public var categoryTitleLimit: Int?
    /// Most characters of a result comment; longer ones are sent cut (`commentLimit`).
    public var commentLimit: Int?
    /// Whether a lineItem without a due date is refused (`dueDateRequired`).
    public var dueDateRequired: Bool?
    /// The title of the generic SIS category uncategorised items go under (`genericCategory`);
    /// an empty title means none: uncategorised items are not synced (`UNCATEGORIZED`).
    public var genericCategory: String?

    /// Overrides; leave a field out to keep the profile's value.
    public init(
        titleLimit: Int? = nil, categoryTitleLimit: Int? = nil, commentLimit: Int? = nil, dueDateRequired: Bool? = nil,
        genericCategory: String? = nil
    ) {
        self.titleLimit = titleLimit
        self.categoryTitleLimit = categoryTitleLimit
        self.commentLimit = commentLimit
        self.dueDateRequired = dueDateRequired
        self.genericCategory = genericCategory
    }

    /// The values a character limit may take: at least one character, and no more than any SIS field holds.
    public static let limitRange = 1...100_000

    /// Whether nothing is overridden.
    public var isEmpty: Bool { self == ProfileLimits() }

    /// `profile` with these overrides in force. An overridden field is the district's fact, so it
    /// leaves `usesStandardDefaultFor`.
    public func applied(to profile: VendorProfile) -> VendorProfile {
        var p = profile
        if let titleLimit {
            p.titleLimit = titleLimit
            p.usesStandardDefaultFor.remove("titleLimit")
        }
        if let categoryTitleLimit {
            p.categoryTitleLimit = categoryTitleLimit
            p.usesStandardDefaultFor.remove("categoryTitleLimit")
        }
        if let commentLimit {
            p.commentLimit = commentLimit
            p.usesStandardDefaultFor.remove("commentLimit")
        }
        if let dueDateRequired {
            p.dueDateRequired = dueDateRequired
            p.usesStandardDefaultFor.remove("dueDateRequired")
        }
        if let genericCategory {
            p.uncategorized = genericCategory.isEmpty ? .notSynced : .genericCategory(title: genericCategory)
            p.usesStandardDefaultFor.remove("uncategorized")
        }
        return p
    }

    /// What is wrong with these overrides on top of `profile`, in words that name the key to fix
    /// (`connection.ID.` is the caller's prefix); empty when nothing is.
    public func problems(on profile: VendorProfile, keyPrefix: String) -> [String] {
        var out: [String] = []
        for (name, value) in [("titleLimit", titleLimit), ("categoryTitleLimit", categoryTitleLimit), ("commentLimit", commentLimit)] {
            if let value, !Self.limitRange.contains(value) {
                out.append(
                    "\(keyPrefix)\(name) must be a whole number of characters from \(Self.limitRange.lowerBound) to "
                        + "\(Self.limitRange.upperBound), got \(value)")
            }
        }
        if let genericCategory, genericCategory != genericCategory.trimmingCharacters(in: .whitespacesAndNewlines) {
            out.append("\(keyPrefix)genericCategory must not start or end with spaces (got '\(genericCategory)')")
        }
        let effective = applied(to: profile)
        if case .genericCategory(let title) = effective.uncategorized, let limit = effective.categoryTitleLimit, title.count > limit {
            out.append(
                "the generic category '\(title)' has \(title.count) characters but \(keyPrefix)categoryTitleLimit is \(limit): "
                    + "shorten \(keyPrefix)genericCategory or raise the limit")
        }
        return out
    }
}
