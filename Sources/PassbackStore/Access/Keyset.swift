import Foundation
import PassbackCore

/// One page of a keyset-paginated list.
public struct KeysetPage<Item: Sendable>: Sendable {
    public var items: [Item]
    /// The opaque cursor of `items[i]`, to resume after it: made only when asked for (a page is
    /// mostly read for its items; `pageInfo` wants one cursor, not one per row).
    public let cursor: @Sendable (Int) -> String
    public var hasNextPage: Bool
    /// How many rows the whole list holds, when the caller asked for it.
    public var total: Int? = nil
    /// Every item's cursor, in order.
    public var cursors: [String] { items.indices.map(cursor) }
    public var endCursor: String? { items.isEmpty ? nil : cursor(items.count - 1) }

    /// A page whose cursors `cursor(i)` makes from the page's own data when asked for.
    public init(items: [Item], hasNextPage: Bool, total: Int? = nil, cursor: @escaping @Sendable (Int) -> String) {
        self.items = items
        self.cursor = cursor
        self.hasNextPage = hasNextPage
        self.total = total
    }

    /// A page whose cursors are already made.
    public init(items: [Item], cursors: [String], hasNextPage: Bool, total: Int? = nil) {
        self.init(items: items, hasNextPage: hasNextPage, total: total) { cursors[$0] }
    }
}

/// Opaque cursors: the sort key and id of the last row seen, base64url JSON, tagged with the
/// ordering they belong to. They stay valid while rows are inserted (no offsets). The JSON's keys
/// are sorted, so the same row always gets the same cursor.
enum Keyset {
    static func encode(ordering: String, key: String?, id: Int64, id2: Int64? = nil) -> String {
        text([("i", String(id)), ("j", id2.map { String($0) }), ("k", key), ("o", ordering)])
    }

    static func decode(_ cursor: String, ordering: String) throws -> (key: String?, id: Int64, id2: Int64?) {
        let payload = try self.payload(cursor, ordering: ordering)
        guard let idText = payload["i"] ?? nil, let id = Int64(idText) else { throw notOurs }
        return ((payload["k"] ?? nil), id, (payload["j"] ?? nil).flatMap { Int64($0) })
    }

    /// The cursor of an item of a list paged in memory (``KeysetPage/slicing(_:first:after:ordering:key:)``).
    static func encode(ordering: String, key: ListKey) -> String {
        text([("k", key.sort), ("o", ordering), ("s", key.id)])
    }

    static func decodeListKey(_ cursor: String, ordering: String) throws -> ListKey {
        let payload = try self.payload(cursor, ordering: ordering)
        guard let sort = payload["k"] ?? nil, let id = payload["s"] ?? nil else { throw notOurs }
        return ListKey(sort, id)
    }

    private static let notOurs = StoreError(.badCursor, "this cursor was not made by this server; start from the first page")

    /// The cursor's text: a JSON object of `fields` (given in sorted key order), base64url
    /// without padding. Written by hand, byte for byte what `JSONEncoder` with sorted keys writes
    /// (slashes escaped as `\/`; `KeysetTests` compares them on generated keys), since a page
    /// of the widget makes one per row it shows when `edges` are selected.
    static func text(_ fields: [(String, String?)]) -> String {
        var json: [UInt8] = [UInt8(ascii: "{")]
        json.reserveCapacity(64)
        for (n, (name, value)) in fields.enumerated() {
            if n > 0 { json.append(UInt8(ascii: ",")) }
            appendString(name, to: &json)
            json.append(UInt8(ascii: ":"))
            if let value { appendString(value, to: &json) } else { json += Array("null".utf8) }
        }
        json.append(UInt8(ascii: "}"))
        return Base64URL.encode(json)
    }

    private static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), b]
            case UInt8(ascii: "\\"): out += [b, b]
            case UInt8(ascii: "/"): out += [UInt8(ascii: "\\"), b]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func payload(_ cursor: String, ordering: String) throws -> [String: String?] {
        var b64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let payload = try? JSONDecoder().decode([String: String?].self, from: data),
            let o = payload["o"] ?? nil
        else { throw notOurs }
        guard o == ordering else { throw StoreError(.badCursor, "this cursor belongs to another ordering (\(o)); start from the first page") }
        return payload
    }
}

/// Where an item of a list paged in memory sits: its sort key, then an id that tells apart items
/// with the same sort key. Compared byte by byte (UTF-8), as SQLite's default collation compares text.
public struct ListKey: Sendable, Comparable {
    public var sort: String
    public var id: String

    public init(_ sort: String, _ id: String) {
        self.sort = sort
        self.id = id
    }

    /// Equal byte for byte, as `<` orders them (String's `==` would equate canonically equivalent
    /// spellings that sort apart).
    public static func == (a: ListKey, b: ListKey) -> Bool {
        a.sort.utf8.elementsEqual(b.sort.utf8) && a.id.utf8.elementsEqual(b.id.utf8)
    }

    public static func < (a: ListKey, b: ListKey) -> Bool {
        if a.sort != b.sort { return a.sort.utf8.lexicographicallyPrecedes(b.sort.utf8) }
        return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }

    /// A row id as a key part that sorts as the number does.
    public static func number(_ id: Int64) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}

/// A page of a list read whole (a section's teachers, a material's problems, a plan's items):
/// the items ordered by `key`, at most `first` of them after the item `after` names, with the
/// total. Keyset, not offset: a cursor names a key, so it stays valid while items come and go,
/// and an item whose key repeats an earlier one's is left out (nothing could resume between
/// them). For lists a loader reads whole anyway; a list that can grow large pages in SQL.
public struct ListSlice<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Each item's key, for its cursor (``cursor(ordering:key:)``), made only when asked for.
    public var keys: [ListKey]
    public var ordering: String
    public var hasNextPage: Bool
    public var total: Int

    public init(_ all: [Item], first: Int, after: String?, ordering: String, key: (Item) -> ListKey) throws {
        // Sorted by index, not as (key, item) pairs: the generic pair's type is looked up by the
        // runtime at every use (the planner pages each of a page's items' problems this way).
        let allKeys = all.map(key)
        var order = Array(allKeys.indices)
        if order.count > 1 { order.sort { allKeys[$0] < allKeys[$1] } }
        var unique: [Int] = []
        unique.reserveCapacity(order.count)
        for i in order where unique.last.map({ allKeys[$0] != allKeys[i] }) ?? true { unique.append(i) }
        var start = 0
        if let after {
            let last = try Keyset.decodeListKey(after, ordering: ordering)
            start = unique.firstIndex { last < allKeys[$0] } ?? unique.count
        }
        let page = unique[start..<min(unique.count, start + first)]
        items = page.map { all[$0] }
        keys = page.map { allKeys[$0] }
        self.ordering = ordering
        hasNextPage = start + first < unique.count
        total = unique.count
    }

    /// The opaque cursor of the item with `key` in a list ordered as `ordering`.
    public static func cursor(ordering: String, key: ListKey) -> String {
        Keyset.encode(ordering: ordering, key: key)
    }
}
