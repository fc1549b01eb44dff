import Foundation

/// A graded item of a class in the SIS gradebook. 1.1 requires every field but `description`;
/// they are optional here because vendors differ (one derives the grading period, one puts a
/// placeholder category), and what a given SIS demands is checked by its profile.
public struct LineItem: OneRosterObject {
    public static let singularKey = "lineItem"
    public static let pluralKey = "lineItems"
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var title: String
    public var description: String?
    public var assignDate: Date?
    public var dueDate: Date?
    public var `class`: Reference
    public var category: Reference?
    public var gradingPeriod: Reference?
    public var resultValueMin: Double?
    public var resultValueMax: Double?
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        title: String, description: String? = nil, assignDate: Date? = nil, dueDate: Date? = nil,
        class classRef: Reference, category: Reference? = nil, gradingPeriod: Reference? = nil,
        resultValueMin: Double? = nil, resultValueMax: Double? = nil, unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.title = title
        self.description = description
        self.assignDate = assignDate
        self.dueDate = dueDate
        self.class = classRef
        self.category = category
        self.gradingPeriod = gradingPeriod
        self.resultValueMin = resultValueMin
        self.resultValueMax = resultValueMax
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
            title: try r.string("title"), description: try r.optionalString("description"),
            assignDate: try r.optionalDateTime("assignDate"), dueDate: try r.optionalDateTime("dueDate"),
            class: try r.reference("class"), category: try r.optionalReference("category"),
            gradingPeriod: try r.optionalReference("gradingPeriod"), resultValueMin: try r.optionalDouble("resultValueMin"),
            resultValueMax: try r.optionalDouble("resultValueMax"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("title", title)
        w.set("description", description)
        w.set("assignDate", dateTime: assignDate)
        w.set("dueDate", dateTime: dueDate)
        w.set("class", self.class)
        w.set("category", category)
        w.set("gradingPeriod", gradingPeriod)
        w.set("resultValueMin", resultValueMin)
        w.set("resultValueMax", resultValueMax)
        return w.object
    }
}
