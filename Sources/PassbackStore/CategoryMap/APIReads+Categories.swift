import Foundation
import GRDB
import PassbackCore

/// A SIS grading category.
public struct SISCategoryRecord: Sendable, Hashable {
    public var sourcedId: String
    public var title: String
}

/// An LMS category.
public struct LMSCategoryRecord: Sendable, Hashable {
    public var id: Int64
    public var courseID: Int64
    public var lmsID: String
    public var title: String
    public var createdByTeacher: Bool
}

/// The LMS and SIS categories of a section and its saved category map.
extension APIReads {
    /// The categories of each LMS course, by title.
    public func lmsCategories(courseIDs: [Int64]) throws -> [Int64: [LMSCategoryRecord]] {
        try database.read { db in
            var out: [Int64: [LMSCategoryRecord]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM lms_category WHERE lms_course_id IN (\(Self.list(courseIDs))) ORDER BY title, id") {
                out[r["lms_course_id"], default: []].append(Self.lmsCategory(r))
            }
            return out
        }
    }

    public func lmsCategories(ids: [Int64]) throws -> [Int64: LMSCategoryRecord] {
        try database.read { db in
            var out: [Int64: LMSCategoryRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM lms_category WHERE id IN (\(Self.list(ids)))") {
                out[r["id"]] = Self.lmsCategory(r)
            }
            return out
        }
    }

    static func lmsCategory(_ r: Row) -> LMSCategoryRecord {
        LMSCategoryRecord(id: r["id"], courseID: r["lms_course_id"], lmsID: r["lms_id"], title: r["title"], createdByTeacher: r["created_by_teacher"])
    }

    /// Active SIS categories of a connection, by title.
    public func sisCategories(connection: String) throws -> [SISCategoryRecord] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT sourced_id, title FROM sis_category WHERE connection_id = ? AND status = 'active' ORDER BY title, sourced_id",
                arguments: [connection]
            ).map { SISCategoryRecord(sourcedId: $0["sourced_id"], title: $0["title"]) }
        }
    }

    public func sisCategories(connection: String, sourcedIds: [String]) throws -> [String: SISCategoryRecord] {
        try database.read { db in
            var out: [String: SISCategoryRecord] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT sourced_id, title FROM sis_category WHERE connection_id = ? AND sourced_id IN (\(Self.placeholders(sourcedIds.count)))",
                arguments: StatementArguments([connection] + sourcedIds))
            {
                out[r["sourced_id"]] = SISCategoryRecord(sourcedId: r["sourced_id"], title: r["title"])
            }
            return out
        }
    }

    /// Each section's saved category map (LMS category row id → SIS category), or nil if it was never saved.
    public func categoryMaps(classIDs: [Int64]) throws -> [Int64: [(lmsCategoryID: Int64, sis: SISCategoryRecord)]] {
        try database.read { db in
            var out: [Int64: [(lmsCategoryID: Int64, sis: SISCategoryRecord)]] = [:]
            let ids = Self.json(classIDs)
            for id in try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT class_id FROM section_config WHERE class_id IN (SELECT value FROM json_each(?))"), arguments: [ids])
            {
                out[id] = []
            }
            for r in try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT m.class_id, m.lms_category_id, s.sourced_id, s.title FROM category_map m JOIN sis_category s ON s.id = m.sis_category_id
                        JOIN lms_category lc ON lc.id = m.lms_category_id
                        WHERE m.class_id IN (SELECT value FROM json_each(?)) ORDER BY lc.title, lc.id
                        """), arguments: [ids])
            {
                out[r["class_id"], default: []].append((r["lms_category_id"], SISCategoryRecord(sourcedId: r["sourced_id"], title: r["title"])))
            }
            return out
        }
    }
}
