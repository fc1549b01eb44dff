import Foundation

/// How one CSV column maps to one key of the model's JSON object. Reading and writing both go
/// through the model's JSON mapping, so the models stay the single source of truth.
package struct CSVColumn: Sendable {
    package enum Kind: Sendable {
        /// The cell is the JSON string as it is (dates, booleans and numbers included).
        case text
        /// `xxxSourcedId`: one reference, `{"sourcedId": cell}`.
        case reference
        /// `xxxSourcedIds`: comma-separated sourcedIds, a list of references.
        case references
        /// Comma-separated values, a list of strings (`grades`, `subjects`, `periods`...).
        case list
        /// `users.userIds`: `{type:identifier}` pairs, comma-separated.
        case userIds
    }

    /// The header name, exactly as 1.1 spells it.
    package let name: String
    /// The key in the model's JSON object.
    package let key: String
    package let kind: Kind

    package init(_ name: String, _ kind: Kind = .text, key: String? = nil) {
        self.name = name
        self.key = key ?? name
        self.kind = kind
    }
}

/// One file of the 1.1 CSV binding: its name and its columns in 1.1 order. Every listed column
/// must be in the header; the order of a file being read may differ.
package struct CSVFileSpec: Sendable {
    /// The name the manifest uses, `users` for `users.csv`.
    package let name: String
    package let columns: [CSVColumn]
    /// Column name by JSON key, to name the column of a model's decoding error.
    package let columnNameByKey: [String: String]
    package let keys: Set<String>

    package var fileName: String { name + ".csv" }

    package init(_ name: String, _ columns: [CSVColumn]) {
        self.name = name
        let all = [CSVColumn("sourcedId"), CSVColumn("status"), CSVColumn("dateLastModified")] + columns
        self.columns = all
        columnNameByKey = Dictionary(all.map { ($0.key, $0.name) }, uniquingKeysWith: { first, _ in first })
        keys = Set(all.map(\.key))
    }

    /// The files this library reads and writes, in the order the writer puts them in the zip.
    package static let all: [CSVFileSpec] = [
        Org.csvSpec, AcademicSession.csvSpec, Course.csvSpec, Class.csvSpec, User.csvSpec, Enrollment.csvSpec,
        Demographics.csvSpec, Category.csvSpec, LineItem.csvSpec, GradebookResult.csvSpec
    ]

    /// Files of the 1.1 binding that this library does not read (resources); a manifest may list
    /// them and the writer marks them absent.
    package static let unsupportedNames = ["classResources", "courseResources", "resources"]

    /// Columns that exist only in OneRoster 1.2 files, used to explain a header that does not
    /// fit 1.1.
    package static let oneRoster12Columns: Set<String> = [
        "userMasterIdentifier", "preferredGivenName", "preferredFirstName", "preferredMiddleName",
        "preferredFamilyName", "preferredLastName", "primaryOrgSourcedId", "pronouns", "scoreScaleSourcedId",
        "textScore", "learningObjectiveSet", "inProgress", "incomplete", "late", "missing"
    ]
}

/// A model that has a file in the 1.1 CSV binding.
package protocol CSVRecord: OneRosterObject {
    static var csvSpec: CSVFileSpec { get }
    /// Reads the record as `init(json:)` does, from any ``FieldReader`` (a CSV row read in place).
    init(reading r: inout FieldReader) throws(OneRosterDecodingError)
}

extension Org: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "orgs",
        [
            CSVColumn("name"), CSVColumn("type"), CSVColumn("identifier"),
            CSVColumn("parentSourcedId", .reference, key: "parent")
        ])
}

extension AcademicSession: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "academicSessions",
        [
            CSVColumn("title"), CSVColumn("type"), CSVColumn("startDate"), CSVColumn("endDate"),
            CSVColumn("parentSourcedId", .reference, key: "parent"), CSVColumn("schoolYear")
        ])
}

extension Course: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "courses",
        [
            CSVColumn("schoolYearSourcedId", .reference, key: "schoolYear"), CSVColumn("title"),
            CSVColumn("courseCode"), CSVColumn("grades", .list), CSVColumn("orgSourcedId", .reference, key: "org"),
            CSVColumn("subjects", .list), CSVColumn("subjectCodes", .list)
        ])
}

extension Class: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "classes",
        [
            CSVColumn("title"), CSVColumn("grades", .list), CSVColumn("courseSourcedId", .reference, key: "course"),
            CSVColumn("classCode"), CSVColumn("classType"), CSVColumn("location"),
            CSVColumn("schoolSourcedId", .reference, key: "school"),
            CSVColumn("termSourcedIds", .references, key: "terms"), CSVColumn("subjects", .list),
            CSVColumn("subjectCodes", .list), CSVColumn("periods", .list)
        ])
}

extension User: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "users",
        [
            CSVColumn("enabledUser"), CSVColumn("orgSourcedIds", .references, key: "orgs"), CSVColumn("role"),
            CSVColumn("username"), CSVColumn("userIds", .userIds), CSVColumn("givenName"), CSVColumn("familyName"),
            CSVColumn("middleName"), CSVColumn("identifier"), CSVColumn("email"), CSVColumn("sms"),
            CSVColumn("phone"), CSVColumn("agentSourcedIds", .references, key: "agents"), CSVColumn("grades", .list),
            // Not modelled: kept in the user's unknown fields under "password".
            CSVColumn("password")
        ])
}

extension Enrollment: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "enrollments",
        [
            CSVColumn("classSourcedId", .reference, key: "class"),
            CSVColumn("schoolSourcedId", .reference, key: "school"),
            CSVColumn("userSourcedId", .reference, key: "user"), CSVColumn("role"), CSVColumn("primary"),
            CSVColumn("beginDate"), CSVColumn("endDate")
        ])
}

extension Demographics: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "demographics",
        [
            CSVColumn("birthDate"), CSVColumn("sex"), CSVColumn("americanIndianOrAlaskaNative"), CSVColumn("asian"),
            CSVColumn("blackOrAfricanAmerican"), CSVColumn("nativeHawaiianOrOtherPacificIslander"),
            CSVColumn("white"), CSVColumn("demographicRaceTwoOrMoreRaces"), CSVColumn("hispanicOrLatinoEthnicity"),
            CSVColumn("countryOfBirthCode"), CSVColumn("stateOfBirthAbbreviation"), CSVColumn("cityOfBirth"),
            CSVColumn("publicSchoolResidenceStatus")
        ])
}

extension Category: CSVRecord {
    package static let csvSpec = CSVFileSpec("categories", [CSVColumn("title")])
}

extension LineItem: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "lineItems",
        [
            CSVColumn("title"), CSVColumn("description"), CSVColumn("assignDate"), CSVColumn("dueDate"),
            CSVColumn("classSourcedId", .reference, key: "class"),
            CSVColumn("categorySourcedId", .reference, key: "category"),
            CSVColumn("gradingPeriodSourcedId", .reference, key: "gradingPeriod"), CSVColumn("resultValueMin"),
            CSVColumn("resultValueMax")
        ])
}

extension GradebookResult: CSVRecord {
    package static let csvSpec = CSVFileSpec(
        "results",
        [
            CSVColumn("lineItemSourcedId", .reference, key: "lineItem"),
            CSVColumn("studentSourcedId", .reference, key: "student"), CSVColumn("scoreStatus"), CSVColumn("score"),
            CSVColumn("scoreDate"), CSVColumn("comment")
        ])
}
