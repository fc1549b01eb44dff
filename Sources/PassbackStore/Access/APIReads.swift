import Foundation
import GRDB
import PassbackCore

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

    /// Ids as a JSON array, bound to `IN (SELECT value FROM json_each(?))`: the statement's text
    /// stays the same whatever the ids, so it is prepared once and kept (`cachedStatement`).
    /// For the reads every request makes; `list` builds the ids into the text.
    static func json(_ ids: some Collection<Int64>) -> String { "[" + ids.map(String.init).joined(separator: ",") + "]" }
    static func json(_ strings: [String]) -> String { String(decoding: (try? JSONEncoder().encode(strings)) ?? Data("[]".utf8), as: UTF8.self) }

    /// Per parent, a page of the first `first` of the rows read (one more was read to learn
    /// whether there is a next page) and the parent's total.
    static func pages<Parent: Hashable, Record>(
        _ parents: [Parent], rows: [Parent: [Record]], totals: [Parent: Int], first: Int,
        cursor: @escaping @Sendable (Record) -> String
    ) -> [Parent: (page: KeysetPage<Record>, total: Int)] {
        var out: [Parent: (page: KeysetPage<Record>, total: Int)] = [:]
        for parent in parents {
            let all = rows[parent] ?? []
            let items = Array(all.prefix(first))
            out[parent] = (KeysetPage(items: items, hasNextPage: all.count > first) { cursor(items[$0]) }, totals[parent] ?? 0)
        }
        return out
    }

    static func placeholders(_ n: Int) -> String { n == 0 ? "NULL" : Array(repeating: "?", count: n).joined(separator: ",") }

    /// The sections of `classIDs` that `scope` may read. The ids drive the statement (`CROSS
    /// JOIN` keeps `json_each` outside): with `c.id IN (SELECT … json_each …)` beside
    /// `c.connection_id = ?`, SQLite walked every class of the connection by `class_by_school`
    /// (8,000 at the benchmark's full scale: a third of a widget request's time there).
    public func readable(_ classIDs: [Int64], connection: String, scope: SectionScope) throws -> Set<Int64> {
        guard !classIDs.isEmpty else { return [] }
        return try database.read { db in try Self.readable(db, classIDs, connection: connection, scope: scope) }
    }

    static func readable(_ db: Database, _ classIDs: [Int64], connection: String, scope: SectionScope) throws -> Set<Int64> {
        switch scope {
        case .teacher(let teacher):
            return Set(try Int64.fetchAll(db.cachedStatement(sql: Self.readableByTeacher), arguments: [connection, teacher, Self.json(classIDs)]))
        case .org(let root):
            return Set(
                try Int64.fetchAll(
                    db.cachedStatement(sql: Self.readableInOrg), arguments: ["connection": connection, "root": root, "ids": Self.json(classIDs)]))
        }
    }

    /// Of the sections whose ids are the JSON array `?3`, those of connection `?1` the roster
    /// says teacher `?2` teaches.
    static let readableByTeacher = """
        SELECT c.id FROM json_each(?3) wanted CROSS JOIN class c ON c.id = wanted.value
        WHERE c.connection_id = ?1 AND c.status = 'active'
            AND EXISTS (
            SELECT 1 FROM enrollment e WHERE e.connection_id = ?1 AND e.class_sourced_id = c.sourced_id
                AND e.person_sourced_id = ?2 AND e.role = 'teacher' AND e.status = 'active')
        """

    /// Of the sections whose ids are the JSON array `:ids`, those of `:connection` in the
    /// subtree of org `:root`.
    static let readableInOrg =
        CacheQueries.scopeCTE + """
            SELECT c.id FROM json_each(:ids) wanted CROSS JOIN class c ON c.id = wanted.value
            WHERE c.connection_id = :connection AND c.school_sourced_id IN (SELECT sid FROM scope)
            """

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
        return try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT ? IN (\(Self.studentsOf(classIDs)))", arguments: [student]) ?? false
        }
    }
}
