import Foundation

/// Demographic data of a user (same `sourcedId` as the user). Passback never stores it; it is
/// modelled so the client and the sandbox cover the whole 1.1 rostering surface.
public struct Demographics: OneRosterObject {
    public static let singularKey = "demographics"
    public static let pluralKey = "demographics"
    /// The race and ethnicity flags of 1.1, each `true`/`false` on the wire.
    public static let flagKeys = [
        "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander",
        "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"
    ]
    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var birthDate: CalendarDate?
    public var sex: String?
    public var flags: [String: Bool]
    public var countryOfBirthCode: String?
    public var stateOfBirthAbbreviation: String?
    public var cityOfBirth: String?
    public var publicSchoolResidenceStatus: String?
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        birthDate: CalendarDate? = nil, sex: String? = nil, flags: [String: Bool] = [:], countryOfBirthCode: String? = nil,
        stateOfBirthAbbreviation: String? = nil, cityOfBirth: String? = nil, publicSchoolResidenceStatus: String? = nil,
        unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.birthDate = birthDate
        self.sex = sex
        self.flags = flags
        self.countryOfBirthCode = countryOfBirthCode
        self.stateOfBirthAbbreviation = stateOfBirthAbbreviation
        self.cityOfBirth = cityOfBirth
        self.publicSchoolResidenceStatus = publicSchoolResidenceStatus
        self.unknownFields = unknownFields
    }

    public init(json: JSONObject) throws(OneRosterDecodingError) {
        var r = FieldReader(json, path: Self.singularKey)
        try self.init(reading: &r)
    }

    /// Reads the record from a JSON object or, in place, a CSV row (``FieldReader``).
    package init(reading r: inout FieldReader) throws(OneRosterDecodingError) {
        let h = try r.header()
        var flags: [String: Bool] = [:]
        for key in Self.flagKeys {
            if let v = try r.optionalBool(key) { flags[key] = v }
        }
        self.init(
            sourcedId: h.sourcedId, status: h.status, dateLastModified: h.dateLastModified, metadata: h.metadata,
            birthDate: try r.optionalDate("birthDate"), sex: try r.optionalString("sex"), flags: flags,
            countryOfBirthCode: try r.optionalString("countryOfBirthCode"),
            stateOfBirthAbbreviation: try r.optionalString("stateOfBirthAbbreviation"),
            cityOfBirth: try r.optionalString("cityOfBirth"),
            publicSchoolResidenceStatus: try r.optionalString("publicSchoolResidenceStatus"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("birthDate", birthDate)
        w.set("sex", sex)
        for (k, v) in flags { w.set(k, bool: v) }
        w.set("countryOfBirthCode", countryOfBirthCode)
        w.set("stateOfBirthAbbreviation", stateOfBirthAbbreviation)
        w.set("cityOfBirth", cityOfBirth)
        w.set("publicSchoolResidenceStatus", publicSchoolResidenceStatus)
        return w.object
    }
}
