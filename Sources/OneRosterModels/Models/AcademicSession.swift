import Foundation

/// A school year, term, semester or grading period.
public struct AcademicSession: OneRosterObject {
    public static let singularKey = "academicSession"
    public static let pluralKey = "academicSessions"
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var title: String
    public var type: SessionType
    public var startDate: CalendarDate
    public var endDate: CalendarDate
    public var parent: Reference?
    public var children: [Reference]
    /// The school year as a year number string, e.g. `"2027"` for 2026–27.
    public var schoolYear: String?
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        title: String, type: SessionType, startDate: CalendarDate, endDate: CalendarDate, parent: Reference? = nil,
        children: [Reference] = [], schoolYear: String? = nil, unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.title = title
        self.type = type
        self.startDate = startDate
        self.endDate = endDate
        self.parent = parent
        self.children = children
        self.schoolYear = schoolYear
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
            title: try r.nonEmptyString("title"), type: try r.open("type", as: SessionType.self),
            startDate: try r.date("startDate"), endDate: try r.date("endDate"),
            parent: try r.optionalReference("parent"), children: try r.references("children"),
            schoolYear: try r.nonEmptyString("schoolYear"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("title", title)
        w.set("type", open: type)
        w.set("startDate", startDate)
        w.set("endDate", endDate)
        w.set("parent", parent)
        w.set("children", references: children)
        w.set("schoolYear", schoolYear)
        return w.object
    }

    /// Whether `day` falls inside this session, bounds included.
    public func contains(_ day: CalendarDate) -> Bool { startDate <= day && day <= endDate }
}
