import Foundation

/// An organisation: district, school, department...
public struct Org: OneRosterObject {
    public static let singularKey = "org"
    public static let pluralKey = "orgs"
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var name: String
    public var type: OrgType
    public var identifier: String?
    public var parent: Reference?
    public var children: [Reference]
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        name: String, type: OrgType, identifier: String? = nil, parent: Reference? = nil, children: [Reference] = [],
        unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.name = name
        self.type = type
        self.identifier = identifier
        self.parent = parent
        self.children = children
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
            name: try r.nonEmptyString("name"), type: try r.open("type", as: OrgType.self),
            identifier: try r.optionalString("identifier"), parent: try r.optionalReference("parent"),
            children: try r.references("children"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("name", name)
        w.set("type", open: type)
        w.set("identifier", identifier)
        w.set("parent", parent)
        w.set("children", references: children)
        return w.object
    }
}
