import Foundation
import OneRosterSandbox
import PassbackCore
import Testing

@testable import PassbackGateway
@testable import PassbackStore

/// The admin's console in the widget, and the API it reads: the connection's health, a roster
/// pull's rejected rows, an error group's id and an org's default schedule.
@Suite("Admin console", .serialized)
struct AdminConsoleTests {
    /// Two sections in different schools, taught by different teachers.
    static func twoSchools(_ env: GatewayEnv) throws -> (a: (section: String, teacher: String), b: (section: String, teacher: String)) {
        let pairs = env.sectionsByTeacher.sorted { $0.key < $1.key }.compactMap { t, s in s.sorted().first.map { (section: $0, teacher: t) } }
        let a = try #require(pairs.first)
        let b = try #require(pairs.first { $0.teacher != a.teacher && env.school(of: $0.section) != env.school(of: a.section) })
        return (a, b)
    }

    static func districtAdmin(_ env: GatewayEnv) throws -> String {
        let user = try #require(env.data.all(.users).first { $0["username"]?.stringValue == "district.admin" }?["sourcedId"]?.stringValue)
        return try env.token(.admin, user: user, org: env.districtOrg)
    }

    @Test("connectionHealth says when the SIS stopped answering, why writes are held and how many wait; admins only")
    func connectionHealth() async throws {
        try await withGateway { env in
            let admin = try Self.districtAdmin(env)
            let query = "{ connectionHealth { unreachableSince lastProbeAt lastError blockedCause blockedSince pendingWrites } }"
            let fine = try await env.post(query, token: admin)
            #expect(fine["connectionHealth", "unreachableSince"] == nil && fine["connectionHealth", "blockedCause"] == nil, "\(fine.text)")
            #expect(fine.errors.isEmpty && fine["connectionHealth"] != nil, "\(fine.text)")
            #expect(fine["connectionHealth", "pendingWrites"] as? Int == 0, "\(fine.text)")
            let since = Date(timeIntervalSince1970: 1_790_000_000)
            try EngineStore(env.database).markUnreachable(connection: "district", error: "connection refused", at: since)
            let down = try await env.post(query, token: admin)
            #expect(down["connectionHealth", "unreachableSince"] as? String == Timestamp.text(since), "\(down.text)")
            #expect(down["connectionHealth", "lastError"] as? String == "connection refused", "\(down.text)")
            // The SIS refused Passback's credentials: every write is held, and the key to fix is named.
            let cause = "the SIS refused the credentials; fix connection.district.clientSecret"
            try await env.database.pool.write { db in
                try db.execute(
                    sql: "INSERT INTO connection_block (connection_id, code, cause, since) VALUES ('district', 'SIS_AUTH_FAILED', ?, ?)",
                    arguments: [cause, Timestamp.text(since)])
            }
            let blocked = try await env.post(query, token: admin)
            #expect(blocked["connectionHealth", "blockedCause"] as? String == cause, "\(blocked.text)")
            #expect(blocked["connectionHealth", "blockedSince"] as? String == Timestamp.text(since), "\(blocked.text)")
            let (a, _) = try Self.twoSchools(env)
            let teacher = try env.token(.teacher, user: a.teacher)
            #expect(try await env.post(query, token: teacher).codes == ["FORBIDDEN"])
        }
    }

    @Test("a roster pull's rejected rows are listed a page at a time, with where each came from and why")
    func rosterRejects() async throws {
        try await withGateway { env in
            let admin = try Self.districtAdmin(env)
            // Two students the SIS now sends with a role OneRoster 1.1 does not have.
            for var user in env.data.all(.users).filter({ $0["role"]?.stringValue == "student" }).prefix(2) {
                user["role"] = "Student"
                env.data.inject(.users, replacing: user["sourcedId"]!.stringValue!, with: user)
            }
            let run = try await env.refreshRoster(token: admin, full: true)
            let id = try #require(run["node", "id"] as? String, "\(run.text)")
            #expect(run["node", "rejected"] as? Int == 2, "\(run.text)")
            let page =
                "query($id: ID!, $after: String) { node(id: $id) { ... on RosterRun { rejects(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { collection sourcedId location reason } } } } }"
            let first = try await env.post(page, ["id": id], token: admin)
            #expect(first["node", "rejects", "totalCount"] as? Int == 2, "\(first.text)")
            #expect(first["node", "rejects", "pageInfo", "hasNextPage"] as? Bool == true)
            let reject = try #require((first["node", "rejects", "nodes"] as? [[String: Any]])?.first, "\(first.text)")
            #expect(reject["collection"] as? String == "users")
            #expect((reject["reason"] as? String)?.contains("role 'Student'") == true, "\(reject)")
            #expect((reject["location"] as? String)?.isEmpty == false)
            let after = try #require(first["node", "rejects", "pageInfo", "endCursor"] as? String)
            let second = try await env.post(page, ["id": id, "after": after], token: admin)
            let next = try #require((second["node", "rejects", "nodes"] as? [[String: Any]])?.first, "\(second.text)")
            #expect(next["sourcedId"] as? String != reject["sourcedId"] as? String)
            #expect(second["node", "rejects", "pageInfo", "hasNextPage"] as? Bool == false)
            #expect(try await env.post(page, ["id": id, "after": "not-a-cursor"], token: admin).codes == ["BAD_USER_INPUT"])
            // Another pull's cursor is refused, not read as a place in this one.
            let again = try await env.refreshRoster(token: admin, full: true)
            let other = try #require(again["node", "id"] as? String, "\(again.text)")
            #expect(other != id)
            #expect(try await env.post(page, ["id": other, "after": after], token: admin).codes == ["BAD_USER_INPUT"])
        }
    }

    @Test("an error group by school or teacher carries the id that narrows syncErrors to it; an org's default schedule reads back as saved")
    func groupsAndDefault() async throws {
        try await withGateway { env in
            let admin = try Self.districtAdmin(env)
            let (a, b) = try Self.twoSchools(env)
            // Neither section is configured: syncing them anyway puts their items in ERROR.
            for s in [a, b] {
                try await env.feed(section: s.section, teacher: s.teacher, course: "lms-\(s.section)", materials: 2, grades: false)
                let sync = try await env.post(
                    "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { userErrors { message } } }", ["i": ["sectionId": try env.sectionID(s.section)]],
                    token: try env.token(.teacher, user: s.teacher))
                #expect(sync.errors.isEmpty, "\(sync.text)")
            }
            for (by, key) in [("SCHOOL", env.school(of: b.section)), ("TEACHER", b.teacher)] {
                let groups = try await env.post(
                    "query($by: SyncErrorGrouping!) { syncErrorSummary(groupBy: $by) { nodes { key id count } } }", ["by": by], token: admin)
                let group = try #require((groups["syncErrorSummary", "nodes"] as? [[String: Any]])?.first { $0["key"] as? String == key }, "\(groups.text)")
                let filter = by == "SCHOOL" ? "schoolId" : "teacherId"
                let items = try await env.post(
                    "query($f: SyncErrorFilter) { syncErrors(filter: $f) { totalCount nodes { section { sourcedId } } } }", ["f": [filter: group["id"]!]],
                    token: admin)
                #expect(items["syncErrors", "totalCount"] as? Int == group["count"] as? Int, "\(items.text)")
                #expect(
                    (items["syncErrors", "nodes"] as? [[String: Any]])?.allSatisfy { ($0["section"] as? [String: Any])?["sourcedId"] as? String == b.section }
                        == true)
            }
            let codes = try await env.post("{ syncErrorSummary(groupBy: CODE) { nodes { id } } }", token: admin)
            #expect((codes["syncErrorSummary", "nodes"] as? [[String: Any]])?.allSatisfy { $0["id"] is NSNull } == true, "\(codes.text)")
            #expect((codes["syncErrorSummary", "nodes"] as? [[String: Any]])?.isEmpty == false, "\(codes.text)")

            let read = "query($s: String!) { orgBySourcedId(sourcedId: $s) { defaultSyncSchedule { enabled weekday startTime timeZone isDefault } } }"
            let none = try await env.post(read, ["s": env.districtOrg], token: admin)
            #expect(none.errors.isEmpty && none["orgBySourcedId"] != nil && none["orgBySourcedId", "defaultSyncSchedule"] == nil, "\(none.text)")
            let saved = try await env.post(
                "mutation($i: SaveDefaultSyncScheduleInput!) { saveDefaultSyncSchedule(input: $i) { userErrors { message } } }",
                ["i": ["schedule": ["weekday": 3, "startTime": "17:30", "timeZone": "America/Chicago"]]], token: admin)
            #expect((saved["saveDefaultSyncSchedule", "userErrors"] as? [Any])?.isEmpty == true, "\(saved.text)")
            let back = try await env.post(read, ["s": env.districtOrg], token: admin)
            #expect(back["orgBySourcedId", "defaultSyncSchedule", "weekday"] as? Int == 3, "\(back.text)")
            #expect(back["orgBySourcedId", "defaultSyncSchedule", "startTime"] as? String == "17:30")
            #expect(back["orgBySourcedId", "defaultSyncSchedule", "timeZone"] as? String == "America/Chicago")
            _ = try await env.post(
                "mutation($i: SaveDefaultSyncScheduleInput!) { saveDefaultSyncSchedule(input: $i) { userErrors { message } } }", ["i": ["schedule": NSNull()]],
                token: admin)
            let off = try await env.post(read, ["s": env.districtOrg], token: admin)
            #expect(off["orgBySourcedId", "defaultSyncSchedule", "enabled"] as? Bool == false, "\(off.text)")
        }
    }

    @Test(
        "in Chromium an admin sees no teacher controls; groups errors by problem, school and teacher and opens a group; discards writes waiting on a SIS that fails, then retries them once it answers; saves the default schedule; pulls the roster and reads its rejects and the connection's health"
    )
    func adminDay() async throws {
        // Writes the SIS fails wait 30 s before their next attempt: long enough to be discarded.
        try await withGateway(retryDelay: 30) { env in
            let admin = try Self.districtAdmin(env)
            let (a, b) = try Self.twoSchools(env)
            let teacherA = try env.token(.teacher, user: a.teacher), teacherB = try env.token(.teacher, user: b.teacher)
            let fedA = try await env.feed(section: a.section, teacher: a.teacher, course: "lms-a", materials: 3)
            try await env.feed(section: b.section, teacher: b.teacher, course: "lms-b", materials: 2, grades: false)
            try await env.mapToFirstSISCategory(sectionID: try env.sectionID(a.section), token: teacherA)
            // B's teacher syncs a section with no category map (the API lets a script do it): its items show ERROR.
            let syncB = try await env.post(
                "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { userErrors { message } } }", ["i": ["sectionId": try env.sectionID(b.section)]],
                token: teacherB)
            #expect(syncB.errors.isEmpty, "\(syncB.text)")
            // The SIS now fails every request: A's writes wait on it.
            var failing = FaultRates()
            failing.serverError = 1
            env.running.sandbox.faults.setRates(failing)
            let syncA = try await env.post(
                "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { message } } }",
                ["i": ["sectionId": try env.sectionID(a.section)]], token: teacherA)
            let runA = try #require(syncA["syncChanges", "run", "id"] as? String, "\(syncA.text)")
            try await env.waitUntil {
                let h = try await env.post("{ connectionHealth { unreachableSince pendingWrites } }", token: admin)
                return h["connectionHealth", "unreachableSince"] is String && (h["connectionHealth", "pendingWrites"] as? Int ?? 0) > 0
            }

            let browser = try await WebDriver()
            do {
                try await day(env, browser, admin: admin, runA: runA, fedA: fedA, a: a, b: b, teacherA: teacherA)
            } catch {
                try? await browser.screenshot(to: FileManager.default.temporaryDirectory.appending(path: "admin-console-failure.png"))
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    func day(
        _ env: GatewayEnv, _ b: WebDriver, admin: String, runA: String, fedA: FedCourse, a: (section: String, teacher: String),
        b sectionB: (section: String, teacher: String), teacherA: String
    ) async throws {
        try await b.open(env.base.absoluteString + "/widget#token=" + admin)
        try await b.wait("the console", "return !document.getElementById('console').hidden && document.querySelectorAll('#groups tbody tr').length > 0")
        // No teacher's controls: no section picker, no Sync changes, no category map.
        #expect(
            try await b.script(
                "return [document.getElementById('app').hidden, document.getElementById('picker').hidden, document.getElementById('syncchanges').offsetParent === null]"
            ) as? [Bool] == [true, true, true])
        #expect(try await b.text("#consoleorg").hasPrefix("Dana Reyes, administrator of"))
        // The SIS does not answer: said above every tab.
        try await b.wait("the connection's trouble", "return !document.getElementById('consolehealth').hidden")
        #expect(try await b.text("#consolehealth").contains("has not answered since"))

        // Errors, by problem, then by school and teacher, each group opening to its items.
        let codes = try await b.texts("#groups tbody tr td:first-child")
        #expect(codes.contains("Section not configured"), "\(codes)")
        try await b.click("#groupby option[value='SCHOOL']")
        let schoolB = try #require(env.data.record(.orgs, env.school(of: sectionB.section))?["name"]?.stringValue)
        try await b.wait(
            "the schools", "return [...document.querySelectorAll('#groups tbody tr td:first-child')].some(td => td.innerText === arguments[0])", [schoolB])
        #expect(try await b.text("#groupheading") == "School")
        try await b.click("#groups tbody tr:first-child button")
        try await b.wait("the group's items", "return !document.getElementById('drill').hidden && document.querySelectorAll('#erroritems tbody tr').length > 0")
        #expect(try await b.text("#drilltitle").contains(schoolB), "the only school with errors yet is B's")
        let sectionTitleB = try #require(env.data.record(.classes, sectionB.section)?["title"]?.stringValue)
        let itemSections = try await b.texts("#erroritems tbody tr td:nth-child(2)")
        #expect(!itemSections.isEmpty && itemSections.allSatisfy { $0.hasPrefix(sectionTitleB) }, "\(itemSections)")
        try await b.click("#groupby option[value='TEACHER']")
        try await b.wait("the teachers", "return document.getElementById('groupheading').innerText === 'Teacher' && document.getElementById('drill').hidden")
        let teacherB = try #require(env.data.record(.users, sectionB.teacher))
        let nameB = "\(teacherB["givenName"]!.stringValue!) \(teacherB["familyName"]!.stringValue!)"
        #expect(try await b.texts("#groups tbody tr td:first-child").contains(nameB))

        // Sync runs: A's run waits on the SIS; its waiting writes are discarded.
        try await b.click("#tab-orgruns")
        try await b.wait("the runs", "return document.querySelectorAll('#orgruns tbody tr:not(.rundetails)').length >= 2")
        let sectionTitleA = try #require(env.data.record(.classes, a.section)?["title"]?.stringValue)
        #expect(try await b.text("#orgruns tbody tr:first-child td:nth-child(2)").hasPrefix(sectionTitleA), "newest first, with its section")
        try await b.click("#orgruns tbody tr:first-child button.link")
        try await b.wait("the run's writes", "return !!document.querySelector('#orgruns tr.rundetails:not([hidden]) button.discard')")
        try await b.screenshot(to: WidgetBrowserTests.screenshots.appending(path: "admin-runs.png"))
        try await b.click("#orgruns tr.rundetails:not([hidden]) .actions button.discard")
        try await b.wait("the discard", "return document.getElementById('message').innerText.includes('discarded')")
        let discarded = try await env.post(
            "query($id: ID!) { node(id: $id) { ... on SyncRun { jobs(state: [AVAILABLE, SCHEDULED, RETRYABLE, RUNNING]) { totalCount } } } }", ["id": runA],
            token: admin)
        #expect(discarded["node", "jobs", "totalCount"] as? Int == 0, "nothing of the run waits: \(discarded.text)")
        let material = try #require(fedA.materials.values.sorted().first)
        let item = "query($id: ID!) { node(id: $id) { ... on Material { syncStatus } } }"
        #expect(try await env.post(item, ["id": material], token: teacherA)["node", "syncStatus"] as? String == "ERROR")

        // The SIS answers again: the discarded writes are sent again, and go through.
        env.running.sandbox.faults.setRates(FaultRates())
        try await b.click("#orgruns tbody tr:first-child button.link")
        try await b.wait("the run's failed writes", "return !!document.querySelector('#orgruns tr.rundetails:not([hidden]) .actions button.retry')")
        try await b.click("#orgruns tr.rundetails:not([hidden]) .actions button.retry")
        try await b.wait("the retry", "return document.getElementById('message').innerText.startsWith('Sent again: 1 new run')")
        try await env.waitUntil(timeout: 30) {
            try await env.post(item, ["id": material], token: teacherA)["node", "syncStatus"] as? String == "SUCCESSFUL"
        }
        try await b.wait("the retry's run", "return document.querySelectorAll('#orgruns tbody tr:not(.rundetails)').length >= 3")

        // The default schedule, in its own zone.
        try await b.click("#tab-default")
        try await b.wait("the default's form", "return document.getElementById('defaultzone').options.length > 100")
        try await b.click("#defaultweekday option[value='3']")
        _ = try await b.script(
            "const z = document.getElementById('defaultzone'); z.value = 'America/Chicago'; document.getElementById('defaultstart').value = '17:30';")
        try await b.click("#defaultform button[type=submit]")
        try await b.wait("the default saved", "return document.getElementById('defaultsaved').innerText.startsWith('Default schedule saved')")
        #expect(try await b.text("#defaultnow").hasPrefix("Every Wednesday within 3 hours after 17:30 (America/Chicago)"))
        let schedule = try await env.post(
            "query($id: ID!) { section(id: $id) { schedule { isDefault weekday startTime timeZone } } }", ["id": try env.sectionID(sectionB.section)],
            token: admin)
        #expect(schedule["section", "schedule", "isDefault"] as? Bool == true, "\(schedule.text)")
        #expect(schedule["section", "schedule", "weekday"] as? Int == 3)
        #expect(schedule["section", "schedule", "timeZone"] as? String == "America/Chicago")

        // The roster: a pull asked for here, its rejected row, and the connection answering again.
        var student = try #require(env.data.all(.users).first { $0["role"]?.stringValue == "student" })
        student["role"] = "Student"
        env.data.inject(.users, replacing: student["sourcedId"]!.stringValue!, with: student)
        try await b.click("#tab-roster")
        try await b.wait("the roster's tab", "return document.getElementById('healthtext').innerText.length > 0")
        // A full pull: the changed row keeps its old dateLastModified, as a SIS that does not stamp it would.
        try await b.click("#pullfull")
        try await b.click("#pullroster")
        try await b.wait(
            "the pull to finish", timeout: 60,
            "return document.querySelector('#rosterruns tbody tr:first-child td:nth-child(3)')?.innerText === 'Succeeded'")
        #expect(try await b.text("#rosterlast").hasPrefix("Last pull finished"))
        let last = try await b.text("#rosterlast")
        #expect(last.hasSuffix("1 rejected."), "\(last)")
        try await b.click("#rosterruns tbody tr:first-child button.link")
        try await b.wait("the rejects", "return document.querySelectorAll('#rosterruns ul.rejects li').length === 1")
        let reject = try await b.text("#rosterruns ul.rejects li")
        #expect(reject.hasPrefix("users \(student["sourcedId"]!.stringValue!) (") && reject.contains("role 'Student'"), "\(reject)")
        try await b.wait("the SIS answering", timeout: 15, "return document.getElementById('healthtext').innerText.startsWith('The SIS answers.')")
        #expect(try await b.script("return document.getElementById('consolehealth').hidden") as? Bool == true)

        // Errors again, for the screenshot: A's items went through; B's stay.
        try await b.click("#tab-errors")
        try await b.click("#groupby option[value='CODE']")
        try await b.wait("the codes", "return document.getElementById('groupheading').innerText === 'Problem'")
        try await b.click("#groups tbody tr:first-child button")
        try await b.wait("the group's items", "return !document.getElementById('drill').hidden && document.querySelectorAll('#erroritems tbody tr').length > 0")
        try await b.screenshot(to: WidgetBrowserTests.screenshots.appending(path: "admin-errors.png"))

        // A teacher's link opened in the same page: nothing of the admin's stays on screen.
        _ = try await b.script("location.hash = 'token=' + arguments[0]", [teacherA])
        try await b.wait("the teacher's view", "return !document.getElementById('app').hidden && document.getElementById('console').hidden")
        #expect(try await b.script("return document.querySelectorAll('#groups tbody tr, #orgruns tbody tr').length") as? Int == 0, "the admin's rows are gone")
    }
}
