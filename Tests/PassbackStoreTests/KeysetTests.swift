import Foundation
import OneRosterSandbox
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

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add() { lock.withLock { count += 1 } }
}
