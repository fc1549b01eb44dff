import Foundation
import GRDB
import OneRosterModels
import PassbackCore

/// Everything the planner needs to decide what a section's run sends, read in one transaction.
public struct SectionSnapshot: Sendable {
    public struct Material: Sendable, Hashable {
        public var id: Int64
        public var lmsID: String
        public var title: String
        public var description: String?
        public var dueAt: Date?
        public var categoryLmsID: String?
        public var categoryTitle: String?
        public var maxPoints: Double?
        public var syncToSIS: Bool
        public var deleted: Bool
    }

    public struct Grade: Sendable, Hashable {
        public var studentSourcedId: String
        public var score: Double?
        public var exception: String?
        public var comment: String?
        public var updatedAt: Date
    }

    public var classID: Int64
    public var connectionID: String
    public var profile: String
    public var sectionSourcedId: String
    public var configured: Bool
    /// LMS category id → (SIS category sourcedId, title).
    public var categoryMap: [String: (sourcedId: String, title: String)]
    public var gradingPeriods: [GradingPeriodInfo]
    /// The section's active students (`APIReads.studentsOf`): its grades are theirs.
    public var enrolledStudents: Set<String>
    /// The other SIS sections linked to the same LMS course, by sourcedId.
    public var otherLinkedSections: [String]
    /// The active students of those other sections: their grades go there, not here.
    public var otherLinkedStudents: Set<String>
    /// Students dropped from this section and enrolled in no linked section now: their grades
    /// stay here (`LinkedSections.grade(of:belongsTo:)`) and this section reports them.
    public var formerStudents: Set<String>
    /// The materials whose grades of students enrolled in no linked section this section
    /// reports as STUDENT_NOT_ENROLLED (`EngineStore.unenrolledReportedBy`).
    public var reportsUnenrolled: Set<Int64>
    public var materials: [Material]
    public var grades: [Int64: [Grade]]
    public var items: [Int64: SyncItemRecord]
    public var pendingJobs: [Int64: Int]
    /// What the SIS last accepted of each object of the section's items (and of the
    /// connection's generic categories), and the last failed write of each.
    public var sisObjects: [SISObjectKey: (accepted: String?, failure: FailedWrite?)]
    /// Objects read back holding other values than the content Passback sent (`SIS_DIFFERS`), by key.
    public var sisDiffers: [SISObjectKey: Problem] = [:]
    /// The materials whose grades were read (`nil`: all of them).
    public var scope: Set<Int64>?
    /// Why the section's connection is blocked, if it is (`SIS_CONNECTION_BLOCKED`).
    public var connectionBlocked: Problem?
    /// The section's school's time zone and the connection's overrides of its profile's limits.
    public var calendar = SectionCalendar()

    /// The connection's vendor profile, with the district's overrides of its limits.
    public var vendorProfile: VendorProfile { calendar.limits.applied(to: VendorProfile.named(profile) ?? .standard) }

    /// The rules' view of the section.
    public var sectionInfo: SectionInfo {
        var titleCounts: [String: Int] = [:]
        for m in materials where !m.deleted { titleCounts[Validation.titleKey(m.title), default: 0] += 1 }
        return SectionInfo(
            connectionID: connectionID, sectionSourcedId: sectionSourcedId, configured: configured,
            categoryMap: categoryMap.mapValues { SISCategoryRef(sourcedId: $0.sourcedId, title: $0.title) },
            gradingPeriods: gradingPeriods,
            enrolledStudents: enrolledStudents, otherLinkedSections: otherLinkedSections, otherLinkedStudents: otherLinkedStudents,
            formerStudents: formerStudents, courseTitleCounts: titleCounts, timeZone: calendar.zone)
    }

    /// One material evaluated here (`ItemEvaluation`): its rules, SIS objects, what Sync
    /// Changes sends and its status. `section` is `sectionInfo`, passed in to build it once.
    public func evaluate(_ m: Material, section: SectionInfo) -> ItemEvaluation {
        let grades = self.grades[m.id] ?? []
        let infos = grades.map {
            GradeInfo(
                studentSourcedId: $0.studentSourcedId, score: $0.score, exception: $0.exception.flatMap(GradeException.init(rawValue:)), comment: $0.comment)
        }
        var days: [String: CalendarDate] = [:]
        // A result's `scoreDate` is the school's local day of the grade's last change.
        let zone = calendar.zone
        for g in grades where days[g.studentSourcedId] == nil { days[g.studentSourcedId] = SchoolCalendar.localDay(g.updatedAt, in: zone) }
        let info = MaterialInfo(
            lmsID: m.lmsID, title: m.title, dueAt: m.dueAt, lmsCategoryID: m.categoryLmsID, maxPoints: m.maxPoints,
            syncToSIS: m.syncToSIS, deleted: m.deleted, lmsCategoryTitle: m.categoryTitle)
        return ItemEvaluation.evaluate(
            material: info, description: m.description, grades: infos, scoreDays: days, section: section, profile: vendorProfile,
            reportsUnenrolled: reportsUnenrolled.contains(m.id), sis: { sisObjects[$0] ?? (nil, nil) }, differs: { sisDiffers[$0] },
            pendingWrites: pendingJobs[m.id] ?? 0,
            attempted: items[m.id]?.attempted ?? false, connectionBlocked: connectionBlocked)
    }
}

extension EngineStore {
    /// The section as the planner needs it; `nil` if the section is not linked to an LMS course.
    public func sectionSnapshot(classID: Int64, materialIDs: Set<Int64>? = nil) throws -> SectionSnapshot? {
        try database.read { db in try Self.snapshot(db, classID: classID, materialIDs: materialIDs) }
    }

    /// The snapshot inside a transaction; grades, items and SIS objects only of `materialIDs`
    /// when given (every material is still listed: titles count across the course).
    static func snapshot(_ db: Database, classID: Int64, materialIDs: Set<Int64>? = nil) throws -> SectionSnapshot? {
        guard
            let c = try Row.fetchOne(
                db,
                sql: """
                    SELECT c.connection_id, c.sourced_id, co.profile, ls.lms_course_id, (SELECT 1 FROM section_config WHERE class_id = c.id) AS configured
                    FROM class c JOIN connection co ON co.id = c.connection_id JOIN linked_section ls ON ls.class_id = c.id WHERE c.id = ?
                    """, arguments: [classID])
        else { return nil }
        let connection: String = c["connection_id"], sectionID: String = c["sourced_id"], courseID: Int64 = c["lms_course_id"]
        var map: [String: (sourcedId: String, title: String)] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT lc.lms_id, sc.sourced_id, sc.title FROM category_map m
                JOIN lms_category lc ON lc.id = m.lms_category_id JOIN sis_category sc ON sc.id = m.sis_category_id WHERE m.class_id = ?
                """, arguments: [classID])
        {
            map[r["lms_id"]] = (r["sourced_id"], r["title"])
        }
        // Grading periods of the class's terms, or of sessions under them (a year-long class may name the school year).
        let periods = try Row.fetchAll(
            db,
            sql: """
                SELECT DISTINCT gp.sourced_id, gp.title, gp.start_date, gp.end_date FROM academic_session gp
                WHERE gp.connection_id = ? AND gp.type = 'gradingPeriod' AND gp.status = 'active' AND (
                    gp.parent_sourced_id IN (SELECT term_sourced_id FROM class_term WHERE class_id = ?)
                    OR gp.parent_sourced_id IN (SELECT s.sourced_id FROM academic_session s WHERE s.connection_id = gp.connection_id
                                                AND s.parent_sourced_id IN (SELECT term_sourced_id FROM class_term WHERE class_id = ?)))
                ORDER BY gp.start_date
                """, arguments: [connection, classID, classID]
        ).compactMap { row -> GradingPeriodInfo? in
            // The roster stores only real days (RosterMapping checks them); one that is not could
            // hold no due date, and is left out.
            guard let start = CalendarDate(row["start_date"] as String), let end = CalendarDate(row["end_date"] as String) else { return nil }
            return GradingPeriodInfo(sourcedId: row["sourced_id"], title: row["title"], startDay: start, endDay: end)
        }
        // A linked course holds the grades of every linked section's students: each goes where the roster enrolls its student.
        let students = Set(try String.fetchAll(db, sql: APIReads.studentsOf([classID])))
        let others = try Row.fetchAll(
            db,
            sql: """
                SELECT c.id, c.sourced_id FROM linked_section ls JOIN class c ON c.id = ls.class_id
                WHERE ls.lms_course_id = ? AND ls.class_id != ? ORDER BY c.sourced_id, c.id
                """, arguments: [courseID, classID])
        let otherStudents = others.isEmpty ? [] : Set(try String.fetchAll(db, sql: APIReads.studentsOf(others.map { $0["id"] as Int64 })))
        let reportsUnenrolled = Set(
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT mm.id FROM material mm WHERE mm.lms_course_id = ? AND (\(Self.unenrolledReportedBy(material: "mm.id"))) = ?
                    """, arguments: [courseID, classID]))
        let materials = try Row.fetchAll(
            db,
            sql: """
                SELECT m.id, m.lms_id, m.title, m.description, m.due_at, lc.lms_id AS category, lc.title AS category_title, m.max_points,
                       \(CacheQueries.syncToSISExpression(section: "?")) AS sync_to_sis, m.deleted_at
                FROM material m LEFT JOIN lms_category lc ON lc.id = m.lms_category_id WHERE m.lms_course_id = ? ORDER BY m.id
                """, arguments: [classID, courseID]
        ).map {
            SectionSnapshot.Material(
                id: $0["id"], lmsID: $0["lms_id"], title: $0["title"], description: $0["description"],
                dueAt: ($0["due_at"] as String?).flatMap(Timestamp.date), categoryLmsID: $0["category"], categoryTitle: $0["category_title"],
                maxPoints: $0["max_points"],
                syncToSIS: $0["sync_to_sis"], deleted: ($0["deleted_at"] as String?) != nil)
        }
        // Grades are recorded per course; this section reads only those of its own students
        // (LinkedSections.grade(of:belongsTo:)), never another linked section's.
        var enrollments: [String: [LinkedSections.Enrollment]] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT e.person_sourced_id, e.class_sourced_id, e.status FROM linked_section ls JOIN class c ON c.id = ls.class_id
                JOIN enrollment e ON e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id AND e.role = 'student'
                WHERE ls.lms_course_id = ?
                """, arguments: [courseID])
        {
            enrollments[r["person_sourced_id"], default: []].append(
                LinkedSections.Enrollment(sectionSourcedId: r["class_sourced_id"], active: (r["status"] as String) == "active"))
        }
        let former = Set(
            enrollments.compactMap { student, list in
                !list.contains(where: \.active) && list.contains { $0.sectionSourcedId == sectionID } ? student : nil
            })
        var grades: [Int64: [SectionSnapshot.Grade]] = [:]
        let gradeSQL =
            materialIDs.map { "SELECT g.* FROM grade g WHERE g.material_id IN (\(APIReads.list(Array($0)))) ORDER BY g.material_id, g.student_sourced_id" }
            ?? "SELECT g.* FROM grade g JOIN material m ON m.id = g.material_id WHERE m.lms_course_id = ? ORDER BY g.material_id, g.student_sourced_id"
        for r in try Row.fetchAll(db, sql: gradeSQL, arguments: materialIDs == nil ? [courseID] : [])
        where LinkedSections.grade(of: enrollments[r["student_sourced_id"]] ?? [], belongsTo: sectionID) {
            grades[r["material_id"], default: []].append(
                SectionSnapshot.Grade(
                    studentSourcedId: r["student_sourced_id"], score: r["score"], exception: r["exception"], comment: r["comment"],
                    updatedAt: Timestamp.date(r["updated_at"]) ?? .distantPast))
        }
        var items: [Int64: SyncItemRecord] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT * FROM sync_item WHERE class_id = ?", arguments: [classID]) {
            let item = Self.item(r)
            items[item.materialID] = item
        }
        var pending: [Int64: Int] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT material_id, count(*) AS n FROM outbox_job WHERE class_id = ? AND state IN \(Self.unfinished) AND material_id IS NOT NULL GROUP BY material_id
                """, arguments: [classID])
        {
            pending[r["material_id"]] = r["n"]
        }
        var objects: [SISObjectKey: (accepted: String?, failure: FailedWrite?)] = [:]
        var differs: [SISObjectKey: Problem] = [:]
        let itemFilter = materialIDs.map { " AND material_id IN (\(APIReads.list(Array($0))))" } ?? ""
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT kind, sourced_id, accepted_fingerprint, failed_fingerprint, failure_code, failure_message, failure_resend, differs FROM sis_object
                WHERE class_id = ?\(itemFilter) UNION ALL
                SELECT kind, sourced_id, accepted_fingerprint, failed_fingerprint, failure_code, failure_message, failure_resend, differs FROM sis_object
                WHERE connection_id = ? AND kind = 'category'
                """, arguments: [classID, connection])
        {
            guard let kind = SISObjectKind(rawValue: r["kind"]) else { continue }
            var failure: FailedWrite?
            if let fp: String = r["failed_fingerprint"], let code = ProblemCode(rawValue: r["failure_code"]) {
                failure = FailedWrite(fingerprint: fp, code: code, message: r["failure_message"], resend: r["failure_resend"])
            }
            objects[SISObjectKey(kind, r["sourced_id"])] = (r["accepted_fingerprint"], failure)
            if let text: String = r["differs"], let problem = try? JSONDecoder().decode(Problem.self, from: Data(text.utf8)) {
                differs[SISObjectKey(kind, r["sourced_id"])] = problem
            }
        }
        var snapshot = SectionSnapshot(
            classID: classID, connectionID: connection, profile: c["profile"], sectionSourcedId: sectionID,
            configured: (c["configured"] as Int?) != nil, categoryMap: map, gradingPeriods: periods, enrolledStudents: students,
            otherLinkedSections: others.map { $0["sourced_id"] }, otherLinkedStudents: otherStudents, formerStudents: former,
            reportsUnenrolled: reportsUnenrolled,
            materials: materials, grades: grades, items: items, pendingJobs: pending, sisObjects: objects, scope: materialIDs,
            connectionBlocked: try String.fetchOne(db, sql: "SELECT cause FROM connection_block WHERE connection_id = ?", arguments: [connection])
                .map { Problem.sisConnectionBlocked(cause: $0) },
            calendar: try ConnectionCalendar.sections(db, classIDs: [classID])[classID] ?? SectionCalendar())
        snapshot.sisDiffers = differs
        return snapshot
    }

    /// SQL for the one section that reports a material's grades of students the roster enrolls
    /// in none of the sections linked to its LMS course (`STUDENT_NOT_ENROLLED`): the first linked
    /// section, by SIS sourcedId, where the material syncs. Such a grade has no section, so it is
    /// one problem, shown once and counted once (in each section it would mark every item ERROR
    /// and count twice in admins' error counts); taking opt-outs into account keeps it visible as
    /// long as the material goes to any section. `material` is an SQL expression for its id,
    /// which may refer to the enclosing statement (but not as `m`, the name used here).
    static func unenrolledReportedBy(material: String) -> String {
        """
        SELECT ls.class_id FROM material m JOIN linked_section ls ON ls.lms_course_id = m.lms_course_id JOIN class c ON c.id = ls.class_id
        WHERE m.id = \(material) AND \(CacheQueries.syncToSISExpression(section: "ls.class_id")) ORDER BY c.sourced_id, c.id LIMIT 1
        """
    }

    static func item(_ r: Row) -> SyncItemRecord {
        let problemsText: String = r["problems"] ?? "[]"
        return SyncItemRecord(
            materialID: r["material_id"], classID: r["class_id"], status: SyncStatus(rawValue: r["status"]) ?? .notSynced,
            lastSyncedAt: (r["last_synced_at"] as String?).flatMap(Timestamp.date), attempted: r["attempted"] ?? false,
            errorCode: r["error_code"], errorMessage: r["error_message"], errorField: r["error_field"],
            // Most items have no problems: "[]" is not decoded.
            problems: problemsText == "[]" ? [] : (try? JSONDecoder().decode([Problem].self, from: Data(problemsText.utf8))) ?? [],
            lineItemSourcedId: r["line_item_sourced_id"])
    }

    /// The sync state of a material in a section.
    public func syncItem(materialID: Int64, classID: Int64) throws -> SyncItemRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sync_item WHERE material_id = ? AND class_id = ?", arguments: [materialID, classID]).map(Self.item)
        }
    }

    public func run(_ id: Int64) throws -> SyncRunRecord? {
        try database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM sync_run WHERE id = ?", arguments: [id]).map(Self.run) }
    }

    static func run(_ r: Row) -> SyncRunRecord {
        SyncRunRecord(
            id: r["id"], connectionID: r["connection_id"], classID: r["class_id"], trigger: SyncTrigger(rawValue: r["trigger"]) ?? .item,
            startedBy: r["started_by"], state: r["state"], itemsSent: r["items_sent"], itemsSucceeded: r["items_succeeded"], itemsFailed: r["items_failed"],
            itemsSkipped: r["items_skipped"], jobsTotal: r["jobs_total"], jobsSucceeded: r["jobs_succeeded"], jobsFailed: r["jobs_failed"], cause: r["cause"],
            startedAt: Timestamp.date(r["started_at"]) ?? .distantPast, finishedAt: (r["finished_at"] as String?).flatMap(Timestamp.date))
    }

    public func jobs(runID: Int64) throws -> [JobRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox_job WHERE sync_run_id = ? ORDER BY id", arguments: [runID]).map(Self.job)
        }
    }

    static func job(_ r: Row) -> JobRecord {
        JobRecord(
            id: r["id"], kind: JobKind(rawValue: r["kind"])!, targetSourcedId: r["target_sourced_id"], state: r["state"], attempt: r["attempt"],
            errors: r["errors"], materialID: r["material_id"], classID: r["class_id"], syncRunID: r["sync_run_id"])
    }

    /// The audit log of an item, oldest first.
    public func audit(materialID: Int64, classID: Int64) throws -> [AuditRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_entry WHERE material_id = ? AND class_id = ? ORDER BY id", arguments: [materialID, classID])
                .map(Self.auditRecord)
        }
    }

    static func auditRecord(_ r: Row) -> AuditRecord {
        AuditRecord(
            id: r["id"], syncRunID: r["sync_run_id"], jobID: r["job_id"], materialID: r["material_id"], classID: r["class_id"],
            at: Timestamp.date(r["at"]) ?? .distantPast, action: r["action"], attempt: r["attempt"], outcome: r["outcome"],
            httpStatus: r["http_status"], code: r["code"], message: r["message"])
    }

    /// Jobs by state, for metrics and tests.
    public func jobCounts(connection: String? = nil) throws -> [String: Int] {
        try database.read { db in
            var out: [String: Int] = [:]
            let rows =
                connection == nil
                ? try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM outbox_job GROUP BY state")
                : try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM outbox_job WHERE connection_id = ? GROUP BY state", arguments: [connection])
            for r in rows { out[r["state"]] = r["n"] }
            return out
        }
    }

    /// Connections that have writes waiting.
    public func connectionsWithPendingJobs() throws -> [String] {
        try database.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT connection_id FROM outbox_job WHERE state IN \(Self.pending)") }
    }
}
