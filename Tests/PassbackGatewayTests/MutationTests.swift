import Foundation
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

/// Every mutation: what it changes, the user errors of bad input (which change nothing), and
/// idempotent repeats.
@Suite("Mutations", .serialized)
struct MutationTests {
    struct Setup {
        var fed: FedCourse
        var sectionID: String
        var token: String
        var lms: [String]
        var sis: [String]
    }

    func setup(_ env: GatewayEnv, materials: Int = 3) async throws -> Setup {
        let (section, teacher) = env.yearLongSection
        let fed = try await env.feed(section: section, teacher: teacher, materials: materials)
        let token = try env.token(.teacher, user: teacher)
        let sectionID = try env.sectionID(section)
        let cats = try await env.post(
            "query($id: ID!) { section(id: $id) { lmsCategories { nodes { id } } sisCategories { nodes { id } } } }", ["id": sectionID], token: token)
        return Setup(
            fed: fed, sectionID: sectionID, token: token, lms: (cats["section", "lmsCategories", "nodes"] as! [[String: Any]]).map { $0["id"] as! String },
            sis: (cats["section", "sisCategories", "nodes"] as! [[String: Any]]).map { $0["id"] as! String })
    }

    func map(_ env: GatewayEnv, _ s: Setup, _ rows: [[String: Any]], key: String? = nil) async throws -> Reply {
        var input: [String: Any] = ["sectionId": s.sectionID, "map": rows]
        if let key { input["idempotencyKey"] = key }
        return try await env.post(
            """
            mutation($i: SaveCategoryMapInput!) { saveCategoryMap(input: $i) { section { configured categoryMap { nodes { lmsCategory { id } sisCategory { id } } } }
              userErrors { field message code } } }
            """, ["i": input], token: s.token)
    }

    func runs(_ env: GatewayEnv, _ s: Setup) async throws -> Int {
        let r = try await env.post("query($id: ID!) { section(id: $id) { syncRuns { totalCount } } }", ["id": s.sectionID], token: s.token)
        return r["section", "syncRuns", "totalCount"] as? Int ?? -1
    }

    func waitForRuns(_ env: GatewayEnv, _ s: Setup) async throws {
        try await env.waitUntil {
            let r = try await env.post(
                "query($id: ID!) { section(id: $id) { syncRuns(first: 20) { nodes { finishedAt } } } }", ["id": s.sectionID], token: s.token)
            return (r["section", "syncRuns", "nodes"] as? [[String: Any]] ?? []).allSatisfy { !($0["finishedAt"] is NSNull) && $0["finishedAt"] != nil }
        }
    }

    func material(_ env: GatewayEnv, _ s: Setup, _ lmsID: String) async throws -> [String: Any] {
        let r = try await env.post(
            "query($id: ID!) { node(id: $id) { ... on Material { lmsId syncStatus syncToSIS deleted problems { nodes { code } } } } }",
            ["id": s.fed.materials[lmsID]!], token: s.token)
        return try #require(r["node"] as? [String: Any], "\(r.text)")
    }

    @Test("saveCategoryMap refuses an unknown SIS category, a category of another course and a doubled LMS category, and changes nothing; a good map saves")
    func categoryMap() async throws {
        try await withGateway { env in
            let s = try await setup(env)
            let unknown = try await map(env, s, [["lmsCategoryId": s.lms[0], "sisCategoryId": GlobalID.make("SisCategory", "no-such")]])
            #expect(unknown["saveCategoryMap", "userErrors", 0, "code"] as? String == "NOT_FOUND", "\(unknown.text)")
            let doubled = try await map(
                env, s, [["lmsCategoryId": s.lms[0], "sisCategoryId": s.sis[0]], ["lmsCategoryId": s.lms[0], "sisCategoryId": s.sis[1]]])
            #expect(doubled["saveCategoryMap", "userErrors", 0, "code"] as? String == "CONFLICT")
            #expect(doubled["saveCategoryMap", "userErrors", 0, "field"] as? [String] == ["input", "map", "1", "lmsCategoryId"])
            try await env.feed(
                section: env.data.all(.classes).compactMap { $0["sourcedId"]?.stringValue }.first { $0 != s.fed.section }!,
                teacher: "x", course: "other", materials: 0)
            let otherCategory = GlobalID.make(
                "LmsCategory", try #require(try APIReads(env.database).lmsCourse(connection: "district", lmsID: "other")).id * 1000)
            let foreign = try await map(env, s, [["lmsCategoryId": otherCategory, "sisCategoryId": s.sis[0]]])
            #expect(foreign["saveCategoryMap", "userErrors", 0, "code"] as? String == "NOT_FOUND")
            #expect(foreign["saveCategoryMap", "section"] == nil)
            let check = try await env.post("query($id: ID!) { section(id: $id) { configured } }", ["id": s.sectionID], token: s.token)
            #expect(check["section", "configured"] as? Bool == false, "refused maps changed nothing")

            let good = try await map(env, s, [["lmsCategoryId": s.lms[0], "sisCategoryId": s.sis[0]], ["lmsCategoryId": s.lms[1], "sisCategoryId": s.sis[0]]])
            #expect((good["saveCategoryMap", "userErrors"] as? [Any])?.isEmpty == true, "\(good.text)")
            #expect(good["saveCategoryMap", "section", "configured"] as? Bool == true)
            #expect((good["saveCategoryMap", "section", "categoryMap", "nodes"] as? [Any])?.count == 2)
        }
    }

    @Test("an idempotency key returns the first answer: one run, one category; the same key with other input is a conflict")
    func idempotency() async throws {
        try await withGateway { env in
            let s = try await setup(env)
            _ = try await map(env, s, s.lms.map { ["lmsCategoryId": $0, "sisCategoryId": s.sis[0]] })
            let sync = "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { code message } } }"
            let first = try await env.post(sync, ["i": ["sectionId": s.sectionID, "idempotencyKey": "sync-1"]], token: s.token)
            let repeated = try await env.post(sync, ["i": ["sectionId": s.sectionID, "idempotencyKey": "sync-1"]], token: s.token)
            #expect(first["syncChanges", "run", "id"] != nil)
            #expect(first["syncChanges", "run", "id"] as? String == repeated["syncChanges", "run", "id"] as? String)
            #expect(try await runs(env, s) == 1)
            let fresh = try await env.post(sync, ["i": ["sectionId": s.sectionID, "idempotencyKey": "sync-2"]], token: s.token)
            #expect(fresh["syncChanges", "run", "id"] as? String != first["syncChanges", "run", "id"] as? String)
            #expect(try await runs(env, s) == 2)

            let create =
                "mutation($i: CreateLmsCategoryInput!) { createLmsCategory(input: $i) { lmsCategory { id title createdByTeacher } userErrors { code field } } }"
            let c1 = try await env.post(create, ["i": ["sectionId": s.sectionID, "title": "Labs", "idempotencyKey": "cat-1"]], token: s.token)
            let c2 = try await env.post(create, ["i": ["sectionId": s.sectionID, "title": "Labs", "idempotencyKey": "cat-1"]], token: s.token)
            #expect(c1["createLmsCategory", "lmsCategory", "id"] as? String == c2["createLmsCategory", "lmsCategory", "id"] as? String)
            #expect(c1["createLmsCategory", "lmsCategory", "createdByTeacher"] as? Bool == true)
            let c3 = try await env.post(create, ["i": ["sectionId": s.sectionID, "title": "Other", "idempotencyKey": "cat-1"]], token: s.token)
            #expect(c3["createLmsCategory", "userErrors", 0, "code"] as? String == "CONFLICT")
            #expect(c3["createLmsCategory", "userErrors", 0, "field"] as? [String] == ["input", "idempotencyKey"])
            let again = try await env.post(create, ["i": ["sectionId": s.sectionID, "title": "labs"]], token: s.token)
            #expect(again["createLmsCategory", "userErrors", 0, "code"] as? String == "CONFLICT", "a second category of the same name: \(again.text)")
            let empty = try await env.post(create, ["i": ["sectionId": s.sectionID, "title": "  "]], token: s.token)
            #expect(empty["createLmsCategory", "userErrors", 0, "code"] as? String == "INVALID")
            let cats = try await env.post("query($id: ID!) { section(id: $id) { lmsCategories { nodes { title } } } }", ["id": s.sectionID], token: s.token)
            #expect((cats["section", "lmsCategories", "nodes"] as? [[String: Any]])?.filter { $0["title"] as? String == "Labs" }.count == 1)
        }
    }

    @Test("opting out shows OPT_OUT; syncing one material sends only it; delete hides and cancels, restore brings it back")
    func materials() async throws {
        try await withGateway { env in
            let s = try await setup(env)
            _ = try await map(env, s, s.lms.map { ["lmsCategoryId": $0, "sisCategoryId": s.sis[0]] })
            let optOut = try await env.post(
                "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncStatus syncToSIS } } }",
                ["i": ["materialId": s.fed.materials["m-2"]!, "syncToSIS": false]], token: s.token)
            #expect(optOut["setMaterialSyncToSIS", "material", "syncStatus"] as? String == "OPT_OUT", "\(optOut.text)")

            let planOne = try await env.post(
                "mutation($i: PlanSyncInput!) { planSync(input: $i) { writeCount items { nodes { material { lmsId } decision } } } }",
                ["i": ["sectionId": s.sectionID, "materialIds": [s.fed.materials["m-0"]!]]], token: s.token)
            #expect(
                (planOne["planSync", "items", "nodes"] as? [[String: Any]])?.map { ($0["material"] as? [String: Any])?["lmsId"] as? String } == ["m-0"],
                "\(planOne.text)")
            #expect((planOne["planSync", "writeCount"] as? Int ?? 0) > 1, "a lineItem and its results")
            let one = try await env.post(
                "mutation($i: SyncMaterialInput!) { syncMaterial(input: $i) { run { trigger itemsSent } userErrors { message } } }",
                ["i": ["materialId": s.fed.materials["m-0"]!]], token: s.token)
            #expect(one["syncMaterial", "run", "trigger"] as? String == "ITEM", "\(one.text)")
            #expect(one["syncMaterial", "run", "itemsSent"] as? Int == 1)
            try await waitForRuns(env, s)
            #expect(try await material(env, s, "m-0")["syncStatus"] as? String == "SUCCESSFUL")
            #expect(try await material(env, s, "m-1")["syncStatus"] as? String == "NOT_SYNCED")

            let delete = "mutation($i: DeleteMaterialInput!) { deleteMaterial(input: $i) { material { lmsId ids } userErrors { code } } }"
            let deleted = try await env.post(delete, ["i": ["courseLmsId": s.fed.lmsID, "lmsId": "m-1"]], token: s.fed.integration)
            #expect(deleted["deleteMaterial", "material", "ids"] as? [String] == [s.fed.materials["m-1"]!], "\(deleted.text)")
            let list = "query($id: ID!, $all: Boolean) { section(id: $id) { materials(filter: { includeDeleted: $all }) { nodes { lmsId deleted } } } }"
            let visible = try await env.post(list, ["id": s.sectionID, "all": false], token: s.token)
            #expect((visible["section", "materials", "nodes"] as? [[String: Any]])?.map { $0["lmsId"] as? String } == ["m-0", "m-2"])
            let withDeleted = try await env.post(list, ["id": s.sectionID, "all": true], token: s.token)
            #expect((withDeleted["section", "materials", "nodes"] as? [[String: Any]])?.count == 3)
            let missing = try await env.post(delete, ["i": ["courseLmsId": s.fed.lmsID, "lmsId": "nope"]], token: s.fed.integration)
            #expect(missing["deleteMaterial", "userErrors", 0, "code"] as? String == "NOT_FOUND")
            let restored = try await env.post(
                "mutation($i: RestoreMaterialInput!) { restoreMaterial(input: $i) { material { lmsId } userErrors { code } } }",
                ["i": ["courseLmsId": s.fed.lmsID, "lmsId": "m-1"]], token: s.fed.integration)
            #expect(restored["restoreMaterial", "material", "lmsId"] as? String == "m-1", "\(restored.text)")
            #expect(try await material(env, s, "m-1")["deleted"] as? Bool == false)
        }
    }

    @Test("the LMS feed checks a whole batch before writing: one bad row writes nothing and names its line")
    func feedBatches() async throws {
        try await withGateway { env in
            let s = try await setup(env)
            let upsert =
                "mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { materials(first: 100) { nodes { lmsId } } userErrors { field code message } } }"
            let bad = try await env.post(
                upsert,
                [
                    "i": [
                        "courseLmsId": s.fed.lmsID,
                        "materials": [
                            ["lmsId": "n-1", "title": "Fine"],
                            ["lmsId": "n-2", "title": "Bad", "categoryLmsId": "nope"]
                        ]
                    ]
                ],
                token: s.fed.integration)
            #expect(bad["upsertMaterials", "userErrors", 0, "field"] as? [String] == ["input", "materials", "1", "categoryLmsId"], "\(bad.text)")
            let after = try await env.post("query($id: ID!) { section(id: $id) { materials { totalCount } } }", ["id": s.sectionID], token: s.token)
            #expect(after["section", "materials", "totalCount"] as? Int == 3, "nothing of the batch was written")
            let grades = "mutation($i: RecordGradesInput!) { recordGrades(input: $i) { recorded userErrors { field code } } }"
            let student = env.students(of: s.fed.section)[0]
            let both = try await env.post(
                grades,
                [
                    "i": [
                        "courseLmsId": s.fed.lmsID,
                        "grades": [
                            ["materialLmsId": "m-0", "studentSourcedId": student, "score": 5],
                            [
                                "materialLmsId": "m-0", "studentSourcedId": student, "score": 5,
                                "exception": "EXCUSED"
                            ]
                        ]
                    ]
                ], token: s.fed.integration)
            #expect(both["recordGrades", "userErrors", 0, "field"] as? [String] == ["input", "grades", "1", "exception"], "\(both.text)")
            #expect(both["recordGrades", "recorded"] as? Int == 0)
            let noCourse = try await env.post(grades, ["i": ["courseLmsId": "nope", "grades": [] as [Any]]], token: s.fed.integration)
            #expect(noCourse["recordGrades", "userErrors", 0, "code"] as? String == "NOT_FOUND")
            let tooMany = try await env.post(
                grades,
                [
                    "i": [
                        "courseLmsId": s.fed.lmsID,
                        "grades": (0..<1001).map { _ in ["materialLmsId": "m-0", "studentSourcedId": student, "score": 1] }
                    ]
                ],
                token: s.fed.integration)
            #expect(tooMany.codes == ["BAD_USER_INPUT"], "\(tooMany.text.prefix(300))")
            let excused = try await env.post(
                grades,
                [
                    "i": [
                        "courseLmsId": s.fed.lmsID,
                        "grades": [
                            [
                                "materialLmsId": "m-0", "studentSourcedId": student,
                                "exception": "EXCUSED"
                            ]
                        ]
                    ]
                ], token: s.fed.integration)
            #expect(excused["recordGrades", "recorded"] as? Int == 1)
            let read = try await env.post(
                "query($id: ID!) { node(id: $id) { ... on Material { grades(first: 100) { totalCount nodes { id studentSourcedId score exception } } } } }",
                ["id": s.fed.materials["m-0"]!], token: s.token)
            let mine = (read["node", "grades", "nodes"] as? [[String: Any]])?.first { $0["studentSourcedId"] as? String == student }
            #expect(mine?["exception"] as? String == "EXCUSED" && mine?["score"] == nil || mine?["score"] is NSNull, "\(read.text.prefix(400))")
            #expect(read["node", "grades", "totalCount"] as? Int == env.students(of: s.fed.section).count)
        }
    }

    @Test("schedules: invalid input is refused; a section's own schedule, all my courses, and the admin's default")
    func schedules() async throws {
        try await withGateway { env in
            let s = try await setup(env)
            let save =
                "mutation($i: SaveSyncScheduleInput!) { saveSyncSchedule(input: $i) { sections { nodes { sourcedId schedule { enabled weekday startTime timeZone windowHours savedAt effectiveAt isDefault } } } userErrors { field code message } } }"
            for (schedule, field) in [
                (["weekday": 8, "startTime": "18:00", "timeZone": "America/Chicago"], "weekday"),
                (["weekday": 1, "startTime": "6pm", "timeZone": "America/Chicago"], "startTime"),
                (["weekday": 1, "startTime": "18:00", "timeZone": "Mars/Olympus"], "timeZone")
            ] as [([String: Any], String)] {
                let r = try await env.post(save, ["i": ["sectionId": s.sectionID, "schedule": schedule]], token: s.token)
                #expect(r["saveSyncSchedule", "userErrors", 0, "field"] as? [String] == ["input", "schedule", field], "\(r.text)")
            }
            // A payload list's page that would be refused is refused before anything is saved, not after.
            for paging in ["first: 0", "first: 101", "after: \"bm90LWEtY3Vyc29y\""] {
                let refused = try await env.post(
                    """
                    mutation($i: SaveSyncScheduleInput!) { saveSyncSchedule(input: $i) { sections(\(paging)) { totalCount } userErrors { message } } }
                    """, ["i": ["sectionId": s.sectionID, "schedule": ["weekday": 5, "startTime": "07:00", "timeZone": "America/Chicago"]]], token: s.token)
                #expect(refused.codes == ["BAD_USER_INPUT"], "\(paging): \(refused.text)")
            }
            let unsaved = try await env.post("query($id: ID!) { section(id: $id) { schedule { weekday } } }", ["id": s.sectionID], token: s.token)
            #expect(unsaved["section", "schedule", "weekday"] as? Int != 5, "a refused request saved its schedule: \(unsaved.text)")
            let ok = try await env.post(
                save, ["i": ["sectionId": s.sectionID, "schedule": ["weekday": 3, "startTime": "18:30", "timeZone": "America/Chicago"]]],
                token: s.token)
            let schedule = try #require(ok["saveSyncSchedule", "sections", "nodes", 0, "schedule"] as? [String: Any], "\(ok.text)")
            #expect(schedule["weekday"] as? Int == 3 && schedule["startTime"] as? String == "18:30" && schedule["windowHours"] as? Int == 3)
            #expect(schedule["isDefault"] as? Bool == false)
            let saved = try #require(Scalars.instant(schedule["savedAt"] as! String)),
                effective = try #require(Scalars.instant(schedule["effectiveAt"] as! String))
            #expect(effective.timeIntervalSince(saved) == 24 * 3600)

            // Another section of the same teacher, linked to its own course, gets it with "all my courses".
            let teacher = env.yearLongSection.teacher
            let second = try #require(env.sectionsByTeacher[teacher]?.first { $0 != s.fed.section })
            try await env.feed(section: second, teacher: teacher, course: "lms-2", materials: 0)
            let all = try await env.post(
                save, ["i": ["allMyCourses": true, "schedule": ["weekday": 5, "startTime": "07:00", "timeZone": "UTC"]]], token: s.token)
            #expect(
                Set((all["saveSyncSchedule", "sections", "nodes"] as? [[String: Any]] ?? []).compactMap { $0["sourcedId"] as? String }) == [
                    s.fed.section, second
                ],
                "\(all.text)")

            // An admin's default reaches a linked section with no schedule of its own.
            let third = try #require(
                env.data.all(.classes).compactMap { $0["sourcedId"]?.stringValue }.first { !(env.sectionsByTeacher[teacher] ?? []).contains($0) })
            try await env.feed(section: third, teacher: "x", course: "lms-3", materials: 0)
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)
            let def = try await env.post(
                "mutation($i: SaveDefaultSyncScheduleInput!) { saveDefaultSyncSchedule(input: $i) { org { sourcedId } userErrors { message } } }",
                ["i": ["schedule": ["weekday": 7, "startTime": "20:00", "timeZone": "America/New_York"]]], token: admin)
            #expect(def["saveDefaultSyncSchedule", "org", "sourcedId"] as? String == env.districtOrg, "\(def.text)")
            let read = try await env.post(
                "query($id: ID!) { section(id: $id) { schedule { weekday isDefault } } }", ["id": try env.sectionID(third)], token: admin)
            #expect(read["section", "schedule", "weekday"] as? Int == 7 && read["section", "schedule", "isDefault"] as? Bool == true, "\(read.text)")
        }
    }

    @Test("admins discard writes still waiting (items show ERROR) and retry failed ones as a new run that lands")
    func discardAndRetry() async throws {
        try await withGateway(retryDelay: 60) { env in
            let s = try await setup(env, materials: 2)
            _ = try await map(env, s, s.lms.map { ["lmsCategoryId": $0, "sisCategoryId": s.sis[0]] })
            // The SIS fails both lineItems once: they wait a minute to retry, and their results wait on them.
            env.running.sandbox.faults.script([.serverError, .serverError])
            let sync = try await env.post(
                "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } } }", ["i": ["sectionId": s.sectionID]], token: s.token)
            let runID = try #require(sync["syncChanges", "run", "id"] as? String)
            let jobsQuery = "query($id: ID!) { node(id: $id) { ... on SyncRun { state jobs(first: 100) { nodes { id state kind } } } } }"
            try await env.waitUntil {
                let r = try await env.post(jobsQuery, ["id": runID], token: s.token)
                return (r["node", "jobs", "nodes"] as? [[String: Any]] ?? []).contains {
                    $0["state"] as? String == "SCHEDULED" || $0["state"] as? String == "RETRYABLE"
                }
            }
            let admin = try env.token(.admin, user: env.yearLongSection.teacher, org: env.districtOrg)
            let jobs = try await env.post(jobsQuery, ["id": runID], token: admin)
            let waiting = (jobs["node", "jobs", "nodes"] as? [[String: Any]] ?? []).filter {
                ["AVAILABLE", "SCHEDULED", "RETRYABLE"].contains($0["state"] as? String ?? "")
            }
            .map { $0["id"] as! String }
            #expect(!waiting.isEmpty, "\(jobs.text)")
            // An admin of the other school cannot touch them: each is "not found" in their org.
            let otherSchool = try #require(env.schools.first { $0 != env.school(of: s.fed.section) })
            let outsider = try env.token(.admin, user: env.yearLongSection.teacher, org: otherSchool)
            let refused = try await env.post(
                "mutation($i: DiscardSyncJobsInput!) { discardSyncJobs(input: $i) { jobs { nodes { id } } userErrors { code field } } }",
                ["i": ["jobIds": [waiting[0]]]], token: outsider)
            #expect(refused["discardSyncJobs", "userErrors", 0, "code"] as? String == "NOT_FOUND", "\(refused.text)")
            #expect((refused["discardSyncJobs", "jobs", "nodes"] as? [Any])?.isEmpty == true)
            let discard = try await env.post(
                "mutation($i: DiscardSyncJobsInput!) { discardSyncJobs(input: $i) { jobs { nodes { id state } } userErrors { message } } }",
                ["i": ["jobIds": waiting]], token: admin)
            #expect(
                !((discard["discardSyncJobs", "jobs", "nodes"] as? [[String: Any]]) ?? []).isEmpty,
                "\(discard.text.prefix(600)) after \(jobs.text.prefix(1500))")
            #expect(
                (discard["discardSyncJobs", "jobs", "nodes"] as? [[String: Any]] ?? []).allSatisfy {
                    ["DISCARDED", "CANCELLED"].contains($0["state"] as? String ?? "")
                })
            try await waitForRuns(env, s)
            #expect(try await material(env, s, "m-0")["syncStatus"] as? String == "ERROR")
            let again = try await env.post(
                "mutation($i: DiscardSyncJobsInput!) { discardSyncJobs(input: $i) { userErrors { code } } }",
                ["i": ["jobIds": [waiting[0]]]], token: admin)
            #expect(again["discardSyncJobs", "userErrors", 0, "code"] as? String == "CONFLICT", "a discarded job cannot be discarded again")

            let failed = try await env.post(jobsQuery, ["id": runID], token: admin)
            let failedIDs = (failed["node", "jobs", "nodes"] as? [[String: Any]] ?? []).filter {
                ["DISCARDED", "CANCELLED"].contains($0["state"] as? String ?? "")
            }
            .map { $0["id"] as! String }
            let retry = try await env.post(
                "mutation($i: RetrySyncJobsInput!) { retrySyncJobs(input: $i) { runs { nodes { id trigger startedBy } } userErrors { message } } }",
                ["i": ["jobIds": failedIDs]], token: admin)
            #expect((retry["retrySyncJobs", "runs", "nodes"] as? [Any])?.count == 1, "\(retry.text)")
            #expect(retry["retrySyncJobs", "runs", "nodes", 0, "startedBy"] as? String == env.yearLongSection.teacher)
            try await waitForRuns(env, s)
            #expect(try await material(env, s, "m-0")["syncStatus"] as? String == "SUCCESSFUL")
            #expect(try await material(env, s, "m-1")["syncStatus"] as? String == "SUCCESSFUL")
        }
    }

    @Test("refreshRoster queues a pull and returns at once; the run is followed with node(id:) to its end")
    func refreshRoster() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)
            env.data.modify(.classes, section) { $0["title"] = "Renamed in the SIS" }
            // The SIS takes 3 s to answer the pull's first request: a mutation that waited on it
            // would come back finished.
            env.running.sandbox.faults.script([.slow(milliseconds: 3000)])
            let r = try await env.post(
                "mutation { refreshRoster(input: {}) { rosterRun { id mode state startedAt requestedBy } userErrors { message } } }", token: admin)
            #expect(["QUEUED", "RUNNING"].contains(r["refreshRoster", "rosterRun", "state"] as? String ?? ""), "\(r.text)")
            #expect(r["refreshRoster", "rosterRun", "requestedBy"] as? String == teacher)
            let id = try #require(r["refreshRoster", "rosterRun", "id"] as? String)
            let done = try await env.finishedRosterRun(id, token: admin)
            #expect(done["node", "state"] as? String == "SUCCEEDED", "\(done.text)")
            #expect(done["node", "mode"] as? String == "delta")
            #expect((done["node", "updated"] as? Int ?? 0) >= 1)
            #expect(done["node", "startedAt"] != nil && done["node", "finishedAt"] != nil)
            let title = try await env.post("query($id: ID!) { section(id: $id) { title } }", ["id": try env.sectionID(section)], token: admin)
            #expect(title["section", "title"] as? String == "Renamed in the SIS")

            // Admins follow roster runs; a teacher cannot read one.
            let asTeacher = try await env.post("query($id: ID!) { node(id: $id) { id } }", ["id": id], token: try env.token(.teacher, user: teacher))
            #expect(asTeacher.codes == ["FORBIDDEN"], "\(asTeacher.text)")
        }
    }

    @Test("refreshRoster while a pull is queued returns that pull, made full if asked")
    func refreshRosterQueueAndFailure() async throws {
        try await withGateway { env in
            let (_, teacher) = env.yearLongSection
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)
            // Hold the runner on a slow first pull, so the next two requests wait in the queue.
            env.running.sandbox.faults.script([.slow(milliseconds: 2000)])
            let first = try await env.post("mutation { refreshRoster(input: {}) { rosterRun { id } } }", token: admin)
            try await env.waitUntil {
                let r = try await env.post(
                    "query($id: ID!) { node(id: $id) { ... on RosterRun { state } } }",
                    ["id": first["refreshRoster", "rosterRun", "id"] as? String ?? ""], token: admin)
                return r["node", "state"] as? String == "RUNNING"
            }
            let second = try await env.post("mutation { refreshRoster(input: {}) { rosterRun { id state mode } } }", token: admin)
            let third = try await env.post("mutation { refreshRoster(input: {full: true}) { rosterRun { id state mode } } }", token: admin)
            #expect(second["refreshRoster", "rosterRun", "state"] as? String == "QUEUED", "\(second.text)")
            #expect(second["refreshRoster", "rosterRun", "mode"] as? String == "delta")
            #expect(third["refreshRoster", "rosterRun", "id"] as? String == second["refreshRoster", "rosterRun", "id"] as? String)
            #expect(third["refreshRoster", "rosterRun", "mode"] as? String == "full")
            let queued = try #require(third["refreshRoster", "rosterRun", "id"] as? String)
            let done = try await env.finishedRosterRun(queued, token: admin)
            #expect(done["node", "state"] as? String == "SUCCEEDED", "\(done.text)")
            #expect(done["node", "mode"] as? String == "full")

        }
    }

    @Test("refreshRoster uses the connection's client: one OAuth 2 token for every refresh")
    func refreshRosterSharesTheToken() async throws {
        try await withGateway { env in
            let (_, teacher) = env.yearLongSection
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)
            let before = env.running.sandbox.tokensIssued
            for _ in 0..<3 {
                let r = try await env.post("mutation { refreshRoster(input: {}) { rosterRun { id } userErrors { message } } }", token: admin)
                let done = try await env.finishedRosterRun(try #require(r["refreshRoster", "rosterRun", "id"] as? String), token: admin)
                #expect(done["node", "state"] as? String == "SUCCEEDED", "\(done.text)")
            }
            #expect(env.running.sandbox.tokensIssued == before + 1)
        }
    }
}
