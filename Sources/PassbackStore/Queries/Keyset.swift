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
/// ordering they belong to. They stay valid while rows are inserted (no offsets).
enum Keyset {
    static func encode(ordering: String, key: String?, id: Int64, id2: Int64? = nil) -> String {
        let payload: [String: String?] = ["o": ordering, "k": key, "i": String(id), "j": id2.map { String($0) }]
        let data = (try? JSONEncoder().encode(payload)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String, ordering: String) throws -> (key: String?, id: Int64, id2: Int64?) {
        var b64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let payload = try? JSONDecoder().decode([String: String?].self, from: data),
            let o = payload["o"] ?? nil, let idText = payload["i"] ?? nil, let id = Int64(idText)
        else { throw StoreError(.badCursor, "this cursor was not made by this server; start from the first page") }
        guard o == ordering else { throw StoreError(.badCursor, "this cursor belongs to another ordering (\(o)); start from the first page") }
        return ((payload["k"] ?? nil), id, (payload["j"] ?? nil).flatMap { Int64($0) })
    }
}
