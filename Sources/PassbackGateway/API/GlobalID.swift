import Foundation
import PassbackCore

/// Opaque global ids (API.md, convention 2): base64url of `Type:key`. The key is the row id
/// for what Passback owns, the sourcedId for rostered objects, and `material.section` for a
/// material as it stands in one section.
enum GlobalID {
    /// Written from the bytes: a page of fifty materials makes fifty ids a request.
    static func make(_ type: String, _ key: String) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(type.utf8.count + 1 + key.utf8.count)
        text += type.utf8
        text.append(UInt8(ascii: ":"))
        text += key.utf8
        return Base64URL.encode(text)
    }

    static func make(_ type: String, _ key: Int64) -> String { make(type, String(key)) }

    /// The type and key of an id, or nil if this server did not make it.
    static func parse(_ id: String) -> (type: String, key: String)? {
        // What this server makes (unpadded base64url of text starting with its type's letters)
        // is decoded without Foundation; anything else as before, which also takes the standard
        // alphabet and padding. `GlobalIDTests` holds the two to the same answers.
        if id.utf8.count <= 400, let bytes = Base64URL.decode(id), let first = bytes.first,
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
        {
            return String(validating: bytes, as: UTF8.self).flatMap(split)
        }
        var b64 = id.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard id.count <= 400, let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8) else { return nil }
        return split(text)
    }

    private static func split(_ text: String) -> (type: String, key: String)? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let type = String(text[..<colon]), key = String(text[text.index(after: colon)...])
        guard !type.isEmpty, !key.isEmpty, type.allSatisfy({ $0.isLetter }) else { return nil }
        return (type, key)
    }

    /// The key of an id that must be of `type`; a clear `BAD_USER_INPUT` otherwise.
    static func key(_ id: String, of type: String, argument: String) throws -> String {
        guard let p = parse(id) else { throw APIError.badInput("\(argument): '\(id.prefix(60))' is not an id this server made") }
        guard p.type == type else { throw APIError.badInput("\(argument): expected the id of a \(type), got the id of a \(p.type)") }
        return p.key
    }

    static func rowID(_ id: String, of type: String, argument: String) throws -> Int64 {
        guard let n = Int64(try key(id, of: type, argument: argument)) else {
            throw APIError.badInput("\(argument): '\(id.prefix(60))' is not an id this server made")
        }
        return n
    }

    static func material(_ materialID: Int64, section classID: Int64) -> String { make("Material", "\(materialID).\(classID)") }

    static func materialKey(_ id: String, argument: String) throws -> (materialID: Int64, classID: Int64) {
        let k = try key(id, of: "Material", argument: argument)
        let parts = k.split(separator: ".")
        guard parts.count == 2, let m = Int64(parts[0]), let c = Int64(parts[1]) else {
            throw APIError.badInput("\(argument): '\(id.prefix(60))' is not an id this server made")
        }
        return (m, c)
    }
}
