import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// Resolvers of the object types: each child field loads through the request's batch loaders.
enum TypeResolvers {
    static func register(_ t: inout ResolverTable) {
        t.plain(
            "PageInfo", "CategoryMapping", "SyncSchedule", "SyncErrorGroup", "UserError", "PlannedWrite", "FedMaterial", "PlannedItem", "ConnectionHealth",
            "RosterReject")
        connections(&t)
        section(&t)
        material(&t)
        roster(&t)
        lms(&t)
        runs(&t)
    }

    static func sectionValues(_ rows: [SectionSummary]) -> [SectionValue] {
        let ids = rows.map(\.id)
        return rows.map { SectionValue(row: $0, batch: ids) }
    }

    static func materialValues(_ rows: [SectionMaterial], classID: Int64) -> [MaterialValue] {
        let keys = rows.map { MaterialKey(materialID: $0.id, classID: classID) }
        let categories = Array(Set(rows.compactMap(\.lmsCategoryID)))
        return rows.map { MaterialValue(row: $0, classID: classID, batch: keys, categoryBatch: categories) }
    }

    static func runValues(_ rows: [SyncRunRecord]) -> [SyncRunValue] {
        let ids = rows.map(\.id)
        let sections = Array(Set(rows.compactMap(\.classID)))
        let starters = Array(Set(rows.map(\.startedBy).filter { $0 != "scheduler" }))
        return rows.map { SyncRunValue(row: $0, batch: ids, sectionBatch: sections, startedByBatch: starters) }
    }

    /// Every `…Connection` and `…Edge` type reads a `PageValue` / `EdgeValue`.
    static func connections(_ t: inout ResolverTable) {
        for name in [
            "Section", "Material", "Grade", "SyncAttempt", "SyncRun", "SyncJob", "SyncError", "RosterRun", "User", "AcademicSession",
            "SisCategory", "LmsCategory", "CategoryMapping", "SyncProblem", "PlannedItem", "PlannedWrite", "SyncErrorGroup", "FedMaterial", "RosterReject"
        ] {
            t.object(name + "Connection", PageValue.self) { f in
                f.value("edges") { p in zip(p.cursors, p.nodes).map { EdgeValue(cursor: $0.0, node: $0.1) } }
                f.value("nodes") { $0.nodes }
                f.value("pageInfo") { p in
                    ["hasNextPage": p.hasNextPage, "hasPreviousPage": p.hasPreviousPage, "startCursor": p.startCursor, "endCursor": p.endCursor]
                        as [String: any Sendable]
                }
                f.value("totalCount") { $0.totalCount }
            }
            t.object(name + "Edge", EdgeValue.self) { f in
                f.value("cursor") { $0.cursor }
                f.value("node") { $0.node }
            }
        }
    }
}
