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
    /// Whether rows are read in place (``FieldReader/init(csv:path:)``) rather than through a
    /// JSON object each: the same models and rules, the same records and issues (a test reads
    /// generated and mutated files both ways), without a dictionary per row.
    var readsInPlace = true
    /// The header's layout, when rows are read in place.
    private var layout: CSVRowLayout?
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
        // Extra columns become unknown fields under their own names, which may be keys the model
        // reads: such a file goes through the JSON object, as the binding defines it.
        if readsInPlace, !names.contains(where: { !$0.isEmpty && known[$0] == nil }) {
            layout = CSVRowLayout(spec: spec, positionOf: positionOf)
        }
        sourcedIdIndex = positionOf["sourcedId"]!
        statusIndex = positionOf["status"]!
        dateLastModifiedIndex = positionOf["dateLastModified"]!
    }

    private mutating func load(_ row: CSVParser.Row) {
        guard let bindings else { return }
        let fields = row.fields
        let sourcedId =
            fields.indices.contains(sourcedIdIndex) && !fields[sourcedIdIndex].isEmpty
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
        func badUserIds(_ column: String, _ cell: String) {
            issue(column, "must be {type:identifier} pairs separated by commas, got \"\(cell)\"")
        }
        let record: T
        if let layout {
            // In place: the model reads the cells as the JSON object below would hold them.
            if let column = layout.userIdsColumn {
                let cell = fields[layout.positions[column]]
                if !cell.isEmpty, CSVFields.userIds(cell) == nil { return badUserIds(layout.names[column], cell) }
            }
            var reader = FieldReader(csv: CSVFields(cells: fields, layout: layout), path: T.singularKey)
            do {
                record = try T(reading: &reader)
            } catch {
                issue(columnName(of: error.field), error.reason)
                return
            }
        } else {
            var json = JSONObject(minimumCapacity: fields.count)
            for (i, cell) in fields.enumerated() where !cell.isEmpty {
                switch bindings[i] {
                case .unnamed:
                    continue
                case .extra(let name):
                    json[name] = .string(cell)
                case .known(let column):
                    guard let value = CSVFields.jsonValue(column.kind, cell) else { return badUserIds(column.name, cell) }
                    json[column.key] = value
                }
            }
            do {
                record = try T(json: json)
            } catch {
                issue(columnName(of: error.field), error.reason)
                return
            }
        }
        // One hash per row: the line is stored, and a duplicate puts the first one back.
        if let first = firstLineOf.updateValue(row.line, forKey: record.sourcedId) {
            firstLineOf[record.sourcedId] = first
            issue("sourcedId", "sourcedId \(record.sourcedId) is already used on line \(first)")
            return
        }
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
}
