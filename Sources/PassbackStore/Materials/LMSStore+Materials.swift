import Foundation
import GRDB
import PassbackCore

/// What the LMS feed writes about materials and grades, and a teacher's opt-out of a material.
extension LMSStore {
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

        public init(
            lmsID: String, title: String, description: String? = nil, dueAt: Date? = nil, categoryLmsID: String? = nil,
            maxPoints: Double? = nil, syncToSIS: Bool = true, published: Bool = true
        ) {
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
        try db.execute(
            sql: """
                INSERT INTO material (lms_course_id, lms_id, title, description, due_at, lms_category_id, max_points, sync_to_sis, published, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(lms_course_id, lms_id) DO UPDATE SET title = excluded.title, description = excluded.description,
                    due_at = excluded.due_at, lms_category_id = excluded.lms_category_id, max_points = excluded.max_points,
                    sync_to_sis = excluded.sync_to_sis, published = excluded.published, updated_at = excluded.updated_at
                WHERE material.title IS NOT excluded.title OR material.description IS NOT excluded.description
                    OR material.due_at IS NOT excluded.due_at OR material.lms_category_id IS NOT excluded.lms_category_id
                    OR material.max_points IS NOT excluded.max_points OR material.sync_to_sis IS NOT excluded.sync_to_sis
                    OR material.published IS NOT excluded.published
                """,
            arguments: [
                courseID, m.lmsID, m.title, m.description, m.dueAt.map(Timestamp.text), categoryID, m.maxPoints, m.syncToSIS,
                m.published, Timestamp.text(now)
            ])
        return try Int64.fetchOne(db, sql: "SELECT id FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, m.lmsID])!
    }

    /// The ids of a course's materials by LMS id (those that exist).
    public func materialIDs(courseID: Int64, lmsIDs: [String]) throws -> [String: Int64] {
        guard !lmsIDs.isEmpty else { return [:] }
        return try database.read { db in
            var out: [String: Int64] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT lms_id, id FROM material WHERE lms_course_id = ? AND lms_id IN (\(APIReads.placeholders(lmsIDs.count)))",
                arguments: StatementArguments([courseID] + lmsIDs))
            {
                out[r["lms_id"]] = r["id"]
            }
            return out
        }
    }

    /// Records a student's grade on a material: a score, or an exception (excused, incomplete, missing).
    public func recordGrade(materialID: Int64, studentSourcedId: String, score: Double?, exception: String?, comment: String?, at now: Date) throws {
        try recordGrades(
            [GradeInput(materialID: materialID, studentSourcedId: studentSourcedId, score: score, exception: exception, comment: comment)], at: now)
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
            let statement = try db.cachedStatement(
                sql: """
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
                    try db.execute(
                        sql: """
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
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, lmsID]) else {
                return false
            }
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
        let queued = try Row.fetchAll(
            db,
            sql: """
                SELECT id, sync_run_id, class_id FROM outbox_job WHERE material_id = ? AND state IN ('available', 'scheduled', 'retryable')\(sections)
                """, arguments: StatementArguments([id] + sectionArgs))
        var after = EngineStore.Aftermath()
        for j in queued {
            let job: Int64 = j["id"]
            try db.execute(
                sql: "UPDATE outbox_job SET state = 'cancelled', finalized_at = ? WHERE id = ? AND state IN ('available', 'scheduled', 'retryable')",
                arguments: [t, job])
            guard db.changesCount == 1 else { continue } // a dependent of one cancelled before
            try EngineStore.audit(
                db, runID: j["sync_run_id"], jobID: job, materialID: id, classID: j["class_id"], at: t, action: "not sent",
                attempt: nil, outcome: .cancelled, httpStatus: nil, code: nil, message: reason)
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
            try db.execute(
                sql: "UPDATE material SET deleted_at = NULL, updated_at = ? WHERE lms_course_id = ? AND lms_id = ? AND deleted_at IS NOT NULL",
                arguments: [Timestamp.text(now), courseID, lmsID])
            guard db.changesCount > 0 else { return false }
            let m = try Row.fetchOne(db, sql: "SELECT id, title FROM material WHERE lms_course_id = ? AND lms_id = ?", arguments: [courseID, lmsID])!
            try Self.refreshStatuses(db, courseID: courseID, changed: [m["id"]], titles: [m["title"]], at: Timestamp.text(now))
            return true
        }
    }
}
