import Foundation
import GRDB
import PassbackCore

/// What the rules need from a section's connection beyond the roster: the school's time zone
/// and the district's overrides of the vendor profile's limits.
public struct SectionCalendar: Sendable, Hashable {
    /// IANA name of the section's school's zone.
    public var timeZone: String
    /// The connection's overrides of its profile's limits.
    public var limits: ProfileLimits

    public init(timeZone: String = SchoolCalendar.defaultZoneName, limits: ProfileLimits = ProfileLimits()) {
        self.timeZone = timeZone
        self.limits = limits
    }

    /// The zone, or UTC when the stored name is not one (it was checked when the configuration was loaded).
    public var zone: TimeZone { SchoolCalendar.zone(named: timeZone) ?? TimeZone(identifier: SchoolCalendar.defaultZoneName)! }
}

/// Reads of the connection's calendar and limits (saved by `RosterStore.saveConnection`), in one
/// place for the planner, the API's section reads and its grading-period filter, and schedules.
public enum ConnectionCalendar {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    /// Each section's calendar, by class id (sections not found are left out). One statement for
    /// the sections, and one for their schools' org chains when the connection names org zones.
    public static func sections(_ db: Database, classIDs: [Int64]) throws -> [Int64: SectionCalendar] {
        guard !classIDs.isEmpty else { return [:] }
        let list = classIDs.map(String.init).joined(separator: ",")
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT c.id, c.connection_id, c.school_sourced_id, co.time_zone, co.org_time_zones, co.profile_limits
                FROM class c JOIN connection co ON co.id = c.connection_id WHERE c.id IN (\(list))
                """)
        var chains: [Int64: [String]] = [:]
        if rows.contains(where: { ($0["org_time_zones"] as String) != "{}" }) {
            chains = try orgChains(db, classIDs: list)
        }
        var out: [Int64: SectionCalendar] = [:]
        for r in rows {
            let id: Int64 = r["id"]
            out[id] = SectionCalendar(
                timeZone: SchoolCalendar.zoneName(
                    orgChain: chains[id] ?? [r["school_sourced_id"]], orgZones: decode(r["org_time_zones"]) ?? [:],
                    defaultZone: r["time_zone"]),
                limits: decode(r["profile_limits"]) ?? ProfileLimits())
        }
        return out
    }

    /// The zone of an org of a connection (an org default schedule's): the nearest of the org and its
    /// parents that the configuration names, else the connection's.
    public static func orgZone(_ db: Database, connection: String, org: String) throws -> String {
        guard let c = try Row.fetchOne(db, sql: "SELECT time_zone, org_time_zones FROM connection WHERE id = ?", arguments: [connection]) else {
            return SchoolCalendar.defaultZoneName
        }
        let chain = try String.fetchAll(
            db,
            sql: """
                WITH RECURSIVE chain(org, depth) AS (
                    SELECT ?, 0
                    UNION ALL
                    SELECT o.parent_sourced_id, chain.depth + 1 FROM chain JOIN org o ON o.connection_id = ? AND o.sourced_id = chain.org
                    WHERE o.parent_sourced_id IS NOT NULL AND chain.depth < 16)
                SELECT org FROM chain ORDER BY depth
                """, arguments: [org, connection])
        return SchoolCalendar.zoneName(orgChain: chain, orgZones: decode(c["org_time_zones"]) ?? [:], defaultZone: c["time_zone"])
    }

    /// Each section's school and the school's parents, nearest first (16 levels at most, so a cycle in SIS data ends).
    static func orgChains(_ db: Database, classIDs list: String) throws -> [Int64: [String]] {
        var chains: [Int64: [String]] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                WITH RECURSIVE chain(class_id, connection_id, org, depth) AS (
                    SELECT c.id, c.connection_id, c.school_sourced_id, 0 FROM class c WHERE c.id IN (\(list))
                    UNION ALL
                    SELECT chain.class_id, chain.connection_id, o.parent_sourced_id, chain.depth + 1 FROM chain
                    JOIN org o ON o.connection_id = chain.connection_id AND o.sourced_id = chain.org
                    WHERE o.parent_sourced_id IS NOT NULL AND chain.depth < 16)
                SELECT class_id, org FROM chain ORDER BY class_id, depth
                """)
        {
            chains[r["class_id"], default: []].append(r["org"])
        }
        return chains
    }

    static func decode<T: Decodable>(_ text: String) -> T? {
        try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

extension RosterStore {
    /// Each section's time zone and limit overrides, by class id.
    public func sectionCalendars(classIDs: [Int64]) throws -> [Int64: SectionCalendar] {
        try database.read { db in try ConnectionCalendar.sections(db, classIDs: classIDs) }
    }

    /// One section's time zone and limit overrides; the defaults if the section is unknown.
    public func sectionCalendar(classID: Int64) throws -> SectionCalendar {
        try sectionCalendars(classIDs: [classID])[classID] ?? SectionCalendar()
    }
}

extension APIReads {
    /// Each section's time zone and limit overrides, by class id (a batch loader's read).
    public func sectionCalendars(classIDs: [Int64]) throws -> [Int64: SectionCalendar] {
        try database.read { db in try ConnectionCalendar.sections(db, classIDs: classIDs) }
    }
}
