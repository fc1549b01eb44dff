import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// `Material`, `Grade` and `SyncAttempt`: an LMS material as it stands in one section.
extension TypeResolvers {
    /// A section's materials with the filter, order and page of the arguments.
    static func materialsPage(of classID: Int64, _ args: Map, _ ctx: APIContext) async throws -> PageValue {
        let first = try pageSize(args)
        let after = args["after"].nonNullString
        let filterArg = args["filter"]
        var filter = MaterialFilter(search: filterArg["search"].nonNullString, includeDeleted: filterArg["includeDeleted"].nonNullBool ?? false)
        if let gp = filterArg["gradingPeriodId"].nonNullString {
            filter.gradingPeriodSourcedId = try GlobalID.key(gp, of: "AcademicSession", argument: "filter.gradingPeriodId")
        }
        if let statuses = filterArg["status"].list {
            filter.statuses = statuses.compactMap { $0.nonNullString.flatMap(SyncStatus.init(rawValue:)) }
        }
        var order = MaterialOrder()
        let orderArg = args["orderBy"]
        if let field = orderArg["field"].nonNullString {
            switch field {
            case "DUE_DATE": order.field = .dueDate
            case "LAST_SYNCED_AT": order.field = .lastSyncedAt
            default: order.field = .title
            }
            order.descending = orderArg["direction"].nonNullString == "DESC"
        }
        let page: KeysetPage<SectionMaterial>
        do {
            page = try CacheQueries(ctx.services.database).materials(
                ofSection: classID, filter: filter, order: order, first: first, after: after, withTotal: true)
        } catch let e as StoreError where e.code == .badCursor || e.code == .notFound {
            throw APIError.badInput(e.message)
        }
        // The page read its items' problems too (the widget shows them on every row).
        ctx.problems.prime(
            Dictionary(page.items.map { (MaterialKey(materialID: $0.id, classID: classID), APIReads.problems(of: $0)) }) { first, _ in first })
        return PageValue(page, total: page.total ?? 0, after: after) { materialValues($0, classID: classID) }
    }

    static func material(_ t: inout ResolverTable) {
        t.object("Material", MaterialValue.self) { f in
            f.value("id") { GlobalID.material($0.row.id, section: $0.classID) }
            f.value("lmsId") { $0.row.lmsID }
            f.value("title") { $0.row.title }
            f.value("dueDate") { $0.row.dueAt }
            f.value("maxPoints") { $0.row.maxPoints }
            f.value("syncToSIS") { $0.row.syncToSIS }
            f.value("published") { $0.row.published }
            f.value("deleted") { $0.row.deleted }
            f.value("syncStatus") { $0.row.status.rawValue }
            f.value("lastSyncedAt") { $0.row.lastSyncedAt }
            f.resolve("lmsCategory") { m, _, ctx in
                guard let id = m.row.lmsCategoryID else { return nil }
                return try await ctx.lmsCategories.load(id, batch: m.categoryBatch).map(LMSCategoryValue.init)
            }
            f.resolve("section") { m, _, ctx in
                try await ctx.sections.load(m.classID, batch: Array(Set(m.batch.map(\.classID)))).map { SectionValue(row: $0, batch: [$0.id]) }
            }
            f.resolve("problems") { m, args, ctx in try PageValue.problems(try await ctx.problems.load(m.key, batch: m.batch) ?? [], args, ordering: "problems")
            }
            f.resolve("grades") { m, args, ctx in
                let first = try pageSize(args)
                let after = args["after"].nonNullString
                guard let result = try await ctx.grades(section: m.classID, first: first, after: after).load(m.row.id, batch: m.batch.map(\.materialID)) else {
                    return PageValue(KeysetPage<GradeRecord>(items: [], cursors: [], hasNextPage: false), total: 0, after: after) { _ in [] }
                }
                return PageValue(result.page, total: result.total, after: after) { rows in
                    let students = rows.map(\.studentSourcedId)
                    return rows.map { GradeValue(row: $0, batch: students) }
                }
            }
            f.resolve("history") { m, args, ctx in
                let first = try pageSize(args, default: 20)
                let after = args["after"].nonNullString
                guard let result = try await ctx.history(first: first, after: after).load(m.key, batch: m.batch) else {
                    return PageValue(KeysetPage<AuditRecord>(items: [], cursors: [], hasNextPage: false), total: 0, after: after) { _ in [] }
                }
                return PageValue(result.page, total: result.total, after: after) { $0.map(AttemptValue.init) }
            }
        }
        t.object("Grade", GradeValue.self) { f in
            f.value("id") { GlobalID.make("Grade", "\($0.row.materialID)|\($0.row.studentSourcedId)") }
            f.value("studentSourcedId") { $0.row.studentSourcedId }
            f.resolve("student") { g, _, ctx in try await ctx.user(g.row.studentSourcedId, batch: g.batch) }
            f.value("score") { $0.row.score }
            f.value("exception") { $0.row.exception?.uppercased() }
            f.value("comment") { $0.row.comment }
            f.value("updatedAt") { $0.row.updatedAt }
        }
        t.object("SyncAttempt", AttemptValue.self) { f in
            f.value("at") { $0.row.at }
            f.value("action") { $0.row.action }
            f.value("attempt") { $0.row.attempt }
            f.value("outcome") { $0.row.outcome.rawValue }
            f.value("httpStatus") { $0.row.httpStatus }
            f.value("code") { $0.row.code.flatMap(ProblemCode.init(rawValue:))?.rawValue }
            f.value("message") { $0.row.message }
            f.resolve("run") { a, _, ctx in
                guard let id = a.row.syncRunID else { return nil }
                return try await ctx.runs.load(id).map { SyncRunValue(row: $0, batch: [$0.id]) }
            }
        }
    }
}
