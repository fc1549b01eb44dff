import Foundation

/// What to put in a CSV export: for each file, its records, or `nil` to mark it absent.
public struct OneRosterCSVExport: Sendable, Equatable {
    /// `orgs.csv`.
    public var orgs: [Org]?
    /// `academicSessions.csv`.
    public var academicSessions: [AcademicSession]?
    /// `courses.csv`.
    public var courses: [Course]?
    /// `classes.csv`.
    public var classes: [Class]?
    /// `users.csv`.
    public var users: [User]?
    /// `enrollments.csv`.
    public var enrollments: [Enrollment]?
    /// `demographics.csv`.
    public var demographics: [Demographics]?
    /// `categories.csv`.
    public var categories: [Category]?
    /// `lineItems.csv`.
    public var lineItems: [LineItem]?
    /// `results.csv`.
    public var results: [GradebookResult]?
    /// `source.systemName` in the manifest.
    public var sourceSystemName: String?
    /// `source.systemCode` in the manifest.
    public var sourceSystemCode: String?

    /// An export of the given files; the others are absent.
    public init(
        orgs: [Org]? = nil, academicSessions: [AcademicSession]? = nil, courses: [Course]? = nil,
        classes: [Class]? = nil, users: [User]? = nil, enrollments: [Enrollment]? = nil,
        demographics: [Demographics]? = nil, categories: [Category]? = nil, lineItems: [LineItem]? = nil,
        results: [GradebookResult]? = nil, sourceSystemName: String? = nil, sourceSystemCode: String? = nil
    ) {
        self.orgs = orgs
        self.academicSessions = academicSessions
        self.courses = courses
        self.classes = classes
        self.users = users
        self.enrollments = enrollments
        self.demographics = demographics
        self.categories = categories
        self.lineItems = lineItems
        self.results = results
        self.sourceSystemName = sourceSystemName
        self.sourceSystemCode = sourceSystemCode
    }
}
