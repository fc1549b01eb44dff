import Foundation

/// A person: student, teacher, administrator...
public struct User: OneRosterObject {
    public static let singularKey = "user"
    public static let pluralKey = "users"

    /// An identifier of the user in another system (`userIds`).
    public struct UserID: Sendable, Hashable {
        public var type: String
        public var identifier: String
        public init(type: String, identifier: String) {
            self.type = type
            self.identifier = identifier
        }
    }

    public var sourcedId: String
    public var status: RecordStatus
    public var dateLastModified: Date?
    public var metadata: JSONObject?
    public var username: String
    public var userIds: [UserID]
    public var enabledUser: Bool
    public var givenName: String
    public var familyName: String
    public var middleName: String?
    public var role: RoleType
    public var identifier: String?
    public var email: String?
    public var sms: String?
    public var phone: String?
    public var agents: [Reference]
    public var orgs: [Reference]
    public var grades: [String]
    public var unknownFields: JSONObject

    public init(
        sourcedId: String, status: RecordStatus = .active, dateLastModified: Date? = nil, metadata: JSONObject? = nil,
        username: String, userIds: [UserID] = [], enabledUser: Bool = true, givenName: String, familyName: String,
        middleName: String? = nil, role: RoleType, identifier: String? = nil, email: String? = nil, sms: String? = nil,
        phone: String? = nil, agents: [Reference] = [], orgs: [Reference], grades: [String] = [],
        unknownFields: JSONObject = [:]
    ) {
        self.sourcedId = sourcedId
        self.status = status
        self.dateLastModified = dateLastModified
        self.metadata = metadata
        self.username = username
        self.userIds = userIds
        self.enabledUser = enabledUser
        self.givenName = givenName
        self.familyName = familyName
        self.middleName = middleName
        self.role = role
        self.identifier = identifier
        self.email = email
        self.sms = sms
        self.phone = phone
        self.agents = agents
        self.orgs = orgs
        self.grades = grades
        self.unknownFields = unknownFields
    }

    public init(json: JSONObject) throws(OneRosterDecodingError) {
        var r = FieldReader(json, path: Self.singularKey)
        try self.init(reading: &r)
    }

    /// Reads the record from a JSON object or, in place, a CSV row (``FieldReader``).
    package init(reading r: inout FieldReader) throws(OneRosterDecodingError) {
        let h = try r.header()
        var ids: [UserID] = []
        for (i, v) in (try r.optionalArray("userIds") ?? []).enumerated() {
            guard case .object(let o) = v, let t = o["type"]?.stringValue, let id = o["identifier"]?.stringValue else {
                throw OneRosterDecodingError(field: "user.userIds[\(i)]", reason: "must be {\"type\", \"identifier\"}")
            }
            ids.append(UserID(type: t, identifier: id))
        }
        self.init(
            sourcedId: h.sourcedId, status: h.status, dateLastModified: h.dateLastModified, metadata: h.metadata,
            username: try r.nonEmptyString("username"), userIds: ids,
            enabledUser: try r.bool("enabledUser"), givenName: try r.nonEmptyString("givenName"),
            familyName: try r.nonEmptyString("familyName"), middleName: try r.optionalString("middleName"),
            role: try r.open("role", as: RoleType.self), identifier: try r.optionalString("identifier"),
            email: try r.optionalString("email"), sms: try r.optionalString("sms"), phone: try r.optionalString("phone"),
            agents: try r.references("agents"), orgs: try r.nonEmptyReferences("orgs"), grades: try r.strings("grades"))
        unknownFields = r.remaining
    }

    public var json: JSONObject {
        var w = FieldWriter(unknown: unknownFields)
        w.header(self)
        w.set("username", username)
        w.set("userIds", array: userIds.map { .object(["type": .string($0.type), "identifier": .string($0.identifier)]) })
        w.set("enabledUser", bool: enabledUser)
        w.set("givenName", givenName)
        w.set("familyName", familyName)
        w.set("middleName", middleName)
        w.set("role", open: role)
        w.set("identifier", identifier)
        w.set("email", email)
        w.set("sms", sms)
        w.set("phone", phone)
        w.set("agents", references: agents)
        w.set("orgs", references: orgs, omitIfEmpty: false)
        w.set("grades", strings: grades)
        return w.object
    }
}
