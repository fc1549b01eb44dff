import Foundation
import GRDB
import PassbackCore

/// The LMS side of the cache: what the LMS feed writes (courses and their linked sections here;
/// materials and grades in `Materials/LMSStore+Materials.swift`; categories and the category map in
/// `CategoryMap/LMSStore+CategoryMap.swift`). Each write is one transaction.
public struct LMSStore: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    /// A section the feed links to a course is already linked to another one (a section belongs
    /// to one LMS course). Nothing was written.
    public struct LinkConflict: Error, Sendable, Equatable, CustomStringConvertible {
        /// The section asked for, and where it sits in the request.
        public var sectionSourcedId: String
        public var index: Int
        /// The course it is linked to now.
        public var otherCourseLmsID: String
        public var otherCourseTitle: String

        public var description: String {
            "section '\(sectionSourcedId)' is already linked to LMS course '\(otherCourseLmsID)' (\(otherCourseTitle)); "
                + "a section belongs to one LMS course: unlink it there first"
        }
    }

    /// Creates or renames an LMS course and links it to SIS sections (by sourcedId), all or nothing.
    /// - Throws: `StoreError.notFound` naming a section the roster does not hold; `LinkConflict`
    ///   for a section already linked to another course (never dropped in silence: the feed's
    ///   materials would then reach no section).
    @discardableResult
    public func upsertCourse(connection: String, lmsID: String, title: String, sectionSourcedIds: [String], at now: Date) throws -> Int64 {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO lms_course (connection_id, lms_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(connection_id, lms_id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at
                    """, arguments: [connection, lmsID, title, Timestamp.text(now), Timestamp.text(now)])
            let courseID = try Int64.fetchOne(db, sql: "SELECT id FROM lms_course WHERE connection_id = ? AND lms_id = ?", arguments: [connection, lmsID])!
            for (index, sid) in sectionSourcedIds.enumerated() {
                guard let classID = try Int64.fetchOne(db, sql: "SELECT id FROM class WHERE connection_id = ? AND sourced_id = ?", arguments: [connection, sid])
                else {
                    throw StoreError(.notFound, "no section with sourcedId '\(sid)' in connection \(connection); roster it first")
                }
                if let other = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT lc.lms_id, lc.title FROM linked_section ls JOIN lms_course lc ON lc.id = ls.lms_course_id
                        WHERE ls.class_id = ? AND ls.lms_course_id != ?
                        """, arguments: [classID, courseID])
                {
                    throw LinkConflict(sectionSourcedId: sid, index: index, otherCourseLmsID: other["lms_id"], otherCourseTitle: other["title"])
                }
                try db.execute(sql: "INSERT INTO linked_section (lms_course_id, class_id) VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: [courseID, classID])
            }
            try EngineStore.refresh(db, courseID: courseID, at: Timestamp.text(now))
            return courseID
        }
    }

    /// The LMS course a section is linked to.
    public func courseID(ofSection classID: Int64) throws -> Int64? {
        try database.read { db in try Int64.fetchOne(db, sql: "SELECT lms_course_id FROM linked_section WHERE class_id = ?", arguments: [classID]) }
    }

    /// The store id of a material.
    public func materialID(courseID: Int64, lmsID: String) throws -> Int64? {
        try database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, lmsID]) }
    }

    /// The store id of a section.
    public func classID(connection: String, sourcedId: String) throws -> Int64? {
        try database.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM class WHERE connection_id = ? AND sourced_id = ?", arguments: [connection, sourcedId])
        }
    }
}
