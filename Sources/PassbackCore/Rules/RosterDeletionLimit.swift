/// How many rows a complete roster listing (a bulk CSV file, a full REST pull) may mark deleted
/// before Passback stops and asks, as districts' roster services do. A listing that lacks most
/// of a collection is far more often a broken export or a misbehaving SIS than a real change,
/// and un-rostering a school by mistake loses enrollments and teacher rights at once.
public struct RosterDeletionLimit: Sendable, Hashable {
    /// The share of a collection's active rows (0...1) a listing may delete: 0.2 by default.
    public var maxShare: Double
    /// Deletions up to this many are always allowed, so small collections are not tripped.
    public var maxRows: Int
    /// The operator said to go ahead (`--allow-mass-delete`, `roster.allowMassDelete`).
    public var allowMassDelete: Bool

    public static let defaultMaxShare = 0.2
    public static let defaultMaxRows = 10

    public init(maxShare: Double = defaultMaxShare, maxRows: Int = defaultMaxRows, allowMassDelete: Bool = false) {
        self.maxShare = maxShare
        self.maxRows = maxRows
        self.allowMassDelete = allowMassDelete
    }

    /// Why a listing's deletions must wait for the operator, or `nil` when they may go ahead.
    /// - Parameters:
    ///   - deleting: active rows the listing does not name (the sweep would mark them deleted).
    ///   - active: the collection's active rows before the sweep.
    ///   - listedNothing: the listing named no row at all (a header-only CSV file, an empty collection).
    public func refusal(deleting: Int, active: Int, listedNothing: Bool) -> Refusal? {
        guard !allowMassDelete, deleting > 0 else { return nil }
        if listedNothing { return .emptyListing }
        if deleting > maxRows && Double(deleting) > maxShare * Double(active) { return .overLimit }
        return nil
    }

    /// Which rule stopped a listing.
    public enum Refusal: Sendable, Hashable {
        /// The listing named no row, yet the collection has active rows.
        case emptyListing
        /// More than `maxRows` and more than `maxShare` of the active rows.
        case overLimit
    }

    /// `20 %`, for messages.
    public var shareText: String {
        let percent = maxShare * 100
        return percent == percent.rounded() ? "\(Int(percent)) %" : "\(percent) %"
    }
}
