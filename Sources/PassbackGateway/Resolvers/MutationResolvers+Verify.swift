import Foundation
import GraphQL
import PassbackStore
import PassbackSync

extension MutationResolvers {
    /// A section its teacher may check, or an admin who may read it (a check reads the SIS and
    /// flags; it writes nothing, so it is not reserved to the teacher as a sync is).
    static func verifiableSection(_ input: Map, _ ctx: APIContext) async throws -> SectionSummary {
        let id = try GlobalID.rowID(input["sectionId"].nonNullString ?? "", of: "Section", argument: "input.sectionId")
        guard let row = try await ctx.sections.load(id), row.connectionID == ctx.connection else {
            throw APIError(.notFound, "input.sectionId: no such section")
        }
        // A teacher of it, or an admin who may read it: the read check, as for the section itself.
        try await ctx.requireReadable([id])
        return row
    }

    /// `verifySection`: starts the drift check of a section in the background and returns at
    /// once with how many SIS objects it reads (`DriftCheckRunner`).
    static func verifySection(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let section = try await verifiableSection(input, ctx)
        do {
            let count = try ctx.services.driftChecks.start(classID: section.id, connection: section.connectionID)
            return Outcome(section: section.id, objectsToCheck: count)
        } catch {
            let message =
                switch error {
                case .alreadyRunning: "a check of this section is already running; its findings show on the section's items as they come"
                case .notConfigured(let id): "connection \(id) is not configured in this gateway, so its SIS cannot be read"
                case .notLinked(let why): why
                }
            return Outcome(section: section.id, userErrors: [UserError(.conflict, message, field: ["input", "sectionId"])])
        }
    }
}
