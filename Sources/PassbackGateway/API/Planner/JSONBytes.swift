import Foundation
import GraphQL

/// JSON written straight into a byte buffer, as the planned executor answers. Strings are
/// escaped as `JSONEncoder` escapes them with `.withoutEscapingSlashes` (the reference
/// engine's answers): `"`, `\`, and the control characters, the common ones by letter.
/// Numbers are written as `Map` encodes them, through their `Double` value: an integral one
/// without a fraction.
enum JSONBytes {
    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var start = 0
            for (i, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                if start < i { out.append(contentsOf: bytes[start..<i]) }
                start = i + 1
                switch b {
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            if start < bytes.count { out.append(contentsOf: bytes[start...]) }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func int(_ n: Int, into out: inout [UInt8]) {
        out.append(contentsOf: String(n).utf8)
    }

    static func double(_ d: Double, into out: inout [UInt8]) {
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 {
            int(Int(d), into: &out)
        } else {
            out.append(contentsOf: "\(d)".utf8)
        }
    }

    static func bool(_ b: Bool, into out: inout [UInt8]) {
        out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
    }

    static func null(into out: inout [UInt8]) {
        out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    /// A `Map` (a leaf's serialized value), as `GraphQLJSONEncoder` writes it: `undefined`
    /// entries of an object left out.
    static func map(_ value: Map, into out: inout [UInt8]) {
        switch value {
        case .undefined, .null: null(into: &out)
        case .bool(let b): bool(b, into: &out)
        case .number(let n): double(n.doubleValue, into: &out)
        case .string(let s): string(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                map(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let fields):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, item) in fields where !item.isUndefined {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                string(key, into: &out)
                out.append(UInt8(ascii: ":"))
                map(item, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
