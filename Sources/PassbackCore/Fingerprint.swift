import Crypto
import Foundation

/// A short, stable digest of content: what was last accepted versus what is there now.
public enum Fingerprint {
    /// The first 16 bytes of SHA-256, hex. Stable across runs and machines, unlike `Hasher`.
    public static func of(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of a string's UTF-8.
    public static func of(_ text: String) -> String { of(Data(text.utf8)) }
}
