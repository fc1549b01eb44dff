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

    /// A digest built from parts without joining them first: each part is tagged and
    /// length-prefixed, so `("ab", "c")` and `("a", "bc")` differ, and a missing value differs
    /// from an empty one.
    public struct Builder {
        private var hash = SHA256()

        public init() {}

        public mutating func add(_ text: String?) {
            guard var text else { return tag(0) }
            tag(1)
            text.withUTF8 { bytes in
                var count = UInt64(bytes.count).littleEndian
                withUnsafeBytes(of: &count) { hash.update(bufferPointer: $0) }
                hash.update(bufferPointer: UnsafeRawBufferPointer(bytes))
            }
        }

        public mutating func add(_ number: Int64?) {
            guard var number else { return tag(0) }
            tag(2)
            number = number.littleEndian
            withUnsafeBytes(of: &number) { hash.update(bufferPointer: $0) }
        }

        private mutating func tag(_ byte: UInt8) {
            var b = byte
            withUnsafeBytes(of: &b) { hash.update(bufferPointer: $0) }
        }

        /// The first 16 bytes of the SHA-256, hex, as ``Fingerprint/of(_:)-(some DataProtocol)`` gives.
        public func finish() -> String {
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var hex: [UInt8] = []
            hex.reserveCapacity(32)
            for byte in hash.finalize().prefix(16) {
                hex.append(digits[Int(byte >> 4)])
                hex.append(digits[Int(byte & 0x0F)])
            }
            return String(decoding: hex, as: UTF8.self)
        }
    }
}
