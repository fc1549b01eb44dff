import Foundation

/// A student's result on a line item (OneRoster's `result`; named so it does not shadow
/// `Swift.Result` in every file that imports this module).
public struct GradebookResult: OneRosterObject {
    public static let singularKey = "result"
    public static let pluralKey = "results"
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var lineItem: Reference
    public var student: Reference
    public var scoreStatus: ScoreStatus
    public var score: Double?
    /// A date, not a date-time, in 1.1.
    public var scoreDate: CalendarDate?
    public var comment: String?
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        lineItem: Reference, student: Reference, scoreStatus: ScoreStatus, score: Double? = nil,
        scoreDate: CalendarDate? = nil, comment: String? = nil, unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.lineItem = lineItem
        self.student = student
        self.scoreStatus = scoreStatus
        self.score = score
        self.scoreDate = scoreDate
        self.comment = comment
        self.unknownFields = unknownFields
    }

    public init(json: JSONObject) throws(OneRosterDecodingError) {
        var r = FieldReader(json, path: Self.singularKey)
        try self.init(reading: &r)
    }

    /// Reads the record from a JSON object or, in place, a CSV row (``FieldReader``).
    package init(reading r: inout FieldReader) throws(OneRosterDecodingError) {
        let h = try r.header()
        let statusText = try r.string("scoreStatus")
        guard let scoreStatus = ScoreStatus(rawValue: statusText) else {
            throw OneRosterDecodingError(
                field: "result.scoreStatus",
                reason: "must be one of " + ScoreStatus.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                    + ", got \"\(statusText)\"")
        }
        self.init(
            sourcedId: h.sourcedId, status: h.status, dateLastModified: h.dateLastModified, metadata: h.metadata,
            lineItem: try r.reference("lineItem"), student: try r.reference("student"), scoreStatus: scoreStatus,
            score: try r.optionalDouble("score"), scoreDate: try r.optionalDate("scoreDate"),
            comment: try r.optionalString("comment"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("lineItem", lineItem)
        w.set("student", student)
        w.set("scoreStatus", scoreStatus.rawValue)
        w.set("score", score)
        w.set("scoreDate", scoreDate)
        w.set("comment", comment)
        return w.object
    }
}
