import Foundation
import GRDB
import PassbackCore

/// A section (SIS class) as lists show it.
public struct SectionSummary: Sendable, Hashable {
    public var id: Int64
    public var connectionID: String
    public var sourcedId: String
    public var title: String
    public var classCode: String?
    public var schoolSourcedId: String
    public var courseSourcedId: String
}

/// A school year, term, semester or grading period.
public struct SessionRecord: Sendable, Hashable {
    public var sourcedId: String
    public var title: String
    public var type: String
    public var startDate: String
    public var endDate: String
}

/// An LMS course.
public struct LMSCourseRecord: Sendable, Hashable {
    public var id: Int64
    public var lmsID: String
    public var title: String
}

/// Sections, their terms, grading periods, teachers and linked LMS courses.
extension APIReads {
    public func sections(ids: [Int64]) throws -> [Int64: SectionSummary] {
        try database.read { db in
            var out: [Int64: SectionSummary] = [:]
            for r in try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id, connection_id, sourced_id, title, class_code, school_sourced_id, course_sourced_id FROM class
                        WHERE id IN (SELECT value FROM json_each(?))
                        """), arguments: [Self.json(ids)])
            {
                let s = Self.section(r)
                out[s.id] = s
            }
            return out
        }
    }

    /// The section of `id`, whether `scope` may read it (`readable`) and whether its teacher has
    /// saved its settings (`configured`: a `section_config` row), in one read: a section's page
    /// starts with all three, and each read is a transaction of its own.
    public func section(_ id: Int64, connection: String, scope: SectionScope) throws -> (section: SectionSummary, readable: Bool, configured: Bool)? {
        try database.read { db in
            guard
                let r = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT id, connection_id, sourced_id, title, class_code, school_sourced_id, course_sourced_id,
                                EXISTS (SELECT 1 FROM section_config WHERE class_id = class.id) AS configured
                            FROM class WHERE id = ?
                            """),
                    arguments: [id])
            else { return nil }
            return (Self.section(r), try Self.readable(db, [id], connection: connection, scope: scope).contains(id), r["configured"])
        }
    }

    static func section(_ r: Row) -> SectionSummary {
        SectionSummary(
            id: r["id"], connectionID: r["connection_id"], sourcedId: r["sourced_id"], title: r["title"], classCode: r["class_code"],
            schoolSourcedId: r["school_sourced_id"], courseSourcedId: r["course_sourced_id"])
    }

    /// Sections `scope` may read, by title, with an optional title search and school.
    public func sections(
        connection: String, scope: SectionScope, search: String?, school: String?, first: Int, after: String?
    ) throws
        -> (page: KeysetPage<SectionSummary>, total: Int)
    {
        let ordering = "sections:title"
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection]
        var conditions = " WHERE c.connection_id = :connection AND c.status = 'active'"
        switch scope {
        case .teacher(let t):
            conditions += Self.taughtBy
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
        var sql =
            prefix + "SELECT c.id, c.connection_id, c.sourced_id, c.title, c.class_code, c.school_sourced_id, c.course_sourced_id FROM class c" + conditions
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
        return try database.read { db in
            let rows = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(pageArgs))
            let items = rows.prefix(first).map(Self.section)
            let total = try Int.fetchOne(db.cachedStatement(sql: countSQL), arguments: StatementArguments(args)) ?? 0
            return (
                KeysetPage(items: items, hasNextPage: rows.count > first) { Keyset.encode(ordering: ordering, key: items[$0].title, id: items[$0].id) },
                total
            )
        }
    }

    /// The condition on `class c` of the sections teacher `:teacher` teaches in `:connection`,
    /// from the teacher's enrollments: as `EXISTS` per class, SQLite walked every class of the
    /// connection (8,000 at the benchmark's full scale: 58 ms for a teacher's first screen).
    static let taughtBy = """
         AND c.sourced_id IN (SELECT e.class_sourced_id FROM enrollment e WHERE e.connection_id = :connection
            AND e.person_sourced_id = :teacher AND e.role = 'teacher' AND e.status = 'active')
        """

    static func likeEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    /// Active teachers of each section (by class sourcedId), by family name.
    public func teachers(connection: String, classSourcedIds: [String]) throws -> [String: [PersonRecord]] {
        guard !classSourcedIds.isEmpty else { return [:] }
        return try database.read { db in
            var out: [String: [PersonRecord]] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT e.class_sourced_id, p.sourced_id, p.given_name, p.family_name, p.email, p.role
                    FROM enrollment e JOIN person p ON p.connection_id = e.connection_id AND p.sourced_id = e.person_sourced_id
                    WHERE e.connection_id = ? AND e.class_sourced_id IN (\(Self.placeholders(classSourcedIds.count))) AND e.role = 'teacher' AND e.status = 'active'
                    ORDER BY p.family_name, p.given_name, p.sourced_id
                    """, arguments: StatementArguments([connection] + classSourcedIds))
            {
                out[r["class_sourced_id"], default: []].append(Self.person(r))
            }
            return out
        }
    }

    /// The first term (by start date) of each section.
    public func terms(classIDs: [Int64]) throws -> [Int64: SessionRecord] {
        try database.read { db in
            var out: [Int64: SessionRecord] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT ct.class_id, s.sourced_id, s.title, s.type, s.start_date, s.end_date
                    FROM class_term ct JOIN class c ON c.id = ct.class_id
                    JOIN academic_session s ON s.connection_id = c.connection_id AND s.sourced_id = ct.term_sourced_id
                    WHERE ct.class_id IN (\(Self.list(classIDs))) ORDER BY s.start_date DESC, s.sourced_id DESC
                    """)
            {
                out[r["class_id"]] = Self.session(r)
            }
            return out
        }
    }

    /// Grading periods of each section's terms (or of sessions under them), by start date.
    public func gradingPeriods(classIDs: [Int64]) throws -> [Int64: [SessionRecord]] {
        try database.read { db in
            var out: [Int64: [SessionRecord]] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
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
                    """)
            {
                out[r["class_id"], default: []].append(Self.session(r))
            }
            return out
        }
    }

    /// The LMS course linked to each section.
    public func lmsCourses(classIDs: [Int64]) throws -> [Int64: LMSCourseRecord] {
        try database.read { db in
            var out: [Int64: LMSCourseRecord] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT ls.class_id, lc.id, lc.lms_id, lc.title FROM linked_section ls JOIN lms_course lc ON lc.id = ls.lms_course_id
                    WHERE ls.class_id IN (\(Self.list(classIDs)))
                    """)
            {
                out[r["class_id"]] = LMSCourseRecord(id: r["id"], lmsID: r["lms_id"], title: r["title"])
            }
            return out
        }
    }

    public func lmsCourses(ids: [Int64]) throws -> [Int64: LMSCourseRecord] {
        try database.read { db in
            var out: [Int64: LMSCourseRecord] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, lms_id, title FROM lms_course WHERE id IN (\(Self.list(ids)))") {
                out[r["id"]] = LMSCourseRecord(id: r["id"], lmsID: r["lms_id"], title: r["title"])
            }
            return out
        }
    }

    public func lmsCourse(connection: String, lmsID: String) throws -> LMSCourseRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT id, lms_id, title FROM lms_course WHERE connection_id = ? AND lms_id = ?", arguments: [connection, lmsID])
                .map { LMSCourseRecord(id: $0["id"], lmsID: $0["lms_id"], title: $0["title"]) }
        }
    }

    /// The sections linked to each LMS course, by title.
    public func linkedSections(courseIDs: [Int64]) throws -> [Int64: [Int64]] {
        try database.read { db in
            var out: [Int64: [Int64]] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT ls.lms_course_id, ls.class_id FROM linked_section ls JOIN class c ON c.id = ls.class_id
                    WHERE ls.lms_course_id IN (\(Self.list(courseIDs))) ORDER BY c.title, c.id
                    """)
            {
                out[r["lms_course_id"], default: []].append(r["class_id"])
            }
            return out
        }
    }
}
