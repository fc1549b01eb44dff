import Foundation
@testable import PassbackGateway
import PassbackCore
import PassbackStore
import Testing

/// One LMS course linked to sections of two teachers in two schools: what one teacher does
/// (opting out) stays in their sections, and the feed cannot link a section twice.
@Suite("Linked courses", .serialized)
struct LinkedCourseTests {
    /// Teacher A's two sections and teacher B's section (another school), in one LMS course
    /// `shared` with materials m-0 and m-1.
    struct Shared {
        var aSections: [String]
        var bSection: String
        var a: String
        var b: String
        var integration: String

        var all: [String] { aSections + [bSection] }
    }

    static func shared(_ env: GatewayEnv) async throws -> Shared {
        // Sections that run in the first term (the fall semester), so the materials' September due dates fall in their grading periods.
        let fall = try #require(env.data.all(.academicSessions).filter { $0["type"]?.stringValue == "term" }
            .min { ($0["startDate"]?.stringValue ?? "") < ($1["startDate"]?.stringValue ?? "") }?["sourcedId"]?.stringValue)
        let byTeacher = env.sectionsByTeacher.mapValues { sections in
            sections.filter { env.data.record(.classes, $0)?["terms"]?.arrayValue?.contains { $0.objectValue?["sourcedId"]?.stringValue == fall } ?? false }
        }
        let a = try #require(byTeacher.keys.sorted().first { (byTeacher[$0] ?? []).count >= 2 })
        let aSections = Array(byTeacher[a]!.prefix(2))
        let aSchools = Set(aSections.map(env.school))
        let (b, bSection) = try #require(byTeacher.keys.sorted().lazy.filter { $0 != a }.compactMap { t -> (String, String)? in
            guard !(byTeacher[t] ?? []).contains(where: aSections.contains) else { return nil }
            return (byTeacher[t] ?? []).first { !aSchools.contains(env.school(of: $0)) && !(byTeacher[a] ?? []).contains($0) }.map { (t, $0) }
        }.first)
        let integration = try env.token(.integration, user: "lms-feed")
        let course = try await env.post("""
            mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { userErrors { code message } } }
            """, ["i": ["lmsId": "shared", "title": "Shared course", "sectionSourcedIds": aSections + [bSection],
                        "categories": [["lmsId": "lc-0", "title": "Homework"]]]], token: integration)
        #expect(course.errors.isEmpty && (course["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(course.text)")
        try await feedMaterials(env, integration, syncToSIS: true)
        return Shared(aSections: aSections, bSection: bSection, a: a, b: b, integration: integration)
    }

    static func feedMaterials(_ env: GatewayEnv, _ integration: String, syncToSIS m0: Bool) async throws {
        let fed = try await env.post("""
            mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { userErrors { code message } } }
            """, ["i": ["courseLmsId": "shared", "materials": [
                ["lmsId": "m-0", "title": "Quiz 0", "categoryLmsId": "lc-0", "maxPoints": 10, "dueDate": "2026-09-10T15:00:00Z", "syncToSIS": m0],
                ["lmsId": "m-1", "title": "Quiz 1", "categoryLmsId": "lc-0", "maxPoints": 10, "dueDate": "2026-09-11T15:00:00Z"],
            ]]], token: integration)
        #expect(fed.errors.isEmpty && (fed["upsertMaterials", "userErrors"] as? [Any])?.isEmpty == true, "\(fed.text)")
    }

    /// Each material of a section as its teacher reads it: lmsId → "syncToSIS/STATUS".
    static func states(_ env: GatewayEnv, _ section: String, _ token: String) async throws -> [String: String] {
        let r = try await env.post("query($id: ID!) { section(id: $id) { materials(first: 10) { nodes { lmsId syncToSIS syncStatus } } } }",
                                   ["id": try env.sectionID(section)], token: token)
        var out: [String: String] = [:]
        for n in r["section", "materials", "nodes"] as? [[String: Any]] ?? [] {
            out[n["lmsId"] as! String] = "\(n["syncToSIS"] as! Bool)/\(n["syncStatus"] as! String)"
        }
        #expect(!out.isEmpty, "\(r.text)")
        return out
    }

    static func materialID(_ env: GatewayEnv, _ lmsID: String, in section: String) throws -> String {
        let store = LMSStore(env.database)
        let course = try #require(try store.courseID(ofSection: try env.classID(section)))
        return GlobalID.material(try #require(try store.materialID(courseID: course, lmsID: lmsID)), section: try env.classID(section))
    }

    static func toggle(_ env: GatewayEnv, _ lmsID: String, in section: String, _ value: Bool, token: String) async throws -> Reply {
        try await env.post("""
            mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncToSIS syncStatus } userErrors { code message field } } }
            """, ["i": ["materialId": try materialID(env, lmsID, in: section), "syncToSIS": value]], token: token)
    }

    static func decisions(_ env: GatewayEnv, _ section: String, _ token: String) async throws -> [String: String] {
        let r = try await env.post("mutation($i: PlanSyncInput!) { planSync(input: $i) { items { material { lmsId } decision } } }",
                                   ["i": ["sectionId": try env.sectionID(section)]], token: token)
        var out: [String: String] = [:]
        for item in r["planSync", "items"] as? [[String: Any]] ?? [] {
            out[(item["material"] as! [String: Any])["lmsId"] as! String] = item["decision"] as? String
        }
        return out
    }

    @Test("a teacher's opt-out covers every linked section they teach and never another teacher's, in status, reads and the plan")
    func optOutStaysInTheTeachersSections() async throws {
        try await withGateway { env in
            let s = try await Self.shared(env)
            let a = try env.token(.teacher, user: s.a), b = try env.token(.teacher, user: s.b)
            for section in s.aSections { try await env.mapToFirstSISCategory(sectionID: try env.sectionID(section), token: a) }
            try await env.mapToFirstSISCategory(sectionID: try env.sectionID(s.bSection), token: b)

            // A opts m-0 out from one of their sections.
            let off = try await Self.toggle(env, "m-0", in: s.aSections[0], false, token: a)
            #expect(off["setMaterialSyncToSIS", "material", "syncStatus"] as? String == "OPT_OUT", "\(off.text)")
            for section in s.aSections {
                #expect(try await Self.states(env, section, a) == ["m-0": "false/OPT_OUT", "m-1": "true/NOT_SYNCED"], "A's section \(section)")
                #expect(try await Self.decisions(env, section, a)["m-0"] == "SKIP")
            }
            // B's section, another school: untouched.
            #expect(try await Self.states(env, s.bSection, b) == ["m-0": "true/NOT_SYNCED", "m-1": "true/NOT_SYNCED"])
            #expect(try await Self.decisions(env, s.bSection, b)["m-0"] == "SEND")
            // node(Material) resolves syncToSIS for its own section.
            let nodes = try await env.post("query($ids: [ID!]!) { nodes(ids: $ids) { ... on Material { syncToSIS syncStatus } } }",
                                           ["ids": [try Self.materialID(env, "m-0", in: s.aSections[1])]], token: a)
            #expect(nodes["nodes", 0, "syncToSIS"] as? Bool == false, "\(nodes.text)")

            // B's own sync sends m-0 to B's section, and A's opt-out still holds.
            let run = try await env.post("mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id } userErrors { message } } }",
                                         ["i": ["sectionId": try env.sectionID(s.bSection)]], token: b)
            #expect(run["syncChanges", "run", "id"] != nil, "\(run.text)")
            try await env.waitUntil { try await Self.states(env, s.bSection, b)["m-0"] == "true/SUCCESSFUL" }
            #expect(try await Self.states(env, s.aSections[1], a)["m-0"] == "false/OPT_OUT")

            // A turns it back on: in A's sections only.
            let on = try await Self.toggle(env, "m-0", in: s.aSections[1], true, token: a)
            #expect((on["setMaterialSyncToSIS", "userErrors"] as? [Any])?.isEmpty == true, "\(on.text)")
            for section in s.aSections { #expect(try await Self.states(env, section, a)["m-0"] == "true/NOT_SYNCED") }
        }
    }

    @Test("the LMS feed's off holds in every section: a teacher cannot turn it on over it, and their own opt-out outlives the feed's on")
    func feedOffWins() async throws {
        try await withGateway { env in
            let s = try await Self.shared(env)
            let a = try env.token(.teacher, user: s.a), b = try env.token(.teacher, user: s.b)
            try await Self.feedMaterials(env, s.integration, syncToSIS: false)
            #expect(try await Self.states(env, s.bSection, b)["m-0"] == "false/OPT_OUT")
            #expect(try await Self.states(env, s.aSections[0], a)["m-0"] == "false/OPT_OUT")

            let on = try await Self.toggle(env, "m-0", in: s.bSection, true, token: b)
            #expect(on["setMaterialSyncToSIS", "userErrors", 0, "code"] as? String == "RULE_FAILED", "\(on.text)")
            #expect(on["setMaterialSyncToSIS", "material", "syncStatus"] as? String == "OPT_OUT")
            #expect(try await Self.states(env, s.bSection, b)["m-0"] == "false/OPT_OUT")

            // A opts out while the feed has it off; then the LMS turns it back on.
            let off = try await Self.toggle(env, "m-0", in: s.aSections[0], false, token: a)
            #expect((off["setMaterialSyncToSIS", "userErrors"] as? [Any])?.isEmpty == true, "\(off.text)")
            try await Self.feedMaterials(env, s.integration, syncToSIS: true)
            #expect(try await Self.states(env, s.bSection, b)["m-0"] == "true/NOT_SYNCED")
            for section in s.aSections { #expect(try await Self.states(env, section, a)["m-0"] == "false/OPT_OUT") }
        }
    }

    @Test("linking a section that another LMS course holds is a CONFLICT naming that course, and nothing of the call is saved")
    func linkingATakenSectionConflicts() async throws {
        try await withGateway { env in
            let byTeacher = env.sectionsByTeacher
            let teacher = try #require(byTeacher.keys.sorted().first { (byTeacher[$0] ?? []).count >= 2 })
            let (taken, free) = (byTeacher[teacher]![0], byTeacher[teacher]![1])
            let integration = try env.token(.integration, user: "lms-feed")
            let upsert = "mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { lmsCourse { lmsId } userErrors { code message field } } }"
            let first = try await env.post(upsert, ["i": ["lmsId": "first", "title": "First course", "sectionSourcedIds": [taken]]], token: integration)
            #expect((first["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(first.text)")

            let second = try await env.post(upsert, ["i": ["lmsId": "second", "title": "Second course", "sectionSourcedIds": [free, taken]]], token: integration)
            #expect(second["upsertLmsCourse", "userErrors", 0, "code"] as? String == "CONFLICT", "\(second.text)")
            #expect(second["upsertLmsCourse", "userErrors", 0, "field"] as? [String] == ["input", "sectionSourcedIds", "1"])
            let message = second["upsertLmsCourse", "userErrors", 0, "message"] as? String ?? ""
            #expect(message.contains("'first'") && message.contains("First course") && message.contains(taken), "\(message)")
            #expect(second["upsertLmsCourse", "lmsCourse"] == nil)

            // Nothing of the refused call was saved: no course `second`, `free` linked to nothing.
            let materials = try await env.post("mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { userErrors { code } } }",
                                               ["i": ["courseLmsId": "second", "materials": [["lmsId": "x", "title": "X"]]]], token: integration)
            #expect(materials["upsertMaterials", "userErrors", 0, "code"] as? String == "NOT_FOUND", "\(materials.text)")
            #expect(try LMSStore(env.database).courseID(ofSection: try env.classID(free)) == nil)
            // Re-sending the course that holds the section is fine.
            let again = try await env.post(upsert, ["i": ["lmsId": "first", "title": "First course", "sectionSourcedIds": [taken]]], token: integration)
            #expect((again["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(again.text)")
        }
    }
}
