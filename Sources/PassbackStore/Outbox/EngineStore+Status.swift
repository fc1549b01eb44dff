import Foundation
import GRDB
import PassbackCore

/// Statuses are decided by `StatusRules` (through `ItemEvaluation`) and stored, one row per
/// material × linked section. The store only gathers the facts and keeps the result: every
/// write that changes a fact (a job's outcome, a material, a grade, a category map, an opt-out,
/// the roster) recomputes the statuses it affects in its own transaction, so the widget's
/// page read is a plain column read and never disagrees with the facts.
extension EngineStore {
    /// Recomputes the statuses of `materialIDs` (every material when `nil`) in one section.
    static func refresh(_ db: Database, classID: Int64, materialIDs: Set<Int64>? = nil, at t: String) throws {
        if let materialIDs, materialIDs.isEmpty { return }
        guard let s = try snapshot(db, classID: classID, materialIDs: materialIDs) else { return }
        let section = s.sectionInfo
        let encoder = JSONEncoder()
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO sync_item (material_id, class_id, status, problems, line_item_sourced_id, error_code, error_message, error_field, error_at, updated_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?6 IS NULL THEN NULL ELSE ?9 END, ?9)
                ON CONFLICT (material_id, class_id) DO UPDATE SET status = excluded.status, problems = excluded.problems,
                    line_item_sourced_id = excluded.line_item_sourced_id, error_code = excluded.error_code, error_message = excluded.error_message,
                    error_field = excluded.error_field,
                    error_at = CASE WHEN excluded.error_code IS NULL THEN NULL
                                    WHEN sync_item.error_code IS excluded.error_code AND sync_item.error_message IS excluded.error_message
                                    THEN COALESCE(sync_item.error_at, excluded.error_at) ELSE excluded.error_at END,
                    updated_at = excluded.updated_at
                WHERE sync_item.status IS NOT excluded.status OR sync_item.problems IS NOT excluded.problems
                    OR sync_item.error_code IS NOT excluded.error_code OR sync_item.error_message IS NOT excluded.error_message
                    OR sync_item.error_field IS NOT excluded.error_field OR sync_item.line_item_sourced_id IS NOT excluded.line_item_sourced_id
                """)
        for m in s.materials where materialIDs?.contains(m.id) ?? true {
            let e = s.evaluate(m, section: section)
            // The rules' problems are shown once a run has looked at the item (before, the dry
            // run shows them), and never for a deleted or opted-out material.
            let showsRules = (s.items[m.id]?.attempted ?? false) && m.syncToSIS && !m.deleted
            // What the SIS was found to hold instead of what was sent (`SIS_DIFFERS`) is shown until rewritten.
            let shown = (showsRules ? e.rules.problems : []) + (m.syncToSIS && !m.deleted ? e.sisDiffers : [])
            let problems = shown.isEmpty ? "[]" : String(decoding: try encoder.encode(shown), as: UTF8.self)
            let error = e.decision.error
            try statement.execute(arguments: [
                m.id, classID, e.decision.status.rawValue, problems, e.lineItem.sourcedId, error?.code.rawValue, error?.message,
                error?.field, t
            ])
        }
    }

    /// Recomputes the statuses of some materials in every section linked to their course.
    static func refresh(_ db: Database, materialIDs: some Collection<Int64>, at t: String) throws {
        guard !materialIDs.isEmpty else { return }
        var bySection: [Int64: Set<Int64>] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT ls.class_id, m.id FROM material m JOIN linked_section ls ON ls.lms_course_id = m.lms_course_id WHERE m.id IN (\(APIReads.list(materialIDs)))
                """)
        {
            bySection[r["class_id"], default: []].insert(r["id"])
        }
        for (classID, ids) in bySection.sorted(by: { $0.key < $1.key }) { try refresh(db, classID: classID, materialIDs: ids, at: t) }
    }

    /// Recomputes every status of the sections linked to an LMS course (a title counts across
    /// the course, so a rename can change another material's status).
    static func refresh(_ db: Database, courseID: Int64, at t: String) throws {
        for classID in try Int64.fetchAll(db, sql: "SELECT class_id FROM linked_section WHERE lms_course_id = ? ORDER BY class_id", arguments: [courseID]) {
            try refresh(db, classID: classID, at: t)
        }
    }

    /// Recomputes every status of the linked sections of the LMS courses that `classIDs` belong to
    /// (the roster changed: enrollments decide where a linked course's grades go).
    static func refresh(_ db: Database, coursesOfSections classIDs: some Collection<Int64>, at t: String) throws {
        guard !classIDs.isEmpty else { return }
        for course in try Int64.fetchAll(
            db,
            sql: """
                SELECT DISTINCT lms_course_id FROM linked_section WHERE class_id IN (\(APIReads.list(classIDs))) ORDER BY lms_course_id
                """)
        {
            try refresh(db, courseID: course, at: t)
        }
    }

    // MARK: What the SIS holds

    public static func objectKind(_ job: JobKind) -> SISObjectKind? {
        switch job {
        case .putCategory: .category
        case .putLineItem: .lineItem
        case .putResult: .result
        case .deleteLineItem: nil
        }
    }

    /// The SIS accepted this content of the object: it is what it holds now, and an older failure is history.
    /// `differs`: read back, the SIS holds other values (`SIS_DIFFERS`); `fingerprint` is then what it holds.
    static func recordAccepted(
        _ db: Database, connection: String, kind: JobKind, sourcedId: String, fingerprint: String, materialID: Int64?,
        classID: Int64?, differs: Problem? = nil, at t: String
    ) throws {
        guard let kind = objectKind(kind) else { return }
        let differsText = try differs.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try db.cachedStatement(
            sql: """
                INSERT INTO sis_object (connection_id, kind, sourced_id, material_id, class_id, accepted_fingerprint, accepted_at, differs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (connection_id, kind, sourced_id) DO UPDATE SET material_id = COALESCE(excluded.material_id, sis_object.material_id),
                    class_id = COALESCE(excluded.class_id, sis_object.class_id), accepted_fingerprint = excluded.accepted_fingerprint,
                    accepted_at = excluded.accepted_at, differs = excluded.differs, failed_fingerprint = NULL, failure_code = NULL, failure_message = NULL,
                    failure_resend = NULL, failed_at = NULL
                """
        ).execute(arguments: [connection, kind.rawValue, sourcedId, materialID, classID, fingerprint, t, differsText])
    }

    /// A write of this content did not land; `resend` says whether Sync Changes may send the
    /// same content again (`FailedWrite.resend`).
    static func recordFailure(
        _ db: Database, connection: String, kind: JobKind, sourcedId: String, fingerprint: String, materialID: Int64?,
        classID: Int64?, code: ProblemCode, message: String, resend: Bool, at t: String
    ) throws {
        guard let kind = objectKind(kind) else { return }
        try db.cachedStatement(
            sql: """
                INSERT INTO sis_object (connection_id, kind, sourced_id, material_id, class_id, failed_fingerprint, failure_code, failure_message,
                                        failure_resend, failed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (connection_id, kind, sourced_id) DO UPDATE SET material_id = COALESCE(excluded.material_id, sis_object.material_id),
                    class_id = COALESCE(excluded.class_id, sis_object.class_id), failed_fingerprint = excluded.failed_fingerprint,
                    failure_code = excluded.failure_code, failure_message = excluded.failure_message, failure_resend = excluded.failure_resend,
                    failed_at = excluded.failed_at
                """
        ).execute(arguments: [connection, kind.rawValue, sourcedId, materialID, classID, fingerprint, code.rawValue, message, resend, t])
    }

    // MARK: A blocked connection

    /// The SIS condemned the connection (refused credentials, no OneRoster service at the base
    /// URL): it is blocked with `cause` (naming the configuration key to fix), `job` goes back to
    /// the queue without spending an attempt, the connection's running runs show the cause, and
    /// the items with writes held show `SIS_CONNECTION_BLOCKED`. Nothing is cancelled.
    public func hold(_ job: ClaimedJob, code: String, cause: String, httpStatus: Int?, at now: Date) throws {
        let t = Timestamp.text(now)
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO connection_block (connection_id, code, cause, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [job.connectionID, code, cause, t])
            try db.execute(
                sql: """
                    UPDATE outbox_job SET state = 'available', attempt = max(0, attempt - 1), attempted_at = NULL,
                        errors = json_insert(errors, '$[#]', json_object('at', ?, 'attempt', ?, 'error', ?, 'status', ?))
                    WHERE id = ? AND state = 'running'
                    """, arguments: [t, job.attempt, cause, httpStatus, job.id])
            if db.changesCount == 1 {
                try Self.audit(
                    db, runID: job.syncRunID, jobID: job.id, materialID: job.materialID, classID: job.classID, at: t, action: Self.action(job),
                    attempt: job.attempt, outcome: .released, httpStatus: httpStatus, code: ProblemCode.sisConnectionBlocked.rawValue,
                    message: "held: \(cause)")
            }
            let blockCause = try String.fetchOne(db, sql: "SELECT cause FROM connection_block WHERE connection_id = ?", arguments: [job.connectionID]) ?? cause
            try db.execute(sql: "UPDATE sync_run SET cause = ? WHERE connection_id = ? AND state = 'running'", arguments: [blockCause, job.connectionID])
            try Self.refreshHeld(db, connection: job.connectionID, at: t)
        }
    }

    /// A light read of the SIS works again: the block is lifted, the runs' cause cleared and the
    /// held writes are claimed again. Returns whether the connection was blocked.
    @discardableResult
    public func unblock(connection: String, at now: Date) throws -> Bool {
        let t = Timestamp.text(now)
        return try pool.write { db in
            guard let cause = try String.fetchOne(db, sql: "DELETE FROM connection_block WHERE connection_id = ? RETURNING cause", arguments: [connection])
            else { return false }
            try db.execute(sql: "UPDATE sync_run SET cause = NULL WHERE connection_id = ? AND state = 'running' AND cause = ?", arguments: [connection, cause])
            try Self.refreshHeld(db, connection: connection, at: t)
            return true
        }
    }

    /// Why a connection is blocked, if it is.
    public func connectionBlock(_ connection: String) throws -> (code: String, cause: String, since: Date)? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT code, cause, since FROM connection_block WHERE connection_id = ?", arguments: [connection]).map {
                ($0["code"], $0["cause"], Timestamp.date($0["since"]) ?? .distantPast)
            }
        }
    }

    /// Recomputes the statuses of the items that have writes waiting on a connection.
    static func refreshHeld(_ db: Database, connection: String, at t: String) throws {
        var after = Aftermath()
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT DISTINCT material_id, class_id FROM outbox_job
                WHERE connection_id = ? AND state IN \(unfinished) AND material_id IS NOT NULL AND class_id IS NOT NULL
                """, arguments: [connection])
        {
            after.items.insert(ItemKey(materialID: r["material_id"], classID: r["class_id"]))
        }
        try settle(db, after, at: t)
    }
}
