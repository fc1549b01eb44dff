import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// Live updates, read from the store by the API's one `LiveHub` poller: the worker may run in
/// another process (`passback worker`), and the database is what every process shares. Each
/// event is authorized again before it is sent (the token is re-checked by the stream itself,
/// see `GraphQLAPI.serverSentEvents`).
enum SubscriptionResolvers {
    static func register(_ t: inout ResolverTable) {
        t.subscriptions["syncRunUpdated"] = { _, args, context, _ in
            guard let ctx = context as? APIContext else { throw APIError(.internalError, "no request context") }
            let id = try GlobalID.rowID(args["id"].nonNullString ?? "", of: "SyncRun", argument: "id")
            guard let run = try await ctx.runs.load(id), run.connectionID == ctx.connection else { throw APIError(.notFound, "id: no such sync run") }
            if let c = run.classID { try await ctx.requireReadable([c]) } else { _ = try ctx.requireAdmin() }
            return ctx.services.hub.runUpdates(run)
        }
        t.subscriptions["materialStatusChanged"] = { _, args, context, _ in
            guard let ctx = context as? APIContext else { throw APIError(.internalError, "no request context") }
            let id = try GlobalID.rowID(args["sectionId"].nonNullString ?? "", of: "Section", argument: "sectionId")
            guard let section = try await ctx.sections.load(id), section.connectionID == ctx.connection else {
                throw APIError(.notFound, "sectionId: no such section")
            }
            try await ctx.requireReadable([id])
            return try ctx.services.hub.statusChanges(id)
        }
        // The executor hands each event to the field's resolver as its source, one event at a
        // time with the subscription's one context: its loaders are emptied first, so what an
        // event selects below the root is read as it is now, not as the first event found it.
        t.fields["Subscription", default: [:]]["syncRunUpdated"] = { source, _, context, _ in
            guard let run = source as? SyncRunRecord else { throw APIError(.internalError, "unexpected event") }
            try ctx(context).loaders.forgetLoaded()
            if let c = run.classID { try await ctx(context).requireReadable([c]) } else { _ = try ctx(context).requireAdmin() }
            return SyncRunValue(row: run, batch: [run.id])
        }
        t.fields["Subscription", default: [:]]["materialStatusChanged"] = { source, _, context, _ in
            guard let m = source as? MaterialEvent else { throw APIError(.internalError, "unexpected event") }
            try ctx(context).loaders.forgetLoaded()
            try await ctx(context).requireReadable([m.classID])
            return MaterialValue(row: m.row, classID: m.classID, batch: [])
        }
    }

    static func ctx(_ context: Any) throws -> APIContext {
        guard let ctx = context as? APIContext else { throw APIError(.internalError, "no request context") }
        return ctx
    }

    struct MaterialEvent: Sendable {
        var row: SectionMaterial
        var classID: Int64
    }
}
