import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// `SyncRun`, `RosterRun`, `SyncJob` and `SyncError`: what syncs and roster pulls did.
extension TypeResolvers {
    static func runs(_ t: inout ResolverTable) {
        t.object("SyncRun", SyncRunValue.self) { f in
            f.value("id") { GlobalID.make("SyncRun", $0.row.id) }
            f.resolve("section") { r, _, ctx in
                guard let id = r.row.classID else { return nil }
                return try await ctx.sections.load(id, batch: r.sectionBatch).map { SectionValue(row: $0, batch: [$0.id]) }
            }
            f.value("trigger") { $0.row.trigger.rawValue.uppercased() }
            f.value("startedBy") { $0.row.startedBy }
            // A teacher may read the name of whoever started a run of their sections (PRODUCT.md, via `ctx.user`).
            f.resolve("startedByUser") { r, _, ctx in r.row.startedBy == "scheduler" ? nil : try await ctx.user(r.row.startedBy, batch: r.startedByBatch) }
            f.value("state") { $0.row.state.rawValue.uppercased() }
            f.value("itemsSent") { $0.row.itemsSent }
            f.value("itemsSucceeded") { $0.row.itemsSucceeded }
            f.value("itemsFailed") { $0.row.itemsFailed }
            f.value("itemsSkipped") { $0.row.itemsSkipped }
            f.value("jobsTotal") { $0.row.jobsTotal }
            f.value("jobsSucceeded") { $0.row.jobsSucceeded }
            f.value("jobsFailed") { $0.row.jobsFailed }
            f.value("cause") { $0.row.cause }
            f.value("startedAt") { $0.row.startedAt }
            f.value("finishedAt") { $0.row.finishedAt }
            f.resolve("jobs") { r, args, ctx in
                let first = try pageSize(args)
                let after = args["after"].nonNullString
                let states = Array(Set(args["state"].list?.compactMap { $0.nonNullString.flatMap { JobState(rawValue: $0.lowercased()) } } ?? [])).sorted {
                    $0.rawValue < $1.rawValue
                }
                guard let result = try await ctx.jobsOfRun(first: first, after: after, states: states).load(r.row.id, batch: r.batch) else {
                    return PageValue(KeysetPage<JobRecord>(items: [], cursors: [], hasNextPage: false), total: 0, after: after) { _ in [] }
                }
                return PageValue(result.page, total: result.total, after: after) { $0.map(SyncJobValue.init) }
            }
        }
        t.object("RosterRun", RosterRunValue.self) { f in
            f.value("id") { GlobalID.make("RosterRun", $0.row.id) }
            f.value("mode") { r in r.row.run?.mode ?? (r.row.full ? "full" : "delta") }
            f.value("state") { $0.row.state.rawValue.uppercased() }
            for (field, count) in [
                ("created", \RosterCounts.created), ("updated", \.updated), ("unchanged", \.unchanged), ("deleted", \.deleted), ("rejected", \.rejected)
            ] {
                f.value(field) { r in r.row.run?.counts.values.reduce(0) { $0 + $1[keyPath: count] } ?? 0 }
            }
            f.value("requestedAt") { Timestamp.text($0.row.requestedAt) }
            f.value("requestedBy") { $0.row.requestedBy }
            f.value("trigger") { $0.row.origin.rawValue.uppercased() }
            f.value("startedAt") { $0.row.run.map { Timestamp.text($0.startedAt) } }
            f.value("finishedAt") { $0.row.run?.finishedAt.map(Timestamp.text) }
            f.value("error") { $0.row.error }
            f.resolve("rejects") { r, args, ctx in
                let first = try pageSize(args)
                let after = args["after"].nonNullString
                guard let run = r.row.run else {
                    return PageValue(KeysetPage<RosterReject>(items: [], cursors: [], hasNextPage: false), total: 0, after: after) { _ in [] }
                }
                do {
                    let result = try RosterStore(ctx.services.database).rejects(runID: run.id, first: first, after: after)
                    return PageValue(result.page, total: result.total, after: after) { page in
                        page.map {
                            ["collection": $0.collection.rawValue, "sourcedId": $0.sourcedId, "location": $0.location, "reason": $0.reason]
                                as [String: any Sendable]
                        }
                    }
                } catch let e as StoreError where e.code == .badCursor {
                    throw APIError.badInput(e.message)
                }
            }
        }
        t.object("SyncJob", SyncJobValue.self) { f in
            f.value("id") { GlobalID.make("SyncJob", $0.row.id) }
            f.value("kind") { $0.row.kind.rawValue.uppercased() }
            f.value("targetSourcedId") { $0.row.targetSourcedId }
            f.value("state") { $0.row.state.rawValue.uppercased() }
            f.value("attempt") { $0.row.attempt }
            f.value("lastError") { lastError($0.row.errors) }
            f.resolve("material") { j, _, ctx in
                guard let m = j.row.materialID, let c = j.row.classID else { return nil }
                return try await ctx.materials.load(MaterialKey(materialID: m, classID: c)).map { MaterialValue(row: $0, classID: c, batch: []) }
            }
        }
        t.object("SyncError", SyncErrorValue.self) { f in
            f.resolve("material") { e, _, ctx in
                let key = MaterialKey(materialID: e.row.materialID, classID: e.row.classID)
                return try await ctx.materials.load(key, batch: e.batch).map { MaterialValue(row: $0, classID: e.row.classID, batch: e.batch) }
            }
            f.resolve("section") { e, _, ctx in
                try await ctx.sections.load(e.row.classID, batch: Array(Set(e.batch.map(\.classID)))).map { SectionValue(row: $0, batch: [$0.id]) }
            }
            f.resolve("school") { e, _, ctx in try await ctx.orgs.load(e.row.schoolSourcedId, batch: e.schoolBatch).map(OrgValue.init) }
            f.value("code") { ProblemCode(rawValue: $0.row.code)?.rawValue ?? ProblemCode.sisRejected.rawValue }
            f.value("message") { $0.row.message }
            f.value("field") { $0.row.field }
            f.value("at") { $0.row.at }
        }
    }

    /// The last error message of a job's error history (a JSON array).
    static func lastError(_ errors: String) -> String? {
        guard let list = (try? JSONSerialization.jsonObject(with: Data(errors.utf8))) as? [[String: Any]], let last = list.last else { return nil }
        return last["error"] as? String
    }
}
