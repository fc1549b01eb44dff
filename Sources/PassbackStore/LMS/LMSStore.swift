import Foundation
import GRDB
import PassbackCore

/// The LMS side of the cache: what the LMS feed writes (courses and their linked sections,
/// categories, materials, grades) and the per-section sync state. Each method is one transaction.
public struct LMSStore: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    /// Creates or renames an LMS course and links it to SIS sections (by sourcedId).
    /// - Throws: `StoreError.notFound` naming a section the roster does not hold.
    @discardableResult
    public func upsertCourse(connection: String, lmsID: String, title: String, sectionSourcedIds: [String], at now: Date) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO lms_course (connection_id, lms_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(connection_id, lms_id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at
                """, arguments: [connection, lmsID, title, Timestamp.text(now), Timestamp.text(now)])
            let courseID = try Int64.fetchOne(db, sql: "SELECT id FROM lms_course WHERE connection_id = ? AND lms_id = ?", arguments: [connection, lmsID])!
            for sid in sectionSourcedIds {
                guard let classID = try Int64.fetchOne(db, sql: "SELECT id FROM class WHERE connection_id = ? AND sourced_id = ?", arguments: [connection, sid]) else {
                    throw StoreError(.notFound, "no section with sourcedId '\(sid)' in connection \(connection); roster it first")
                }
                try db.execute(sql: "INSERT INTO linked_section (lms_course_id, class_id) VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: [courseID, classID])
            }
            return courseID
        }
    }

    /// Creates or renames an LMS category of a course.
    @discardableResult
    public func upsertCategory(courseID: Int64, lmsID: String, title: String, createdByTeacher: Bool = false) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO lms_category (lms_course_id, lms_id, title, created_by_teacher) VALUES (?, ?, ?, ?)
                ON CONFLICT(lms_course_id, lms_id) DO UPDATE SET title = excluded.title
                """, arguments: [courseID, lmsID, title, createdByTeacher])
            return try Int64.fetchOne(db, sql: "SELECT id FROM lms_category WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, lmsID])!
        }
    }

    /// A material as the LMS describes it.
    public struct MaterialInput: Sendable {
        public var lmsID: String
        public var title: String
        public var description: String?
        public var dueAt: Date?
        public var categoryLmsID: String?
        public var maxPoints: Double?
        public var syncToSIS: Bool
        public var published: Bool

        public init(lmsID: String, title: String, description: String? = nil, dueAt: Date? = nil, categoryLmsID: String? = nil,
                    maxPoints: Double? = nil, syncToSIS: Bool = true, published: Bool = true) {
            self.lmsID = lmsID
            self.title = title
            self.description = description
            self.dueAt = dueAt
            self.categoryLmsID = categoryLmsID
            self.maxPoints = maxPoints
            self.syncToSIS = syncToSIS
            self.published = published
        }
    }

    /// Creates or updates a material of a course; returns its id.
    @discardableResult
    public func upsertMaterial(courseID: Int64, _ m: MaterialInput, at now: Date) throws -> Int64 {
        try pool.write { db in
            var categoryID: Int64?
            if let c = m.categoryLmsID {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM lms_category WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, c]) else {
                    throw StoreError(.notFound, "material '\(m.lmsID)': no LMS category '\(c)' in this course")
                }
                categoryID = id
            }
            try db.execute(sql: """
                INSERT INTO material (lms_course_id, lms_id, title, description, due_at, lms_category_id, max_points, sync_to_sis, published, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(lms_course_id, lms_id) DO UPDATE SET title = excluded.title, description = excluded.description,
                    due_at = excluded.due_at, lms_category_id = excluded.lms_category_id, max_points = excluded.max_points,
                    sync_to_sis = excluded.sync_to_sis, published = excluded.published, updated_at = excluded.updated_at
                """, arguments: [courseID, m.lmsID, m.title, m.description, m.dueAt.map(Timestamp.text), categoryID, m.maxPoints, m.syncToSIS,
                                 m.published, Timestamp.text(now)])
            return try Int64.fetchOne(db, sql: "SELECT id FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, m.lmsID])!
        }
    }

    /// Records a student's grade on a material: a score, or an exception (excused, incomplete, missing).
    public func recordGrade(materialID: Int64, studentSourcedId: String, score: Double?, exception: String?, comment: String?, at now: Date) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO grade (material_id, student_sourced_id, score, exception, comment, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(material_id, student_sourced_id) DO UPDATE SET score = excluded.score, exception = excluded.exception,
                    comment = excluded.comment, updated_at = excluded.updated_at
                """, arguments: [materialID, studentSourcedId, score, exception, comment, Timestamp.text(now)])
        }
    }

    /// The sync state of a material in a section, as the engine records it.
    public struct SyncState: Sendable {
        public var status: SyncStatus
        public var lastSyncedAt: Date?
        public var errorCode: String?
        public var errorMessage: String?
        public var errorField: String?

        public init(status: SyncStatus, lastSyncedAt: Date? = nil, errorCode: String? = nil, errorMessage: String? = nil, errorField: String? = nil) {
            self.status = status
            self.lastSyncedAt = lastSyncedAt
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.errorField = errorField
        }
    }

    /// Sets the sync state of a material in a section.
    public func setSyncState(materialID: Int64, classID: Int64, _ s: SyncState, at now: Date) throws {
        try pool.write { db in
            let isError = s.status == .error
            try db.execute(sql: """
                INSERT INTO sync_item (material_id, class_id, status, last_synced_at, error_code, error_message, error_field, error_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(material_id, class_id) DO UPDATE SET status = excluded.status,
                    last_synced_at = COALESCE(excluded.last_synced_at, sync_item.last_synced_at),
                    error_code = excluded.error_code, error_message = excluded.error_message, error_field = excluded.error_field,
                    error_at = excluded.error_at, updated_at = excluded.updated_at
                """, arguments: [materialID, classID, s.status.rawValue, s.lastSyncedAt.map(Timestamp.text), isError ? s.errorCode ?? "SIS_REFUSED" : nil,
                                 isError ? s.errorMessage : nil, isError ? s.errorField : nil, isError ? Timestamp.text(now) : nil, Timestamp.text(now)])
        }
    }

    /// The store id of a section.
    public func classID(connection: String, sourcedId: String) throws -> Int64? {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM class WHERE connection_id = ? AND sourced_id = ?", arguments: [connection, sourcedId]) }
    }
}
