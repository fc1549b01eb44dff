import Foundation

/// Base64url without padding (RFC 4648 §5): cursors and global ids, which travel in URLs and
/// JSON. One pass over the standard alphabet's bytes, not three string replacements.
public enum Base64URL {
    public static func encode(_ bytes: some DataProtocol) -> String {
        var encoded = Data(bytes).base64EncodedData()
        while encoded.last == UInt8(ascii: "=") { encoded.removeLast() }
        for i in encoded.indices {
            switch encoded[i] {
            case UInt8(ascii: "+"): encoded[i] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): encoded[i] = UInt8(ascii: "_")
            default: break
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}
