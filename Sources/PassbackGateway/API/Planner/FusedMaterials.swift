import Foundation

/// `Section.materials` written straight from its page (`PlannedExecution.connection`): the
/// widget's main read holds 50 materials, and each of their plain fields written through its
/// resolver costs a call, a cast of the parent from `Any` and a boxed value. Here the
/// connection's own fields and each material's plain fields are written from the Swift values
/// directly; any other field of a material (`problems`, `grades`, `lmsCategory`…) is completed by
/// the planner as usual, from the same value, so its loads, errors and paths are unchanged.
///
/// Compiled only for a selection it knows whole (`edges` or an unknown `pageInfo` field leaves
/// the field to the planner); `PlannerDifferentialTests` holds its answers to GraphQLSwift's.
struct FusedMaterials: Sendable {
    enum ConnectionField: Sendable {
        case typename
        case totalCount
        case pageInfo(SelectionPlan, [PageInfoField])
        case nodes(SelectionPlan, [MaterialField])
    }

    enum PageInfoField: Sendable {
        case typename, hasNextPage, hasPreviousPage, startCursor, endCursor
    }

    enum MaterialField: Sendable {
        case typename, id, lmsId, title, dueDate, maxPoints, syncToSIS, published, deleted, syncStatus, lastSyncedAt
        /// Completed by the planner from the material's value.
        case planned
    }

    let connection: SelectionPlan
    let fields: [ConnectionField]

    /// The fused form of a `MaterialConnection!` field's shape, or nil when it selects
    /// something this does not write.
    init?(_ shape: Shape) {
        guard case .nonNull(.object(let connection)) = shape else { return nil }
        var fields: [ConnectionField] = []
        for field in connection.fields {
            switch field.name {
            case "__typename": fields.append(.typename)
            case "totalCount": fields.append(.totalCount)
            case "pageInfo":
                guard case .nonNull(.object(let info)) = field.shape else { return nil }
                var infos: [PageInfoField] = []
                for f in info.fields {
                    switch f.name {
                    case "__typename": infos.append(.typename)
                    case "hasNextPage": infos.append(.hasNextPage)
                    case "hasPreviousPage": infos.append(.hasPreviousPage)
                    case "startCursor": infos.append(.startCursor)
                    case "endCursor": infos.append(.endCursor)
                    default: return nil
                    }
                }
                fields.append(.pageInfo(info, infos))
            case "nodes":
                guard case .nonNull(.list(.nonNull(.object(let node)))) = field.shape, node.typeName == MaterialValue.typeName else { return nil }
                fields.append(
                    .nodes(
                        node,
                        node.fields.map { f in
                            switch f.name {
                            case "__typename": .typename
                            case "id": .id
                            case "lmsId": .lmsId
                            case "title": .title
                            case "dueDate": .dueDate
                            case "maxPoints": .maxPoints
                            case "syncToSIS": .syncToSIS
                            case "published": .published
                            case "deleted": .deleted
                            case "syncStatus": .syncStatus
                            case "lastSyncedAt": .lastSyncedAt
                            default: .planned
                            }
                        }))
            default: return nil
            }
        }
        self.connection = connection
        self.fields = fields
    }
}
