import Foundation

/// A gradebook category of the SIS. Global in 1.1; products scope them per class through
/// `metadata` or by title.
public struct Category: OneRosterObject {
    public static let singularKey = "category"
    public static let pluralKey = "categories"
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var title: String
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        title: String, unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.title = title
        self.unknownFields = unknownFields
    }

    public init(json: JSONObject) throws(OneRosterDecodingError) {
        var r = FieldReader(json, path: Self.singularKey)
        try self.init(reading: &r)
    }

    /// Reads the record from a JSON object or, in place, a CSV row (``FieldReader``).
    package init(reading r: inout FieldReader) throws(OneRosterDecodingError) {
        let h = try r.header()
        self.init(
            sourcedId: h.sourcedId, status: h.status, dateLastModified: h.dateLastModified, metadata: h.metadata,
            title: try r.nonEmptyString("title"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("title", title)
        return w.object
    }
}
