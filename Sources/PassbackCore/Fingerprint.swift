import Crypto
import Foundation

/// A short, stable digest of content: what was last accepted versus what is there now.
public enum Fingerprint {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The first 16 bytes of SHA-256, hex. Stable across runs and machines, unlike `Hasher`.
    public static func of(_ bytes: some DataProtocol) -> String { hex(SHA256.hash(data: bytes).prefix(16)) }

    /// The whole SHA-256 of `bytes`, hex (tokens and idempotency keys are stored so).
    public static func sha256Hex(_ bytes: some DataProtocol) -> String { hex(SHA256.hash(data: bytes)) }

    /// Lower-case hex, by table: `String(format:)` per byte cost more than the hash itself
    /// (rostering fingerprints every record it reads).
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in bytes {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The digest of a string's UTF-8.
    public static func of(_ text: String) -> String { of(Data(text.utf8)) }

    /// A digest built from parts without joining them first: each part is tagged and
    /// length-prefixed, so `("ab", "c")` and `("a", "bc")` differ, and a missing value differs
    /// from an empty one.
    public struct Builder {
        /// The parts as bytes, hashed at once by ``finish()``: one SHA-256 update per part
        /// cost more than the hashing (a record has a dozen parts, and a roster import hashes
        /// every record). The digest is the same as when hashed part by part.
        private var bytes: [UInt8] = []

        public init() { bytes.reserveCapacity(256) }

        public mutating func add(_ text: String?) {
            guard let text else { return bytes.append(0) }
            bytes.append(1)
            append(UInt64(text.utf8.count))
            bytes.append(contentsOf: text.utf8)
        }

        public mutating func add(_ number: Int64?) {
            guard let number else { return bytes.append(0) }
            bytes.append(2)
            append(UInt64(bitPattern: number))
        }

        /// Eight bytes, little-endian.
        private mutating func append(_ value: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }

        /// The first 16 bytes of the SHA-256, hex, as ``Fingerprint/of(_:)-(some DataProtocol)`` gives.
        public func finish() -> String { Fingerprint.hex(bytes.withUnsafeBytes { SHA256.hash(data: $0) }.prefix(16)) }
    }
}
