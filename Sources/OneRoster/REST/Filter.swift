import Foundation

/// A OneRoster filter (`field<op>'value'` predicates joined by one logical operator), built
/// with types so it is always well formed, and parsed back the same way by the sandbox.
public struct Filter: Sendable, Hashable, CustomStringConvertible {
    /// A comparison operator of the 1.1 filter grammar.
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case greaterThan = ">"
        case greaterThanOrEqual = ">="
        case lessThan = "<"
        case lessThanOrEqual = "<="
        /// Contains.
        case contains = "~"
    }

    /// How predicates are joined. 1.1 servers do not mix the two in one filter.
    public enum Logic: String, Sendable, Hashable {
        case and = "AND"
        case or = "OR"
    }

    /// One `field op 'value'`.
    public struct Predicate: Sendable, Hashable, CustomStringConvertible {
        public var field: String
        public var op: Operator
        public var value: String
        public init(_ field: String, _ op: Operator, _ value: String) {
            self.field = field
            self.op = op
            self.value = value
        }
        public var description: String { "\(field)\(op.rawValue)'\(value)'" }
    }

    public var predicates: [Predicate]
    public var logic: Logic

    public init(_ predicates: [Predicate], logic: Logic = .and) {
        self.predicates = predicates
        self.logic = logic
    }

    /// A single predicate.
    public static func field(_ field: String, _ op: Operator, _ value: String) -> Filter {
        Filter([Predicate(field, op, value)])
    }

    /// Records changed after `date`: the delta rostering filter.
    public static func modifiedSince(_ date: Date) -> Filter {
        .field("dateLastModified", .greaterThan, DateTime.format(date))
    }

    /// Both filters (they must not already use OR).
    public func and(_ other: Filter) -> Filter { Filter(predicates + other.predicates, logic: .and) }

    /// Either filter (they must not already use AND).
    public func or(_ other: Filter) -> Filter { Filter(predicates + other.predicates, logic: .or) }

    /// The filter as it goes in the `filter` query parameter (before percent-encoding).
    public var description: String {
        predicates.map(\.description).joined(separator: " \(logic.rawValue) ")
    }

    /// A filter that cannot be parsed, and why.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Parses a filter expression; mixing AND with OR is refused as 1.1 servers do.
    public static func parse(_ text: String) throws(ParseError) -> Filter {
        let chars = Array(text)
        var i = 0
        var predicates: [Predicate] = []
        var logic: Logic?
        func skipSpaces() { while i < chars.count, chars[i] == " " { i += 1 } }
        while true {
            skipSpaces()
            let fieldStart = i
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." { i += 1 }
            let field = String(chars[fieldStart..<i])
            guard !field.isEmpty else { throw ParseError(reason: "expected a field name at position \(fieldStart + 1)") }
            skipSpaces()
            var opText = ""
            while i < chars.count, "=!<>~".contains(chars[i]) {
                opText.append(chars[i])
                i += 1
            }
            guard let op = Operator(rawValue: opText) else {
                throw ParseError(reason: "expected one of = != > >= < <= ~ after '\(field)'")
            }
            skipSpaces()
            guard i < chars.count, chars[i] == "'" else {
                throw ParseError(reason: "the value for '\(field)' must be in single quotes")
            }
            i += 1
            let valueStart = i
            while i < chars.count, chars[i] != "'" { i += 1 }
            guard i < chars.count else { throw ParseError(reason: "unterminated quoted value for '\(field)'") }
            predicates.append(Predicate(field, op, String(chars[valueStart..<i])))
            i += 1
            skipSpaces()
            if i == chars.count { break }
            let wordStart = i
            while i < chars.count, chars[i].isLetter { i += 1 }
            guard let l = Logic(rawValue: String(chars[wordStart..<i]).uppercased()) else {
                throw ParseError(reason: "expected AND or OR at position \(wordStart + 1)")
            }
            if let logic, logic != l { throw ParseError(reason: "AND and OR cannot be mixed in one filter") }
            logic = l
        }
        return Filter(predicates, logic: logic ?? .and)
    }
}

/// Direction of a `sort`.
public enum SortOrder: String, Sendable, Hashable {
    case ascending = "asc"
    case descending = "desc"
}

/// Options of a collection request.
public struct ListQuery: Sendable, Hashable {
    public var filter: Filter?
    public var sort: String?
    public var orderBy: SortOrder?
    /// Only these fields in each record (`fields=a,b`).
    public var fields: [String]?
    /// Records per request; `nil` uses the client's default.
    public var pageSize: Int?
    /// Where to start: resume a listing from a saved offset.
    public var startOffset: Int

    public init(
        filter: Filter? = nil, sort: String? = nil, orderBy: SortOrder? = nil, fields: [String]? = nil,
        pageSize: Int? = nil, startOffset: Int = 0
    ) {
        self.filter = filter
        self.sort = sort
        self.orderBy = orderBy
        self.fields = fields
        self.pageSize = pageSize
        self.startOffset = startOffset
    }

    func queryItems(limit: Int, offset: Int) -> [(String, String)] {
        var items: [(String, String)] = [("limit", String(limit)), ("offset", String(offset))]
        if let filter { items.append(("filter", filter.description)) }
        if let sort { items.append(("sort", sort)) }
        if let orderBy { items.append(("orderBy", orderBy.rawValue)) }
        if let fields, !fields.isEmpty { items.append(("fields", fields.joined(separator: ","))) }
        return items
    }
}
