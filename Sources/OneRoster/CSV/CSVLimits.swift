import Foundation

/// Bounds on what a CSV export may hold, so that any input — a damaged zip, a hostile one, the
/// wrong file — is refused quickly in bounded memory instead of being read for minutes.
///
/// The defaults are far above any real roster and far below what hurts: a OneRoster field is
/// an id, a name, a date or a short list of ids (kilobytes at most), a row is a few dozen of
/// them, and the largest district exports hold some hundreds of megabytes per file. Roster CSVs
/// deflate about 5 to 15 to 1 (the sandbox's generated export, more regular than a real one:
/// `users.csv` 6:1, `enrollments.csv` 15:1; ids and dates repeat, but every row has its own
/// ids); only degenerate data such as a file of zeros deflates past 100 to 1 (zeros: 1,000 to 1),
/// which is what a zip bomb is made of.
public struct CSVLimits: Sendable, Hashable {
    /// The longest field, in bytes (`csv.maxFieldBytes`): 256 KiB.
    public var maxFieldBytes: Int
    /// The longest row, in bytes, line breaks inside quotes included (`csv.maxRowBytes`): 1 MiB.
    public var maxRowBytes: Int
    /// The largest file once inflated, in bytes (`csv.maxEntryBytes`): 4 GiB.
    public var maxEntryBytes: Int64
    /// The largest inflated-to-compressed ratio of a zip entry (`csv.maxCompressionRatio`): 100.
    public var maxCompressionRatio: Int
    /// The ratio is judged only once this many bytes have come out of an entry (1 MiB): a small
    /// file, such as a manifest, may compress far better without harm.
    public var ratioCheckAfterBytes: Int64

    public init(
        maxFieldBytes: Int = 256 * 1024, maxRowBytes: Int = 1024 * 1024, maxEntryBytes: Int64 = 4 << 30,
        maxCompressionRatio: Int = 100, ratioCheckAfterBytes: Int64 = 1 << 20
    ) {
        self.maxFieldBytes = maxFieldBytes
        self.maxRowBytes = maxRowBytes
        self.maxEntryBytes = maxEntryBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.ratioCheckAfterBytes = ratioCheckAfterBytes
    }

    /// The defaults above.
    public static let standard = CSVLimits()
}
