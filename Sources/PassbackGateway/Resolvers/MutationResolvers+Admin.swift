import Foundation
import GraphQL
import PassbackCore
import PassbackStore
import PassbackSync

/// `retrySyncJobs`, `discardSyncJobs` and `refreshRoster`: an admin acts on the outbox or the roster.
extension MutationResolvers {
    /// Jobs by id, each in the admin's org subtree; user errors name the ones that are not.
    static func scopedJobs(_ input: Map, _ ctx: APIContext, states: Set<JobState>, verb: String) async throws -> ([JobRecord], [UserError]) {
        let org = try ctx.requireAdmin()
        let ids = input["jobIds"].list ?? []
        guard ids.count <= maxJobs else { throw APIError.badInput("input.jobIds: at most \(maxJobs) ids (got \(ids.count))") }
        let rowIDs = try ids.map { try GlobalID.rowID($0.nonNullString ?? "", of: "SyncJob", argument: "input.jobIds") }
        let jobs = try ctx.reads.jobs(ids: rowIDs)
        let inScope = try ctx.reads.readable(jobs.values.compactMap(\.classID), connection: ctx.connection, scope: .org(org))
        var found: [JobRecord] = []
        var errors: [UserError] = []
        for (i, id) in rowIDs.enumerated() {
            let path = ["input", "jobIds", String(i)]
            guard let job = jobs[id], let c = job.classID, inScope.contains(c) else {
                errors.append(UserError(.notFound, "job \(i + 1): no such job in your organization", field: path))
                continue
            }
            guard states.contains(job.state) else {
                errors.append(
                    UserError(
                        .conflict,
                        "job \(i + 1) is \(job.state.rawValue); only \(states.map(\.rawValue).sorted().joined(separator: " or ")) jobs can be \(verb)",
                        field: path))
                continue
            }
            found.append(job)
        }
        return (found, errors)
    }

    static func retryJobs(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let (jobs, errors) = try await scopedJobs(input, ctx, states: [.cancelled, .discarded], verb: "retried")
        guard errors.isEmpty else { return Outcome(userErrors: errors) }
        var bySection: [Int64: Set<Int64>] = [:]
        for j in jobs { if let c = j.classID, let m = j.materialID { bySection[c, default: []].insert(m) } }
        var runs: [Int64] = []
        var userErrors: [UserError] = []
        for (classID, materials) in bySection.sorted(by: { $0.key < $1.key }) {
            do {
                let (runID, _) = try ctx.services.planner.start(
                    classID: classID, materialIDs: materials, trigger: .item, startedBy: ctx.principal.userSourcedId)
                runs.append(runID)
            } catch let failure as SyncPlanner.Failure {
                userErrors.append(UserError(.conflict, failure.description))
            }
        }
        return Outcome(runs: runs, userErrors: userErrors)
    }

    static func discardJobs(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let (jobs, errors) = try await scopedJobs(input, ctx, states: Set(JobState.pending), verb: "discarded")
        guard errors.isEmpty else { return Outcome(userErrors: errors) }
        let done = try EngineStore(ctx.services.database).discard(jobIDs: jobs.map(\.id), by: ctx.principal.userSourcedId, at: ctx.now)
        return Outcome(jobs: done)
    }

    /// Queues a pull for the serve process's roster runner and returns at once (a mutation never
    /// waits on the SIS); the caller follows the run with `node(id:)`.
    static func refreshRoster(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        _ = try ctx.requireAdmin()
        guard let connection = ctx.services.connections[ctx.connection] else {
            return .failed(UserError(.notFound, "this gateway has no SIS credentials for connection '\(ctx.connection)'; add it to the configuration file"))
        }
        let store = RosterStore(ctx.services.database)
        try store.saveConnection(connection.settings, at: ctx.now)
        let id = try store.queueRequest(connection: ctx.connection, full: input["full"].nonNullBool ?? false, by: ctx.principal.userSourcedId, at: ctx.now)
        ctx.services.rosterRunner.nudge()
        return Outcome(rosterRequest: id)
    }
}

extension Optional where Wrapped: Sendable {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
