import Foundation
import PassbackCore
import PassbackTesting
import Testing

@testable import PassbackGateway

/// `passbackctl` against a running gateway: every command, and bad input.
@Suite("passbackctl", .serialized)
struct CLITests {
    func ctl(_ env: GatewayEnv, _ token: String, _ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(try builtBinary("passbackctl"), arguments, environment: ["PASSBACK_URL": env.base.absoluteString, "PASSBACK_TOKEN": token])
    }

    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appending(path: "passbackctl-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("against a server that runs only trusted documents, passbackctl's commands work: they send their documents' hashes")
    func trustedDocuments() async throws {
        var limits = GraphQLAPI.Limits()
        limits.onlyTrustedDocuments = true
        // The LMS feed is the operator's to trust (api.trustedDocuments); passbackctl's documents are known already.
        limits.trustedDocuments = GatewayEnv.feedDocuments.values.sorted().map { .init(path: "lms-feed.graphql", text: $0) }
        try await withGateway(limits: limits) { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 3)
            let token = try env.token(.teacher, user: teacher)
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)
            let refused = try await env.post("{ viewer { role } }", token: token)
            #expect(refused.status == 403 && refused.codes == ["DOCUMENT_NOT_TRUSTED"], "\(refused.text)")
            let steps: [(String, [String])] = [
                (
                    token,
                    ["mappings", "import", try file("lms_category,sis_category\nHomework,Homework\nQuizzes,Homework\nTests,Homework\n"), "--section", section]
                ),
                (token, ["mappings", "export", "--section", section]),
                (token, ["status", "--section", section]),
                (token, ["plan", "--section", section]),
                (token, ["sync", "--section", section, "--wait"]),
                (token, ["sync", "--section", section, "--material", "m-1", "--wait"]),
                (token, ["runs", "--section", section]),
                (admin, ["errors", "--org", env.school(of: section)]),
                (admin, ["errors", "--group-by", "school"]),
                (admin, ["roster-runs"]),
                (admin, ["default-schedule", "--weekday", "3", "--start", "18:00", "--zone", "America/Chicago"])
            ]
            for (who, arguments) in steps {
                let r = try await ctl(env, who, arguments)
                #expect(r.status == 0, "\(arguments): \(r.err)")
            }
            let runs = try await ctl(env, token, ["runs", "--section", section, "--format", "json"])
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as? [[String: Any]], "\(runs.out)")
            #expect(listed.count == 2, "\(runs.out)")
            let run = try #require(listed.first?["id"] as? String)
            let jobs = try await ctl(env, admin, ["jobs", "--run", run])
            #expect(jobs.status == 0, "\(jobs.err)")
        }
    }

    @Test("mappings export and import (by title, sourcedId or id), status, plan, sync --wait, runs, errors; bad CSV names its line and saves nothing")
    func everyCommand() async throws {
        try await withGateway { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 3) { i in i == 2 ? "2026-10-17T15:00:00Z" : "2026-09-0\(i + 1)T15:00:00Z" }
            let token = try env.token(.teacher, user: teacher)
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)

            let empty = try await ctl(env, token, ["mappings", "export", "--section", section])
            #expect(empty.status == 0, "\(empty.err)")
            let lines = empty.out.split(separator: "\r\n").map(String.init)
            #expect(lines.first == "lms_category_id,lms_category,sis_category_id,sis_category")
            #expect(lines.count == 4 && lines.dropFirst().allSatisfy { $0.hasSuffix(",,") }, "\(empty.out)")

            // Broken files: each names the line, and nothing is saved.
            let cases: [(String, String)] = [
                ("lms_category,sis_category\nHomework,Homework\nNope,Homework\n", "line 3: no LMS category 'Nope'"),
                ("lms_category,sis_category\nHomework,Homework\nQuizzes,Gym\n", "line 3: no SIS category 'Gym'"),
                ("lms_category,sis_category\nHomework,Homework\nhomework,Tests\n", "line 3: LMS category 'Homework' is already mapped on line 2"),
                ("title,category\nHomework,Homework\n", "line 1: the header needs"),
                ("lms_category,sis_category\n\"Homework,Homework\n", "line 2: a quoted field is never closed")
            ]
            for (csv, message) in cases {
                let r = try await ctl(env, token, ["mappings", "import", try file(csv), "--section", section])
                #expect(r.status == 1, "\(csv)")
                #expect(r.err.contains(message), "\(r.err)")
            }
            let still = try await env.post("query($id: ID!) { section(id: $id) { configured } }", ["id": try env.sectionID(section)], token: token)
            #expect(still["section", "configured"] as? Bool == false, "nothing was half-applied")

            let good = try await ctl(
                env, token,
                [
                    "mappings", "import", try file("lms_category,sis_category\nHomework,Homework\nQuizzes,d1-cat-quizzes\nTests,\n"),
                    "--section", section
                ])
            #expect(good.status == 0, "\(good.err)")
            #expect(good.out.contains("2 of 3 LMS categories mapped"))
            let exported = try await ctl(env, token, ["mappings", "export", "--section", section])
            #expect(exported.out.contains(",Homework,") && exported.out.contains(",Quizzes,"), "\(exported.out)")
            // An exported file imports back unchanged (ids this time).
            let again = try await ctl(env, token, ["mappings", "import", try file(exported.out), "--section", section])
            #expect(again.status == 0 && again.out.contains("2 of 3"), "\(again.err)")
            // A file of one line changes that category; the others keep their mapping (before: unmapped, exit 0).
            let oneLine = try await ctl(env, token, ["mappings", "import", try file("lms_category,sis_category\nTests,Homework\n"), "--section", section])
            #expect(
                oneLine.status == 0 && oneLine.out.contains("3 of 3") && oneLine.out.contains("2 not in the file kept their mapping"),
                "\(oneLine.out) \(oneLine.err)")
            let afterOne = try await ctl(env, token, ["mappings", "export", "--section", section])
            #expect(afterOne.out.contains(",Quizzes,"), "Quizzes kept its mapping: \(afterOne.out)")
            // --replace makes the file the whole map.
            let replaced = try await ctl(
                env, token,
                [
                    "mappings", "import", try file("lms_category,sis_category\nHomework,Homework\nQuizzes,d1-cat-quizzes\n"),
                    "--section", section, "--replace"
                ])
            #expect(replaced.status == 0 && replaced.out.contains("2 of 3") && !replaced.out.contains("kept"), "\(replaced.out) \(replaced.err)")

            let plan = try await ctl(env, token, ["plan", "--section", section, "--format", "json"])
            let planned = try #require(
                (try JSONSerialization.jsonObject(with: Data(plan.out.utf8)) as? [String: Any])?["items"] as? [[String: Any]], "\(plan.out)")
            #expect(planned.map { $0["decision"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") } == ["BLOCKED", "SEND", "SEND"], "\(plan.out)")

            let sync = try await ctl(env, token, ["sync", "--section", section, "--wait"])
            #expect(sync.status == 4, "a run with a blocked item is not a full success: \(sync.out) \(sync.err)")
            #expect(sync.out.contains("PARTIAL"))
            let one = try await ctl(env, token, ["sync", "--section", section, "--material", "m-0", "--wait", "--format", "json"])
            #expect(one.status == 0, "\(one.out) \(one.err)")
            #expect(one.out.contains("\"state\" : \"SUCCEEDED\""))

            let status = try await ctl(env, token, ["status", "--section", section, "--format", "csv"])
            #expect(status.status == 0)
            #expect(status.out.contains("m-0,Material 0,") && status.out.contains(",SUCCESSFUL,"), "\(status.out)")
            #expect(status.out.contains("DUE_DATE_OUTSIDE_GRADING_PERIOD"))
            let errorsOnly = try await ctl(env, token, ["status", "--section", try env.sectionID(section), "--status", "ERROR"])
            #expect(
                errorsOnly.out.split(separator: "\n").count == 3,
                "header, rule, and the one item in error (Tests is unmapped, its due date outside): \(errorsOnly.out)")

            let runs = try await ctl(env, token, ["runs", "--section", section])
            #expect(runs.status == 0 && runs.out.contains("SYNC_CHANGES") && runs.out.contains("ITEM"), "\(runs.out)")

            let errors = try await ctl(env, admin, ["errors"])
            #expect(errors.status == 0 && errors.out.contains("DUE_DATE_OUTSIDE_GRADING_PERIOD"), "\(errors.out)")
            for group in ["code", "school", "teacher"] {
                let grouped = try await ctl(env, admin, ["errors", "--group-by", group, "--format", "json"])
                let rows = try #require(try JSONSerialization.jsonObject(with: Data(grouped.out.utf8)) as? [[String: Any]], "\(grouped.out)")
                #expect(rows.first?["count"] as? Int == 1, "\(group): \(grouped.out)")
            }
            let inSchool = try await ctl(env, admin, ["errors", "--org", env.school(of: section), "--format", "json"])
            #expect((try JSONSerialization.jsonObject(with: Data(inSchool.out.utf8)) as? [Any])?.count == 1, "\(inSchool.out)")
            let otherSchool = try #require(env.schools.first { $0 != env.school(of: section) })
            let none = try await ctl(env, admin, ["errors", "--org", otherSchool])
            #expect(none.out == "(none)\n", "\(none.out)")

            let forbidden = try await ctl(env, token, ["errors"])
            #expect(forbidden.status == 1 && forbidden.err.contains("FORBIDDEN"), "\(forbidden.err)")
            let unknown = try await ctl(env, APIToken.make(randomBytes: Array(repeating: 1, count: 32)), ["runs"])
            #expect(unknown.status == 3 && unknown.err.contains("UNAUTHENTICATED"))
            let noSection = try await ctl(env, token, ["status", "--section", "no-such-section"])
            #expect(noSection.status == 1, "\(noSection.err)")
            #expect(noSection.err.contains("no section 'no-such-section': give a section's SIS sourcedId"), "\(noSection.err)")
            #expect(!noSection.err.contains("is not an id this server made"), "\(noSection.err)")
            let badStatus = try await ctl(env, token, ["status", "--section", section, "--status", "ERROR,DONE"])
            #expect(
                badStatus.status == 64 && badStatus.err.contains("--status: 'DONE' is not a status; use one or more of NOT_SYNCED"),
                "\(badStatus.status) \(badStatus.err)")
            let usage = try await runProcess(try builtBinary("passbackctl"), ["status", "--section", section], environment: ["PASSBACK_TOKEN": ""])
            #expect(usage.status == 3 && usage.err.contains("not signed in") && usage.err.contains("PASSBACK_TOKEN"), "\(usage.status) \(usage.err)")
        }
    }

    @Test("admin commands: a run's writes by id, discard the waiting ones, retry as a new run, the org's default schedule, roster pulls")
    func adminCommands() async throws {
        try await withGateway(retryDelay: 60) { env in
            let (section, teacher) = env.yearLongSection
            try await env.feed(section: section, teacher: teacher, materials: 2)
            let token = try env.token(.teacher, user: teacher)
            let admin = try env.token(.admin, user: teacher, org: env.districtOrg)
            try await env.mapToFirstSISCategory(sectionID: try env.sectionID(section), token: token)
            // The SIS fails both lineItems once: they wait a minute to retry.
            env.running.sandbox.faults.script([.serverError, .serverError])
            let sync = try await env.post(
                "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } } }", ["i": ["sectionId": try env.sectionID(section)]],
                token: token)
            let run = try #require(sync["syncChanges", "run", "id"] as? String, "\(sync.text)")
            var waiting: [String] = []
            try await env.waitUntil {
                let listed = try await ctl(env, admin, ["jobs", "--run", run, "--not-accepted", "--format", "csv"])
                waiting = listed.out.split(separator: "\r\n").dropFirst().filter { $0.contains("SCHEDULED") || $0.contains("RETRYABLE") }
                    .map { String($0.split(separator: ",")[0]) }
                return !waiting.isEmpty
            }
            let runs = try await ctl(env, admin, ["runs", "--format", "csv"])
            #expect(runs.out.contains(run), "runs shows each run's id: \(runs.out)")
            let discarded = try await ctl(env, admin, ["discard", waiting[0]])
            #expect(
                discarded.status == 0 && discarded.out.contains(waiting[0]) && (discarded.out.contains("DISCARDED") || discarded.out.contains("CANCELLED")),
                "\(discarded.out) \(discarded.err)")
            let again = try await ctl(env, admin, ["discard", waiting[0]])
            #expect(again.status == 1 && !again.err.isEmpty, "a discarded write cannot be discarded again: \(again.err)")
            // The discarded write's item shows ERROR; retrying it queues a new run.
            let retried = try await ctl(env, admin, ["retry", waiting[0], "--format", "csv"])
            #expect(retried.status == 0 && retried.out.split(separator: "\r\n").count == 2, "one new run: \(retried.out) \(retried.err)")
            let bad = try await ctl(env, admin, ["retry"])
            #expect(bad.status != 0, "\(bad.err)")

            let schedule = try await ctl(env, admin, ["default-schedule", "--weekday", "3", "--start", "18:00", "--zone", "America/Chicago"])
            #expect(schedule.status == 0 && schedule.out.contains("was saved"), "\(schedule.out) \(schedule.err)")
            let badZone = try await ctl(env, admin, ["default-schedule", "--weekday", "3", "--start", "18:00", "--zone", "CST"])
            #expect(badZone.status == 1 && badZone.err.contains("CST"), "\(badZone.err)")
            let teacherTry = try await ctl(env, token, ["default-schedule", "--off"])
            #expect(teacherTry.status == 1 && teacherTry.err.contains("FORBIDDEN"), "\(teacherTry.err)")

            _ = try await env.refreshRoster(token: admin)
            let pulls = try await ctl(env, admin, ["roster-runs", "--format", "csv"])
            #expect(pulls.status == 0 && pulls.out.contains("REQUESTED") && pulls.out.contains("SUCCEEDED"), "\(pulls.out) \(pulls.err)")
        }
    }
}
