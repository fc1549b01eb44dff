import OneRoster

/// The collections the sandbox holds.
public enum RecordKind: String, Sendable, CaseIterable, Hashable {
    case orgs, academicSessions, courses, classes, users, enrollments, demographics, categories, lineItems, results

    /// The key wrapping one record of this kind.
    public var singularKey: String {
        switch self {
        case .orgs: Org.singularKey
        case .academicSessions: AcademicSession.singularKey
        case .courses: Course.singularKey
        case .classes: Class.singularKey
        case .users: User.singularKey
        case .enrollments: Enrollment.singularKey
        case .demographics: Demographics.singularKey
        case .categories: Category.singularKey
        case .lineItems: LineItem.singularKey
        case .results: GradebookResult.singularKey
        }
    }

    /// The key wrapping a collection of this kind.
    public var pluralKey: String { rawValue }

    /// Fields a filter, sort or `fields` may name: the 1.1 model's fields for the kind.
    public var knownFields: Set<String> {
        let common: Set<String> = ["sourcedId", "status", "dateLastModified", "metadata"]
        let own: [String]
        switch self {
        case .orgs: own = ["name", "type", "identifier", "parent", "children"]
        case .academicSessions: own = ["title", "type", "startDate", "endDate", "parent", "children", "schoolYear"]
        case .courses: own = ["title", "schoolYear", "courseCode", "grades", "subjects", "org", "subjectCodes", "resources"]
        case .classes:
            own = ["title", "classCode", "classType", "location", "grades", "subjects", "course", "school", "terms", "subjectCodes", "periods", "resources"]
        case .users:
            own = [
                "username", "userIds", "enabledUser", "givenName", "familyName", "middleName", "role", "identifier", "email", "sms", "phone", "agents", "orgs",
                "grades"
            ]
        case .enrollments: own = ["user", "class", "school", "role", "primary", "beginDate", "endDate"]
        case .demographics:
            own = Demographics.flagKeys + ["birthDate", "sex", "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"]
        case .categories: own = ["title"]
        case .lineItems:
            own = ["title", "description", "assignDate", "dueDate", "class", "category", "gradingPeriod", "resultValueMin", "resultValueMax"]
        case .results: own = ["lineItem", "student", "scoreStatus", "score", "scoreDate", "comment"]
        }
        return common.union(own)
    }

    /// Whether the kind is part of the gradebook service (scopes differ from rostering).
    public var isGradebook: Bool { self == .categories || self == .lineItems || self == .results }
}
