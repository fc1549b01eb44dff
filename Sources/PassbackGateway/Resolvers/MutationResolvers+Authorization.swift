import Foundation
import GraphQL

extension MutationResolvers {
    /// Who may call each mutation (PRODUCT.md's table), checked on every request before an
    /// idempotency key is looked at: a replay is authorized as the request it repeats would be
    /// now, so a teacher removed from a section cannot read it back through an old key. The
    /// mutations repeat these checks when they act; a mutation missing here fails loudly.
    static func authorize(_ operation: String, _ input: Map, _ ctx: APIContext) async throws {
        switch operation {
        case "saveCategoryMap", "createLmsCategory", "syncChanges":
            _ = try await taughtSection(input, ctx)
        case "verifySection":
            _ = try await verifiableSection(input, ctx)
        case "setMaterialSyncToSIS", "syncMaterial":
            _ = try await taughtMaterial(input, ctx)
        case "saveSyncSchedule":
            if input["allMyCourses"].nonNullBool == true {
                guard ctx.principal.role != .integration else { throw APIError.forbidden("the integration role cannot schedule syncs") }
            } else if !input["sectionId"].isAbsent {
                _ = try await taughtSection(input, ctx)
            }
        case "saveDefaultSyncSchedule", "retrySyncJobs", "discardSyncJobs", "refreshRoster":
            _ = try ctx.requireAdmin()
        case "upsertLmsCourse", "upsertMaterials", "recordGrades", "deleteMaterial", "restoreMaterial":
            try ctx.requireIntegration()
        default:
            throw APIError(.internalError, "mutation \(operation) has no authorization rule")
        }
    }
}
