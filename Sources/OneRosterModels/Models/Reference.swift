import Foundation

/// A reference to another record (`{"href", "sourcedId", "type"}`). In requests the
/// `sourcedId` alone is enough; `type` is sent too because it costs nothing.
public struct Reference: Sendable, Hashable, Codable {
    public var sourcedId: String
    public var type: ReferenceType?
    public var href: String?

    public init(_ sourcedId: String, type: ReferenceType? = nil, href: String? = nil) {
        self.sourcedId = sourcedId
        self.type = type
        self.href = href
    }

    /// The reference as a JSON object.
    public var json: JSONObject {
        var o: JSONObject = ["sourcedId": .string(sourcedId)]
        if let type { o["type"] = .string(type.rawValue) }
        if let href { o["href"] = .string(href) }
        return o
    }

    package static func decode(_ v: JSONValue, field: String) throws(OneRosterDecodingError) -> Reference {
        switch v {
        case .object(let o):
            guard case .string(let id)? = o["sourcedId"], !id.isEmpty else {
                throw OneRosterDecodingError(field: field + ".sourcedId", reason: "is required")
            }
            return Reference(id, type: o["type"]?.stringValue.map(ReferenceType.init(rawValue:)), href: o["href"]?.stringValue)
        case .string(let id) where !id.isEmpty:
            return Reference(id)
        default:
            throw OneRosterDecodingError(field: field, reason: "must be a reference object with a sourcedId")
        }
    }

    public init(from decoder: any Decoder) throws {
        let v = try JSONValue(from: decoder)
        do { self = try Reference.decode(v, field: "reference") } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }
}
