import Foundation
import ZIPFoundation

/// Hostile CSV exports, for showing that a reader refuses them quickly and in bounded memory
/// (the tests and the benchmark write them; no SIS sends them on purpose).
public enum HostileExport {
    /// Writes a zip whose manifest lists a bulk `users.csv` made of `bytes` zero bytes, deflated
    /// (a gibibyte of zeros in about a megabyte: the classic zip bomb). `declaredSize`, when given, is written as the entry's inflated size
    /// in place of the true one, as a bomb that lies about itself would.
    public static func zipOfZeros(to url: URL, bytes: Int64, declaredSize: UInt32? = nil) throws {
        let deflated = deflatedZeros(bytes)
        let crc = crc32OfZeros(bytes)
        let manifest = Data("propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\n".utf8)
        var zip = Data()
        var central = Data()
        func entry(_ name: String, method: UInt16, crc: UInt32, body: Data, size: UInt32) {
            let offset = UInt32(zip.count)
            let nameBytes = Data(name.utf8)
            // Local header, then the central directory's record of the same entry.
            zip.append(le32(0x0403_4B50)); zip.append(le16(20)); zip.append(le16(0)); zip.append(le16(method))
            zip.append(le16(0)); zip.append(le16(0x21)); zip.append(le32(crc)); zip.append(le32(UInt32(body.count)))
            zip.append(le32(size)); zip.append(le16(UInt16(nameBytes.count))); zip.append(le16(0))
            zip.append(nameBytes); zip.append(body)
            central.append(le32(0x0201_4B50)); central.append(le16(20)); central.append(le16(20)); central.append(le16(0))
            central.append(le16(method)); central.append(le16(0)); central.append(le16(0x21)); central.append(le32(crc))
            central.append(le32(UInt32(body.count))); central.append(le32(size)); central.append(le16(UInt16(nameBytes.count)))
            central.append(le16(0)); central.append(le16(0)); central.append(le16(0)); central.append(le16(0))
            central.append(le32(0)); central.append(le32(offset)); central.append(nameBytes)
        }
        entry("manifest.csv", method: 0, crc: manifest.crc32(checksum: 0), body: manifest, size: UInt32(manifest.count))
        entry("users.csv", method: 8, crc: crc, body: deflated, size: declaredSize ?? UInt32(truncatingIfNeeded: bytes))
        let centralOffset = UInt32(zip.count)
        zip.append(central)
        zip.append(le32(0x0605_4B50)); zip.append(le16(0)); zip.append(le16(0)); zip.append(le16(2)); zip.append(le16(2))
        zip.append(le32(UInt32(central.count))); zip.append(le32(centralOffset)); zip.append(le16(0))
        try zip.write(to: url)
    }

    /// A raw deflate stream of `count` zero bytes, written directly rather than compressed: one
    /// dynamic-Huffman block whose only symbols are the literal 0, "copy 258 bytes from 1 back"
    /// (one bit each for length and distance) and the end of block, so each 258 zeros cost two
    /// bits, about 1,030 to 1, as zlib itself gets. Building it costs nothing, so tests can afford
    /// a gibibyte.
    static func deflatedZeros(_ count: Int64) -> Data {
        var w = BitWriter()
        w.bits(1, 1) // the last block
        w.bits(2, 2) // dynamic Huffman codes
        w.bits(29, 5) // 286 literal/length codes
        w.bits(0, 5) // 1 distance code
        w.bits(14, 4) // 18 code length codes, in the format's order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1
        for length: UInt32 in [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2] { w.bits(length, 3) }
        // Code length codes: 2 -> "0", 1 -> "10", 18 -> "11" (18 repeats a zero 11 + 7-bit extra times).
        w.code(0b0, 1) // literal 0: length 2
        w.code(0b11, 2); w.bits(127, 7) // literals 1...138: none
        w.code(0b11, 2); w.bits(106, 7) // literals 139...255: none
        w.code(0b0, 1) // end of block (256): length 2
        w.code(0b11, 2); w.bits(17, 7) // lengths 257...284: none
        w.code(0b10, 2) // length 285 (258 bytes): length 1
        w.code(0b10, 2) // distance 1: length 1
        // Canonical codes: 285 -> "0", literal 0 -> "10", end of block -> "11"; distance 1 -> "0".
        let matches = count / 258
        for _ in 0..<(count - matches * 258) { w.code(0b10, 2) }
        w.zeros(matches * 2)
        w.code(0b11, 2)
        return Data(w.finish())
    }

    /// The CRC-32 of `count` zero bytes, by squaring the operator of one zero bit (as zlib's
    /// `crc32_combine` does) instead of running a gibibyte through the table.
    static func crc32OfZeros(_ count: Int64) -> UInt32 {
        func times(_ matrix: [UInt32], _ vector: UInt32) -> UInt32 {
            var sum: UInt32 = 0, v = vector, i = 0
            while v != 0 {
                if v & 1 != 0 { sum ^= matrix[i] }
                v >>= 1
                i += 1
            }
            return sum
        }
        // One zero bit shifts the register right and folds in the polynomial when a one falls out.
        var op: [UInt32] = [0xEDB8_8320] + (1..<32).map { UInt32(1) << ($0 - 1) }
        var register: UInt32 = 0xFFFF_FFFF
        var bits = UInt64(max(0, count)) * 8
        while bits > 0 {
            if bits & 1 != 0 { register = times(op, register) }
            op = op.map { times(op, $0) }
            bits >>= 1
        }
        return register ^ 0xFFFF_FFFF
    }

    /// Deflate's bit order: fields least significant bit first, Huffman codes most significant first.
    struct BitWriter {
        var bytes: [UInt8] = []
        var pending: UInt32 = 0
        var used = 0

        mutating func bits(_ value: UInt32, _ count: Int) {
            pending |= value << used
            used += count
            while used >= 8 {
                bytes.append(UInt8(pending & 0xFF))
                pending >>= 8
                used -= 8
            }
        }

        mutating func code(_ code: UInt32, _ length: Int) {
            var reversed: UInt32 = 0
            for i in 0..<length { reversed |= ((code >> i) & 1) << (length - 1 - i) }
            bits(reversed, length)
        }

        mutating func zeros(_ count: Int64) {
            var left = count
            while left > 0, used != 0 { bits(0, 1); left -= 1 }
            bytes.append(contentsOf: repeatElement(0, count: Int(left / 8)))
            bits(0, Int(left % 8))
        }

        mutating func finish() -> [UInt8] {
            if used > 0 { bytes.append(UInt8(pending & 0xFF)) }
            return bytes
        }
    }

    private static func le16(_ v: UInt16) -> Data { Data([UInt8(v & 0xFF), UInt8(v >> 8)]) }
    private static func le32(_ v: UInt32) -> Data { Data((0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) }) }
}
