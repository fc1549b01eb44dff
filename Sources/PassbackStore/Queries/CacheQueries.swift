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

/// A material of a section with its sync state there.
public struct SectionMaterial: Sendable, Hashable {
    public var id: Int64
    public var lmsID: String
    public var title: String
    public var dueAt: Date?
    public var maxPoints: Double?
    public var lmsCategoryID: Int64?
    public var syncToSIS: Bool
    public var published: Bool
    public var deleted: Bool
    public var status: SyncStatus
    public var lastSyncedAt: Date?
    public var errorCode: String?
    public var errorMessage: String?
    public var errorField: String?
}

/// Filters of a section's materials; every set filter must hold.
public struct MaterialFilter: Sendable, Hashable {
    /// Part of the title, any case.
    public var search: String?
    /// Only materials due inside this grading period (its sourcedId).
    public var gradingPeriodSourcedId: String?
    /// Only these statuses (any of them).
    public var statuses: [SyncStatus]?
    public var includeDeleted: Bool

    public init(search: String? = nil, gradingPeriodSourcedId: String? = nil, statuses: [SyncStatus]? = nil, includeDeleted: Bool = false) {
        self.search = search
        self.gradingPeriodSourcedId = gradingPeriodSourcedId
        self.statuses = statuses
        self.includeDeleted = includeDeleted
    }
}

/// How a section's materials are ordered; the id breaks ties. Materials with no due date or
/// never synced come last in either direction.
public struct MaterialOrder: Sendable, Hashable {
    public enum Field: String, Sendable, Hashable, CaseIterable {
        case title, dueDate, lastSyncedAt
    }

    public var field: Field
    public var descending: Bool

    public init(_ field: Field = .title, descending: Bool = false) {
        self.field = field
        self.descending = descending
    }
}

/// An item in error, for admins' org-wide lists.
public struct SyncErrorRow: Sendable, Hashable {
    public var materialID: Int64
    public var materialTitle: String
    public var classID: Int64
    public var sectionSourcedId: String
    public var sectionTitle: String
    public var schoolSourcedId: String
    public var code: String
    public var message: String?
    public var field: String?
    public var at: Date
}

/// Filters of the org-wide error list.
public struct SyncErrorFilter: Sendable, Hashable {
    public var schoolSourcedId: String?
    public var teacherSourcedId: String?
    public var sectionSourcedId: String?
    public var codes: [String]?
    public var since: Date?

    public init(schoolSourcedId: String? = nil, teacherSourcedId: String? = nil, sectionSourcedId: String? = nil, codes: [String]? = nil, since: Date? = nil) {
        self.schoolSourcedId = schoolSourcedId
        self.teacherSourcedId = teacherSourcedId
        self.sectionSourcedId = sectionSourcedId
        self.codes = codes
        self.since = since
    }
}

/// How the error summary groups.
public enum SyncErrorGrouping: String, Sendable, CaseIterable {
    case code, school, teacher
}

/// One group of the error summary.
public struct SyncErrorGroup: Sendable, Hashable {
    /// The code, school sourcedId or teacher sourcedId.
    public var key: String
    /// The school's name or teacher's name, when grouping by them.
    public var label: String?
    public var count: Int
}

/// The reads the API needs, each one query (per page) with keyset pagination.
public struct CacheQueries: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    /// Active sections where the roster lists `teacher` as an active teacher, by title.
    public func sections(ofTeacher teacher: String, connection: String, first: Int, after: String?) throws -> KeysetPage<SectionSummary> {
        let ordering = "sections:title"
        var sql = """
            SELECT c.id, c.connection_id, c.sourced_id, c.title, c.class_code, c.school_sourced_id, c.course_sourced_id
            FROM class c
            WHERE c.connection_id = ?1 AND c.status = 'active' AND EXISTS (
                SELECT 1 FROM enrollment e WHERE e.connection_id = ?1 AND e.class_sourced_id = c.sourced_id
                    AND e.person_sourced_id = ?2 AND e.role = 'teacher' AND e.status = 'active')
            """
        var args: [(any DatabaseValueConvertible)?] = [connection, teacher]
        if let after {
            let k = try Keyset.decode(after, ordering: ordering)
            sql += " AND (c.title > ?3 OR (c.title = ?3 AND c.id > ?4))"
            args += [k.key, k.id]
        }
        sql += " ORDER BY c.title, c.id LIMIT ?\(args.count + 1)"
        args.append(first + 1)
        return try pool.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
            let items = rows.prefix(first).map {
                SectionSummary(id: $0["id"], connectionID: $0["connection_id"], sourcedId: $0["sourced_id"], title: $0["title"],
                               classCode: $0["class_code"], schoolSourcedId: $0["school_sourced_id"], courseSourcedId: $0["course_sourced_id"])
            }
            return KeysetPage(items: items, cursors: items.map { Keyset.encode(ordering: ordering, key: $0.title, id: $0.id) }, hasNextPage: rows.count > first)
        }
    }

    /// The materials of a section (through its LMS course) with their status there.
    /// `withTotal` also counts every match (the page's `total`).
    public func materials(ofSection classID: Int64, filter: MaterialFilter = MaterialFilter(), order: MaterialOrder = MaterialOrder(),
                          first: Int, after: String?, withTotal: Bool = false) throws -> KeysetPage<SectionMaterial> {
        let ordering = "materials:\(order.field.rawValue):\(order.descending ? "desc" : "asc")"
        let statusExpression = Self.statusExpression(section: "ls.class_id")
        // Missing due dates and never-synced items sort last in both directions.
        let nullsLast = order.descending ? "'0000'" : "'9999'"
        let key: String
        switch order.field {
        case .title: key = "m.title COLLATE NOCASE"
        case .dueDate: key = "COALESCE(m.due_at, \(nullsLast))"
        case .lastSyncedAt: key = "COALESCE(si.last_synced_at, \(nullsLast))"
        }
        var sql = """
            SELECT m.id, m.lms_id, m.title, m.due_at, m.max_points, m.lms_category_id, \(Self.syncToSISExpression(section: "ls.class_id")) AS sync_to_sis,
                   m.published, m.deleted_at, \(statusExpression) AS status, si.last_synced_at, si.error_code, si.error_message, si.error_field, \(key) AS sort_key
            FROM linked_section ls
            JOIN material m ON m.lms_course_id = ls.lms_course_id
            LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = ls.class_id
            WHERE ls.class_id = ?
            """
        var args: [(any DatabaseValueConvertible)?] = [classID]
        if !filter.includeDeleted { sql += " AND m.deleted_at IS NULL" }
        if let search = filter.search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            if search.count >= 3 {
                sql += " AND m.id IN (SELECT rowid FROM material_title WHERE material_title MATCH ?)"
                args.append("\"" + search.replacingOccurrences(of: "\"", with: "\"\"") + "\"")
            } else {
                sql += " AND m.title LIKE ? ESCAPE '\\'"
                let escaped = search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
                args.append("%" + escaped + "%")
            }
        }
        if let statuses = filter.statuses, !statuses.isEmpty {
            sql += " AND \(statusExpression) IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ",")))"
            args += statuses.map { $0.rawValue }
        }
        let countArgs = args
        let countCondition = sql.components(separatedBy: "WHERE ls.class_id = ?").last ?? ""
        if let after {
            let k = try Keyset.decode(after, ordering: ordering)
            let op = order.descending ? "<" : ">"
            sql += " AND (\(key) \(op) ? OR (\(key) = ? AND m.id \(op) ?))"
            args += [k.key, k.key, k.id]
        }
        let direction = order.descending ? "DESC" : "ASC"
        sql += " ORDER BY sort_key \(direction), m.id \(direction) LIMIT ?"
        args.append(first + 1)
        return try pool.read { db in
            var gradingPeriodBounds: (String, String)?
            if let gp = filter.gradingPeriodSourcedId {
                guard let period = try Row.fetchOne(db, sql: """
                    SELECT s.start_date, s.end_date FROM academic_session s JOIN class c ON c.connection_id = s.connection_id
                    WHERE c.id = ? AND s.sourced_id = ? AND s.type = 'gradingPeriod'
                    """, arguments: [classID, gp])
                else { throw StoreError(.notFound, "no grading period '\(gp)' in this section's connection") }
                // Grading periods are whole days of the school's calendar; a due instant belongs to
                // its local day in the school's zone, as the rules place it (SchoolCalendar).
                sql = sql.replacingOccurrences(of: "WHERE ls.class_id = ?", with: "WHERE ls.class_id = ? AND m.due_at >= ? AND m.due_at < ?")
                let start: String = period["start_date"], end: String = period["end_date"]
                let zone = try ConnectionCalendar.sections(db, classIDs: [classID])[classID]?.zone ?? TimeZone(identifier: "UTC")!
                let bounds = SchoolCalendar.instants(fromDay: start, throughDay: end, in: zone)
                    .map { (Timestamp.text($0.lowerBound), Timestamp.text($0.upperBound)) }
                    ?? (start + "T00:00:00.000Z", Self.dayAfter(end) + "T00:00:00.000Z")
                gradingPeriodBounds = bounds
                args.insert(contentsOf: [bounds.0, bounds.1] as [(any DatabaseValueConvertible)?], at: 1)
            }
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
            let page = rows.prefix(first)
            let items = page.map(Self.material)
            let cursors = page.map { Keyset.encode(ordering: ordering, key: $0["sort_key"], id: $0["id"]) }
            var result = KeysetPage(items: items, cursors: cursors, hasNextPage: rows.count > first)
            if withTotal {
                var countSQL = """
                    SELECT count(*) FROM linked_section ls JOIN material m ON m.lms_course_id = ls.lms_course_id
                    LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = ls.class_id
                    WHERE ls.class_id = ?\(countCondition)
                    """
                var cArgs = countArgs
                if let gp = gradingPeriodBounds {
                    countSQL = countSQL.replacingOccurrences(of: "WHERE ls.class_id = ?", with: "WHERE ls.class_id = ? AND m.due_at >= ? AND m.due_at < ?")
                    cArgs.insert(contentsOf: [gp.0, gp.1] as [(any DatabaseValueConvertible)?], at: 1)
                }
                result.total = try Int.fetchOne(db, sql: countSQL, arguments: StatementArguments(cArgs)) ?? 0
            }
            return result
        }
    }

    static func material(_ r: Row) -> SectionMaterial {
        SectionMaterial(
            id: r["id"], lmsID: r["lms_id"], title: r["title"], dueAt: (r["due_at"] as String?).flatMap(Timestamp.date), maxPoints: r["max_points"],
            lmsCategoryID: r["lms_category_id"], syncToSIS: r["sync_to_sis"], published: r["published"], deleted: (r["deleted_at"] as String?) != nil,
            status: SyncStatus(rawValue: r["status"]) ?? .notSynced, lastSyncedAt: (r["last_synced_at"] as String?).flatMap(Timestamp.date),
            errorCode: r["error_code"], errorMessage: r["error_message"], errorField: r["error_field"])
    }

    /// Whether material `m` goes to the section in `section` (a column or `?`): the one place
    /// that decides it. The LMS feed's off holds in every section, a teacher's opt-out in the
    /// section they set it for; it goes only when neither says no (README, "Opting out").
    static func syncToSISExpression(section: String) -> String {
        "(m.sync_to_sis = 1 AND NOT EXISTS (SELECT 1 FROM material_opt_out oo WHERE oo.material_id = m.id AND oo.class_id = \(section)))"
    }

    /// A material's status in a section (`si` its sync item): the one `StatusRules` decided and
    /// the store keeps up to date in every write that changes its facts. Every material × linked
    /// section has its row; the fallback only covers a row being created by a concurrent write.
    static func statusExpression(section: String) -> String {
        "COALESCE(si.status, 'NOT_SYNCED')"
    }

    static func dayAfter(_ day: String) -> String {
        guard let d = Timestamp.date(day + "T00:00:00.000Z") else { return day }
        return String(Timestamp.text(d.addingTimeInterval(86_400)).prefix(10))
    }

    /// The scope clause of org-wide reads: sections whose school is `rootOrg` or below it.
    static let scopeCTE = """
        WITH RECURSIVE scope(sid) AS (
            SELECT sourced_id FROM org WHERE connection_id = :connection AND sourced_id = :root
            UNION
            SELECT o.sourced_id FROM org o JOIN scope ON o.parent_sourced_id = scope.sid WHERE o.connection_id = :connection
        )
        """

    static func errorConditions(_ filter: SyncErrorFilter, _ args: inout [String: (any DatabaseValueConvertible)?]) -> String {
        var sql = " WHERE si.status = 'ERROR' AND c.connection_id = :connection AND c.school_sourced_id IN (SELECT sid FROM scope)"
        if let s = filter.schoolSourcedId { sql += " AND c.school_sourced_id = :school"; args["school"] = s }
        if let s = filter.sectionSourcedId { sql += " AND c.sourced_id = :section"; args["section"] = s }
        if let codes = filter.codes, !codes.isEmpty {
            let names = codes.indices.map { ":code\($0)" }
            sql += " AND si.error_code IN (\(names.joined(separator: ",")))"
            for (i, c) in codes.enumerated() { args["code\(i)"] = c }
        }
        if let since = filter.since { sql += " AND si.error_at >= :since"; args["since"] = Timestamp.text(since) }
        if let t = filter.teacherSourcedId {
            sql += """
                 AND EXISTS (SELECT 1 FROM enrollment e WHERE e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id
                    AND e.role = 'teacher' AND e.status = 'active' AND e.person_sourced_id = :teacher)
                """
            args["teacher"] = t
        }
        return sql
    }

    /// Items in error in an org's subtree, newest first.
    public func syncErrors(connection: String, rootOrg: String, filter: SyncErrorFilter = SyncErrorFilter(), first: Int, after: String?) throws -> KeysetPage<SyncErrorRow> {
        let ordering = "errors:at:desc"
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection, "root": rootOrg, "limit": first + 1]
        var sql = Self.scopeCTE + """
            SELECT si.material_id, si.class_id, si.error_code, si.error_message, si.error_field, si.error_at,
                   c.sourced_id AS section_sourced_id, c.title AS section_title, c.school_sourced_id, m.title AS material_title
            FROM sync_item si JOIN class c ON c.id = si.class_id JOIN material m ON m.id = si.material_id
            """
        sql += Self.errorConditions(filter, &args)
        if let after {
            let k = try Keyset.decode(after, ordering: ordering)
            sql += " AND (si.error_at < :ak OR (si.error_at = :ak AND (si.class_id < :ai OR (si.class_id = :ai AND si.material_id < :aj))))"
            args["ak"] = k.key
            args["ai"] = k.id
            args["aj"] = k.id2 ?? Int64.max
        }
        sql += " ORDER BY si.error_at DESC, si.class_id DESC, si.material_id DESC LIMIT :limit"
        return try pool.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
            let items = rows.prefix(first).map { r in
                SyncErrorRow(materialID: r["material_id"], materialTitle: r["material_title"], classID: r["class_id"], sectionSourcedId: r["section_sourced_id"],
                             sectionTitle: r["section_title"], schoolSourcedId: r["school_sourced_id"], code: r["error_code"], message: r["error_message"],
                             field: r["error_field"], at: Timestamp.date(r["error_at"]) ?? .distantPast)
            }
            let cursors = items.map { Keyset.encode(ordering: ordering, key: Timestamp.text($0.at), id: $0.classID, id2: $0.materialID) }
            return KeysetPage(items: items, cursors: cursors, hasNextPage: rows.count > first)
        }
    }

    /// Counts of items in error in an org's subtree, grouped; largest groups first.
    public func syncErrorSummary(connection: String, rootOrg: String, filter: SyncErrorFilter = SyncErrorFilter(), groupBy: SyncErrorGrouping) throws -> [SyncErrorGroup] {
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection, "root": rootOrg]
        let conditions = Self.errorConditions(filter, &args)
        let sql: String
        switch groupBy {
        case .code:
            sql = Self.scopeCTE + """
                SELECT si.error_code AS k, NULL AS label, count(*) AS n
                FROM sync_item si JOIN class c ON c.id = si.class_id\(conditions) GROUP BY si.error_code
                """
        case .school:
            sql = Self.scopeCTE + """
                SELECT c.school_sourced_id AS k, (SELECT name FROM org WHERE connection_id = c.connection_id AND sourced_id = c.school_sourced_id) AS label, count(*) AS n
                FROM sync_item si JOIN class c ON c.id = si.class_id\(conditions) GROUP BY c.school_sourced_id
                """
        case .teacher:
            sql = Self.scopeCTE + """
                SELECT e.person_sourced_id AS k, (SELECT given_name || ' ' || family_name FROM person WHERE connection_id = c.connection_id AND sourced_id = e.person_sourced_id) AS label,
                       count(*) AS n
                FROM sync_item si JOIN class c ON c.id = si.class_id
                JOIN (SELECT DISTINCT connection_id, class_sourced_id, person_sourced_id FROM enrollment WHERE role = 'teacher' AND status = 'active') e
                    ON e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id
                \(conditions) GROUP BY e.person_sourced_id
                """
        }
        return try pool.read { db in
            try Row.fetchAll(db, sql: sql + " ORDER BY n DESC, k", arguments: StatementArguments(args)).map {
                SyncErrorGroup(key: $0["k"], label: $0["label"], count: $0["n"])
            }
        }
    }
}
