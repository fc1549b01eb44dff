import Foundation
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

/// PRODUCT.md's permission table, operation by operation: each role on its own section, a
/// foreign one, and outside its org.
@Suite("Permissions", .serialized)
struct PermissionTests {
    enum Expect: CustomStringConvertible {
        case allowed, forbidden
        var description: String { self == .allowed ? "allowed" : "FORBIDDEN" }
    }

    struct Operation {
        var name: String
        var document: String
        var variables: [String: Any]
    }

    @Test("each role × each operation × own, foreign and out-of-org section")
    func matrix() async throws {
        try await withGateway { env in
            let (own, teacher) = env.yearLongSection
            let ownSchool = env.school(of: own)
            let byTeacher = env.sectionsByTeacher
            // A section in the other school, taught by someone else; and a teacher of neither.
            let foreign = try #require(
                env.data.all(.classes).compactMap { $0["sourcedId"]?.stringValue }.first { s in
                    env.school(of: s) != ownSchool && !(byTeacher[teacher] ?? []).contains(s)
                })
            let otherSchool = env.school(of: foreign)
            let bystander = try #require(
                byTeacher.keys.sorted().first { t in
                    t != teacher && !(byTeacher[t] ?? []).contains(own) && !(byTeacher[t] ?? []).contains(foreign)
                })
            let fedOwn = try await env.feed(section: own, teacher: teacher, course: "c-own", materials: 2)
            let fedForeign = try await env.feed(section: foreign, teacher: "x", course: "c-foreign", materials: 2)

            let tokens: [(String, String)] = [
                ("teacher", try env.token(.teacher, user: teacher)),
                ("district admin (teaches neither)", try env.token(.admin, user: bystander, org: env.districtOrg)),
                ("admin of the other school who teaches the own section", try env.token(.admin, user: teacher, org: otherSchool)),
                ("admin of the other school (teaches neither)", try env.token(.admin, user: bystander, org: otherSchool)),
                ("integration", fedOwn.integration)
            ]
            let ownID = try env.sectionID(own), foreignID = try env.sectionID(foreign)
            let ownMaterial = try #require(fedOwn.materials["m-0"]), foreignMaterial = try #require(fedForeign.materials["m-0"])

            func sectionOps(_ label: String, _ sectionID: String, _ materialID: String) -> [Operation] {
                [
                    Operation(
                        name: "read section \(label)", document: "query($id: ID!) { section(id: $id) { title materials(first: 5) { nodes { title } } } }",
                        variables: ["id": sectionID]),
                    Operation(name: "node(section \(label))", document: "query($id: ID!) { node(id: $id) { id } }", variables: ["id": sectionID]),
                    Operation(name: "node(material \(label))", document: "query($id: ID!) { node(id: $id) { id } }", variables: ["id": materialID]),
                    Operation(
                        name: "runs of section \(label)", document: "query($id: ID!) { syncRuns(filter: { sectionId: $id }) { totalCount } }",
                        variables: ["id": sectionID])
                ]
            }
            func teacherOps(_ label: String, _ sectionID: String, _ materialID: String) -> [Operation] {
                [
                    Operation(
                        name: "saveCategoryMap \(label)",
                        document: "mutation($i: SaveCategoryMapInput!) { saveCategoryMap(input: $i) { userErrors { message } } }",
                        variables: ["i": ["sectionId": sectionID, "map": [] as [Any]]]),
                    Operation(
                        name: "createLmsCategory \(label)",
                        document: "mutation($i: CreateLmsCategoryInput!) { createLmsCategory(input: $i) { userErrors { message } } }",
                        variables: ["i": ["sectionId": sectionID, "title": "New \(UUID().uuidString.prefix(6))"]]),
                    Operation(
                        name: "setMaterialSyncToSIS \(label)",
                        document: "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { userErrors { message } } }",
                        variables: ["i": ["materialId": materialID, "syncToSIS": true]]),
                    Operation(
                        name: "syncMaterial \(label)", document: "mutation($i: SyncMaterialInput!) { syncMaterial(input: $i) { userErrors { message } } }",
                        variables: ["i": ["materialId": materialID]]),
                    Operation(
                        name: "syncChanges \(label)", document: "mutation($i: SyncChangesInput!) { syncChanges(input: $i) { userErrors { message } } }",
                        variables: ["i": ["sectionId": sectionID]]),
                    Operation(
                        name: "planSync \(label)", document: "mutation($i: PlanSyncInput!) { planSync(input: $i) { writeCount } }",
                        variables: ["i": ["sectionId": sectionID]]),
                    Operation(
                        name: "saveSyncSchedule \(label)",
                        document: "mutation($i: SaveSyncScheduleInput!) { saveSyncSchedule(input: $i) { userErrors { message } } }",
                        variables: ["i": ["sectionId": sectionID, "schedule": ["weekday": 1, "startTime": "18:00", "timeZone": "America/Chicago"]]])
                ]
            }
            let adminOps: [Operation] = [
                Operation(name: "syncErrors", document: "{ syncErrors { totalCount } }", variables: [:]),
                Operation(name: "syncErrorSummary", document: "{ syncErrorSummary(groupBy: SCHOOL) { nodes { key } } }", variables: [:]),
                Operation(
                    name: "saveDefaultSyncSchedule",
                    document: "mutation($i: SaveDefaultSyncScheduleInput!) { saveDefaultSyncSchedule(input: $i) { userErrors { message } } }",
                    variables: ["i": ["schedule": ["weekday": 5, "startTime": "17:00", "timeZone": "America/Chicago"]]]),
                Operation(
                    name: "retrySyncJobs", document: "mutation($i: RetrySyncJobsInput!) { retrySyncJobs(input: $i) { userErrors { message } } }",
                    variables: ["i": ["jobIds": [] as [Any]]]),
                Operation(
                    name: "discardSyncJobs", document: "mutation($i: DiscardSyncJobsInput!) { discardSyncJobs(input: $i) { userErrors { message } } }",
                    variables: ["i": ["jobIds": [] as [Any]]]),
                Operation(
                    name: "refreshRoster",
                    document: "mutation($i: RefreshRosterInput!) { refreshRoster(input: $i) { rosterRun { state } userErrors { message } } }",
                    variables: ["i": [:] as [String: Any]])
            ]
            let integrationOps: [Operation] = [
                Operation(
                    name: "upsertLmsCourse", document: "mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { userErrors { message } } }",
                    variables: ["i": ["lmsId": "c-own", "title": "Course c-own", "sectionSourcedIds": [own]]]),
                Operation(
                    name: "upsertMaterials", document: "mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { userErrors { message } } }",
                    variables: ["i": ["courseLmsId": "c-own", "materials": [["lmsId": "m-9", "title": "Extra"]]]]),
                Operation(
                    name: "recordGrades", document: "mutation($i: RecordGradesInput!) { recordGrades(input: $i) { userErrors { message } } }",
                    variables: ["i": ["courseLmsId": "c-own", "grades": [] as [Any]]]),
                Operation(
                    name: "deleteMaterial", document: "mutation($i: DeleteMaterialInput!) { deleteMaterial(input: $i) { userErrors { message } } }",
                    variables: ["i": ["courseLmsId": "c-own", "lmsId": "m-9"]]),
                Operation(
                    name: "restoreMaterial", document: "mutation($i: RestoreMaterialInput!) { restoreMaterial(input: $i) { userErrors { message } } }",
                    variables: ["i": ["courseLmsId": "c-own", "lmsId": "m-9"]])
            ]
            let viewer = Operation(name: "viewer", document: "{ viewer { role userSourcedId } }", variables: [:])

            // Rows follow `tokens`: teacher, district admin, admin who teaches the own section, admin of the other school, integration.
            let A = Expect.allowed, F = Expect.forbidden
            var table: [(Operation, [Expect])] = [(viewer, [A, A, A, A, A])]
            for op in sectionOps("own", ownID, ownMaterial) { table.append((op, [A, A, A, F, F])) }
            for op in sectionOps("foreign", foreignID, foreignMaterial) { table.append((op, [F, A, A, A, F])) }
            for op in teacherOps("own", ownID, ownMaterial) { table.append((op, [A, F, A, F, F])) }
            for op in teacherOps("foreign", foreignID, foreignMaterial) { table.append((op, [F, F, F, F, F])) }
            for op in adminOps { table.append((op, [F, A, A, A, F])) }
            for op in integrationOps { table.append((op, [F, F, F, F, A])) }

            var cells = 0
            for (op, expectations) in table {
                for ((who, token), expect) in zip(tokens, expectations) {
                    let r = try await env.post(op.document, op.variables, token: token)
                    #expect(r.status == 200, "\(who) / \(op.name): HTTP \(r.status)")
                    switch expect {
                    case .allowed:
                        #expect(r.errors.isEmpty, "\(who) / \(op.name) should be allowed: \(r.text)")
                        #expect(r.data?.values.allSatisfy { !($0 is NSNull) } == true, "\(who) / \(op.name) returned null: \(r.text)")
                    case .forbidden:
                        #expect(r.codes == ["FORBIDDEN"], "\(who) / \(op.name) should be FORBIDDEN: \(r.text)")
                        #expect((r.errors.first?["message"] as? String)?.isEmpty == false)
                    }
                    cells += 1
                }
            }
            #expect(cells == table.count * tokens.count)
            #expect(cells == 5 * (1 + 4 + 4 + 7 + 7 + 6 + 5))
        }
    }

    @Test("no token, a malformed one, an unknown one, a revoked one and an expired one are all 401 with WWW-Authenticate")
    func unauthenticated() async throws {
        try await withGateway { env in
            let (_, teacher) = env.yearLongSection
            let revoked = try env.token(.teacher, user: teacher)
            _ = try TokenStore(env.database).revoke(String(revoked.prefix(10)), at: Date())
            let expired = try TokenStore(env.database).create(
                connection: "district", user: teacher, role: .teacher, org: nil, expiresAt: Date().addingTimeInterval(-60),
                label: nil, randomBytes: Array(repeating: 9, count: 32), at: Date().addingTimeInterval(-120)
            ).token
            let unknown = APIToken.make(randomBytes: Array(repeating: 7, count: 32))
            for token: String? in [nil, "not-a-token", unknown, revoked, expired] {
                let r = try await env.post("{ viewer { role } }", token: token)
                #expect(r.status == 401, "\(token ?? "none"): \(r.text)")
                #expect(r.codes == ["UNAUTHENTICATED"])
                #expect(r.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                #expect(r.data == nil)
            }
        }
    }
}
