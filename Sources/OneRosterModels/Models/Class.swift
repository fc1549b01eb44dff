import Foundation

/// A class: one section of a course, in a school, over one or more terms.
public struct Class: OneRosterObject {
    public static let singularKey = "class"
    public static let pluralKey = "classes"
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var title: String
    public var classCode: String?
    public var classType: ClassType?
    public var location: String?
    public var grades: [String]
    public var subjects: [String]
    public var course: Reference
    public var school: Reference
    public var terms: [Reference]
    public var subjectCodes: [String]
    public var periods: [String]
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        title: String, classCode: String? = nil, classType: ClassType? = .scheduled, location: String? = nil,
        grades: [String] = [], subjects: [String] = [], course: Reference, school: Reference, terms: [Reference],
        subjectCodes: [String] = [], periods: [String] = [], unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.title = title
        self.classCode = classCode
        self.classType = classType
        self.location = location
        self.grades = grades
        self.subjects = subjects
        self.course = course
        self.school = school
        self.terms = terms
        self.subjectCodes = subjectCodes
        self.periods = periods
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
            title: try r.nonEmptyString("title"), classCode: try r.optionalString("classCode"),
            classType: try r.open("classType", as: ClassType.self), location: try r.optionalString("location"),
            grades: try r.strings("grades"), subjects: try r.strings("subjects"), course: try r.reference("course"),
            school: try r.reference("school"), terms: try r.nonEmptyReferences("terms"),
            subjectCodes: try r.strings("subjectCodes"), periods: try r.strings("periods"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("title", title)
        w.set("classCode", classCode)
        w.set("classType", open: classType)
        w.set("location", location)
        w.set("grades", strings: grades)
        w.set("subjects", strings: subjects)
        w.set("course", course)
        w.set("school", school)
        w.set("terms", references: terms, omitIfEmpty: false)
        w.set("subjectCodes", strings: subjectCodes)
        w.set("periods", strings: periods)
        return w.object
    }
}
