import Foundation
import GRDB
import PassbackCore

/// The LMS side of the cache: what the LMS feed writes (courses and their linked sections,
/// categories, materials, grades) and the per-section sync state. Each method is one transaction.
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
            try db.execute(sql: """
                INSERT INTO lms_course (connection_id, lms_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(connection_id, lms_id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at
                """, arguments: [connection, lmsID, title, Timestamp.text(now), Timestamp.text(now)])
            let courseID = try Int64.fetchOne(db, sql: "SELECT id FROM lms_course WHERE connection_id = ? AND lms_id = ?", arguments: [connection, lmsID])!
            for (index, sid) in sectionSourcedIds.enumerated() {
                guard let classID = try Int64.fetchOne(db, sql: "SELECT id FROM class WHERE connection_id = ? AND sourced_id = ?", arguments: [connection, sid]) else {
                    throw StoreError(.notFound, "no section with sourcedId '\(sid)' in connection \(connection); roster it first")
                }
                if let other = try Row.fetchOne(db, sql: """
                    SELECT lc.lms_id, lc.title FROM linked_section ls JOIN lms_course lc ON lc.id = ls.lms_course_id
                    WHERE ls.class_id = ? AND ls.lms_course_id != ?
                    """, arguments: [classID, courseID]) {
                    throw LinkConflict(sectionSourcedId: sid, index: index, otherCourseLmsID: other["lms_id"], otherCourseTitle: other["title"])
                }
                try db.execute(sql: "INSERT INTO linked_section (lms_course_id, class_id) VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: [courseID, classID])
            }
            try EngineStore.refresh(db, courseID: courseID, at: Timestamp.text(now))
            return courseID
        }
    }

    /// Creates or renames an LMS category of a course.
    @discardableResult
    public func upsertCategory(courseID: Int64, lmsID: String, title: String, createdByTeacher: Bool = false, at now: Date = Date()) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO lms_category (lms_course_id, lms_id, title, created_by_teacher) VALUES (?, ?, ?, ?)
                ON CONFLICT(lms_course_id, lms_id) DO UPDATE SET title = excluded.title WHERE lms_category.title IS NOT excluded.title
                """, arguments: [courseID, lmsID, title, createdByTeacher])
            // A renamed category is named in CATEGORY_UNMAPPED messages.
            if db.changesCount > 0 { try EngineStore.refresh(db, courseID: courseID, at: Timestamp.text(now)) }
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
        try upsertMaterials(courseID: courseID, [m], at: now)[0]
    }

    /// Creates or updates materials of a course in one transaction (all or none); returns their ids in order.
    @discardableResult
    public func upsertMaterials(courseID: Int64, _ materials: [MaterialInput], at now: Date) throws -> [Int64] {
        try pool.write { db in
            var changed: Set<Int64> = []
            var titles: [String] = []
            let ids = try materials.map { m in
                let before = try String.fetchOne(db, sql: "SELECT title FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, m.lmsID])
                let id = try Self.upsertMaterial(db, courseID: courseID, m, at: now)
                if db.changesCount > 0 {
                    changed.insert(id)
                    titles += [before, m.title].compactMap { $0 }
                }
                return id
            }
            try Self.refreshStatuses(db, courseID: courseID, changed: changed, titles: titles, at: Timestamp.text(now))
            return ids
        }
    }

    /// Recomputes the statuses of the `changed` materials and of every material of the course
    /// that has (or had) one of their `titles`: `TITLE_NOT_UNIQUE` counts across the course, so
    /// a rename can clear (or raise) it on another material. The rest cannot have changed.
    static func refreshStatuses(_ db: Database, courseID: Int64, changed: Set<Int64>, titles: [String], at t: String) throws {
        guard !changed.isEmpty else { return }
        let keys = Set(titles.map(Validation.titleKey))
        var affected = changed
        for r in try Row.fetchAll(db, sql: "SELECT id, title FROM material WHERE lms_course_id = ?", arguments: [courseID])
        where keys.contains(Validation.titleKey(r["title"])) {
            affected.insert(r["id"])
        }
        try EngineStore.refresh(db, materialIDs: affected, at: t)
    }

    /// Inserts or updates one material; `db.changesCount` is 0 afterwards when nothing changed.
    static func upsertMaterial(_ db: Database, courseID: Int64, _ m: MaterialInput, at now: Date) throws -> Int64 {
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
            WHERE material.title IS NOT excluded.title OR material.description IS NOT excluded.description
                OR material.due_at IS NOT excluded.due_at OR material.lms_category_id IS NOT excluded.lms_category_id
                OR material.max_points IS NOT excluded.max_points OR material.sync_to_sis IS NOT excluded.sync_to_sis
                OR material.published IS NOT excluded.published
            """, arguments: [courseID, m.lmsID, m.title, m.description, m.dueAt.map(Timestamp.text), categoryID, m.maxPoints, m.syncToSIS,
                             m.published, Timestamp.text(now)])
        return try Int64.fetchOne(db, sql: "SELECT id FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, m.lmsID])!
    }

    /// The ids of a course's materials by LMS id (those that exist).
    public func materialIDs(courseID: Int64, lmsIDs: [String]) throws -> [String: Int64] {
        guard !lmsIDs.isEmpty else { return [:] }
        return try pool.read { db in
            var out: [String: Int64] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT lms_id, id FROM material WHERE lms_course_id = ? AND lms_id IN (\(APIReads.placeholders(lmsIDs.count)))",
                                      arguments: StatementArguments([courseID] + lmsIDs)) {
                out[r["lms_id"]] = r["id"]
            }
            return out
        }
    }

    /// Records a student's grade on a material: a score, or an exception (excused, incomplete, missing).
    public func recordGrade(materialID: Int64, studentSourcedId: String, score: Double?, exception: String?, comment: String?, at now: Date) throws {
        try recordGrades([GradeInput(materialID: materialID, studentSourcedId: studentSourcedId, score: score, exception: exception, comment: comment)], at: now)
    }

    /// A grade as the LMS feed sends it.
    public struct GradeInput: Sendable {
        public var materialID: Int64
        public var studentSourcedId: String
        public var score: Double?
        public var exception: String?
        public var comment: String?

        public init(materialID: Int64, studentSourcedId: String, score: Double?, exception: String?, comment: String?) {
            self.materialID = materialID
            self.studentSourcedId = studentSourcedId
            self.score = score
            self.exception = exception
            self.comment = comment
        }
    }

    /// Records many grades in one transaction: all of them or none. Returns how many changed.
    @discardableResult
    public func recordGrades(_ grades: [GradeInput], at now: Date) throws -> Int {
        let t = Timestamp.text(now)
        return try pool.write { db in
            var changedMaterials: Set<Int64> = []
            var changed = 0
            let statement = try db.cachedStatement(sql: """
                INSERT INTO grade (material_id, student_sourced_id, score, exception, comment, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(material_id, student_sourced_id) DO UPDATE SET score = excluded.score, exception = excluded.exception,
                    comment = excluded.comment, updated_at = excluded.updated_at
                WHERE grade.score IS NOT excluded.score OR grade.exception IS NOT excluded.exception OR grade.comment IS NOT excluded.comment
                """)
            for g in grades {
                try statement.execute(arguments: [g.materialID, g.studentSourcedId, g.score, g.exception, g.comment, t])
                if db.changesCount > 0 {
                    changed += 1
                    changedMaterials.insert(g.materialID)
                }
            }
            try EngineStore.refresh(db, materialIDs: changedMaterials, at: t)
            return changed
        }
    }

    /// What `setSyncToSIS` did.
    public enum SyncToSISChange: Sendable, Equatable {
        /// The toggle is saved for the sections asked.
        case saved
        /// No such material.
        case noMaterial
        /// Turning it on was refused: the LMS feed has it off, and the feed's off holds in every
        /// section (README, "Opting out"). Nothing changed.
        case offInLMS
    }

    /// A teacher's "sync to SIS" toggle for a material in `classIDs` (the linked sections they
    /// teach): off opts those sections out, and cancels the writes still queued for the material
    /// there; on removes their opt-out. Other sections of the course are untouched.
    @discardableResult
    public func setSyncToSIS(materialID: Int64, classIDs: [Int64], _ value: Bool, by user: String, at now: Date) throws -> SyncToSISChange {
        let t = Timestamp.text(now)
        return try pool.write { db in
            guard let feed = try Bool.fetchOne(db, sql: "SELECT sync_to_sis FROM material WHERE id = ?", arguments: [materialID]) else { return .noMaterial }
            if value {
                guard feed else { return .offInLMS }
                for c in classIDs {
                    try db.execute(sql: "DELETE FROM material_opt_out WHERE material_id = ? AND class_id = ?", arguments: [materialID, c])
                }
            } else {
                for c in classIDs {
                    try db.execute(sql: """
                        INSERT INTO material_opt_out (material_id, class_id, opted_out_by, opted_out_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT(material_id, class_id) DO NOTHING
                        """, arguments: [materialID, c, user, t])
                }
                try Self.cancelQueuedWrites(db, materialID: materialID, classIDs: classIDs, reason: "sync to SIS was turned off for this section", at: t)
            }
            for c in classIDs { try EngineStore.refresh(db, classID: c, materialIDs: [materialID], at: t) }
            return .saved
        }
    }

    /// Deletes a material in the LMS: it is no longer updated (its SIS item stays), and writes
    /// still queued for it are cancelled. Returns false if there is no such material.
    @discardableResult
    public func deleteMaterial(courseID: Int64, lmsID: String, at now: Date) throws -> Bool {
        let t = Timestamp.text(now)
        return try pool.write { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, lmsID]) else { return false }
            try db.execute(sql: "UPDATE material SET deleted_at = COALESCE(deleted_at, ?), updated_at = ? WHERE id = ?", arguments: [t, t, id])
            try Self.cancelQueuedWrites(db, materialID: id, classIDs: nil, reason: "the material was deleted in the LMS", at: t)
            let title = try String.fetchOne(db, sql: "SELECT title FROM material WHERE id = ?", arguments: [id]) ?? ""
            try Self.refreshStatuses(db, courseID: courseID, changed: [id], titles: [title], at: t)
            return true
        }
    }

    /// Cancels the writes still queued for a material (in `classIDs`, or in every section when
    /// nil) with their dependents, and finishes runs left with nothing to do. Nothing is
    /// recorded against the SIS objects (no write failed); the caller recomputes the statuses.
    static func cancelQueuedWrites(_ db: Database, materialID id: Int64, classIDs: [Int64]?, reason: String, at t: String) throws {
        if classIDs?.isEmpty == true { return }
        let sections = classIDs.map { " AND class_id IN (\(APIReads.placeholders($0.count)))" } ?? ""
        let sectionArgs: [Int64] = classIDs ?? []
        let queued = try Row.fetchAll(db, sql: """
            SELECT id, sync_run_id, class_id FROM outbox_job WHERE material_id = ? AND state IN ('available', 'scheduled', 'retryable')\(sections)
            """, arguments: StatementArguments([id] + sectionArgs))
        var after = EngineStore.Aftermath()
        for j in queued {
            let job: Int64 = j["id"]
            try db.execute(sql: "UPDATE outbox_job SET state = 'cancelled', finalized_at = ? WHERE id = ? AND state IN ('available', 'scheduled', 'retryable')",
                           arguments: [t, job])
            guard db.changesCount == 1 else { continue }  // a dependent of one cancelled before
            try EngineStore.audit(db, runID: j["sync_run_id"], jobID: job, materialID: id, classID: j["class_id"], at: t, action: "not sent",
                                  attempt: nil, outcome: "cancelled", httpStatus: nil, code: nil, message: reason)
            if let run: Int64 = j["sync_run_id"] { after.runs.insert(run) }
            try EngineStore.cancelDependents(db, of: job, because: reason, failure: nil, at: t, after: &after)
        }
        // The caller recomputes the statuses of the items; the runs may be done now.
        for run in after.runs.sorted() { try EngineStore.finishRunIfDone(db, runID: run, at: t) }
    }

    /// Restores a deleted material; the next sync reconnects it to the same SIS item by its stable id.
    @discardableResult
    public func restoreMaterial(courseID: Int64, lmsID: String, at now: Date) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "UPDATE material SET deleted_at = NULL, updated_at = ? WHERE lms_course_id = ? AND lms_id = ? AND deleted_at IS NOT NULL",
                           arguments: [Timestamp.text(now), courseID, lmsID])
            guard db.changesCount > 0 else { return false }
            let m = try Row.fetchOne(db, sql: "SELECT id, title FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, lmsID])!
            try Self.refreshStatuses(db, courseID: courseID, changed: [m["id"]], titles: [m["title"]], at: Timestamp.text(now))
            return true
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
            guard let section = try Row.fetchOne(db, sql: """
                SELECT c.connection_id, ls.lms_course_id FROM class c JOIN linked_section ls ON ls.class_id = c.id WHERE c.id = ?
                """, arguments: [classID])
            else { throw StoreError(.notFound, "the section is not linked to an LMS course") }
            let connection: String = section["connection_id"], course: Int64 = section["lms_course_id"]
            var problems: [CategoryMapProblem] = []
            var rows: [(Int64, Int64)] = []
            for (lms, sis) in map.sorted(by: { $0.key < $1.key }) {
                guard let lmsID = try Int64.fetchOne(db, sql: "SELECT id FROM lms_category WHERE lms_course_id = ? AND lms_id = ?", arguments: [course, lms]) else {
                    problems.append(CategoryMapProblem(lmsCategoryID: lms, message: "LMS category '\(lms)' is not a category of this section's course"))
                    continue
                }
                guard let sisID = try Int64.fetchOne(db, sql: "SELECT id FROM sis_category WHERE connection_id = ? AND sourced_id = ? AND status = 'active'",
                                                     arguments: [connection, sis]) else {
                    problems.append(CategoryMapProblem(lmsCategoryID: lms, message: "SIS category '\(sis)' is not a category of this section's SIS"))
                    continue
                }
                rows.append((lmsID, sisID))
            }
            guard problems.isEmpty else { return problems }
            try db.execute(sql: """
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

    /// The LMS course a section is linked to.
    public func courseID(ofSection classID: Int64) throws -> Int64? {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT lms_course_id FROM linked_section WHERE class_id = ?", arguments: [classID]) }
    }

    /// The store id of a material.
    public func materialID(courseID: Int64, lmsID: String) throws -> Int64? {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, lmsID]) }
    }

    /// A sync state to seed the store tests with. Test-only (`@testable`): it writes `sync_item`
    /// directly and bypasses the engine's rules; the product goes through `EngineStore` and `SyncPlanner`.
    struct SyncState: Sendable {
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

    /// Sets the sync state of a material in a section (test-only, see `SyncState`).
    func setSyncState(materialID: Int64, classID: Int64, _ s: SyncState, at now: Date) throws {
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
