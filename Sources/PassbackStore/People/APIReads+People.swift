import Foundation
import GRDB

/// How much of a person of the roster a viewer may see.
public enum PersonVisibility: Sendable, Hashable {
    /// Name, email and role.
    case full
    /// Name and role, not the email.
    case nameOnly
}

extension APIReads {
    /// Which of `sourcedIds` the viewer may see, and how much (PRODUCT.md, "read those sections and
    /// the people enrolled in them"); people left out of the answer are hidden. One query for the
    /// whole batch.
    ///
    /// - Everyone sees themselves.
    /// - As a teacher (admins too, for the sections they teach): the people actively enrolled, in
    ///   any role, in their sections in full; by name only, the teachers of the sections linked to
    ///   theirs through an LMS course, and whoever started a sync run of their sections.
    /// - An admin (`adminOf` is their org): in full, the people of their org subtree (by the
    ///   user's orgs, or an active enrollment in a section of a school of the subtree); by name
    ///   only, whoever started a sync run of a section of the subtree.
    public func visiblePeople(_ sourcedIds: [String], connection: String, viewer: String, adminOf root: String?) throws -> [String: PersonVisibility] {
        guard !sourcedIds.isEmpty else { return [:] }
        var args: [String: (any DatabaseValueConvertible)?] = ["connection": connection, "viewer": viewer, "root": root]
        for (i, id) in sourcedIds.enumerated() { args["p\(i)"] = id }
        // Correlated subqueries follow each wanted person through the enrollment_by_person index;
        // the uncorrelated ones (the viewer's sections, their courses, runs) are computed once.
        let sql =
            CacheQueries.scopeCTE + """
                , wanted(sid) AS (VALUES \(sourcedIds.indices.map { "(:p\($0))" }.joined(separator: ","))),
                taught(id, sid) AS (
                    SELECT c.id, c.sourced_id FROM enrollment e JOIN class c ON c.connection_id = e.connection_id AND c.sourced_id = e.class_sourced_id
                    WHERE e.connection_id = :connection AND e.person_sourced_id = :viewer AND e.role = 'teacher' AND e.status = 'active' AND c.status = 'active'
                ),
                readable(id, sid) AS (
                    SELECT id, sid FROM taught
                    UNION SELECT c.id, c.sourced_id FROM class c WHERE c.connection_id = :connection AND c.school_sourced_id IN (SELECT sid FROM scope)
                )
                SELECT w.sid, CASE
                    WHEN w.sid = :viewer
                        OR EXISTS (SELECT 1 FROM enrollment e WHERE e.connection_id = :connection AND e.person_sourced_id = w.sid AND e.status = 'active'
                                   AND e.class_sourced_id IN (SELECT sid FROM readable))
                        OR EXISTS (SELECT 1 FROM person p JOIN person_org po ON po.person_id = p.id
                                   WHERE p.connection_id = :connection AND p.sourced_id = w.sid AND po.org_sourced_id IN (SELECT sid FROM scope))
                    THEN 'full'
                    WHEN EXISTS (SELECT 1 FROM enrollment e JOIN class c ON c.connection_id = e.connection_id AND c.sourced_id = e.class_sourced_id
                                   JOIN linked_section ls ON ls.class_id = c.id
                                 WHERE e.connection_id = :connection AND e.person_sourced_id = w.sid AND e.role = 'teacher' AND e.status = 'active'
                                   AND ls.lms_course_id IN (SELECT l.lms_course_id FROM linked_section l WHERE l.class_id IN (SELECT id FROM taught)))
                        OR w.sid IN (SELECT r.started_by FROM sync_run r WHERE r.connection_id = :connection AND r.class_id IN (SELECT id FROM readable))
                    THEN 'name'
                    END AS visibility
                FROM wanted w
                """
        return try database.read { db in
            var out: [String: PersonVisibility] = [:]
            for r in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)) {
                switch r["visibility"] as String? {
                case "full": out[r["sid"]] = .full
                case "name": out[r["sid"]] = .nameOnly
                default: break
                }
            }
            return out
        }
    }
}
