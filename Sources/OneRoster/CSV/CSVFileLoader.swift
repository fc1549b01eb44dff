import Foundation

/// Turns the bytes of one CSV file into records, a chunk at a time: checks the header, maps
/// each row through the model's JSON initializer, and records a ``CSVRowIssue`` for each row
/// that does not fit instead of failing the file.
struct CSVFileLoader<T: CSVRecord> {
    let mode: CSVFileMode
    let spec = T.csvSpec
    private var parser: CSVParser
    /// One entry per header field, set once the header is read.
    private var bindings: [Binding]?
    private var headerNames: [String] = []
    private var sourcedIdIndex = 0
    private var statusIndex = 1
    private var dateLastModifiedIndex = 2
    private var firstLineOf: [String: Int] = [:]
    private var records: [T] = []
    private var lines: [Int] = []
    private var issues: [CSVRowIssue] = []
    /// File-level remarks that do not stop reading, such as unnamed columns.
    private(set) var warnings: [String] = []

    private enum Binding {
        case known(CSVColumn)
        case extra(String)
        case unnamed
    }

    init(mode: CSVFileMode, limits: CSVLimits = .standard) {
        self.mode = mode
        parser = CSVParser(limits: limits)
    }

    /// Records and issues read and not yet handed over.
    var pending: Int { records.count + issues.count }

    /// Hands over what was read so far, so a large file passes through in batches; duplicate
    /// sourcedIds are still found across batches.
    mutating func drain() -> CSVFileContents<T> {
        defer {
            records.removeAll(keepingCapacity: true)
            lines.removeAll(keepingCapacity: true)
            issues.removeAll(keepingCapacity: true)
        }
        return CSVFileContents(mode: mode, records: records, lines: lines, issues: issues)
    }

    var fileName: String { spec.fileName }

    mutating func feed(_ data: Data) throws(OneRosterCSVError) {
        var rows: [CSVParser.Row] = []
        var broken: CSVParser.SyntaxError?
        do { try parser.feed(data, into: &rows) } catch { broken = error }
        try take(rows, then: broken)
    }

    mutating func finish() throws(OneRosterCSVError) -> CSVFileContents<T> {
        var rows: [CSVParser.Row] = []
        var broken: CSVParser.SyntaxError?
        do { try parser.finish(into: &rows) } catch { broken = error }
        try take(rows, then: broken)
        guard bindings != nil else {
            throw OneRosterCSVError(file: fileName, message: "is empty; expected a header row")
        }
        return CSVFileContents(mode: mode, records: records, lines: lines, issues: issues)
    }

    /// Loads the rows completed before a syntax error first, so the error can name its column.
    private mutating func take(_ rows: [CSVParser.Row], then broken: CSVParser.SyntaxError?) throws(OneRosterCSVError) {
        for row in rows { try take(row) }
        if let broken { throw syntaxError(broken) }
    }

    private func syntaxError(_ error: CSVParser.SyntaxError) -> OneRosterCSVError {
        let index = error.field - 1
        let name = headerNames.indices.contains(index) && !headerNames[index].isEmpty ? headerNames[index] : nil
        let message = name == nil ? "field \(error.field): \(error.message)" : error.message
        return OneRosterCSVError(file: fileName, line: error.line, column: name, message: message)
    }

    private mutating func take(_ row: CSVParser.Row) throws(OneRosterCSVError) {
        if bindings == nil {
            try readHeader(row)
        } else {
            load(row)
        }
    }

    private mutating func readHeader(_ row: CSVParser.Row) throws(OneRosterCSVError) {
        func fail(_ column: String?, _ message: String) -> OneRosterCSVError {
            OneRosterCSVError(file: fileName, line: row.line, column: column, message: message)
        }
        let names = row.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        headerNames = names
        var positionOf: [String: Int] = [:]
        for (i, name) in names.enumerated() where !name.isEmpty {
            if let first = positionOf[name] {
                throw fail(name, "column \(name) appears twice in the header (fields \(first + 1) and \(i + 1))")
            }
            positionOf[name] = i
        }
        let missing = spec.columns.map(\.name).filter { positionOf[$0] == nil }
        if !missing.isEmpty {
            var message =
                "the header lacks the required column\(missing.count == 1 ? "" : "s") "
                + missing.joined(separator: ", ")
            let newer = names.filter { CSVFileSpec.oneRoster12Columns.contains($0) }
            if !newer.isEmpty {
                message +=
                    "; this looks like OneRoster 1.2 (it has \(newer.joined(separator: ", "))), and only 1.1 is supported"
            }
            throw fail(missing[0], message)
        }
        let known = Dictionary(spec.columns.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        bindings = names.enumerated().map { i, name in
            if name.isEmpty {
                warnings.append("\(fileName): column \(i + 1) has no name in the header; its values are ignored")
                return .unnamed
            }
            if let column = known[name] { return .known(column) }
            return .extra(name)
        }
        sourcedIdIndex = positionOf["sourcedId"]!
        statusIndex = positionOf["status"]!
        dateLastModifiedIndex = positionOf["dateLastModified"]!
    }

    private mutating func load(_ row: CSVParser.Row) {
        guard let bindings else { return }
        let fields = row.fields
        let sourcedId = fields.indices.contains(sourcedIdIndex) && !fields[sourcedIdIndex].isEmpty
            ? fields[sourcedIdIndex] : nil
        func issue(_ column: String?, _ message: String) {
            issues.append(CSVRowIssue(file: fileName, line: row.line, column: column, sourcedId: sourcedId, message: message))
        }
        guard fields.count == bindings.count else {
            issue(nil, "has \(fields.count) fields but the header has \(bindings.count)")
            return
        }
        if mode == .delta {
            for (index, name) in [(statusIndex, "status"), (dateLastModifiedIndex, "dateLastModified")]
            where fields[index].isEmpty {
                issue(name, "is required in a delta file")
                return
            }
        }
        var json = JSONObject(minimumCapacity: fields.count)
        for (i, cell) in fields.enumerated() where !cell.isEmpty {
            switch bindings[i] {
            case .unnamed:
                continue
            case .extra(let name):
                json[name] = .string(cell)
            case .known(let column):
                switch column.kind {
                case .text:
                    json[column.key] = .string(cell)
                case .reference:
                    json[column.key] = .object(["sourcedId": .string(cell)])
                case .references:
                    json[column.key] = .array(Self.split(cell).map { .object(["sourcedId": .string($0)]) })
                case .list:
                    json[column.key] = .array(Self.split(cell).map { .string($0) })
                case .userIds:
                    guard let ids = Self.userIds(cell) else {
                        issue(column.name, "must be {type:identifier} pairs separated by commas, got \"\(cell)\"")
                        return
                    }
                    json[column.key] = .array(ids)
                }
            }
        }
        let record: T
        do {
            record = try T(json: json)
        } catch {
            issue(columnName(of: error.field), error.reason)
            return
        }
        if let first = firstLineOf[record.sourcedId] {
            issue("sourcedId", "sourcedId \(record.sourcedId) is already used on line \(first)")
            return
        }
        firstLineOf[record.sourcedId] = row.line
        records.append(record)
        lines.append(row.line)
    }

    /// The header name behind a model's error path such as `class.terms[1].sourcedId`.
    private func columnName(of field: String) -> String {
        var rest = Substring(field)
        if let dot = rest.firstIndex(of: ".") { rest = rest[rest.index(after: dot)...] }
        let key = String(rest.prefix { $0 != "." && $0 != "[" })
        return spec.columnNameByKey[key] ?? key
    }

    /// Items of a multi-valued cell, trimmed, empty items dropped.
    static func split(_ cell: String) -> [String] {
        cell.split(separator: ",").map(trimmed).filter { !$0.isEmpty }
    }

    /// Trimmed of spaces; an item that starts and ends visibly (nearly all) skips Foundation's
    /// trimming, which cost more than the rest of reading the item.
    static func trimmed(_ item: Substring) -> String {
        if let first = item.utf8.first, let last = item.utf8.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F {
            return String(item)
        }
        return item.trimmingCharacters(in: .whitespaces)
    }

    /// Parses `{LDAP:jdoe},{SIS:123}` into `userIds` objects; `nil` if it is not in that form.
    static func userIds(_ cell: String) -> [JSONValue]? {
        var out: [JSONValue] = []
        var rest = Substring(cell)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard !rest.isEmpty else { break }
            guard rest.first == "{", let close = rest.firstIndex(of: "}") else { return nil }
            let pair = rest[rest.index(after: rest.startIndex)..<close]
            guard let colon = pair.firstIndex(of: ":") else { return nil }
            let type = pair[..<colon].trimmingCharacters(in: .whitespaces)
            let identifier = pair[pair.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !type.isEmpty else { return nil }
            out.append(.object(["type": .string(type), "identifier": .string(identifier)]))
            rest = rest[rest.index(after: close)...].drop { $0 == " " || $0 == "\t" }
            if rest.first == "," { rest = rest.dropFirst() } else if !rest.isEmpty { return nil }
        }
        return out
    }
}
