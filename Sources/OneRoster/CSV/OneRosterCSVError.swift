import Foundation

/// A problem that makes a whole CSV archive, or one file of it, unreadable: no manifest, not a
/// zip, the wrong OneRoster version, a bad header, broken CSV syntax. Reading stops at the first.
///
/// Problems confined to one row are not thrown: they are collected as ``CSVRowIssue``s.
public struct OneRosterCSVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file at fault: a CSV inside the archive (`users.csv`), or the archive itself.
    public var file: String
    /// The 1-based line of the file, when the problem has one.
    public var line: Int?
    /// The column's header name, when known.
    public var column: String?
    /// What is wrong, phrased so the person who made the export can fix it.
    public var message: String

    /// An error in `file`, optionally at a line and column.
    public init(file: String, line: Int? = nil, column: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var place = file
        if let line { place += ", line \(line)" }
        if let column { place += ", column \(column)" }
        return place + ": " + message
    }
}
