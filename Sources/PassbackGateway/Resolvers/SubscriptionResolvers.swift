import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// Live updates, read by polling the store: the worker may run in another process
/// (`passback worker`), and the database is what every process shares.
enum SubscriptionResolvers {
    /// How often a subscription looks for changes.
    static let interval: Duration = .milliseconds(250)

    static func register(_ t: inout ResolverTable) {
        t.subscriptions["syncRunUpdated"] = { _, args, context, _ in
            guard let ctx = context as? APIContext else { throw APIError(.internalError, "no request context") }
            let id = try GlobalID.rowID(args["id"].nonNullString ?? "", of: "SyncRun", argument: "id")
            guard let run = try await ctx.runs.load(id), run.connectionID == ctx.connection else { throw APIError(.notFound, "id: no such sync run") }
            if let c = run.classID { try await ctx.requireReadable([c]) } else { _ = try ctx.requireAdmin() }
            return runUpdates(id, ctx.reads)
        }
        t.subscriptions["materialStatusChanged"] = { _, args, context, _ in
            guard let ctx = context as? APIContext else { throw APIError(.internalError, "no request context") }
            let id = try GlobalID.rowID(args["sectionId"].nonNullString ?? "", of: "Section", argument: "sectionId")
            guard let section = try await ctx.sections.load(id), section.connectionID == ctx.connection else {
                throw APIError(.notFound, "sectionId: no such section")
            }
            try await ctx.requireReadable([id])
            return statusChanges(id, ctx.reads)
        }
        // The executor hands each event to the field's resolver as its source.
        t.fields["Subscription", default: [:]]["syncRunUpdated"] = { source, _, _, _ in
            guard let run = source as? SyncRunRecord else { throw APIError(.internalError, "unexpected event") }
            return SyncRunValue(row: run, batch: [run.id])
        }
        t.fields["Subscription", default: [:]]["materialStatusChanged"] = { source, _, _, _ in
            guard let m = source as? MaterialEvent else { throw APIError(.internalError, "unexpected event") }
            return MaterialValue(row: m.row, classID: m.classID, batch: [])
        }
    }

    struct MaterialEvent: Sendable {
        var row: SectionMaterial
        var classID: Int64
    }

    /// The run now, then each time it changes; ends after it finishes.
    static func runUpdates(_ id: Int64, _ reads: APIReads) -> AsyncThrowingStream<SyncRunRecord, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var last: SyncRunRecord?
                do {
                    while !Task.isCancelled {
                        if let run = try reads.runs(ids: [id])[id], run != last {
                            continuation.yield(run)
                            last = run
                            if run.finishedAt != nil { break }
                        }
                        try await Task.sleep(for: interval)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Each material of the section whose status (or its details) changes from now on.
    static func statusChanges(_ classID: Int64, _ reads: APIReads) -> AsyncThrowingStream<MaterialEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var last = try reads.itemStates(classID: classID)
                    while !Task.isCancelled {
                        try await Task.sleep(for: interval)
                        let now = try reads.itemStates(classID: classID)
                        let changed = now.filter { last[$0.key] != $0.value }.map(\.key).sorted()
                        last = now
                        guard !changed.isEmpty else { continue }
                        let rows = try reads.materials(changed.map { ($0, classID) })
                        for id in changed {
                            if let row = rows[MaterialKey(materialID: id, classID: classID)] { continuation.yield(MaterialEvent(row: row, classID: classID)) }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
