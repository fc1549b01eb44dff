import Foundation
import GRDB
import PassbackCore

/// Weekly schedules: saved versions per section (a change takes effect 24 hours after it is
/// saved) and org defaults, and the record of which window each section already ran in.
public struct ScheduleStore: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }

    public init(_ database: PassbackDatabase) { self.database = database }

    /// Saves a teacher's schedule (nil turns scheduling off) for these sections, one version
    /// each, in one transaction. "Use this schedule for all my existing courses" passes every
    /// active section the teacher teaches.
    public func saveTeacherSchedule(_ schedule: WeeklySchedule?, classIDs: [Int64], teacher: String, at now: Date) throws {
        try pool.write { db in
            for classID in classIDs {
                guard let connection = try String.fetchOne(db, sql: "SELECT connection_id FROM class WHERE id = ?", arguments: [classID]) else {
                    throw StoreError(.notFound, "no section with id \(classID)")
                }
                try Self.insert(db, connection: connection, kind: "teacher", owner: teacher, classID: classID, schedule: schedule, by: teacher, at: now)
            }
        }
    }

    /// "Use this schedule for all my existing courses": saves it for every active section the
    /// roster lists the teacher as teaching and that is linked to an LMS course. Returns them.
    @discardableResult
    public func saveTeacherScheduleForAllCourses(_ schedule: WeeklySchedule?, connection: String, teacher: String, at now: Date) throws -> [Int64] {
        let classIDs = try database.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT c.id FROM class c JOIN linked_section ls ON ls.class_id = c.id
                    JOIN enrollment e ON e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id
                    WHERE c.connection_id = ? AND c.status = 'active' AND e.person_sourced_id = ? AND e.role = 'teacher' AND e.status = 'active'
                    ORDER BY c.id
                    """, arguments: [connection, teacher])
        }
        try saveTeacherSchedule(schedule, classIDs: classIDs, teacher: teacher, at: now)
        return classIDs
    }

    /// Saves an org's default schedule, for sections in its subtree that have none of their own.
    public func saveDefaultSchedule(_ schedule: WeeklySchedule?, connection: String, org: String, savedBy: String, at now: Date) throws {
        try pool.write { db in
            try Self.insert(db, connection: connection, kind: "org_default", owner: org, classID: nil, schedule: schedule, by: savedBy, at: now)
        }
    }

    /// An org's own default schedule as last saved (nil when it never had one).
    public func defaultSchedule(connection: String, org: String) throws -> ScheduleVersion? {
        try database.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM sync_schedule WHERE connection_id = ? AND owner_sourced_id = ? AND owner_kind = 'org_default'
                    ORDER BY saved_at DESC, id DESC LIMIT 1
                    """, arguments: [connection, org]
            ).map(Self.version)
        }
    }

    static func insert(
        _ db: Database, connection: String, kind: String, owner: String, classID: Int64?, schedule: WeeklySchedule?, by: String, at now: Date
    ) throws {
        var schedule = schedule
        if schedule?.timeZone == WeeklySchedule.schoolZone {
            // No zone given: the school's (PRODUCT.md "Time zone"), as the configuration names it now.
            schedule?.timeZone =
                try classID.flatMap { try ConnectionCalendar.sections(db, classIDs: [$0])[$0]?.timeZone }
                ?? ConnectionCalendar.orgZone(db, connection: connection, org: owner)
        }
        try db.execute(
            sql: """
                INSERT INTO sync_schedule (connection_id, owner_kind, owner_sourced_id, class_id, enabled, weekday, start_minute, time_zone, saved_at, saved_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                connection, kind, owner, classID, schedule != nil, schedule?.weekday, schedule?.startMinute, schedule?.timeZone,
                Timestamp.text(now), by
            ])
    }

    static func version(_ r: Row) -> ScheduleVersion {
        let enabled: Bool = r["enabled"]
        let schedule = enabled ? WeeklySchedule(weekday: r["weekday"], startMinute: r["start_minute"], timeZone: r["time_zone"]) : nil
        return ScheduleVersion(schedule: schedule, savedAt: Timestamp.date(r["saved_at"]) ?? .distantPast)
    }

    /// A section the scheduler considers, with the schedule versions that govern it: its own
    /// if a teacher ever saved one, else the nearest org default up its school's org chain.
    public struct ScheduledSection: Sendable {
        public var classID: Int64
        public var sectionSourcedId: String
        public var versions: [ScheduleVersion]
        /// True when the section has no schedule of its own and follows an org default.
        public var usesDefault: Bool
    }

    /// Every active section linked to an LMS course that has a schedule of any kind (or only
    /// those of `classIDs`).
    public func scheduledSections(classIDs: [Int64]? = nil) throws -> [ScheduledSection] {
        try database.read { db in
            var own: [Int64: [ScheduleVersion]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM sync_schedule WHERE owner_kind = 'teacher' ORDER BY saved_at, id") {
                own[r["class_id"], default: []].append(Self.version(r))
            }
            var defaults: [String: [ScheduleVersion]] = [:] // "connection|org" → versions
            for r in try Row.fetchAll(db, sql: "SELECT * FROM sync_schedule WHERE owner_kind = 'org_default' ORDER BY saved_at, id") {
                defaults["\(r["connection_id"] as String)|\(r["owner_sourced_id"] as String)", default: []].append(Self.version(r))
            }
            var parents: [String: String] = [:]
            if !defaults.isEmpty {
                for r in try Row.fetchAll(db, sql: "SELECT connection_id, sourced_id, parent_sourced_id FROM org WHERE parent_sourced_id IS NOT NULL") {
                    parents["\(r["connection_id"] as String)|\(r["sourced_id"] as String)"] = r["parent_sourced_id"]
                }
            }
            var out: [ScheduledSection] = []
            let only = classIDs.map { " AND c.id IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT c.id, c.sourced_id, c.connection_id, c.school_sourced_id FROM class c JOIN linked_section ls ON ls.class_id = c.id
                    WHERE c.status = 'active'\(only) ORDER BY c.id
                    """)
            {
                let id: Int64 = r["id"]
                let connection: String = r["connection_id"]
                var inherited: [ScheduleVersion] = []
                var org: String? = r["school_sourced_id"]
                var depth = 0
                while let o = org, depth < 16 {
                    if let versions = defaults["\(connection)|\(o)"] {
                        inherited = versions
                        break
                    }
                    org = parents["\(connection)|\(o)"]
                    depth += 1
                }
                if let versions = own[id] {
                    // The default stays in force until the teacher's first own version takes
                    // effect 24 hours after it was saved; later defaults no longer apply.
                    let first = versions[0].savedAt
                    let before = inherited.filter { $0.savedAt < first }
                    out.append(ScheduledSection(classID: id, sectionSourcedId: r["sourced_id"], versions: before + versions, usesDefault: false))
                } else if !inherited.isEmpty {
                    out.append(ScheduledSection(classID: id, sectionSourcedId: r["sourced_id"], versions: inherited, usesDefault: true))
                }
            }
            return out
        }
    }

    /// A section's own schedule versions, oldest first.
    public func versions(classID: Int64) throws -> [ScheduleVersion] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sync_schedule WHERE class_id = ? ORDER BY saved_at, id", arguments: [classID]).map(Self.version)
        }
    }

    /// How long a claim without a recorded run holds before another tick may take it again.
    public static let staleClaim: TimeInterval = 300

    /// Claims a section's run in a window; false if it already ran there, or another claim is
    /// still fresh. A claim left by a process that died before starting the run goes stale.
    public func claimWindow(classID: Int64, windowStart: Date, at now: Date) throws -> Bool {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO scheduled_run (class_id, window_start, claimed_at) VALUES (?, ?, ?)
                    ON CONFLICT (class_id, window_start) DO UPDATE SET claimed_at = excluded.claimed_at
                    WHERE scheduled_run.sync_run_id IS NULL AND scheduled_run.claimed_at < ?
                    """, arguments: [classID, Timestamp.text(windowStart), Timestamp.text(now), Timestamp.text(now.addingTimeInterval(-Self.staleClaim))])
            return db.changesCount == 1
        }
    }

    /// Gives back a claimed window whose run could not start.
    public func releaseWindow(classID: Int64, windowStart: Date) throws {
        try pool.write { db in
            try db.execute(
                sql: "DELETE FROM scheduled_run WHERE class_id = ? AND window_start = ? AND sync_run_id IS NULL",
                arguments: [classID, Timestamp.text(windowStart)])
        }
    }

    /// Records the run a claimed window started.
    public func recordRun(classID: Int64, windowStart: Date, runID: Int64) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE scheduled_run SET sync_run_id = ? WHERE class_id = ? AND window_start = ?",
                arguments: [runID, classID, Timestamp.text(windowStart)])
        }
    }
}
