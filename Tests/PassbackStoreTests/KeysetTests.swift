import Foundation
import OneRosterSandbox
import PassbackCore
import Testing

@testable import PassbackStore

@Suite("Cursors")
struct KeysetTests {
    /// The cursors before they were written by hand: `JSONEncoder` with sorted keys, then
    /// base64url. Cursors handed out by earlier builds must stay the same bytes.
    static func reference(_ payload: [String: String?]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try! encoder.encode(payload)).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Sort keys as they come: titles with quotes, slashes, backslashes, control characters,
    /// accents, emoji, and nothing at all.
    static func keys(count: Int, seed: UInt64) -> [String?] {
        var rng = SeededRandom(seed: seed)
        let pieces: [String] = [
            "a", "Z", " ", "\"", "\\", "/", "\u{0}", "\u{1}", "\u{8}", "\u{9}", "\n", "\u{C}", "\r", "\u{1F}", "\u{7F}", "é", "ß", "😀", "中", "%", "+", "="
        ]
        return (0..<count).map { _ in
            if rng.next() % 10 == 0 { return nil }
            return (0..<Int(rng.next() % 12)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
        }
    }

    @Test("a row's cursor is byte for byte what the JSONEncoder-made cursors were, for any sort key")
    func sameBytesAsBefore() {
        for (n, key) in Self.keys(count: 2_000, seed: 17).enumerated() {
            let id = Int64(n) * 7_919 - 3
            #expect(
                Keyset.encode(ordering: "materials:title:asc", key: key, id: id)
                    == Self.reference(["o": "materials:title:asc", "k": key, "i": String(id), "j": nil]))
            #expect(
                Keyset.encode(ordering: "errors", key: key, id: id, id2: 42)
                    == Self.reference(["o": "errors", "k": key, "i": String(id), "j": "42"]))
            if let key {
                #expect(Keyset.encode(ordering: "teachers", key: ListKey(key, "u-\(n)")) == Self.reference(["o": "teachers", "k": key, "s": "u-\(n)"]))
            }
        }
    }

    @Test("every cursor reads back as the key and ids it was made of")
    func roundTrip() throws {
        for (n, key) in Self.keys(count: 500, seed: 5).enumerated() {
            let cursor = Keyset.encode(ordering: "o", key: key, id: Int64(n), id2: n % 2 == 0 ? nil : -Int64(n))
            let back = try Keyset.decode(cursor, ordering: "o")
            #expect(back.key == key && back.id == Int64(n) && back.id2 == (n % 2 == 0 ? nil : -Int64(n)))
            #expect(!cursor.contains("=") && !cursor.contains("+") && !cursor.contains("/"))
        }
        #expect(throws: StoreError.self) { try Keyset.decode(Keyset.encode(ordering: "a", key: "x", id: 1), ordering: "b") }
    }

    @Test("a page makes a cursor only when one is asked for")
    func cursorsOnDemand() {
        let made = Counter()
        let page = KeysetPage(items: Array(0..<50), hasNextPage: true) { i in
            made.add()
            return "c\(i)"
        }
        #expect(made.value == 0)
        #expect(page.endCursor == "c49")
        #expect(made.value == 1)
        #expect(page.cursors.count == 50)
        #expect(made.value == 51)
    }
}

@Suite("Lists paged in memory")
struct ListSliceTests {
    /// The page as the list's contract says: ordered by key, a key repeated leaves the later item
    /// out, then `first` after the key `after` names (written the simple way).
    static func expected(_ all: [Int], keys: [ListKey], first: Int, after: ListKey?) -> (items: [Int], hasNext: Bool, total: Int) {
        let sorted = zip(keys, all).enumerated().sorted { $0.element.0 < $1.element.0 || ($0.element.0 == $1.element.0 && $0.offset < $1.offset) }
        var unique: [(ListKey, Int)] = []
        for (_, pair) in sorted where unique.last.map({ $0.0 != pair.0 }) ?? true { unique.append(pair) }
        let start = after.map { a in unique.firstIndex { a < $0.0 } ?? unique.count } ?? 0
        return (unique[start..<min(unique.count, start + first)].map(\.1), start + first < unique.count, unique.count)
    }

    @Test("a page of a list is its items by key, repeats left out, after the cursor's key: random lists against the rule written simply")
    func pages() throws {
        var rng = SeededRandom(seed: 17)
        for _ in 0..<500 {
            let count = Int(rng.next() % 9)
            let all = Array(0..<count)
            let keys = all.map { _ in ListKey(["b", "a", "c", "é", ""][Int(rng.next() % 5)], String(rng.next() % 3)) }
            let first = Int(rng.next() % 5)
            let after: ListKey? = count > 0 && rng.next() % 2 == 0 ? keys[Int(rng.next() % UInt64(count))] : nil
            let cursor = after.map { ListSlice<Int>.cursor(ordering: "t", key: $0) }
            let page = try ListSlice(all, first: first, after: cursor, ordering: "t") { keys[$0] }
            let want = Self.expected(all, keys: keys, first: first, after: after)
            #expect(
                page.items == want.items && page.hasNextPage == want.hasNext && page.total == want.total,
                "\(keys) first \(first) after \(String(describing: after))")
            #expect(page.keys == page.items.map { keys[$0] })
        }
    }

    @Test("stored problems are decoded once per text, as JSONDecoder reads them; a text that is not a list of problems holds none")
    func storedProblems() throws {
        let cache = StoredProblems(capacity: 2)
        let problems = [
            Problem(code: .sectionNotConfigured, message: "map the section's categories"),
            Problem(code: .dueDateMissing, message: "no due date", field: "dueDate")
        ]
        let text = String(decoding: try JSONEncoder().encode(problems), as: UTF8.self)
        #expect(cache.decode(text) == problems)
        #expect(cache.decode(text) == problems && cache.count == 1)
        #expect(cache.decode("[{\"code\": 1}]").isEmpty && cache.decode("not json").isEmpty)
        // Bounded: emptied when full.
        #expect(cache.count <= 2)
        #expect(cache.decode(text) == problems)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add() { lock.withLock { count += 1 } }
}
