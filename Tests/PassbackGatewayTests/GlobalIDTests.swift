import Foundation
import Testing

@testable import PassbackGateway

@Suite("Global ids")
struct GlobalIDTests {
    /// `GlobalID.parse` as it was written first, on Foundation's base64 (the reference).
    static func reference(_ id: String) -> (type: String, key: String)? {
        var b64 = id.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard id.count <= 400, let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        let type = String(text[..<colon]), key = String(text[text.index(after: colon)...])
        guard !type.isEmpty, !key.isEmpty, type.allSatisfy({ $0.isLetter }) else { return nil }
        return (type, key)
    }

    static func same(_ id: String) -> Bool {
        let (a, b) = (GlobalID.parse(id), reference(id))
        return a?.type == b?.type && a?.key == b?.key
    }

    @Test("ids it makes parse back to their type and key")
    func roundTrip() {
        #expect(GlobalID.make("Material", "12.3") == "TWF0ZXJpYWw6MTIuMw")
        #expect(GlobalID.material(12, section: 3) == "TWF0ZXJpYWw6MTIuMw")
        for (type, key) in [("Section", "1"), ("Material", "4021.77"), ("SisCategory", "cat-é-1"), ("Person", String(repeating: "x", count: 250))] {
            let parsed = GlobalID.parse(GlobalID.make(type, key))
            #expect(parsed?.type == type && parsed?.key == key)
        }
    }

    @Test("parses every text as Foundation's base64 did: made ids, random ones, the standard alphabet, padding, long and odd text")
    func matchesReference() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=é ")
        for _ in 0..<3_000 {
            let text = String((0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            #expect(Self.same(text), "\(text)")
        }
        for _ in 0..<2_000 {
            // Valid base64url of random bytes, some with a type-like start.
            var bytes = (0..<Int.random(in: 0...30, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if Bool.random(using: &rng) { bytes = Array("Section:".utf8) + bytes }
            let id = Data(bytes).base64EncodedString()
            for variant in [
                id, id.replacingOccurrences(of: "=", with: ""),
                id.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            ] {
                #expect(Self.same(variant), "\(variant)")
            }
        }
        let bom = Data([0xEF, 0xBB, 0xBF] + Array("Section:1".utf8)).base64EncodedString()
        let long = GlobalID.make("Section", String(repeating: "7", count: 299))
        for odd in ["", "U2VjdGlvbjox", "U2VjdGlvbjox==", "U2VjdGlvbjo", "Ojox", bom, long, long + "AA", "8J-YgDox"] {
            #expect(Self.same(odd), "\(odd)")
        }
    }
}
