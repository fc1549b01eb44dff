import Foundation
import GRDB
import PassbackCore

/// LMS categories and a section's category map (LMS category → SIS category).
extension LMSStore {
    /// Creates or renames an LMS category of a course.
    @discardableResult
    public func upsertCategory(courseID: Int64, lmsID: String, title: String, createdByTeacher: Bool = false, at now: Date) throws -> Int64 {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO lms_category (lms_course_id, lms_id, title, created_by_teacher) VALUES (?, ?, ?, ?)
                    ON CONFLICT(lms_course_id, lms_id) DO UPDATE SET title = excluded.title WHERE lms_category.title IS NOT excluded.title
                    """, arguments: [courseID, lmsID, title, createdByTeacher])
            // A renamed category is named in CATEGORY_UNMAPPED messages.
            if db.changesCount > 0 { try EngineStore.refresh(db, courseID: courseID, at: Timestamp.text(now)) }
            return try Int64.fetchOne(db, sql: "SELECT id FROM lms_category WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, lmsID])!
        }
    }

    /// A category-map problem, naming the offending category.
    public struct CategoryMapProblem: Error, Sendable, Hashable {
        public var lmsCategoryID: String
        public var message: String
    }

    /// Saves a section's configuration: its whole category map (LMS category id → SIS category
    /// sourcedId; several LMS categories may share one SIS category). Each SIS category must
    /// belong to the section's connection and each LMS category to its LMS course.
    public func saveCategoryMap(classID: Int64, map: [String: String], savedBy: String, at now: Date) throws -> [CategoryMapProblem] {
        try pool.write { db in
            guard
                let section = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT c.connection_id, ls.lms_course_id FROM class c JOIN linked_section ls ON ls.class_id = c.id WHERE c.id = ?
                        """, arguments: [classID])
            else { throw StoreError(.notFound, "the section is not linked to an LMS course") }
            let connection: String = section["connection_id"], course: Int64 = section["lms_course_id"]
            var problems: [CategoryMapProblem] = []
            var rows: [(Int64, Int64)] = []
            for (lms, sis) in map.sorted(by: { $0.key < $1.key }) {
                guard let lmsID = try Int64.fetchOne(db, sql: "SELECT id FROM lms_category WHERE lms_course_id = ? AND lms_id = ?", arguments: [course, lms])
                else {
                    problems.append(CategoryMapProblem(lmsCategoryID: lms, message: "LMS category '\(lms)' is not a category of this section's course"))
                    continue
                }
                guard
                    let sisID = try Int64.fetchOne(
                        db, sql: "SELECT id FROM sis_category WHERE connection_id = ? AND sourced_id = ? AND status = 'active'",
                        arguments: [connection, sis])
                else {
                    problems.append(CategoryMapProblem(lmsCategoryID: lms, message: "SIS category '\(sis)' is not a category of this section's SIS"))
                    continue
                }
                rows.append((lmsID, sisID))
            }
            guard problems.isEmpty else { return problems }
            try db.execute(
                sql: """
                    INSERT INTO section_config (class_id, saved_at, saved_by) VALUES (?, ?, ?)
                    ON CONFLICT(class_id) DO UPDATE SET saved_at = excluded.saved_at, saved_by = excluded.saved_by
                    """, arguments: [classID, Timestamp.text(now), savedBy])
            try db.execute(sql: "DELETE FROM category_map WHERE class_id = ?", arguments: [classID])
            for (lms, sis) in rows {
                try db.execute(sql: "INSERT INTO category_map (class_id, lms_category_id, sis_category_id) VALUES (?, ?, ?)", arguments: [classID, lms, sis])
            }
            // The map is an input of the rules: the section's statuses follow it now, not at the next sync.
            try EngineStore.refresh(db, classID: classID, at: Timestamp.text(now))
            return []
        }
    }
}
