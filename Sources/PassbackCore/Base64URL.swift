import Foundation

/// Base64url without padding (RFC 4648 §5): cursors and global ids, which travel in URLs and
/// JSON.
public enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Written straight from the bytes: a page of global ids and cursors encodes dozens a request.
    public static func encode(_ bytes: some DataProtocol) -> String { encode(Array(bytes)) }

    public static func encode(_ input: [UInt8]) -> String {
        let length = (input.count * 4 + 2) / 3
        return input.withUnsafeBufferPointer { input in
            alphabet.withUnsafeBufferPointer { alphabet in
                String(unsafeUninitializedCapacity: length) { out in
                    var (i, o) = (0, 0)
                    while i + 3 <= input.count {
                        let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                        out[o] = alphabet[Int(n >> 18 & 63)]
                        out[o + 1] = alphabet[Int(n >> 12 & 63)]
                        out[o + 2] = alphabet[Int(n >> 6 & 63)]
                        out[o + 3] = alphabet[Int(n & 63)]
                        (i, o) = (i + 3, o + 4)
                    }
                    switch input.count - i {
                    case 1:
                        let n = UInt32(input[i]) << 16
                        out[o] = alphabet[Int(n >> 18 & 63)]
                        out[o + 1] = alphabet[Int(n >> 12 & 63)]
                    case 2:
                        let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                        out[o] = alphabet[Int(n >> 18 & 63)]
                        out[o + 1] = alphabet[Int(n >> 12 & 63)]
                        out[o + 2] = alphabet[Int(n >> 6 & 63)]
                    default: break
                    }
                    return length
                }
            }
        }
    }
}

extension Base64URL {
    /// The bytes of unpadded base64url text (RFC 4648 §5), as JSON Web Tokens and keys carry
    /// them; nil for anything else (padding, `+`, `/`, whitespace, a length no encoding gives).
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "_"): v = 63
            default: return nil
            }
            buffer = (buffer << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        // A last group of one character (6 bits) encodes nothing; leftover bits must be zero.
        guard bits < 6, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
