import PassbackCore

/// What the sweep after a complete listing (a bulk CSV file, a full REST pull) would do to one
/// collection, measured before it does anything.
public struct RosterDeletionCheck: Sendable, Hashable {
    /// How many sourcedIds a check lists.
    public static let sampleSize = 200

    public var collection: RosterCollection
    /// Active rows before the sweep.
    public var active: Int
    /// Active rows the listing did not name: the sweep marks them `tobedeleted`.
    public var deleting: Int
    /// The first of them by sourcedId (at most ``sampleSize``).
    public var sample: [String]
    /// The listing named no row at all.
    public var listedNothing: Bool
    /// Why the deletions must wait for the operator, if they must.
    public var refusal: RosterDeletionLimit.Refusal?

    public init(
        collection: RosterCollection, active: Int, deleting: Int, sample: [String], listedNothing: Bool,
        refusal: RosterDeletionLimit.Refusal?
    ) {
        self.collection = collection
        self.active = active
        self.deleting = deleting
        self.sample = sample
        self.listedNothing = listedNothing
        self.refusal = refusal
    }

    /// `150 of 200 active rows (75 %)`.
    public var proportion: String {
        let percent = active == 0 ? 0 : Int((Double(deleting) * 100 / Double(active)).rounded())
        return "\(deleting) of \(active) active rows (\(percent) %)"
    }

    /// The refusal as a sentence, naming the rule and the first rows.
    public func explanation(limit: RosterDeletionLimit) -> String? {
        guard let refusal else { return nil }
        let first = sample.prefix(10).joined(separator: ", ") + (deleting > 10 ? ", ..." : "")
        switch refusal {
        case .emptyListing:
            return "the \(collection.rawValue) listing names no record at all (a header-only bulk file or an empty collection), "
                + "yet it would mark all \(deleting) active \(collection.rawValue) deleted (\(first))"
        case .overLimit:
            return "\(collection.rawValue): the listing would mark \(proportion) deleted, over the limit of "
                + "\(limit.shareText) and \(limit.maxRows) rows (\(first))"
        }
    }
}

/// A complete listing would delete more than the ``RosterDeletionLimit`` allows: nothing was
/// marked deleted. The message says how many, of which collection, and how to go ahead.
public struct MassDeletionRefused: Error, Sendable, CustomStringConvertible {
    public var checks: [RosterDeletionCheck]
    public var limit: RosterDeletionLimit

    public init(checks: [RosterDeletionCheck], limit: RosterDeletionLimit) {
        self.checks = checks
        self.limit = limit
    }

    public var description: String {
        checks.compactMap { $0.explanation(limit: limit) }.joined(separator: "; ")
            + ". Nothing was marked deleted. Check the SIS's export; `--dry-run` lists what would be deleted; if the deletions are "
            + "intended, run again with --allow-mass-delete (or set roster.allowMassDelete in the config)"
    }
}
