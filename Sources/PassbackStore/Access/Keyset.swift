import Foundation

/// One page of a keyset-paginated list.
public struct KeysetPage<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Opaque cursor of each item, to resume after it.
    public var cursors: [String]
    public var hasNextPage: Bool
    /// How many rows the whole list holds, when the caller asked for it.
    public var total: Int? = nil
    public var endCursor: String? { cursors.last }

    public init(items: [Item], cursors: [String], hasNextPage: Bool, total: Int? = nil) {
        self.items = items
        self.cursors = cursors
        self.hasNextPage = hasNextPage
        self.total = total
    }
}

/// Opaque cursors: the sort key and id of the last row seen, base64url JSON, tagged with the
/// ordering they belong to. They stay valid while rows are inserted (no offsets). The JSON's keys
/// are sorted, so the same row always gets the same cursor.
enum Keyset {
    static func encode(ordering: String, key: String?, id: Int64, id2: Int64? = nil) -> String {
        text(["o": ordering, "k": key, "i": String(id), "j": id2.map { String($0) }])
    }

    static func decode(_ cursor: String, ordering: String) throws -> (key: String?, id: Int64, id2: Int64?) {
        let payload = try self.payload(cursor, ordering: ordering)
        guard let idText = payload["i"] ?? nil, let id = Int64(idText) else { throw notOurs }
        return ((payload["k"] ?? nil), id, (payload["j"] ?? nil).flatMap { Int64($0) })
    }

    /// The cursor of an item of a list paged in memory (``KeysetPage/slicing(_:first:after:ordering:key:)``).
    static func encode(ordering: String, key: ListKey) -> String {
        text(["o": ordering, "k": key.sort, "s": key.id])
    }

    static func decodeListKey(_ cursor: String, ordering: String) throws -> ListKey {
        let payload = try self.payload(cursor, ordering: ordering)
        guard let sort = payload["k"] ?? nil, let id = payload["s"] ?? nil else { throw notOurs }
        return ListKey(sort, id)
    }

    private static let notOurs = StoreError(.badCursor, "this cursor was not made by this server; start from the first page")

    private static func text(_ payload: [String: String?]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(payload)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
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
        var keyed = all.map { (key: key($0), item: $0) }
        keyed.sort { $0.key < $1.key }
        var unique: [(key: ListKey, item: Item)] = []
        unique.reserveCapacity(keyed.count)
        for entry in keyed where unique.last?.key != entry.key { unique.append(entry) }
        var start = 0
        if let after {
            let last = try Keyset.decodeListKey(after, ordering: ordering)
            start = unique.firstIndex { last < $0.key } ?? unique.count
        }
        let page = unique[start..<min(unique.count, start + first)]
        items = page.map(\.item)
        keys = page.map(\.key)
        self.ordering = ordering
        hasNextPage = start + first < unique.count
        total = unique.count
    }

    /// The opaque cursor of the item with `key` in a list ordered as `ordering`.
    public static func cursor(ordering: String, key: ListKey) -> String {
        Keyset.encode(ordering: ordering, key: key)
    }
}
