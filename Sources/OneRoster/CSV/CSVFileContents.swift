import Foundation

/// The records of one CSV file, with the line each came from and the rows that could not be loaded.
public struct CSVFileContents<T: OneRosterObject>: Sendable, Equatable {
    /// Bulk or delta, as the manifest says.
    public var mode: CSVFileMode
    /// The rows that fit the model, in file order.
    public var records: [T]
    /// `lines[i]` is the 1-based line on which `records[i]` starts.
    public var lines: [Int]
    /// The rows that were skipped, and why.
    public var issues: [CSVRowIssue]

    /// Contents as given; `lines` must be parallel to `records`.
    public init(mode: CSVFileMode, records: [T], lines: [Int], issues: [CSVRowIssue] = []) {
        precondition(records.count == lines.count, "lines must be parallel to records")
        self.mode = mode
        self.records = records
        self.lines = lines
        self.issues = issues
    }

    /// The line on which the record at `index` starts.
    public func line(ofRecordAt index: Int) -> Int { lines[index] }

    /// The line on which the record with this `sourcedId` starts, if the file has it.
    public func line(of sourcedId: String) -> Int? {
        records.firstIndex { $0.sourcedId == sourcedId }.map { lines[$0] }
    }
}
