import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

/// A connection's time zone (the school's calendar) and its overrides of the vendor profile's
/// limits, end to end: configuration in the store, the rules, the API and the sandbox SIS.
@Suite("The school's calendar and the district's limits, over the API")
struct CalendarAndLimitsTests {
    /// Saves the connection's settings as a command that loaded the configuration would.
    static func configure(_ env: GatewayEnv, _ change: (inout ConnectionSettings) -> Void) throws {
        var settings = env.connection.settings
        change(&settings)
        try RosterStore(env.database).saveConnection(settings, at: Date())
    }

    /// A teacher and the first of their sections.
    static func teacherAndSection(_ env: GatewayEnv) -> (teacher: String, section: String) {
        let (teacher, sections) = env.sectionsByTeacher.sorted { $0.key < $1.key }.first!
        return (teacher, sections[0])
    }

    /// `2026-10-17T06:59:00Z`: the API's DateTime of an instant.
    static func iso(_ date: Date) -> String { String(Timestamp.text(date).prefix(19)) + "Z" }

    @Test("the California case: 11:59 PM on Q1's last day, Los Angeles time, is in Q1 although it is the next day in UTC")
    func california() async throws {
        // A strict SIS of a California district: it refuses a due date outside the lineItem's grading period, by its own local day.
        var strict = SandboxQuirks()
        strict.dueDateInGradingPeriod = true
        strict.timeZone = TimeZone(identifier: "America/Los_Angeles")
        try await withGateway(quirks: strict) { env in
            try Self.configure(env) { $0.timeZone = "America/Los_Angeles" }
            let (teacher, section) = Self.teacherAndSection(env)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            let info = try await env.post(
                "query($id: ID!) { section(id: $id) { timeZone gradingPeriods { nodes { id sourcedId title startDate endDate } } } }",
                ["id": sectionID], token: token)
            #expect(info["section", "timeZone"] as? String == "America/Los_Angeles", "the API names the zone the widget shows dates in")
            let periods = try #require(info["section", "gradingPeriods", "nodes"] as? [[String: Any]], "\(info.text)")
            let q1 = try #require(periods.min { ($0["endDate"] as! String) < ($1["endDate"] as! String) })
            let end = try #require(CalendarDate(q1["endDate"] as! String)) // Oct 16; Oct 17 is in no period
            let day = try #require(SchoolCalendar.instants(fromDay: end, throughDay: end, in: TimeZone(identifier: "America/Los_Angeles")!))
            let lastMinute = day.upperBound.addingTimeInterval(-60), midnight = day.upperBound
            #expect(CalendarDate(utcDayOf: lastMinute) > end, "in UTC the due date is already the day after Q1")
            try #require(
                !periods.contains {
                    ($0["startDate"] as! String) <= CalendarDate(utcDayOf: midnight).description
                        && CalendarDate(utcDayOf: midnight).description <= ($0["endDate"] as! String)
                })

            _ = try await env.feed(section: section, teacher: teacher, materials: 2, dueDate: { Self.iso($0 == 0 ? lastMinute : midnight) })
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            _ = try await LinkedCourseTests.syncChanges(env, section, token)

            let materials = try await env.post(
                """
                query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { lmsId syncStatus problems { nodes { code message } } } } } }
                """, ["id": sectionID], token: token)
            let byID = Dictionary(
                uniqueKeysWithValues: (materials["section", "materials", "nodes"] as? [[String: Any]] ?? []).map { ($0["lmsId"] as! String, $0) })
            #expect(byID["m-0"]?["syncStatus"] as? String == "SUCCESSFUL", "\(materials.text)")
            let lineItem = SourcedIDs.lineItem(connection: "district", materialLmsID: "m-0", sectionSourcedId: section)
            let held = try #require(env.data.record(.lineItems, lineItem), "the SIS holds the lineItem")
            #expect(held.ref("gradingPeriod") == q1["sourcedId"] as? String, "filed under Q1")

            // Midnight local is the next day: outside every period, and the message says so in the school's terms.
            #expect(byID["m-1"]?["syncStatus"] as? String == "ERROR")
            let problem = try #require((nodesOf(byID["m-1"]?["problems"]) as? [[String: Any]])?.first)
            #expect(problem["code"] as? String == "DUE_DATE_OUTSIDE_GRADING_PERIOD")
            let nextDay = SchoolCalendar.localDay(midnight, in: TimeZone(identifier: "America/Los_Angeles")!)
            #expect((problem["message"] as? String)?.contains("\(nextDay) (00:00, America/Los_Angeles time)") == true, "\(problem)")
            #expect(env.data.record(.lineItems, SourcedIDs.lineItem(connection: "district", materialLmsID: "m-1", sectionSourcedId: section)) == nil)

            // The grading-period filter places due dates by the same local day.
            let filtered = try await env.post(
                """
                query($id: ID!, $gp: ID!) { section(id: $id) { materials(first: 10, filter: {gradingPeriodId: $gp}) { nodes { lmsId } } } }
                """, ["id": sectionID, "gp": q1["id"] as! String], token: token)
            #expect((filtered["section", "materials", "nodes"] as? [[String: Any]])?.map { $0["lmsId"] as! String } == ["m-0"], "\(filtered.text)")
        }
    }

    @Test("the same due date at a school on UTC is refused, naming UTC: the zone is what decides")
    func utcSchool() async throws {
        try await withGateway { env in
            let (teacher, section) = Self.teacherAndSection(env)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            let ends = env.data.all(.academicSessions).filter { $0["type"]?.stringValue == "gradingPeriod" }.compactMap { $0["endDate"]?.stringValue }
            let end = try #require(ends.min().flatMap { CalendarDate($0) }, "Q1's last day")
            let midnight = try #require(SchoolCalendar.instants(fromDay: end, throughDay: end, in: TimeZone(identifier: "America/Los_Angeles")!)).upperBound
            let lastMinute = midnight.addingTimeInterval(-60)
            _ = try await env.feed(section: section, teacher: teacher, materials: 1, dueDate: { _ in Self.iso(lastMinute) })
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            let plan = try await env.post(
                """
                mutation($i: PlanSyncInput!) { planSync(input: $i) { items { nodes { decision problems { nodes { code message } } } } } }
                """, ["i": ["sectionId": sectionID]], token: token)
            let item = try #require((plan["planSync", "items", "nodes"] as? [[String: Any]])?.first, "\(plan.text)")
            #expect(item["decision"] as? String == "BLOCKED")
            let message = ((nodesOf(item["problems"]) as? [[String: Any]])?.first?["message"] as? String) ?? ""
            #expect(message.contains("\(CalendarDate(utcDayOf: lastMinute)) (06:59, UTC time)"), "\(message)")
        }
    }

    @Test(
        "a school's own zone overrides the connection's; a district's covers its schools; a schedule saved without a zone takes its school's, an org default its org's"
    )
    func schoolZonesAndSchedules() async throws {
        try await withGateway { env in
            let (teacher, section) = Self.teacherAndSection(env)
            let school = env.school(of: section)
            let other = try #require(env.data.all(.classes).first { $0.ref("school") != school }?["sourcedId"]?.stringValue)
            try Self.configure(env) {
                $0.timeZone = "America/New_York"
                $0.orgTimeZones = [school: "America/Phoenix", env.districtOrg: "America/Chicago"]
            }
            let admin = try #require(env.data.all(.users).first { $0["role"]?.stringValue == "administrator" }?["sourcedId"]?.stringValue)
            let adminToken = try env.token(.admin, user: admin, org: env.districtOrg)
            let zones = try await env.post(
                "query($a: ID!, $b: ID!) { a: section(id: $a) { timeZone } b: section(id: $b) { timeZone } }",
                ["a": try env.sectionID(section), "b": try env.sectionID(other)], token: adminToken)
            #expect(zones["a", "timeZone"] as? String == "America/Phoenix", "\(zones.text)")
            #expect(zones["b", "timeZone"] as? String == "America/Chicago", "another school takes its district's zone")

            let token = try env.token(.teacher, user: teacher)
            _ = try await env.feed(section: section, teacher: teacher, materials: 0)
            let saved = try await env.post(
                """
                mutation($i: SaveSyncScheduleInput!) { saveSyncSchedule(input: $i) { sections { nodes { schedule { timeZone startTime } } } userErrors { message } } }
                """, ["i": ["sectionId": try env.sectionID(section), "schedule": ["weekday": 5, "startTime": "18:00"]]], token: token)
            #expect(
                (saved["saveSyncSchedule", "sections", "nodes"] as? [[String: Any]])?.first.flatMap {
                    ($0["schedule"] as? [String: Any])?["timeZone"] as? String
                }
                    == "America/Phoenix", "\(saved.text)")
            let bad = try await env.post(
                """
                mutation($i: SaveSyncScheduleInput!) { saveSyncSchedule(input: $i) { userErrors { message field } } }
                """, ["i": ["sectionId": try env.sectionID(section), "schedule": ["weekday": 5, "startTime": "18:00", "timeZone": "PST"]]], token: token)
            #expect(
                (bad["saveSyncSchedule", "userErrors"] as? [[String: Any]])?.first?["field"] as? [String] == ["input", "schedule", "timeZone"], "\(bad.text)")

            let orgDefault = try await env.post(
                """
                mutation($i: SaveDefaultSyncScheduleInput!) { saveDefaultSyncSchedule(input: $i) { userErrors { message } } }
                """, ["i": ["schedule": ["weekday": 1, "startTime": "06:00"]]], token: adminToken)
            #expect((orgDefault["saveDefaultSyncSchedule", "userErrors"] as? [Any])?.isEmpty == true, "\(orgDefault.text)")
            let otherTeacher = try #require(env.sectionsByTeacher.first { $0.value.contains(other) }?.key)
            _ = try await env.feed(section: other, teacher: otherTeacher, course: "lms-2", materials: 0)
            let inherited = try await env.post(
                "query($b: ID!) { section(id: $b) { schedule { timeZone isDefault } } }",
                ["b": try env.sectionID(other)], token: adminToken)
            #expect(inherited["section", "schedule", "isDefault"] as? Bool == true, "\(inherited.text)")
            #expect(inherited["section", "schedule", "timeZone"] as? String == "America/Chicago", "the district's default, in the district's zone")

            // A connection-wide zone alone: every school follows it.
            try Self.configure(env) { $0.timeZone = "America/New_York" }
            let plain = try await env.post("query($b: ID!) { section(id: $b) { timeZone } }", ["b": try env.sectionID(other)], token: adminToken)
            #expect(plain["section", "timeZone"] as? String == "America/New_York")
        }
    }

    @Test("a titleLimit the profile lacks: a 60-character title is an item problem naming the limit, and nothing of it is queued or sent")
    func titleLimitOverride() async throws {
        var strict = SandboxQuirks()
        strict.titleLimit = 50 // the SIS refuses longer titles, as many do
        try await withGateway(quirks: strict) { env in
            let (teacher, section) = Self.teacherAndSection(env)
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            let fed = try await env.feed(section: section, teacher: teacher, materials: 2)
            let long = String(repeating: "Long title ", count: 6).prefix(60)
            let renamed = try await env.post(
                """
                mutation($input: UpsertMaterialsInput!) { upsertMaterials(input: $input) { userErrors { message } } }
                """,
                [
                    "input": [
                        "courseLmsId": fed.lmsID,
                        "materials": [
                            [
                                "lmsId": "m-1", "title": String(long), "categoryLmsId": "lc-1", "maxPoints": 10,
                                "dueDate": "2026-09-02T15:00:00Z"
                            ]
                        ]
                    ]
                ], token: fed.integration)
            #expect((renamed["upsertMaterials", "userErrors"] as? [Any])?.isEmpty == true, "\(renamed.text)")
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            let plan = """
                mutation($i: PlanSyncInput!) { planSync(input: $i) { items { nodes { material { lmsId } decision problems { nodes { code message } } } } } }
                """
            let before = try await env.post(plan, ["i": ["sectionId": sectionID]], token: token)
            let sentBefore = (before["planSync", "items", "nodes"] as? [[String: Any]] ?? []).filter { $0["decision"] as? String == "SEND" }.count
            #expect(sentBefore == 2, "the standard profile has no title limit: both would go (\(before.text))")

            try Self.configure(env) { $0.limits = ProfileLimits(titleLimit: 50) }
            let run = try await LinkedCourseTests.syncChanges(env, section, token)
            let statuses = try await env.post(
                """
                query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { lmsId syncStatus problems { nodes { code message } } } } } }
                """, ["id": sectionID], token: token)
            let byID = Dictionary(
                uniqueKeysWithValues: (statuses["section", "materials", "nodes"] as? [[String: Any]] ?? []).map { ($0["lmsId"] as! String, $0) })
            #expect(byID["m-0"]?["syncStatus"] as? String == "SUCCESSFUL", "\(statuses.text)")
            #expect(byID["m-1"]?["syncStatus"] as? String == "ERROR")
            let problem = (nodesOf(byID["m-1"]?["problems"]) as? [[String: Any]])?.first
            #expect(problem?["code"] as? String == "TITLE_TOO_LONG")
            #expect(
                (problem?["message"] as? String)?.contains("60 characters; Standard OneRoster 1.1 accepts at most 50") == true, "\(String(describing: problem))"
            )

            // Nothing of m-1 was queued, so nothing reached the SIS.
            let students = env.students(of: section).count
            #expect(run["jobsTotal"] as? Int == 1 + students, "m-0's lineItem and results only: \(run)")
            let m1 = SourcedIDs.lineItem(connection: "district", materialLmsID: "m-1", sectionSourcedId: section)
            #expect(env.data.record(.lineItems, m1) == nil)
            #expect(!env.data.all(.lineItems).contains { $0["title"]?.stringValue == String(long) })
            let queued = try EngineStore(env.database).jobCounts().values.reduce(0, +)
            #expect(queued == 1 + students, "every job the outbox ever held is m-0's")
        }
    }
}
