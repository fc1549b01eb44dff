import Foundation
import GRDB
import PassbackCore

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

/// Items in error in an org's subtree: the admin's `syncErrors` list and `syncErrorSummary`.
extension CacheQueries {
    /// The items in error and their sections, for `errorConditions`: newest first over the
    /// errors' own index (migration 0015), which holds every column the conditions, the order
    /// and the counts read, each item's section looked up by id; unless the filter names a
    /// section, whose items are then found by `sync_item_by_class`.
    static func errorSource(_ filter: SyncErrorFilter) -> String {
        filter.sectionSourcedId == nil ? errorsFirst : sectionsFirst
    }

    static let errorsFirst = " FROM sync_item si INDEXED BY sync_item_errors CROSS JOIN class c ON c.id = si.class_id"
    static let sectionsFirst = " FROM sync_item si JOIN class c ON c.id = si.class_id"

    /// The statement behind `syncErrors.totalCount`, its arguments added to `args`.
    static func countSyncErrorsSQL(_ filter: SyncErrorFilter, _ args: inout [String: (any DatabaseValueConvertible)?]) -> String {
        scopeCTE + "SELECT count(*)" + errorSource(filter) + errorConditions(filter, &args)
    }

    static func errorConditions(_ filter: SyncErrorFilter, _ args: inout [String: (any DatabaseValueConvertible)?]) -> String {
        var sql = " WHERE si.status = 'ERROR' AND c.connection_id = :connection AND c.school_sourced_id IN (SELECT sid FROM scope)"
        if let s = filter.schoolSourcedId { sql += " AND c.school_sourced_id = :school"; args["school"] = s }
        if let s = filter.sectionSourcedId { sql += " AND c.sourced_id = :section"; args["section"] = s }
        if let codes = filter.codes, !codes.isEmpty {
            // One parameter for any number of codes: the statement's text stays one of a few, so
            // it is prepared once per connection (`cachedStatement`), not once per list length.
            sql += " AND si.error_code IN (SELECT value FROM json_each(:codes))"
            args["codes"] = String(decoding: (try? JSONEncoder().encode(codes)) ?? Data("[]".utf8), as: UTF8.self)
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

    /// The order of the error list's cursors.
    static let errorOrdering = "errors:at:desc"

    /// The statement `syncErrors` runs, its arguments added to `args` (`:limit` is the caller's).
    static func syncErrorsSQL(_ filter: SyncErrorFilter, after: String?, _ args: inout [String: (any DatabaseValueConvertible)?]) throws -> String {
        var sql =
            scopeCTE + """
                SELECT si.material_id, si.class_id, si.error_code, si.error_message, si.error_field, si.error_at,
                       c.sourced_id AS section_sourced_id, c.title AS section_title, c.school_sourced_id, m.title AS material_title
                """
        sql += errorSource(filter) + " JOIN material m ON m.id = si.material_id"
        sql += errorConditions(filter, &args)
        if let after {
            let k = try Keyset.decode(after, ordering: errorOrdering)
            sql += " AND (si.error_at < :ak OR (si.error_at = :ak AND (si.class_id < :ai OR (si.class_id = :ai AND si.material_id < :aj))))"
            args["ak"] = k.key
            args["ai"] = k.id
            args["aj"] = k.id2 ?? Int64.max
        }
        return sql + " ORDER BY si.error_at DESC, si.class_id DESC, si.material_id DESC LIMIT :limit"
    }

    /// Items in error in an org's subtree, newest first.
    public func syncErrors(
        connection: String, rootOrg: String, filter: SyncErrorFilter = SyncErrorFilter(), first: Int, after: String?
    ) throws -> KeysetPage<SyncErrorRow> {
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection, "root": rootOrg, "limit": first + 1]
        let sql = try Self.syncErrorsSQL(filter, after: after, &args)
        return try database.read { db in
            let rows = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(args))
            let items = rows.prefix(first).map { r in
                SyncErrorRow(
                    materialID: r["material_id"], materialTitle: r["material_title"], classID: r["class_id"], sectionSourcedId: r["section_sourced_id"],
                    sectionTitle: r["section_title"], schoolSourcedId: r["school_sourced_id"], code: r["error_code"], message: r["error_message"],
                    field: r["error_field"], at: Timestamp.date(r["error_at"]) ?? .distantPast)
            }
            return KeysetPage(items: items, hasNextPage: rows.count > first) {
                Keyset.encode(ordering: Self.errorOrdering, key: Timestamp.text(items[$0].at), id: items[$0].classID, id2: items[$0].materialID)
            }
        }
    }

    /// The statement `syncErrorSummary` runs, its arguments added to `args`.
    static func syncErrorSummarySQL(
        _ filter: SyncErrorFilter, groupBy: SyncErrorGrouping, _ args: inout [String: (any DatabaseValueConvertible)?]
    ) -> String {
        let conditions = errorConditions(filter, &args)
        // By teacher, SQLite would put the teachers' sections (materialized) outside the errors'
        // index and walk the whole index once for each of them: 7 s against 73 ms for a district
        // of 8,000 sections. From the sections, each is probed for its errors.
        let source = groupBy == .teacher ? sectionsFirst : errorSource(filter)
        let sql: String
        switch groupBy {
        case .code:
            sql =
                scopeCTE + """
                    SELECT si.error_code AS k, NULL AS label, count(*) AS n\(source)\(conditions) GROUP BY si.error_code
                    """
        case .school:
            sql =
                scopeCTE + """
                    SELECT c.school_sourced_id AS k, (SELECT name FROM org WHERE connection_id = c.connection_id AND sourced_id = c.school_sourced_id) AS label, count(*) AS n
                    \(source)\(conditions) GROUP BY c.school_sourced_id
                    """
        case .teacher:
            sql =
                scopeCTE + """
                    SELECT e.person_sourced_id AS k, (SELECT given_name || ' ' || family_name FROM person WHERE connection_id = c.connection_id AND sourced_id = e.person_sourced_id) AS label,
                           count(*) AS n
                    \(source)
                    JOIN (SELECT DISTINCT connection_id, class_sourced_id, person_sourced_id FROM enrollment WHERE role = 'teacher' AND status = 'active') e
                        ON e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id
                    \(conditions) GROUP BY e.person_sourced_id
                    """
        }
        return sql + " ORDER BY n DESC, k"
    }

    /// Counts of items in error in an org's subtree, grouped; largest groups first.
    public func syncErrorSummary(
        connection: String, rootOrg: String, filter: SyncErrorFilter = SyncErrorFilter(), groupBy: SyncErrorGrouping
    ) throws -> [SyncErrorGroup] {
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection, "root": rootOrg]
        let sql = Self.syncErrorSummarySQL(filter, groupBy: groupBy, &args)
        return try database.read { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(args)).map {
                SyncErrorGroup(key: $0["k"], label: $0["label"], count: $0["n"])
            }
        }
    }
}

/// The count behind `syncErrors.totalCount`.
extension APIReads {
    /// How many items in error the same filter finds (for `totalCount`).
    public func countSyncErrors(connection: String, rootOrg: String, filter: SyncErrorFilter) throws -> Int {
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection, "root": rootOrg]
        let sql = CacheQueries.countSyncErrorsSQL(filter, &args)
        return try database.read { db in try Int.fetchOne(db.cachedStatement(sql: sql), arguments: StatementArguments(args)) ?? 0 }
    }
}
