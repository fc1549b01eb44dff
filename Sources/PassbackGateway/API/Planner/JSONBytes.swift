import Foundation
import GraphQL
import OneRoster

/// JSON written straight into a byte buffer, as the planned executor answers. Strings and
/// numbers are written as the OneRoster models' serializer writes them (one writer for both):
/// `"`, `\` and the control characters escaped; an integral number without a fraction.
enum JSONBytes {
    static func string(_ s: String, into out: inout [UInt8]) {
        JSONValue.writeString(s, into: &out)
    }

    static func int(_ n: Int, into out: inout [UInt8]) {
        out.append(contentsOf: String(n).utf8)
    }

    static func double(_ d: Double, into out: inout [UInt8]) {
        JSONValue.writeNumber(d, into: &out)
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
