import Foundation

/// Where a file's columns are in its header, for reading rows in place: the columns of its
/// ``CSVFileSpec`` in spec order, each with its model key, its position in the row and its kind.
/// Looked up by key by a scan (a file has at most a score of columns), not by hashing; and since
/// a model reads the keys of every row in the same order, the answers to the first row's lookups
/// are kept in that order (``lookup(_:at:)``), so later rows compare one key per lookup, with the
/// key it expects (equal small strings compare as one word).
///
/// Used by one file's loader on one thread at a time (the learned sequence is not locked).
package final class CSVRowLayout: @unchecked Sendable {
    package let keys: [String]
    package let names: [String]
    package let positions: [Int]
    package let kinds: [CSVColumn.Kind]
    /// The `userIds` column (`users.csv`), checked before a row is read.
    package let userIdsColumn: Int?

    /// The layout of `spec`'s columns in a header where each column name sits at `positionOf[name]`.
    package init(spec: CSVFileSpec, positionOf: [String: Int]) {
        precondition(spec.columns.count <= 64, "a column's read mark is one bit of a UInt64")
        keys = spec.columns.map(\.key)
        names = spec.columns.map(\.name)
        positions = spec.columns.map { positionOf[$0.name]! }
        kinds = spec.columns.map(\.kind)
        userIdsColumn = kinds.firstIndex(of: .userIds)
    }

    /// The index of the column holding `key`, if the file has one.
    package func column(_ key: String) -> Int? {
        for i in keys.indices where keys[i] == key { return i }
        return nil
    }

    /// The lookups of a row, in the order a model makes them, with their answers.
    private var sequence: [(key: String, column: Int?)] = []

    /// ``column(_:)`` for the `step`-th lookup of a row: answered from the sequence the first
    /// row taught when the key is the one expected there, else by a scan.
    package func lookup(_ key: String, at step: Int) -> Int? {
        if step < sequence.count {
            if sequence[step].key == key { return sequence[step].column }
            return column(key)
        }
        let found = column(key)
        if step == sequence.count, sequence.count < 64 { sequence.append((key, found)) }
        return found
    }
}

/// One CSV row seen through its file's layout; ``FieldReader`` reads it as the JSON object the
/// CSV binding maps it to (``jsonValue(_:_:)``), without building that object.
package struct CSVFields {
    package let cells: [String]
    package let layout: CSVRowLayout

    package init(cells: [String], layout: CSVRowLayout) {
        self.cells = cells
        self.layout = layout
    }

    /// The cell of layout column `column`.
    package func cell(_ column: Int) -> String { cells[layout.positions[column]] }

    /// The JSON value of layout column `column`, nil when its cell is empty.
    package func value(_ column: Int) -> JSONValue? {
        let cell = cell(column)
        return cell.isEmpty ? nil : Self.jsonValue(layout.kinds[column], cell)
    }

    /// The JSON value the CSV binding maps a non-empty cell of `kind` to; nil only for
    /// `userIds` not in the `{type:identifier}` form.
    package static func jsonValue(_ kind: CSVColumn.Kind, _ cell: String) -> JSONValue? {
        switch kind {
        case .text: .string(cell)
        case .reference: .object(["sourcedId": .string(cell)])
        case .references: .array(split(cell).map { .object(["sourcedId": .string($0)]) })
        case .list: .array(split(cell).map { .string($0) })
        case .userIds: userIds(cell).map(JSONValue.array)
        }
    }

    /// Items of a multi-valued cell, trimmed, empty items dropped.
    package static func split(_ cell: String) -> [String] {
        cell.split(separator: ",").map(trimmed).filter { !$0.isEmpty }
    }

    /// Trimmed of spaces; an item that starts and ends visibly (nearly all) skips Foundation's
    /// trimming, which cost more than the rest of reading the item.
    package static func trimmed(_ item: Substring) -> String {
        if item.isEmpty { return "" }
        if let first = item.utf8.first, let last = item.utf8.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F {
            return String(item)
        }
        return item.trimmingCharacters(in: .whitespaces)
    }

    /// Parses `{LDAP:jdoe},{SIS:123}` into `userIds` objects; `nil` if it is not in that form.
    package static func userIds(_ cell: String) -> [JSONValue]? {
        var out: [JSONValue] = []
        var rest = Substring(cell)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard !rest.isEmpty else { break }
            guard rest.first == "{", let close = rest.firstIndex(of: "}") else { return nil }
            let pair = rest[rest.index(after: rest.startIndex)..<close]
            guard let colon = pair.firstIndex(of: ":") else { return nil }
            let type = trimmed(pair[..<colon])
            let identifier = trimmed(pair[pair.index(after: colon)...])
            guard !type.isEmpty else { return nil }
            out.append(.object(["type": .string(type), "identifier": .string(identifier)]))
            rest = rest[rest.index(after: close)...].drop { $0 == " " || $0 == "\t" }
            if rest.first == "," { rest = rest.dropFirst() } else if !rest.isEmpty { return nil }
        }
        return out
    }
}
