import Foundation
import GraphQL
import PassbackCore
import PassbackStore
import PassbackSync

/// `setMaterialSyncToSIS`, `syncMaterial`, `syncChanges` and `planSync`: a teacher sends grades, or
/// previews what would go.
extension MutationResolvers {
    /// The material of `materialId` in a section the viewer teaches.
    static func taughtMaterial(_ input: Map, _ ctx: APIContext) async throws -> MaterialKey {
        let (m, c) = try GlobalID.materialKey(input["materialId"].nonNullString ?? "", argument: "input.materialId")
        guard let section = try await ctx.sections.load(c), section.connectionID == ctx.connection,
            try await ctx.materials.load(MaterialKey(materialID: m, classID: c)) != nil
        else { throw APIError(.notFound, "input.materialId: no such material") }
        try ctx.requireTeacher(of: c)
        return MaterialKey(materialID: m, classID: c)
    }

    static func setSyncToSIS(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let key = try await taughtMaterial(input, ctx)
        guard let value = input["syncToSIS"].nonNullBool else { throw APIError.badInput("input.syncToSIS is required") }
        // The toggle is the teacher's: it covers the course's linked sections they teach, never another teacher's.
        guard let course = try ctx.reads.courseOfMaterial(key.materialID) else { throw APIError(.notFound, "input.materialId: no such material") }
        let linked = try ctx.reads.linkedSections(courseIDs: [course])[course] ?? []
        let mine = try ctx.reads.readable(linked, connection: ctx.connection, scope: .teacher(ctx.principal.userSourcedId))
        let sections = linked.filter(mine.contains)
        switch try LMSStore(ctx.services.database).setSyncToSIS(
            materialID: key.materialID, classIDs: sections, value, by: ctx.principal.userSourcedId, at: ctx.now)
        {
        case .saved:
            return Outcome(material: .init(materialID: key.materialID, classID: key.classID))
        case .noMaterial:
            throw APIError(.notFound, "input.materialId: no such material")
        case .offInLMS:
            return Outcome(
                material: .init(materialID: key.materialID, classID: key.classID),
                userErrors: [
                    UserError(
                        .ruleFailed, "sync to SIS is off for this material in the LMS, and the LMS's off holds in every section: turn it on in the LMS",
                        field: ["input", "syncToSIS"])
                ])
        }
    }

    static func syncMaterial(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let key = try await taughtMaterial(input, ctx)
        return try start(classID: key.classID, materials: [key.materialID], trigger: .item, ctx)
    }

    static func syncChanges(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let section = try await taughtSection(input, ctx)
        return try start(classID: section.id, materials: nil, trigger: .syncChanges, ctx)
    }

    static func start(classID: Int64, materials: Set<Int64>?, trigger: SyncTrigger, _ ctx: APIContext) throws -> Outcome {
        do {
            let (runID, _) = try ctx.services.planner.start(classID: classID, materialIDs: materials, trigger: trigger, startedBy: ctx.principal.userSourcedId)
            return Outcome(run: runID)
        } catch let failure as SyncPlanner.Failure {
            return .failed(UserError(.conflict, failure.description))
        }
    }

    static func planSync(_ input: Map, _ ctx: APIContext) async throws -> [String: any Sendable] {
        let section = try await taughtSection(input, ctx)
        var materials: Set<Int64>?
        if let ids = input["materialIds"].list {
            guard ids.count <= maxMaterials else { throw APIError.badInput("input.materialIds: at most \(maxMaterials) ids") }
            materials = Set(try ids.map { try GlobalID.materialKey($0.nonNullString ?? "", argument: "input.materialIds").materialID })
        }
        let plan: SyncPlan
        do {
            plan = try ctx.services.planner.plan(classID: section.id, materialIDs: materials, onlyChanges: materials == nil)
        } catch let failure as SyncPlanner.Failure {
            return ["items": [] as [Keyed], "writeCount": 0, "userErrors": [userErrorValue(UserError(.conflict, failure.description))]]
        }
        let keys = plan.items.map { MaterialKey(materialID: $0.materialID, classID: section.id) }
        let rows = try ctx.reads.materials(keys.map { ($0.materialID, $0.classID) })
        let items: [Keyed] = plan.items.compactMap { item in
            guard let row = rows[MaterialKey(materialID: item.materialID, classID: section.id)] else { return nil }
            let writes = item.writes.map { write in
                Keyed(
                    ListKey(String(JobKind.allCases.firstIndex(of: write.kind) ?? 0), write.targetSourcedId),
                    ["kind": write.kind.rawValue.uppercased(), "targetSourcedId": write.targetSourcedId, "payload": write.payload] as [String: any Sendable])
            }
            let value: [String: any Sendable] = [
                "material": MaterialValue(row: row, classID: section.id, batch: keys), "decision": item.decision.rawValue.uppercased(),
                "problems": item.problems, "writes": writes
            ]
            return Keyed(ListKey(row.title, ListKey.number(row.id)), value)
        }
        return ["items": items, "writeCount": plan.writeCount, "userErrors": [] as [any Sendable]]
    }

    /// The lists of mutation payloads, by the payload type.
    static let payloadListFields = [
        ("SaveSyncSchedulePayload", "sections"), ("RetrySyncJobsPayload", "runs"), ("DiscardSyncJobsPayload", "jobs"),
        ("SyncPlanPayload", "items"), ("PlannedItem", "writes"), ("UpsertMaterialsPayload", "materials")
    ]
}
