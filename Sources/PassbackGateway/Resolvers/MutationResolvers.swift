import Foundation
import GraphQL
import OneRoster
import OrderedCollections
import PassbackCore
import PassbackStore
import PassbackSync

/// `Mutation`: one `input`, a payload with `userErrors` (API.md, convention 5), and an
/// optional `idempotencyKey` (convention 6). Each mutation first decides an `Outcome` (what it
/// changed, each by name, and its user errors: `MutationOutcome.swift`); the outcome is what an idempotency key keeps, and the
/// payload is read from it, showing only what the viewer may read now. Every request, a replay
/// too, is authorized first (`authorize`).
enum MutationResolvers {
    /// Input list caps.
    static let maxMaterials = 500
    static let maxGrades = 1000
    static let maxJobs = 500
    static let maxMappings = 200

    static func register(_ t: inout ResolverTable) {
        payloadLists(&t)
        t.object("Mutation", Root.self) { f in
            mutation(&f, "saveCategoryMap", run: saveCategoryMap) { o, ctx in
                ["section": try await sectionValue(o.section, ctx), "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "createLmsCategory", run: createLmsCategory) { o, ctx in
                [
                    "lmsCategory": try await o.lmsCategory.asyncFlatMap { try await ctx.lmsCategories.load($0) }.map(LMSCategoryValue.init),
                    "userErrors": o.userErrors.map(userErrorValue)
                ]
            }
            mutation(&f, "setMaterialSyncToSIS", run: setSyncToSIS) { o, ctx in
                ["material": try await materialValue(o.material, ctx), "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "syncMaterial", run: syncMaterial, payload: runPayload)
            mutation(&f, "syncChanges", run: syncChanges, payload: runPayload)
            f.resolve("planSync") { _, args, ctx in try await planSync(args["input"], ctx) }
            mutation(&f, "verifySection", run: verifySection) { o, ctx in
                ["section": try await sectionValue(o.section, ctx), "objectsToCheck": o.objectsToCheck ?? 0, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "saveSyncSchedule", run: saveSchedule) { o, ctx in
                var sections: [Keyed] = []
                let readable = try await ctx.visible(o.sections)
                for id in readable { if let s = try await sectionValue(id, ctx) { sections.append(Keyed(ListKey(s.row.title, ListKey.number(s.row.id)), s)) } }
                return ["sections": sections, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "saveDefaultSyncSchedule", run: saveDefaultSchedule) { o, ctx in
                [
                    "org": try await o.org.asyncFlatMap { try await ctx.orgs.load($0) }.map(OrgValue.init),
                    "userErrors": o.userErrors.map(userErrorValue)
                ]
            }
            mutation(&f, "retrySyncJobs", run: retryJobs) { o, ctx in
                var rows: [SyncRunRecord] = []
                for id in o.runs { if let r = try await ctx.runs.load(id, batch: o.runs) { rows.append(r) } }
                let readable = Set(try await ctx.visible(rows.compactMap(\.classID)))
                let runs = rows.filter { $0.classID.map(readable.contains) == true }
                    .map { Keyed(ListKey(ListKey.number($0.id), ""), SyncRunValue(row: $0, batch: o.runs)) }
                return ["runs": runs, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "discardSyncJobs", run: discardJobs) { o, ctx in
                var rows: [JobRecord] = []
                for id in o.jobs { if let j = try await ctx.jobs.load(id, batch: o.jobs) { rows.append(j) } }
                let readable = Set(try await ctx.visible(rows.compactMap(\.classID)))
                let jobs = rows.filter { $0.classID.map(readable.contains) == true }.map { Keyed(ListKey(ListKey.number($0.id), ""), SyncJobValue(row: $0)) }
                return ["jobs": jobs, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "refreshRoster", run: refreshRoster) { o, ctx in
                [
                    "rosterRun": try o.rosterRequest.flatMap { try RosterStore(ctx.services.database).request($0) }.map(RosterRunValue.init),
                    "userErrors": o.userErrors.map(userErrorValue)
                ]
            }
            mutation(&f, "upsertLmsCourse", run: LMSFeed.upsertCourse) { o, ctx in
                [
                    "lmsCourse": try await o.lmsCourse.asyncFlatMap { try await ctx.courses.load($0) }.map { LMSCourseValue(row: $0, batch: [$0.id]) },
                    "userErrors": o.userErrors.map(userErrorValue)
                ]
            }
            mutation(&f, "upsertMaterials", run: LMSFeed.upsertMaterials) { o, ctx in
                ["materials": try LMSFeed.fedMaterials(o, ctx), "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "recordGrades", run: LMSFeed.recordGrades) { o, _ in
                ["recorded": o.recorded ?? 0, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "deleteMaterial", run: LMSFeed.deleteMaterial) { o, ctx in
                ["material": try LMSFeed.fedMaterials(o, ctx).first?.value, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "restoreMaterial", run: LMSFeed.restoreMaterial) { o, ctx in
                ["material": try LMSFeed.fedMaterials(o, ctx).first?.value, "userErrors": o.userErrors.map(userErrorValue)]
            }
        }
    }

    /// Registers a mutation: authorizes it, runs it once per idempotency key, then builds its payload.
    static func mutation(
        _ f: inout FieldSet<Root>, _ name: String, run: @escaping @Sendable (Map, APIContext) async throws -> Outcome,
        payload: @escaping @Sendable (Outcome, APIContext) async throws -> [String: any Sendable]
    ) {
        f.resolve(
            name,
            withInfo: { _, args, ctx, info in
                let input = args["input"]
                // Before the key is looked at: a replay is a new request, and a key does not outlive the right to act.
                try await authorize(name, input, ctx)
                try checkPayloadPaging(info)
                let outcome = try await idempotent(name, input, selection: SelectionFingerprint.text(of: info), ctx) { try await run(input, ctx) }
                // The payload reads the state after the change, not what the loaders saw before it.
                return try await payload(outcome, ctx.afterWrite())
            })
    }

    /// Runs `body` once per idempotency key. A key belongs to one principal (role, user and, for an
    /// admin, org) and answers only the same operation with the same input and the same selection
    /// (`selection`, from `SelectionFingerprint`); anything else with that key is a `CONFLICT`.
    static func idempotent(_ operation: String, _ input: Map, selection: String, _ ctx: APIContext, _ body: () async throws -> Outcome) async throws -> Outcome
    {
        guard let key = input["idempotencyKey"].nonNullString else { return try await body() }
        guard (1...200).contains(key.count) else { throw APIError.badInput("idempotencyKey must be 1 to 200 characters") }
        var fields = input.dictionary ?? [:]
        fields["idempotencyKey"] = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var request = try encoder.encode(Map.dictionary(fields))
        request.append(contentsOf: Array("\n".utf8) + Array(selection.utf8))
        let hash = Fingerprint.sha256Hex(request)
        let store = IdempotencyStore(ctx.services.database)
        let p = ctx.principal
        // Keys belong to a principal: an integration token named like a teacher, or the same person's admin token for
        // another org, cannot replay another's answers (JSON, so no sourcedId can forge the separator).
        let owner = String(decoding: try JSONEncoder().encode([p.role.rawValue, p.userSourcedId, p.orgSourcedId ?? ""]), as: UTF8.self)
        switch try store.claim(connection: p.connectionID, user: owner, key: key, operation: operation, inputHash: hash, at: ctx.now) {
        case .answered(let text):
            return try Outcome.stored(text, operation: operation)
        case .inProgress:
            return .failed(
                UserError(.conflict, "a request with this idempotencyKey is still running; ask again in a moment", field: ["input", "idempotencyKey"]))
        case .mismatch:
            return .failed(
                UserError(
                    .conflict, "this idempotencyKey was already used for a different request (another operation, input or selection); use a new key",
                    field: ["input", "idempotencyKey"]))
        case .claimed:
            do {
                let outcome = try await body()
                try store.finish(
                    connection: p.connectionID, user: owner, key: key,
                    outcome: String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self))
                return outcome
            } catch {
                try? store.release(connection: p.connectionID, user: owner, key: key)
                throw error
            }
        }
    }

    // Payloads show a section (and what hangs under it) only if the viewer may read it now.

    static func sectionValue(_ id: Int64?, _ ctx: APIContext) async throws -> SectionValue? {
        guard let id, let row = try await ctx.sections.load(id), try await !ctx.visible([id]).isEmpty else { return nil }
        return SectionValue(row: row, batch: [id])
    }

    static func materialValue(_ ref: Outcome.MaterialRef?, _ ctx: APIContext) async throws -> MaterialValue? {
        guard let ref, try await !ctx.visible([ref.classID]).isEmpty,
            let row = try await ctx.materials.load(MaterialKey(materialID: ref.materialID, classID: ref.classID))
        else { return nil }
        return MaterialValue(row: row, classID: ref.classID, batch: [])
    }

    static func runPayload(_ o: Outcome, _ ctx: APIContext) async throws -> [String: any Sendable] {
        var run: SyncRunValue?
        if let id = o.run, let row = try await ctx.runs.load(id), let c = row.classID, try await !ctx.visible([c]).isEmpty {
            run = SyncRunValue(row: row, batch: [row.id])
        }
        return ["run": run, "userErrors": o.userErrors.map(userErrorValue)]
    }
}
