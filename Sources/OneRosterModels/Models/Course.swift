import Foundation

/// A course of the catalogue; classes are its sections.
public struct Course: OneRosterObject {
    public static let singularKey = "course"
    public static let pluralKey = "courses"
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var title: String
    public var schoolYear: Reference?
    public var courseCode: String?
    public var grades: [String]
    public var subjects: [String]
    public var org: Reference
    public var subjectCodes: [String]
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        title: String, schoolYear: Reference? = nil, courseCode: String? = nil, grades: [String] = [],
        subjects: [String] = [], org: Reference, subjectCodes: [String] = [], unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.title = title
        self.schoolYear = schoolYear
        self.courseCode = courseCode
        self.grades = grades
        self.subjects = subjects
        self.org = org
        self.subjectCodes = subjectCodes
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
            title: try r.nonEmptyString("title"), schoolYear: try r.optionalReference("schoolYear"),
            courseCode: try r.optionalString("courseCode"), grades: try r.strings("grades"),
            subjects: try r.strings("subjects"), org: try r.reference("org"), subjectCodes: try r.strings("subjectCodes"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("title", title)
        w.set("schoolYear", schoolYear)
        w.set("courseCode", courseCode)
        w.set("grades", strings: grades)
        w.set("subjects", strings: subjects)
        w.set("org", org)
        w.set("subjectCodes", strings: subjectCodes)
        return w.object
    }
}
