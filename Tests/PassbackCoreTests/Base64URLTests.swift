import Foundation
import PassbackCore
import Testing

@Suite("Base64url")
struct Base64URLTests {
    /// Foundation's standard base64, turned into base64url without padding: the reference.
    static func reference(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test("encodes as Foundation's base64 does, with the URL alphabet and no padding, for every length and byte")
    func matchesFoundation() {
        var rng = SystemRandomNumberGenerator()
        #expect(Base64URL.encode([UInt8]()) == "")
        #expect(Base64URL.encode(Array("Material:12.3".utf8)) == "TWF0ZXJpYWw6MTIuMw")
        #expect(Base64URL.encode([0xfb, 0xff, 0xbf]) == "-_-_", "62 and 63 are - and _")
        for length in 0..<70 {
            for _ in 0..<40 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                #expect(Base64URL.encode(bytes) == Self.reference(bytes), "\(bytes)")
            }
        }
    }

    @Test("decodes what Foundation's base64 decodes, for every length and byte; refuses padding, other alphabets and impossible lengths")
    func decodesAsFoundation() {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<70 {
            for _ in 0..<40 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                #expect(Base64URL.decode(Self.reference(bytes)) == bytes, "\(bytes)")
            }
        }
        #expect(Base64URL.decode("-_-_") == [0xfb, 0xff, 0xbf])
        #expect(Base64URL.decode("TWE") == Array("Ma".utf8))
        // "TR" and "TWF": their last character's unused low bits are not zero (no encoder writes them).
        for bad in ["TQ==", "a+b/", "ab cd", "A", "AAAAA", "TR", "TWF"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad)")
        }
    }
}
