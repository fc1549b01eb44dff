import Foundation

/// A user's place in a class, with a role.
public struct Enrollment: OneRosterObject {
    public static let singularKey = "enrollment"
    public static let pluralKey = "enrollments"
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var user: Reference
    public var `class`: Reference
    public var school: Reference
    public var role: RoleType
    public var primary: Bool?
    public var beginDate: CalendarDate?
    public var endDate: CalendarDate?
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        user: Reference, class classRef: Reference, school: Reference, role: RoleType, primary: Bool? = nil,
        beginDate: CalendarDate? = nil, endDate: CalendarDate? = nil, unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.user = user
        self.class = classRef
        self.school = school
        self.role = role
        self.primary = primary
        self.beginDate = beginDate
        self.endDate = endDate
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
            user: try r.reference("user"), class: try r.reference("class"), school: try r.reference("school"),
            role: try r.open("role", as: RoleType.self), primary: try r.optionalBool("primary"),
            beginDate: try r.optionalDate("beginDate"), endDate: try r.optionalDate("endDate"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("user", user)
        w.set("class", self.class)
        w.set("school", school)
        w.set("role", open: role)
        w.set("primary", bool: primary)
        w.set("beginDate", beginDate)
        w.set("endDate", endDate)
        return w.object
    }
}
