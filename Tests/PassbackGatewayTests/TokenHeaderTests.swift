import Foundation
import PassbackCore
import Testing

@testable import PassbackGateway

/// The bearer header's cheap checks, read as bytes and scalars since every request makes them, held
/// to what they replaced: Foundation's trimming of `.whitespaces`, and a token's shape.
@Suite("A bearer token's trimming and shape")
struct TokenHeaderTests {
    @Test("trimming the spaces around a token keeps what Foundation's trimmingCharacters(in: .whitespaces) keeps")
    func trimming() {
        // Spaces of every kind, and characters that look like them but are not Zs or the tab.
        let alphabet: [Character] = [
            " ", "\t", "\u{0B}", "\u{0C}", "\u{A0}", "\u{2003}", "\u{3000}", "\u{202F}", "\u{1680}", "\n", "\r", "\u{85}", "\u{200B}", "\u{FEFF}", "a", "_",
            "é", "\u{301}",
            "\u{1F600}"
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let text = String((0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let header = "Bearer " + text
            #expect(
                GraphQLAPI.trimmingSpaces(header.dropFirst(7)) == String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces),
                "\(Array(text.unicodeScalars).map { String($0.value, radix: 16) })")
        }
    }

    @Test("a token has the shape pb_ and 43 characters of base64url, ASCII only")
    func shape() {
        let made = APIToken.make(randomBytes: Array(repeating: 0xfb, count: 32))
        #expect(APIToken.looksValid(made))
        let body = String(made.dropFirst(3))
        #expect(!APIToken.looksValid("pb_" + body.dropLast() + "é"), "a letter outside base64url")
        #expect(!APIToken.looksValid("pb_" + body.dropLast() + "+"))
        #expect(!APIToken.looksValid("pb_" + body.dropLast()))
        #expect(!APIToken.looksValid(made + "A"))
        #expect(!APIToken.looksValid("pc_" + body))
        #expect(!APIToken.looksValid(""))
        // Against the shape written as a pattern, over random texts near it.
        let alphabet = Array("ABCxyz019-_+/=é. ")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let text = "pb_" + String((0..<Int.random(in: 41...45, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let expected = text.wholeMatch(of: /pb_[A-Za-z0-9_-]{43}/) != nil
            #expect(APIToken.looksValid(text) == expected, "\(text)")
        }
    }
}
