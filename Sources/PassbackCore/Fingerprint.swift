import Crypto
import Foundation

/// A short, stable digest of content: what was last accepted versus what is there now.
public enum Fingerprint {
    /// The first 16 bytes of SHA-256, hex. Stable across runs and machines, unlike `Hasher`.
    public static func of(_ bytes: some DataProtocol) -> String {
        // Hex by table: `String(format:)` per byte cost more than the hash itself (rostering
        // fingerprints every record it reads).
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(32)
        for byte in SHA256.hash(data: bytes).prefix(16) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The digest of a string's UTF-8.
    public static func of(_ text: String) -> String { of(Data(text.utf8)) }
}
