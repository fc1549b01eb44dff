import Foundation

/// A OneRoster 1.1 record: the fields every object shares, its wire keys, and an exact
/// mapping to and from its JSON object (unknown fields and `metadata` included).
public protocol OneRosterObject: Sendable, Equatable, Codable {
    /// The key that wraps one object: `{"lineItem": {...}}`.
    static var singularKey: String { get }
    /// The key that wraps a collection: `{"lineItems": [...]}`.
    static var pluralKey: String { get }

    var sourcedId: String { get }
    var status: RecordStatus { get }
    var dateLastModified: Date? { get }
    var metadata: JSONObject? { get }
    /// Fields this library does not model, kept so a round trip loses nothing.
    var unknownFields: JSONObject { get }

    /// Reads the record from its JSON object; the error names the offending field.
    init(json: JSONObject) throws(OneRosterDecodingError)
    /// The record as its JSON object.
    var json: JSONObject { get }
}

extension OneRosterObject {
    public init(from decoder: any Decoder) throws {
        let object = try JSONObject(from: decoder)
        do {
            try self.init(json: object)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    /// The record wrapped under its singular key, as a PUT body or a single GET answer.
    public var wrapped: JSONValue { .object([Self.singularKey: .object(json)]) }
}

/// The four fields every record carries.
package struct RecordHeader {
    package var sourcedId: String
    package var status: RecordStatus
    package var dateLastModified: Date?
    package var metadata: JSONObject?
}

extension FieldReader {
    /// Reads `sourcedId`, `status`, `dateLastModified` and `metadata`. A missing status is
    /// read as `active`, as servers that omit it (and bulk CSV files) mean; any other value
    /// than the standard's is refused, so a deletion spelled another way is never taken for
    /// an active record.
    package mutating func header() throws(OneRosterDecodingError) -> RecordHeader {
        RecordHeader(
            sourcedId: try nonEmptyString("sourcedId"),
            status: try status(),
            dateLastModified: try optionalDateTime("dateLastModified"),
            metadata: try optionalObject("metadata")
        )
    }
}

extension FieldWriter {
    package mutating func header(_ r: some OneRosterObject) {
        set("sourcedId", r.sourcedId)
        set("status", open: r.status)
        set("dateLastModified", dateTime: r.dateLastModified)
        set("metadata", object: r.metadata)
    }
}
