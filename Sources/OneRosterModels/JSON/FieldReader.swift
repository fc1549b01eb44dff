import Foundation

/// A record that does not match the OneRoster 1.1 model: which field, and what is wrong with it.
/// The sandbox turns it into a 422 whose description names the field; the client into a decode error.
public struct OneRosterDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the field, such as `lineItem.dueDate`.
    public var field: String
    /// What is wrong, phrased so a person can fix it.
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// Reads typed fields out of a JSON object and remembers which keys it consumed, so that
/// everything else can be kept as unknown fields and written back unchanged.
///
/// Booleans and numbers are accepted as JSON values or as strings (`"true"`, `"95.5"`): the
/// 1.1 JSON binding itself writes `enabledUser` and `primary` as strings, and vendors differ.
///
/// A CSV row is read in place (``init(csv:path:)``): each key is looked up among the file's
/// columns and its cell given as the JSON value the CSV binding maps it to, so the models'
/// rules apply to both without building a JSON object per row.
public struct FieldReader {
    package let object: JSONObject
    package let path: String
    private(set) var consumed: Set<String> = []
    /// The CSV row read instead of `object`, and which of its columns were read (bit `i`:
    /// column `i` of its layout).
    private let csv: CSVFields?
    private var consumedColumns: UInt64 = 0
    /// How many keys were looked up in the CSV row so far (``CSVRowLayout/lookup(_:at:)``).
    private var lookups = 0

    /// A reader over `object`, naming fields under `path` in errors.
    public init(_ object: JSONObject, path: String) {
        self.object = object
        self.path = path
        csv = nil
    }

    /// A reader over a CSV row, as if it were the JSON object the CSV binding maps it to.
    package init(csv: CSVFields, path: String) {
        object = [:]
        self.path = path
        self.csv = csv
    }

    package func fail(_ key: String, _ reason: String) -> OneRosterDecodingError {
        OneRosterDecodingError(field: path + "." + key, reason: reason)
    }

    package mutating func raw(_ key: String) -> JSONValue? {
        if let csv {
            defer { lookups += 1 }
            guard let column = csv.layout.lookup(key, at: lookups) else { return nil }
            consumedColumns |= 1 << UInt64(column)
            return csv.value(column)
        }
        consumed.insert(key)
        switch object[key] {
        case nil, .null?: return nil
        case let v?: return v
        }
    }

    /// The cell of a CSV column of `kind` keyed `key`, marked read; nil when the reader is not
    /// over a CSV row or the column is of another kind (then ``raw(_:)`` answers).
    private mutating func csvCell(_ key: String, _ kind: CSVColumn.Kind) -> String?? {
        guard let csv else { return nil }
        defer { lookups += 1 }
        guard let column = csv.layout.lookup(key, at: lookups), csv.layout.kinds[column] == kind else { return nil }
        consumedColumns |= 1 << UInt64(column)
        let cell = csv.cell(column)
        return .some(cell.isEmpty ? nil : cell)
    }

    /// The keys nobody read: vendor extensions and fields of later versions.
    public var remaining: JSONObject {
        guard let csv else { return object.filter { !consumed.contains($0.key) } }
        var out: JSONObject = [:]
        for column in csv.layout.keys.indices where consumedColumns & (1 << UInt64(column)) == 0 {
            if let value = csv.value(column) { out[csv.layout.keys[column]] = value }
        }
        return out
    }

    public mutating func string(_ key: String) throws(OneRosterDecodingError) -> String {
        guard let v = try optionalString(key) else { throw fail(key, "is required") }
        return v
    }

    public mutating func optionalString(_ key: String) throws(OneRosterDecodingError) -> String? {
        switch raw(key) {
        case nil: return nil
        case .string(let s)?: return s
        case .number(let n)?: return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b)?: return String(b)
        default: throw fail(key, "must be a string")
        }
    }

    public mutating func nonEmptyString(_ key: String) throws(OneRosterDecodingError) -> String {
        let s = try string(key)
        // Most values start with a visible ASCII character: no need to trim them to know.
        if let first = s.utf8.first, first > 0x20, first < 0x7F { return s }
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(key, "must not be empty") }
        return s
    }

    public mutating func optionalBool(_ key: String) throws(OneRosterDecodingError) -> Bool? {
        switch raw(key) {
        case nil: return nil
        case .bool(let b)?: return b
        case .string(let s)?:
            switch s.lowercased() {
            case "true": return true
            case "false": return false
            case "": return nil
            default: throw fail(key, "must be true or false, got \"\(s)\"")
            }
        default: throw fail(key, "must be true or false")
        }
    }

    public mutating func optionalDouble(_ key: String) throws(OneRosterDecodingError) -> Double? {
        switch raw(key) {
        case nil: return nil
        case .number(let n)?:
            return n
        case .string(let s)?:
            if s.isEmpty { return nil }
            guard let n = Double(s), n.isFinite else { throw fail(key, "must be a number, got \"\(s)\"") }
            return n
        default: throw fail(key, "must be a number")
        }
    }

    public mutating func dateTime(_ key: String) throws(OneRosterDecodingError) -> Date {
        guard let d = try optionalDateTime(key) else { throw fail(key, "is required") }
        return d
    }

    public mutating func optionalDateTime(_ key: String) throws(OneRosterDecodingError) -> Date? {
        guard let s = try optionalString(key), !s.isEmpty else { return nil }
        guard let d = DateTime.parse(s) else {
            throw fail(key, "must be an ISO-8601 date-time such as 2026-09-01T00:00:00Z, got \"\(s)\"")
        }
        return d
    }

    public mutating func date(_ key: String) throws(OneRosterDecodingError) -> CalendarDate {
        guard let d = try optionalDate(key) else { throw fail(key, "is required") }
        return d
    }

    public mutating func optionalDate(_ key: String) throws(OneRosterDecodingError) -> CalendarDate? {
        guard let s = try optionalString(key), !s.isEmpty else { return nil }
        guard let d = CalendarDate(s) else { throw fail(key, "must be a date such as 2026-09-01, got \"\(s)\"") }
        return d
    }

    public mutating func reference(_ key: String) throws(OneRosterDecodingError) -> Reference {
        guard let r = try optionalReference(key) else { throw fail(key, "is required (a reference with a sourcedId)") }
        return r
    }

    public mutating func optionalReference(_ key: String) throws(OneRosterDecodingError) -> Reference? {
        // A CSV cell is the reference's sourcedId (the JSON path makes `{"sourcedId": cell}` of it).
        if let cell = csvCell(key, .reference) { return cell.map { Reference($0) } }
        guard let v = raw(key) else { return nil }
        return try Reference.decode(v, field: path + "." + key)
    }

    public mutating func references(_ key: String) throws(OneRosterDecodingError) -> [Reference] {
        if let cell = csvCell(key, .references) { return cell.map { CSVFields.split($0).map { Reference($0) } } ?? [] }
        switch raw(key) {
        case nil: return []
        case .array(let items)?:
            var out: [Reference] = []
            for (i, item) in items.enumerated() {
                out.append(try Reference.decode(item, field: "\(path).\(key)[\(i)]"))
            }
            return out
        case .object(let single)?: return [try Reference.decode(.object(single), field: path + "." + key)]
        default: throw fail(key, "must be a list of references")
        }
    }

    /// A list of strings; a single comma-separated string is accepted too (seen from CSV-backed servers).
    public mutating func strings(_ key: String) throws(OneRosterDecodingError) -> [String] {
        if let cell = csvCell(key, .list) { return cell.map(CSVFields.split) ?? [] }
        switch raw(key) {
        case nil: return []
        case .array(let items)?:
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw fail(key, "must be a list of strings") }
                out.append(s)
            }
            return out
        case .string(let s)?:
            return s.isEmpty ? [] : s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        default: throw fail(key, "must be a list of strings")
        }
    }

    public mutating func optionalObject(_ key: String) throws(OneRosterDecodingError) -> JSONObject? {
        switch raw(key) {
        case nil: return nil
        case .object(let o)?: return o
        default: throw fail(key, "must be an object")
        }
    }

    public mutating func optionalArray(_ key: String) throws(OneRosterDecodingError) -> [JSONValue]? {
        switch raw(key) {
        case nil: return nil
        case .array(let a)?: return a
        default: throw fail(key, "must be a list")
        }
    }

    /// `status`: `active` or `tobedeleted`, spelled as 1.1 spells them; OneRoster 1.0's
    /// `inactive` is still read (as a deletion). Absent or empty is `active`.
    package mutating func status() throws(OneRosterDecodingError) -> RecordStatus {
        guard let s = try optionalString("status"), !s.isEmpty else { return .active }
        guard RecordStatus.allowed.contains(s) else {
            throw fail("status", "must be active or tobedeleted (OneRoster 1.0's inactive is read as tobedeleted), got \"\(s)\"")
        }
        return RecordStatus(rawValue: s)
    }

    /// A list of references that must hold at least one (`user.orgs`, `class.terms`).
    public mutating func nonEmptyReferences(_ key: String) throws(OneRosterDecodingError) -> [Reference] {
        let refs = try references(key)
        guard !refs.isEmpty else { throw fail(key, "is required (at least one reference with a sourcedId)") }
        return refs
    }

    /// A boolean that must be present.
    public mutating func bool(_ key: String) throws(OneRosterDecodingError) -> Bool {
        guard let b = try optionalBool(key) else { throw fail(key, "is required (true or false)") }
        return b
    }

    /// A value of an open set of strings (org types, roles, ...): any string is kept.
    public mutating func open<T: RawRepresentable>(_ key: String, as: T.Type) throws(OneRosterDecodingError) -> T
    where T.RawValue == String {
        guard let v = try optionalOpen(key, as: T.self) else { throw fail(key, "is required") }
        return v
    }

    public mutating func optionalOpen<T: RawRepresentable>(_ key: String, as: T.Type) throws(OneRosterDecodingError) -> T?
    where T.RawValue == String {
        guard let s = try optionalString(key), !s.isEmpty else { return nil }
        return T(rawValue: s)
    }
}

/// Builds a JSON object field by field, leaving out absent optionals, on top of the unknown
/// fields a record carried in.
public struct FieldWriter {
    /// The object built so far.
    public private(set) var object: JSONObject

    public init(unknown: JSONObject = [:]) { object = unknown }

    public mutating func set(_ key: String, _ value: String?) {
        if let value { object[key] = .string(value) }
    }

    public mutating func set(_ key: String, _ value: Double?) {
        if let value { object[key] = .number(value) }
    }

    /// 1.1 writes booleans as the strings `"true"` and `"false"`.
    public mutating func set(_ key: String, bool value: Bool?) {
        if let value { object[key] = .string(value ? "true" : "false") }
    }

    public mutating func set(_ key: String, dateTime value: Date?) {
        if let value { object[key] = .string(DateTime.format(value)) }
    }

    public mutating func set(_ key: String, _ value: CalendarDate?) {
        if let value { object[key] = .string(value.description) }
    }

    public mutating func set(_ key: String, _ value: Reference?) {
        if let value { object[key] = .object(value.json) }
    }

    public mutating func set(_ key: String, references: [Reference], omitIfEmpty: Bool = true) {
        if !(omitIfEmpty && references.isEmpty) { object[key] = .array(references.map { .object($0.json) }) }
    }

    public mutating func set(_ key: String, strings: [String], omitIfEmpty: Bool = true) {
        if !(omitIfEmpty && strings.isEmpty) { object[key] = .array(strings.map { .string($0) }) }
    }

    public mutating func set(_ key: String, object value: JSONObject?) {
        if let value { object[key] = .object(value) }
    }

    public mutating func set(_ key: String, array value: [JSONValue]?) {
        if let value { object[key] = .array(value) }
    }

    public mutating func set<T: RawRepresentable>(_ key: String, open value: T?) where T.RawValue == String {
        if let value { object[key] = .string(value.rawValue) }
    }
}
