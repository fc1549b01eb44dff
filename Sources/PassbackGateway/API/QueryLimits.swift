import Foundation
import GraphQL

/// Depth and static cost of an operation, computed before it runs (API.md, convention 8).
/// Every field costs 1; a field with a `first` argument (a connection) multiplies the cost of
/// what it selects by `first` (its default when left out), `nodes(ids:)` by the number of ids.
/// Introspection (`__schema`, `__type`) is free, so standard tools can load the schema.
struct QueryLimits: Sendable {
    var maxDepth = 12
    var maxCost = 10_000
    /// `first` of a connection when the query leaves it out.
    var defaultFirst = 50

    struct Measure: Equatable {
        var depth: Int
        var cost: Int
    }

    func measure(_ operation: OperationDefinition, fragments: [String: FragmentDefinition], variables: [String: Map]) -> Measure {
        var visiting = Set<String>()
        return measure(operation.selectionSet, fragments: fragments, variables: variables, depth: 1, visiting: &visiting)
    }

    private func measure(_ set: SelectionSet, fragments: [String: FragmentDefinition], variables: [String: Map], depth: Int,
                         visiting: inout Set<String>) -> Measure {
        var out = Measure(depth: depth, cost: 0)
        for selection in set.selections {
            var m: Measure?
            switch selection {
            case let field as Field:
                if field.name.value.hasPrefix("__") { continue }
                var cost = 1
                var deepest = depth
                if let children = field.selectionSet {
                    let inner = measure(children, fragments: fragments, variables: variables, depth: depth + 1, visiting: &visiting)
                    cost += multiplier(field, variables) * inner.cost
                    deepest = inner.depth
                }
                m = Measure(depth: deepest, cost: cost)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard let fragment = fragments[name], !visiting.contains(name) else { continue }
                visiting.insert(name)
                m = measure(fragment.selectionSet, fragments: fragments, variables: variables, depth: depth, visiting: &visiting)
                visiting.remove(name)
            case let inline as InlineFragment:
                m = measure(inline.selectionSet, fragments: fragments, variables: variables, depth: depth, visiting: &visiting)
            default:
                continue
            }
            if let m {
                out.depth = max(out.depth, m.depth)
                out.cost = out.cost &+ m.cost
            }
        }
        return out
    }

    private func multiplier(_ field: Field, _ variables: [String: Map]) -> Int {
        for argument in field.arguments {
            switch argument.name.value {
            case "first": return max(1, min(int(argument.value, variables) ?? defaultFirst, 10_000))
            case "ids":
                if let list = argument.value as? ListValue { return max(1, list.values.count) }
                if let v = argument.value as? Variable, case .array(let a)? = variables[v.name.value] { return max(1, a.count) }
            default: continue
            }
        }
        // A connection whose `first` was left out still returns a page.
        let connections: Set<String> = ["sections", "materials", "grades", "history", "syncRuns", "syncErrors"]
        return connections.contains(field.name.value) ? defaultFirst : 1
    }

    private func int(_ value: any Value, _ variables: [String: Map]) -> Int? {
        if let i = value as? IntValue { return Int(i.value) }
        if let v = value as? Variable, case .number(let n)? = variables[v.name.value] { return n.intValue }
        return nil
    }
}
