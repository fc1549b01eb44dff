import Foundation
import GRDB
import PassbackCore

/// An org of the roster.
public struct OrgRecord: Sendable, Hashable {
    public var sourcedId: String
    public var name: String
    public var type: String
    public var parentSourcedId: String?
}

/// A person of the roster.
public struct PersonRecord: Sendable, Hashable {
    public var sourcedId: String
    public var givenName: String
    public var familyName: String
    public var email: String?
    public var role: String
}

/// A school year, term, semester or grading period.
public struct SessionRecord: Sendable, Hashable {
    public var sourcedId: String
    public var title: String
    public var type: String
    public var startDate: String
    public var endDate: String
}

/// A SIS grading category.
public struct SISCategoryRecord: Sendable, Hashable {
    public var sourcedId: String
    public var title: String
}

/// An LMS course.
public struct LMSCourseRecord: Sendable, Hashable {
    public var id: Int64
    public var lmsID: String
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

/// A student's grade in the LMS.
public struct GradeRecord: Sendable, Hashable {
    public var materialID: Int64
    public var studentSourcedId: String
    public var score: Double?
    public var exception: String?
    public var comment: String?
    public var updatedAt: Date
}

/// Who may read which sections: a teacher's own, or an admin's org subtree.
public enum SectionScope: Sendable, Hashable {
    case teacher(String)
    case org(String)
}

/// The batched reads behind the API: each takes every key a list needs and answers in one
/// query, so a page of N rows costs one query per child field, never N.
public struct APIReads: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    static func list(_ ids: some Collection<Int64>) -> String { ids.isEmpty ? "NULL" : ids.map(String.init).joined(separator: ",") }

    /// Per parent, a page of the first `first` of the rows read (one more was read to learn
    /// whether there is a next page) and the parent's total.
    static func pages<Parent: Hashable, Record>(_ parents: [Parent], rows: [Parent: [Record]], totals: [Parent: Int], first: Int,
                                                cursor: (Record) -> String) -> [Parent: (page: KeysetPage<Record>, total: Int)] {
        var out: [Parent: (page: KeysetPage<Record>, total: Int)] = [:]
        for parent in parents {
            let all = rows[parent] ?? []
            let items = Array(all.prefix(first))
            out[parent] = (KeysetPage(items: items, cursors: items.map(cursor), hasNextPage: all.count > first), totals[parent] ?? 0)
        }
        return out
    }

    static func placeholders(_ n: Int) -> String { n == 0 ? "NULL" : Array(repeating: "?", count: n).joined(separator: ",") }

    // MARK: Access

    /// The sections of `classIDs` that `scope` may read.
    public func readable(_ classIDs: [Int64], connection: String, scope: SectionScope) throws -> Set<Int64> {
        guard !classIDs.isEmpty else { return [] }
        return try pool.read { db in
            switch scope {
            case .teacher(let teacher):
                return Set(try Int64.fetchAll(db, sql: """
                    SELECT c.id FROM class c WHERE c.id IN (\(Self.list(classIDs))) AND c.connection_id = ?1 AND c.status = 'active' AND EXISTS (
                        SELECT 1 FROM enrollment e WHERE e.connection_id = ?1 AND e.class_sourced_id = c.sourced_id
                            AND e.person_sourced_id = ?2 AND e.role = 'teacher' AND e.status = 'active')
                    """, arguments: [connection, teacher]))
            case .org(let root):
                return Set(try Int64.fetchAll(db, sql: CacheQueries.scopeCTE + """
                    SELECT c.id FROM class c WHERE c.id IN (\(Self.list(classIDs))) AND c.connection_id = :connection
                        AND c.school_sourced_id IN (SELECT sid FROM scope)
                    """, arguments: ["connection": connection, "root": root]))
            }
        }
    }

    // MARK: Sections

    public func sections(ids: [Int64]) throws -> [Int64: SectionSummary] {
        try pool.read { db in
            var out: [Int64: SectionSummary] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT id, connection_id, sourced_id, title, class_code, school_sourced_id, course_sourced_id FROM class WHERE id IN (\(Self.list(ids)))
                """) {
                let s = Self.section(r)
                out[s.id] = s
            }
            return out
        }
    }

    static func section(_ r: Row) -> SectionSummary {
        SectionSummary(id: r["id"], connectionID: r["connection_id"], sourcedId: r["sourced_id"], title: r["title"], classCode: r["class_code"],
                       schoolSourcedId: r["school_sourced_id"], courseSourcedId: r["course_sourced_id"])
    }

    /// Sections `scope` may read, by title, with an optional title search and school.
    public func sections(connection: String, scope: SectionScope, search: String?, school: String?, first: Int, after: String?) throws
        -> (page: KeysetPage<SectionSummary>, total: Int)
    {
        let ordering = "sections:title"
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection]
        var conditions = " WHERE c.connection_id = :connection AND c.status = 'active'"
        switch scope {
        case .teacher(let t):
            conditions += """
                 AND EXISTS (SELECT 1 FROM enrollment e WHERE e.connection_id = :connection AND e.class_sourced_id = c.sourced_id
                    AND e.person_sourced_id = :teacher AND e.role = 'teacher' AND e.status = 'active')
                """
            args["teacher"] = t
        case .org(let root):
            conditions += " AND c.school_sourced_id IN (SELECT sid FROM scope)"
            args["root"] = root
        }
        if let search = search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            conditions += " AND c.title LIKE :search ESCAPE '\\'"
            args["search"] = "%" + Self.likeEscaped(search) + "%"
        }
        if let school {
            conditions += " AND c.school_sourced_id = :school"
            args["school"] = school
        }
        let prefix: String
        if case .org = scope { prefix = CacheQueries.scopeCTE } else { prefix = "" }
        var sql = prefix + "SELECT c.id, c.connection_id, c.sourced_id, c.title, c.class_code, c.school_sourced_id, c.course_sourced_id FROM class c" + conditions
        let countSQL = prefix + "SELECT count(*) FROM class c" + conditions
        var pageArgs = args
        if let after {
            let k = try Keyset.decode(after, ordering: ordering)
            sql += " AND (c.title > :ak OR (c.title = :ak AND c.id > :ai))"
            pageArgs["ak"] = k.key
            pageArgs["ai"] = k.id
        }
        sql += " ORDER BY c.title, c.id LIMIT :limit"
        pageArgs["limit"] = first + 1
        return try pool.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(pageArgs))
            let items = rows.prefix(first).map(Self.section)
            let total = try Int.fetchOne(db, sql: countSQL, arguments: StatementArguments(args)) ?? 0
            return (KeysetPage(items: items, cursors: items.map { Keyset.encode(ordering: ordering, key: $0.title, id: $0.id) }, hasNextPage: rows.count > first),
                    total)
        }
    }

    static func likeEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    /// Active teachers of each section (by class sourcedId), by family name.
    public func teachers(connection: String, classSourcedIds: [String]) throws -> [String: [PersonRecord]] {
        guard !classSourcedIds.isEmpty else { return [:] }
        return try pool.read { db in
            var out: [String: [PersonRecord]] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT DISTINCT e.class_sourced_id, p.sourced_id, p.given_name, p.family_name, p.email, p.role
                FROM enrollment e JOIN person p ON p.connection_id = e.connection_id AND p.sourced_id = e.person_sourced_id
                WHERE e.connection_id = ? AND e.class_sourced_id IN (\(Self.placeholders(classSourcedIds.count))) AND e.role = 'teacher' AND e.status = 'active'
                ORDER BY p.family_name, p.given_name, p.sourced_id
                """, arguments: StatementArguments([connection] + classSourcedIds)) {
                out[r["class_sourced_id"], default: []].append(Self.person(r))
            }
            return out
        }
    }

    /// The first term (by start date) of each section.
    public func terms(classIDs: [Int64]) throws -> [Int64: SessionRecord] {
        try pool.read { db in
            var out: [Int64: SessionRecord] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT ct.class_id, s.sourced_id, s.title, s.type, s.start_date, s.end_date
                FROM class_term ct JOIN class c ON c.id = ct.class_id
                JOIN academic_session s ON s.connection_id = c.connection_id AND s.sourced_id = ct.term_sourced_id
                WHERE ct.class_id IN (\(Self.list(classIDs))) ORDER BY s.start_date DESC, s.sourced_id DESC
                """) {
                out[r["class_id"]] = Self.session(r)
            }
            return out
        }
    }

    /// Grading periods of each section's terms (or of sessions under them), by start date.
    public func gradingPeriods(classIDs: [Int64]) throws -> [Int64: [SessionRecord]] {
        try pool.read { db in
            var out: [Int64: [SessionRecord]] = [:]
            for r in try Row.fetchAll(db, sql: """
                WITH terms(class_id, connection_id, sid) AS (
                    SELECT ct.class_id, c.connection_id, ct.term_sourced_id FROM class_term ct JOIN class c ON c.id = ct.class_id
                    WHERE ct.class_id IN (\(Self.list(classIDs)))
                ), parents(class_id, connection_id, sid) AS (
                    SELECT * FROM terms
                    UNION SELECT t.class_id, t.connection_id, s.sourced_id FROM terms t
                        JOIN academic_session s ON s.connection_id = t.connection_id AND s.parent_sourced_id = t.sid
                )
                SELECT DISTINCT p.class_id, gp.sourced_id, gp.title, gp.type, gp.start_date, gp.end_date
                FROM parents p JOIN academic_session gp ON gp.connection_id = p.connection_id AND gp.parent_sourced_id = p.sid
                WHERE gp.type = 'gradingPeriod' AND gp.status = 'active'
                ORDER BY gp.start_date, gp.sourced_id
                """) {
                out[r["class_id"], default: []].append(Self.session(r))
            }
            return out
        }
    }

    /// The LMS course linked to each section.
    public func lmsCourses(classIDs: [Int64]) throws -> [Int64: LMSCourseRecord] {
        try pool.read { db in
            var out: [Int64: LMSCourseRecord] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT ls.class_id, lc.id, lc.lms_id, lc.title FROM linked_section ls JOIN lms_course lc ON lc.id = ls.lms_course_id
                WHERE ls.class_id IN (\(Self.list(classIDs)))
                """) {
                out[r["class_id"]] = LMSCourseRecord(id: r["id"], lmsID: r["lms_id"], title: r["title"])
            }
            return out
        }
    }

    public func lmsCourses(ids: [Int64]) throws -> [Int64: LMSCourseRecord] {
        try pool.read { db in
            var out: [Int64: LMSCourseRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, lms_id, title FROM lms_course WHERE id IN (\(Self.list(ids)))") {
                out[r["id"]] = LMSCourseRecord(id: r["id"], lmsID: r["lms_id"], title: r["title"])
            }
            return out
        }
    }

    public func lmsCourse(connection: String, lmsID: String) throws -> LMSCourseRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, lms_id, title FROM lms_course WHERE connection_id = ? AND lms_id = ?", arguments: [connection, lmsID])
                .map { LMSCourseRecord(id: $0["id"], lmsID: $0["lms_id"], title: $0["title"]) }
        }
    }

    /// The sections linked to each LMS course, by title.
    public func linkedSections(courseIDs: [Int64]) throws -> [Int64: [Int64]] {
        try pool.read { db in
            var out: [Int64: [Int64]] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT ls.lms_course_id, ls.class_id FROM linked_section ls JOIN class c ON c.id = ls.class_id
                WHERE ls.lms_course_id IN (\(Self.list(courseIDs))) ORDER BY c.title, c.id
                """) {
                out[r["lms_course_id"], default: []].append(r["class_id"])
            }
            return out
        }
    }

    /// The categories of each LMS course, by title.
    public func lmsCategories(courseIDs: [Int64]) throws -> [Int64: [LMSCategoryRecord]] {
        try pool.read { db in
            var out: [Int64: [LMSCategoryRecord]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM lms_category WHERE lms_course_id IN (\(Self.list(courseIDs))) ORDER BY title, id") {
                out[r["lms_course_id"], default: []].append(Self.lmsCategory(r))
            }
            return out
        }
    }

    public func lmsCategories(ids: [Int64]) throws -> [Int64: LMSCategoryRecord] {
        try pool.read { db in
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
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sourced_id, title FROM sis_category WHERE connection_id = ? AND status = 'active' ORDER BY title, sourced_id",
                             arguments: [connection]).map { SISCategoryRecord(sourcedId: $0["sourced_id"], title: $0["title"]) }
        }
    }

    public func sisCategories(connection: String, sourcedIds: [String]) throws -> [String: SISCategoryRecord] {
        try pool.read { db in
            var out: [String: SISCategoryRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT sourced_id, title FROM sis_category WHERE connection_id = ? AND sourced_id IN (\(Self.placeholders(sourcedIds.count)))",
                                      arguments: StatementArguments([connection] + sourcedIds)) {
                out[r["sourced_id"]] = SISCategoryRecord(sourcedId: r["sourced_id"], title: r["title"])
            }
            return out
        }
    }

    /// Each section's saved category map (LMS category row id → SIS category), or nil if it was never saved.
    public func categoryMaps(classIDs: [Int64]) throws -> [Int64: [(lmsCategoryID: Int64, sis: SISCategoryRecord)]] {
        try pool.read { db in
            var out: [Int64: [(lmsCategoryID: Int64, sis: SISCategoryRecord)]] = [:]
            for id in try Int64.fetchAll(db, sql: "SELECT class_id FROM section_config WHERE class_id IN (\(Self.list(classIDs)))") { out[id] = [] }
            for r in try Row.fetchAll(db, sql: """
                SELECT m.class_id, m.lms_category_id, s.sourced_id, s.title FROM category_map m JOIN sis_category s ON s.id = m.sis_category_id
                JOIN lms_category lc ON lc.id = m.lms_category_id
                WHERE m.class_id IN (\(Self.list(classIDs))) ORDER BY lc.title, lc.id
                """) {
                out[r["class_id"], default: []].append((r["lms_category_id"], SISCategoryRecord(sourcedId: r["sourced_id"], title: r["title"])))
            }
            return out
        }
    }

    // MARK: Roster objects by sourcedId

    public func orgs(connection: String, sourcedIds: [String]) throws -> [String: OrgRecord] {
        try pool.read { db in
            var out: [String: OrgRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT sourced_id, name, type, parent_sourced_id FROM org WHERE connection_id = ? AND sourced_id IN (\(Self.placeholders(sourcedIds.count)))",
                                      arguments: StatementArguments([connection] + sourcedIds)) {
                out[r["sourced_id"]] = OrgRecord(sourcedId: r["sourced_id"], name: r["name"], type: r["type"], parentSourcedId: r["parent_sourced_id"])
            }
            return out
        }
    }

    public func people(connection: String, sourcedIds: [String]) throws -> [String: PersonRecord] {
        try pool.read { db in
            var out: [String: PersonRecord] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT sourced_id, given_name, family_name, email, role FROM person WHERE connection_id = ? AND sourced_id IN (\(Self.placeholders(sourcedIds.count)))
                """, arguments: StatementArguments([connection] + sourcedIds)) {
                out[r["sourced_id"]] = Self.person(r)
            }
            return out
        }
    }

    static func person(_ r: Row) -> PersonRecord {
        PersonRecord(sourcedId: r["sourced_id"], givenName: r["given_name"], familyName: r["family_name"], email: r["email"], role: r["role"])
    }

    public func sessions(connection: String, sourcedIds: [String]) throws -> [String: SessionRecord] {
        try pool.read { db in
            var out: [String: SessionRecord] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT sourced_id, title, type, start_date, end_date FROM academic_session WHERE connection_id = ? AND sourced_id IN (\(Self.placeholders(sourcedIds.count)))
                """, arguments: StatementArguments([connection] + sourcedIds)) {
                out[r["sourced_id"]] = Self.session(r)
            }
            return out
        }
    }

    static func session(_ r: Row) -> SessionRecord {
        SessionRecord(sourcedId: r["sourced_id"], title: r["title"], type: r["type"], startDate: r["start_date"], endDate: r["end_date"])
    }

    // MARK: Materials

    /// Materials with their status in a section, by (material, section).
    public func materials(_ keys: [(materialID: Int64, classID: Int64)]) throws -> [MaterialKey: SectionMaterial] {
        guard !keys.isEmpty else { return [:] }
        return try pool.read { db in
            var out: [MaterialKey: SectionMaterial] = [:]
            let pairs = keys.map { "(\($0.materialID),\($0.classID))" }.joined(separator: ",")
            for r in try Row.fetchAll(db, sql: """
                WITH wanted(material_id, class_id) AS (VALUES \(pairs))
                SELECT w.class_id, m.id, m.lms_id, m.title, m.due_at, m.max_points, m.lms_category_id,
                       \(CacheQueries.syncToSISExpression(section: "w.class_id")) AS sync_to_sis, m.published, m.deleted_at,
                       \(CacheQueries.statusExpression(section: "w.class_id")) AS status,
                       si.last_synced_at, si.error_code, si.error_message, si.error_field
                FROM wanted w JOIN material m ON m.id = w.material_id
                JOIN linked_section ls ON ls.lms_course_id = m.lms_course_id AND ls.class_id = w.class_id
                LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = w.class_id
                """) {
                out[MaterialKey(materialID: r["id"], classID: r["class_id"])] = CacheQueries.material(r)
            }
            return out
        }
    }

    /// Problems of each item (the rules that failed or warned, and the SIS's refusal).
    public func problems(_ keys: [MaterialKey]) throws -> [MaterialKey: [Problem]] {
        guard !keys.isEmpty else { return [:] }
        return try pool.read { db in
            var out: [MaterialKey: [Problem]] = [:]
            let pairs = keys.map { "(\($0.materialID),\($0.classID))" }.joined(separator: ",")
            for r in try Row.fetchAll(db, sql: """
                WITH wanted(material_id, class_id) AS (VALUES \(pairs))
                SELECT si.* FROM wanted w JOIN sync_item si ON si.material_id = w.material_id AND si.class_id = w.class_id
                """) {
                let item = EngineStore.item(r)
                var problems = item.problems
                // A refusal by the SIS (or a write not sent) is not among the planned problems: add it.
                if item.status == .error, let code = item.errorCode.flatMap(ProblemCode.init(rawValue:)),
                    !problems.contains(where: { $0.code == code && $0.severity == .error }) {
                    problems.insert(Problem(code: code, message: item.errorMessage ?? code.rawValue, field: r["error_field"]), at: 0)
                }
                out[MaterialKey(materialID: item.materialID, classID: item.classID)] = problems
            }
            return out
        }
    }

    /// Grades of each material for the students the roster enrolls in `section`, by student:
    /// the first `first` after `after` for every material.
    public func grades(materialIDs: [Int64], section: Int64, first: Int, after: String?) throws -> [Int64: (page: KeysetPage<GradeRecord>, total: Int)] {
        let ordering = "grades:student"
        let enrolled = " AND student_sourced_id IN (\(Self.studentsOf([section])))"
        var condition = enrolled
        var args: [(any DatabaseValueConvertible)?] = []
        if let after {
            let k = try Keyset.decode(after, ordering: ordering)
            condition += " AND student_sourced_id > ?"
            args.append(k.key)
        }
        args.append(first + 1)
        return try pool.read { db in
            var rows: [Int64: [GradeRecord]] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT * FROM (SELECT g.*, row_number() OVER (PARTITION BY material_id ORDER BY student_sourced_id) AS n
                               FROM grade g WHERE material_id IN (\(Self.list(materialIDs)))\(condition))
                WHERE n <= ? ORDER BY material_id, n
                """, arguments: StatementArguments(args)) {
                rows[r["material_id"], default: []].append(GradeRecord(
                    materialID: r["material_id"], studentSourcedId: r["student_sourced_id"], score: r["score"], exception: r["exception"], comment: r["comment"],
                    updatedAt: Timestamp.date(r["updated_at"]) ?? .distantPast))
            }
            var totals: [Int64: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT material_id, count(*) AS n FROM grade WHERE material_id IN (\(Self.list(materialIDs)))\(enrolled) GROUP BY material_id") {
                totals[r["material_id"]] = r["n"]
            }
            return Self.pages(materialIDs, rows: rows, totals: totals, first: first) {
                Keyset.encode(ordering: ordering, key: $0.studentSourcedId, id: $0.materialID)
            }
        }
    }

    /// SQL selecting the sourcedIds of the students the roster actively enrolls in the sections
    /// `classIDs`: whose grades a reader of those sections may see (a linked LMS course holds
    /// other sections' students too). The one place that rule is written.
    static func studentsOf(_ classIDs: some Collection<Int64>) -> String {
        studentsOf(sectionsWhere: "c.id IN (\(list(classIDs)))")
    }

    /// The same rule for the sections (`c`, a `class` row) that `condition` selects, which may
    /// refer to the enclosing statement: the sync planner asks it for the sections linked to a
    /// course, and for the section of the sync item being updated.
    static func studentsOf(sectionsWhere condition: String) -> String {
        """
        SELECT e.person_sourced_id FROM enrollment e JOIN class c ON c.connection_id = e.connection_id AND c.sourced_id = e.class_sourced_id
        WHERE (\(condition)) AND e.role = 'student' AND e.status = 'active'
        """
    }

    /// Whether the roster actively enrolls `student` as a student in one of `classIDs`.
    public func isStudent(_ student: String, inAnyOf classIDs: [Int64]) throws -> Bool {
        guard !classIDs.isEmpty else { return false }
        return try pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT ? IN (\(Self.studentsOf(classIDs)))", arguments: [student]) ?? false
        }
    }

    public func grade(materialID: Int64, student: String) throws -> GradeRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM grade WHERE material_id = ? AND student_sourced_id = ?", arguments: [materialID, student]).map {
                GradeRecord(materialID: $0["material_id"], studentSourcedId: $0["student_sourced_id"], score: $0["score"], exception: $0["exception"],
                            comment: $0["comment"], updatedAt: Timestamp.date($0["updated_at"]) ?? .distantPast)
            }
        }
    }

    /// The audit log of each item, newest first.
    public func history(_ keys: [MaterialKey], first: Int, after: String?) throws -> [MaterialKey: (page: KeysetPage<AuditRecord>, total: Int)] {
        guard !keys.isEmpty else { return [:] }
        let ordering = "history:id:desc"
        let pairs = keys.map { "(\($0.materialID),\($0.classID))" }.joined(separator: ",")
        var condition = ""
        var args: [(any DatabaseValueConvertible)?] = []
        if let after {
            condition = " AND a.id < ?"
            args.append(try Keyset.decode(after, ordering: ordering).id)
        }
        args.append(first + 1)
        return try pool.read { db in
            var rows: [MaterialKey: [AuditRecord]] = [:]
            for r in try Row.fetchAll(db, sql: """
                WITH wanted(material_id, class_id) AS (VALUES \(pairs))
                SELECT * FROM (SELECT a.*, row_number() OVER (PARTITION BY a.material_id, a.class_id ORDER BY a.id DESC) AS n
                               FROM wanted w JOIN audit_entry a ON a.material_id = w.material_id AND a.class_id = w.class_id WHERE 1\(condition))
                WHERE n <= ? ORDER BY material_id, class_id, n
                """, arguments: StatementArguments(args)) {
                rows[MaterialKey(materialID: r["material_id"], classID: r["class_id"]), default: []].append(EngineStore.auditRecord(r))
            }
            var totals: [MaterialKey: Int] = [:]
            for r in try Row.fetchAll(db, sql: """
                WITH wanted(material_id, class_id) AS (VALUES \(pairs))
                SELECT w.material_id, w.class_id, count(a.id) AS n FROM wanted w JOIN audit_entry a ON a.material_id = w.material_id AND a.class_id = w.class_id
                GROUP BY w.material_id, w.class_id
                """) {
                totals[MaterialKey(materialID: r["material_id"], classID: r["class_id"])] = r["n"]
            }
            return Self.pages(keys, rows: rows, totals: totals, first: first) { Keyset.encode(ordering: ordering, key: nil, id: $0.id) }
        }
    }

    // MARK: Runs and jobs

    /// Runs of the sections `scope` may read (optionally one section, some states), newest first.
    public func syncRuns(connection: String, scope: SectionScope?, classID: Int64?, states: [String]?, first: Int, after: String?) throws
        -> (page: KeysetPage<SyncRunRecord>, total: Int)
    {
        let ordering = "runs:id:desc"
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection]
        var conditions = " WHERE r.connection_id = :connection"
        var prefix = ""
        switch scope {
        case .teacher(let t)?:
            conditions += """
                 AND r.class_id IN (SELECT c.id FROM class c JOIN enrollment e ON e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id
                    WHERE c.connection_id = :connection AND e.person_sourced_id = :teacher AND e.role = 'teacher' AND e.status = 'active')
                """
            args["teacher"] = t
        case .org(let root)?:
            prefix = CacheQueries.scopeCTE
            conditions += " AND r.class_id IN (SELECT c.id FROM class c WHERE c.connection_id = :connection AND c.school_sourced_id IN (SELECT sid FROM scope))"
            args["root"] = root
        case nil:
            break
        }
        if let classID {
            conditions += " AND r.class_id = :class"
            args["class"] = classID
        }
        if let states, !states.isEmpty {
            conditions += " AND r.state IN (\(states.indices.map { ":s\($0)" }.joined(separator: ",")))"
            for (i, s) in states.enumerated() { args["s\(i)"] = s }
        }
        var pageArgs = args
        var sql = prefix + "SELECT r.* FROM sync_run r" + conditions
        if let after {
            sql += " AND r.id < :after"
            pageArgs["after"] = try Keyset.decode(after, ordering: ordering).id
        }
        sql += " ORDER BY r.id DESC LIMIT :limit"
        pageArgs["limit"] = first + 1
        return try pool.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(pageArgs))
            let items = rows.prefix(first).map(EngineStore.run)
            let total = try Int.fetchOne(db, sql: prefix + "SELECT count(*) FROM sync_run r" + conditions, arguments: StatementArguments(args)) ?? 0
            return (KeysetPage(items: items, cursors: items.map { Keyset.encode(ordering: ordering, key: nil, id: $0.id) }, hasNextPage: rows.count > first), total)
        }
    }

    public func runs(ids: [Int64]) throws -> [Int64: SyncRunRecord] {
        try pool.read { db in
            var out: [Int64: SyncRunRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM sync_run WHERE id IN (\(Self.list(ids)))") {
                let run = EngineStore.run(r)
                out[run.id] = run
            }
            return out
        }
    }

    /// Each run's jobs by id: the first `first` after `after`, and how many there are.
    /// Pages of the runs' jobs, oldest first, each run's own; `states` (empty: all) narrows both
    /// the page and the total.
    public func jobs(runIDs: [Int64], first: Int, after: String?, states: [String] = []) throws -> [Int64: (page: KeysetPage<JobRecord>, total: Int)] {
        let ordering = "jobs:id"
        let stateCondition = states.isEmpty ? "" : " AND state IN (\(states.map { _ in "?" }.joined(separator: ",")))"
        var condition = stateCondition
        var args: [(any DatabaseValueConvertible)?] = states
        if let after {
            condition = " AND id > ?"
            args.append(try Keyset.decode(after, ordering: ordering).id)
        }
        args.append(first + 1)
        return try pool.read { db in
            var rows: [Int64: [JobRecord]] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT * FROM (SELECT j.*, row_number() OVER (PARTITION BY sync_run_id ORDER BY id) AS n
                               FROM outbox_job j WHERE sync_run_id IN (\(Self.list(runIDs)))\(condition))
                WHERE n <= ? ORDER BY sync_run_id, n
                """, arguments: StatementArguments(args)) {
                rows[r["sync_run_id"], default: []].append(EngineStore.job(r))
            }
            var totals: [Int64: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT sync_run_id, count(*) AS n FROM outbox_job WHERE sync_run_id IN (\(Self.list(runIDs)))\(stateCondition) GROUP BY sync_run_id",
                                      arguments: StatementArguments(states)) {
                totals[r["sync_run_id"]] = r["n"]
            }
            return Self.pages(runIDs, rows: rows, totals: totals, first: first) { Keyset.encode(ordering: ordering, key: nil, id: $0.id) }
        }
    }

    public func jobs(ids: [Int64]) throws -> [Int64: JobRecord] {
        try pool.read { db in
            var out: [Int64: JobRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM outbox_job WHERE id IN (\(Self.list(ids)))") {
                let job = EngineStore.job(r)
                out[job.id] = job
            }
            return out
        }
    }

    /// How many items in error the same filter finds (for `totalCount`).
    public func countSyncErrors(connection: String, rootOrg: String, filter: SyncErrorFilter) throws -> Int {
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection, "root": rootOrg]
        let sql = CacheQueries.scopeCTE + "SELECT count(*) FROM sync_item si JOIN class c ON c.id = si.class_id" + CacheQueries.errorConditions(filter, &args)
        return try pool.read { db in try Int.fetchOne(db, sql: sql, arguments: StatementArguments(args)) ?? 0 }
    }
}

/// A material as it stands in one section.
public struct MaterialKey: Sendable, Hashable {
    public var materialID: Int64
    public var classID: Int64

    public init(materialID: Int64, classID: Int64) {
        self.materialID = materialID
        self.classID = classID
    }
}

extension APIReads {
    /// The LMS course of a material.
    public func courseOfMaterial(_ materialID: Int64) throws -> Int64? {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT lms_course_id FROM material WHERE id = ?", arguments: [materialID]) }
    }
}

extension APIReads {
    /// A fingerprint of each material's state in a section (status, error, last sync, opt-out),
    /// to notice changes.
    public func itemStates(classID: Int64) throws -> [Int64: String] {
        try itemStates(classIDs: [classID])[classID] ?? [:]
    }

    /// The same fingerprints for several sections in one query, by section then material.
    public func itemStates(classIDs: [Int64]) throws -> [Int64: [Int64: String]] {
        guard !classIDs.isEmpty else { return [:] }
        return try pool.read { db in
            var out: [Int64: [Int64: String]] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT ls.class_id, m.id, \(CacheQueries.syncToSISExpression(section: "ls.class_id")) || '|' || COALESCE(si.status, '') || '|' || COALESCE(si.error_code, '')
                    || '|' || COALESCE(si.last_synced_at, '')
                    || '|' || COALESCE(si.updated_at, '') AS state
                FROM linked_section ls JOIN material m ON m.lms_course_id = ls.lms_course_id
                LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = ls.class_id
                WHERE ls.class_id IN (\(Self.list(classIDs)))
                """) {
                out[r["class_id"], default: [:]][r["id"]] = r["state"]
            }
            return out
        }
    }
}
