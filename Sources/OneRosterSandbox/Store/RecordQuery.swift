import Foundation
import OneRoster

/// Evaluates OneRoster filters, sorts and field selections over stored JSON records.
enum RecordQuery {
    /// Every string value found at a dotted path; arrays are searched element by element, so
    /// `terms.sourcedId='x'` matches a class taught in term x.
    static func values(_ record: JSONObject, path: Substring) -> [String] {
        var current: [JSONValue] = [.object(record)]
        for segment in path.split(separator: ".") {
            var next: [JSONValue] = []
            for v in current {
                switch v {
                case .object(let o): if let x = o[String(segment)] { next.append(x) }
                case .array(let items):
                    for item in items { if case .object(let o) = item, let x = o[String(segment)] { next.append(x) } }
                default: break
                }
            }
            current = next
        }
        var out: [String] = []
        func collect(_ v: JSONValue) {
            switch v {
            case .string(let s): out.append(s)
            case .number(let n): out.append(n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n))
            case .bool(let b): out.append(b ? "true" : "false")
            case .array(let items): items.forEach(collect)
            case .object(let o): if case .string(let id)? = o["sourcedId"] { out.append(id) }
            case .null: break
            }
        }
        current.forEach(collect)
        return out
    }

    /// Orders two values as a OneRoster server would: instants as instants, numbers as
    /// numbers, anything else as text.
    static func compare(_ a: String, _ b: String) -> Int {
        if a.count >= 10, b.count >= 10, let da = DateTime.parse(a), let db = DateTime.parse(b) {
            return da == db ? 0 : (da < db ? -1 : 1)
        }
        if let na = Double(a), let nb = Double(b) { return na == nb ? 0 : (na < nb ? -1 : 1) }
        return a == b ? 0 : (a < b ? -1 : 1)
    }

    static func matches(_ record: JSONObject, _ p: Filter.Predicate) -> Bool {
        let vs = values(record, path: Substring(p.field))
        if p.op == .notEqual { return !vs.contains { compare($0, p.value) == 0 } }
        return vs.contains { v in
            switch p.op {
            case .equal: compare(v, p.value) == 0
            case .notEqual: false
            case .greaterThan: compare(v, p.value) > 0
            case .greaterThanOrEqual: compare(v, p.value) >= 0
            case .lessThan: compare(v, p.value) < 0
            case .lessThanOrEqual: compare(v, p.value) <= 0
            case .contains: v.range(of: p.value, options: .caseInsensitive) != nil
            }
        }
    }

    static func matches(_ record: JSONObject, _ filter: Filter) -> Bool {
        switch filter.logic {
        case .and: filter.predicates.allSatisfy { matches(record, $0) }
        case .or: filter.predicates.contains { matches(record, $0) }
        }
    }

    /// Stable sort on one field; records without the field go last.
    static func sort(_ records: [JSONObject], by field: String, descending: Bool) -> [JSONObject] {
        let keyed = records.enumerated().map { (offset: $0.offset, key: values($0.element, path: Substring(field)).first, record: $0.element) }
        return keyed.sorted { a, b in
            switch (a.key, b.key) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return false
            case (_, nil): return true
            case (let x?, let y?):
                let c = compare(x, y)
                if c == 0 { return a.offset < b.offset }
                return descending ? c > 0 : c < 0
            }
        }.map(\.record)
    }

    /// Keeps only `fields` of a record.
    static func project(_ record: JSONObject, fields: [String]) -> JSONObject {
        record.filter { fields.contains($0.key) }
    }
}
