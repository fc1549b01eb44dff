import Foundation
import GRDB
import OneRosterModels
import PassbackCore

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
    /// The sync item's own status and stored problems (JSON), when the query read them (a
    /// section's materials page does: `APIReads.problems(of:)`); nil without a sync item.
    public var syncItemStatus: SyncStatus? = nil
    public var storedProblems: String? = nil
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

/// A section's materials with their status there, filtered and ordered as the widget asks.
extension CacheQueries {
    /// The materials of a section (through its LMS course) with their status there.
    /// `withTotal` also counts every match (the page's `total`).
    public func materials(
        ofSection classID: Int64, filter: MaterialFilter = MaterialFilter(), order: MaterialOrder = MaterialOrder(),
        first: Int, after: String?, withTotal: Bool = false
    ) throws -> KeysetPage<SectionMaterial> {
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
            SELECT \(Self.materialColumns(section: "ls.class_id")), \(key) AS sort_key, si.status AS item_status, si.problems AS item_problems
            FROM linked_section ls
            JOIN material m ON m.lms_course_id = ls.lms_course_id
            LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = ls.class_id
            WHERE ls.class_id = ?
            """
        var args: [(any DatabaseValueConvertible)?] = [classID]
        // The count's condition is what follows the section's from here on (before the cursor's).
        let conditionStart = sql.utf8.count
        if !filter.includeDeleted { sql += " AND m.deleted_at IS NULL" }
        if let search = filter.search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            if search.count >= 3 {
                sql += " AND m.id IN (SELECT rowid FROM material_title WHERE material_title MATCH ?)"
                args.append("\"" + search.replacingOccurrences(of: "\"", with: "\"\"") + "\"")
            } else {
                sql += " AND m.title LIKE ? ESCAPE '\\'"
                let escaped = search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(
                    of: "_", with: "\\_")
                args.append("%" + escaped + "%")
            }
        }
        // Whether the count's condition reads the sync item (`si`): only the status filter does.
        let countReadsItem = !(filter.statuses ?? []).isEmpty
        if let statuses = filter.statuses, !statuses.isEmpty {
            sql += " AND \(statusExpression) IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ",")))"
            args += statuses.map { $0.rawValue }
        }
        let countArgs = args
        let countCondition = String(decoding: sql.utf8.dropFirst(conditionStart), as: UTF8.self)
        if let after {
            let k = try Keyset.decode(after, ordering: ordering)
            let op = order.descending ? "<" : ">"
            sql += " AND (\(key) \(op) ? OR (\(key) = ? AND m.id \(op) ?))"
            args += [k.key, k.key, k.id]
        }
        let direction = order.descending ? "DESC" : "ASC"
        sql += " ORDER BY sort_key \(direction), m.id \(direction) LIMIT ?"
        args.append(first + 1)
        return try database.read { db in
            var gradingPeriodBounds: (String, String)?
            if let gp = filter.gradingPeriodSourcedId {
                guard
                    let period = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT s.start_date, s.end_date FROM academic_session s JOIN class c ON c.connection_id = s.connection_id
                            WHERE c.id = ? AND s.sourced_id = ? AND s.type = 'gradingPeriod'
                            """, arguments: [classID, gp])
                else { throw StoreError(.notFound, "no grading period '\(gp)' in this section's connection") }
                // Grading periods are whole days of the school's calendar; a due instant belongs to
                // its local day in the school's zone, as the rules place it (SchoolCalendar).
                sql = sql.replacingOccurrences(of: "WHERE ls.class_id = ?", with: "WHERE ls.class_id = ? AND m.due_at >= ? AND m.due_at < ?")
                let zone = try ConnectionCalendar.sections(db, classIDs: [classID])[classID]?.zone ?? TimeZone(identifier: "UTC")!
                // A period whose days are not real days or run backwards (the roster refuses both)
                // holds no instant.
                let days = CalendarDate(period["start_date"] as String).flatMap { start in
                    CalendarDate(period["end_date"] as String).flatMap { SchoolCalendar.instants(fromDay: start, throughDay: $0, in: zone) }
                }
                let empty = Timestamp.text(Date(timeIntervalSince1970: 0))
                let bounds = days.map { (Timestamp.text($0.lowerBound), Timestamp.text($0.upperBound)) } ?? (empty, empty)
                gradingPeriodBounds = bounds
                args.insert(contentsOf: [bounds.0, bounds.1] as [(any DatabaseValueConvertible)?], at: 1)
            }
            // The statement is kept (its text takes a few shapes, every value bound); the rows are
            // read through a cursor, whose row finds a column by name through an index it builds
            // once, not by scanning every name for every read.
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: StatementArguments(args))
            var items: [SectionMaterial] = []
            var sortKeys: [String?] = []
            var hasNextPage = false
            while let row = try rows.next() {
                guard items.count < first else {
                    hasNextPage = true
                    break
                }
                var material = Self.material(row)
                // Its problems come with it: the page's problems need no read of their own.
                // Columns by position, after `materialColumns`' fourteen.
                material.syncItemStatus = (row[15] as String?).flatMap(SyncStatus.init(rawValue:))
                material.storedProblems = row[16]
                items.append(material)
                sortKeys.append(row[14])
            }
            let (page, keys) = (items, sortKeys)
            var result = KeysetPage(items: page, hasNextPage: hasNextPage) { Keyset.encode(ordering: ordering, key: keys[$0], id: page[$0].id) }
            if withTotal {
                // The sync item only when the status filter reads it: SQLite keeps a left join it
                // could drop, and looking each material's item up doubled the count's time.
                let itemJoin = countReadsItem ? "LEFT JOIN sync_item si ON si.material_id = m.id AND si.class_id = ls.class_id" : ""
                var countSQL = """
                    SELECT count(*) FROM linked_section ls JOIN material m ON m.lms_course_id = ls.lms_course_id
                    \(itemJoin)
                    WHERE ls.class_id = ?\(countCondition)
                    """
                var cArgs = countArgs
                if let gp = gradingPeriodBounds {
                    countSQL = countSQL.replacingOccurrences(of: "WHERE ls.class_id = ?", with: "WHERE ls.class_id = ? AND m.due_at >= ? AND m.due_at < ?")
                    cArgs.insert(contentsOf: [gp.0, gp.1] as [(any DatabaseValueConvertible)?], at: 1)
                }
                result.total = try Int.fetchOne(db.cachedStatement(sql: countSQL), arguments: StatementArguments(cArgs)) ?? 0
            }
            return result
        }
    }

    /// The fourteen columns `material(_:from:)` reads, in its order, for material `m`, its sync
    /// item `si` and the section in `section` (a column).
    static func materialColumns(section: String) -> String {
        """
        m.id, m.lms_id, m.title, m.due_at, m.max_points, m.lms_category_id, \(syncToSISExpression(section: section)) AS sync_to_sis, \
        m.published, m.deleted_at, \(statusExpression(section: section)) AS status, si.last_synced_at, si.error_code, si.error_message, si.error_field
        """
    }

    /// A material in a section from the `materialColumns` that start at column `start` of `r`:
    /// read by position, as a page of them reads forty rows (by name, each read hashed its name).
    static func material(_ r: Row, from start: Int = 0) -> SectionMaterial {
        SectionMaterial(
            id: r[start], lmsID: r[start + 1], title: r[start + 2], dueAt: (r[start + 3] as String?).flatMap(Timestamp.date), maxPoints: r[start + 4],
            lmsCategoryID: r[start + 5], syncToSIS: r[start + 6], published: r[start + 7], deleted: (r[start + 8] as String?) != nil,
            status: SyncStatus(rawValue: r[start + 9]) ?? .notSynced, lastSyncedAt: (r[start + 10] as String?).flatMap(Timestamp.date),
            errorCode: r[start + 11], errorMessage: r[start + 12], errorField: r[start + 13])
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
}
