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

/// Orgs, people and academic sessions of the roster by sourcedId.
extension APIReads {
    public func orgs(connection: String, sourcedIds: [String]) throws -> [String: OrgRecord] {
        try database.read { db in
            var out: [String: OrgRecord] = [:]
            // The ids bound as one JSON array: one statement, prepared once (the admin's errors
            // page asks for its schools every time).
            for r in try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT o.sourced_id, o.name, o.type, o.parent_sourced_id FROM json_each(?2) w
                        CROSS JOIN org o ON o.connection_id = ?1 AND o.sourced_id = w.value
                        """), arguments: [connection, Self.json(sourcedIds)])
            {
                out[r["sourced_id"]] = OrgRecord(sourcedId: r["sourced_id"], name: r["name"], type: r["type"], parentSourcedId: r["parent_sourced_id"])
            }
            return out
        }
    }

    public func people(connection: String, sourcedIds: [String]) throws -> [String: PersonRecord] {
        try database.read { db in
            var out: [String: PersonRecord] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT sourced_id, given_name, family_name, email, role FROM person WHERE connection_id = ? AND sourced_id IN (\(Self.placeholders(sourcedIds.count)))
                    """, arguments: StatementArguments([connection] + sourcedIds))
            {
                out[r["sourced_id"]] = Self.person(r)
            }
            return out
        }
    }

    static func person(_ r: Row) -> PersonRecord {
        PersonRecord(sourcedId: r["sourced_id"], givenName: r["given_name"], familyName: r["family_name"], email: r["email"], role: r["role"])
    }

    public func sessions(connection: String, sourcedIds: [String]) throws -> [String: SessionRecord] {
        try database.read { db in
            var out: [String: SessionRecord] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT sourced_id, title, type, start_date, end_date FROM academic_session WHERE connection_id = ? AND sourced_id IN (\(Self.placeholders(sourcedIds.count)))
                    """, arguments: StatementArguments([connection] + sourcedIds))
            {
                out[r["sourced_id"]] = Self.session(r)
            }
            return out
        }
    }

    static func session(_ r: Row) -> SessionRecord {
        SessionRecord(sourcedId: r["sourced_id"], title: r["title"], type: r["type"], startDate: r["start_date"], endDate: r["end_date"])
    }
}
