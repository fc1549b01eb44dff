import Foundation

/// A collection endpoint and the record type it answers with, so a caller cannot ask
/// `/students` for classes. Paths are relative to the base URL.
public struct CollectionPath<Item: OneRosterObject>: Sendable, Hashable, CustomStringConvertible {
    /// Path relative to the base URL, segments percent-encoded.
    public let path: String

    public init(_ segments: String...) { self.init(segments: segments) }
    public init(segments: [String]) { path = segments.map(PercentEncoding.encode).joined(separator: "/") }

    /// The path of one record of this collection.
    public func record(_ sourcedId: String) -> String { path + "/" + PercentEncoding.encode(sourcedId) }
    public var description: String { path }
}

extension CollectionPath where Item == Org {
    public static var orgs: Self { .init("orgs") }
    public static var schools: Self { .init("schools") }
}

extension CollectionPath where Item == AcademicSession {
    public static var academicSessions: Self { .init("academicSessions") }
    public static var terms: Self { .init("terms") }
    public static var gradingPeriods: Self { .init("gradingPeriods") }
    public static func terms(ofSchool id: String) -> Self { .init("schools", id, "terms") }
    public static func gradingPeriods(ofTerm id: String) -> Self { .init("terms", id, "gradingPeriods") }
}

extension CollectionPath where Item == Course {
    public static var courses: Self { .init("courses") }
    public static func courses(ofSchool id: String) -> Self { .init("schools", id, "courses") }
}

extension CollectionPath where Item == Class {
    public static var classes: Self { .init("classes") }
    public static func classes(ofSchool id: String) -> Self { .init("schools", id, "classes") }
    public static func classes(ofCourse id: String) -> Self { .init("courses", id, "classes") }
    public static func classes(ofTerm id: String) -> Self { .init("terms", id, "classes") }
    public static func classes(ofStudent id: String) -> Self { .init("students", id, "classes") }
    public static func classes(ofTeacher id: String) -> Self { .init("teachers", id, "classes") }
    public static func classes(ofUser id: String) -> Self { .init("users", id, "classes") }
}

extension CollectionPath where Item == User {
    public static var users: Self { .init("users") }
    public static var students: Self { .init("students") }
    public static var teachers: Self { .init("teachers") }
    public static func students(ofSchool id: String) -> Self { .init("schools", id, "students") }
    public static func teachers(ofSchool id: String) -> Self { .init("schools", id, "teachers") }
    public static func students(ofClass id: String) -> Self { .init("classes", id, "students") }
    public static func teachers(ofClass id: String) -> Self { .init("classes", id, "teachers") }
    public static func students(ofSchool school: String, class classID: String) -> Self {
        .init("schools", school, "classes", classID, "students")
    }
    public static func teachers(ofSchool school: String, class classID: String) -> Self {
        .init("schools", school, "classes", classID, "teachers")
    }
}

extension CollectionPath where Item == Enrollment {
    public static var enrollments: Self { .init("enrollments") }
    public static func enrollments(ofSchool id: String) -> Self { .init("schools", id, "enrollments") }
    public static func enrollments(ofSchool school: String, class classID: String) -> Self {
        .init("schools", school, "classes", classID, "enrollments")
    }
}

extension CollectionPath where Item == Demographics {
    public static var demographics: Self { .init("demographics") }
}

extension CollectionPath where Item == Category {
    public static var categories: Self { .init("categories") }
}

extension CollectionPath where Item == LineItem {
    public static var lineItems: Self { .init("lineItems") }
    public static func lineItems(ofClass id: String) -> Self { .init("classes", id, "lineItems") }
}

extension CollectionPath where Item == GradebookResult {
    public static var results: Self { .init("results") }
    public static func results(ofClass id: String) -> Self { .init("classes", id, "results") }
    public static func results(ofClass classID: String, lineItem: String) -> Self {
        .init("classes", classID, "lineItems", lineItem, "results")
    }
    public static func results(ofClass classID: String, student: String) -> Self {
        .init("classes", classID, "students", student, "results")
    }
}

/// The three gradebook types that can be written: PUT (create-or-replace) and DELETE exist
/// only on `/categories/{id}`, `/lineItems/{id}` and `/results/{id}`.
public protocol GradebookWritable: OneRosterObject {
    /// The collection the record is written under.
    static var writePath: CollectionPath<Self> { get }
}

extension Category: GradebookWritable { public static var writePath: CollectionPath<Category> { .categories } }
extension LineItem: GradebookWritable { public static var writePath: CollectionPath<LineItem> { .lineItems } }
extension GradebookResult: GradebookWritable { public static var writePath: CollectionPath<GradebookResult> { .results } }
