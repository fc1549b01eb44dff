import Foundation

/// A string-valued vocabulary that vendors extend: the known values are named, any other
/// value is kept as sent instead of failing the whole record.
public protocol OpenVocabulary: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral,
    CustomStringConvertible
where RawValue == String {
    init(rawValue: String)
}

extension OpenVocabulary {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// `status` of a record: `active` or `tobedeleted` (1.0 servers may still say `inactive`).
public struct RecordStatus: OpenVocabulary {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let active: RecordStatus = "active"
    public static let toBeDeleted: RecordStatus = "tobedeleted"
    /// True when the SIS says the record is gone.
    public var isDeleted: Bool { rawValue == "tobedeleted" || rawValue == "inactive" }
    /// The values a record may carry: 1.1's two, and 1.0's `inactive`.
    public static let allowed: Set<String> = ["active", "tobedeleted", "inactive"]
}

/// `type` of an org.
public struct OrgType: OpenVocabulary {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let district: OrgType = "district"
    public static let school: OrgType = "school"
    public static let department: OrgType = "department"
    public static let local: OrgType = "local"
    public static let state: OrgType = "state"
    public static let national: OrgType = "national"
}

/// `type` of an academic session.
public struct SessionType: OpenVocabulary {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let schoolYear: SessionType = "schoolYear"
    public static let term: SessionType = "term"
    public static let semester: SessionType = "semester"
    public static let gradingPeriod: SessionType = "gradingPeriod"
}

/// `classType` of a class.
public struct ClassType: OpenVocabulary {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let homeroom: ClassType = "homeroom"
    public static let scheduled: ClassType = "scheduled"
}

/// `role` of a user or an enrollment.
public struct RoleType: OpenVocabulary {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let student: RoleType = "student"
    public static let teacher: RoleType = "teacher"
    public static let administrator: RoleType = "administrator"
    public static let aide: RoleType = "aide"
    public static let guardian: RoleType = "guardian"
    public static let parent: RoleType = "parent"
    public static let proctor: RoleType = "proctor"
    public static let relative: RoleType = "relative"
}

/// `type` of a reference (the GUIDRef `type`).
public struct ReferenceType: OpenVocabulary {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let academicSession: ReferenceType = "academicSession"
    public static let category: ReferenceType = "category"
    public static let `class`: ReferenceType = "class"
    public static let course: ReferenceType = "course"
    public static let demographics: ReferenceType = "demographics"
    public static let enrollment: ReferenceType = "enrollment"
    public static let gradingPeriod: ReferenceType = "gradingPeriod"
    public static let lineItem: ReferenceType = "lineItem"
    public static let org: ReferenceType = "org"
    public static let result: ReferenceType = "result"
    public static let student: ReferenceType = "student"
    public static let teacher: ReferenceType = "teacher"
    public static let term: ReferenceType = "term"
    public static let user: ReferenceType = "user"
}

/// `scoreStatus` of a result: exactly the five values of OneRoster 1.1, spelled with spaces.
/// (1.1 has no `late`; 1.2 added it.) Closed on purpose: a value the SIS cannot accept must
/// never be sent.
public enum ScoreStatus: String, Sendable, Codable, CaseIterable {
    case exempt = "exempt"
    case fullyGraded = "fully graded"
    case notSubmitted = "not submitted"
    case partiallyGraded = "partially graded"
    case submitted = "submitted"
}
