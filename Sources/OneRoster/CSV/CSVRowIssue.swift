import Foundation

/// A row that could not be loaded (a bad date, a missing required value, an unknown score
/// status, the wrong number of fields): the row is skipped, the rest of the file still loads,
/// and this says which row and why, so nothing is dropped silently.
public struct CSVRowIssue: Sendable, Hashable, CustomStringConvertible {
    /// The CSV file, such as `academicSessions.csv`.
    public var file: String
    /// The 1-based line on which the row starts.
    public var line: Int
    /// The header name of the offending column, when one column is to blame.
    public var column: String?
    /// The row's `sourcedId`, when it has one.
    public var sourcedId: String?
    /// What is wrong with the row.
    public var message: String

    /// An issue with the row starting at `line` of `file`.
    public init(file: String, line: Int, column: String? = nil, sourcedId: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.sourcedId = sourcedId
        self.message = message
    }

    public var description: String {
        var place = "\(file), line \(line)"
        if let column { place += ", column \(column)" }
        if let sourcedId { place += " (sourcedId \(sourcedId))" }
        return place + ": " + message + "; row skipped"
    }
}
