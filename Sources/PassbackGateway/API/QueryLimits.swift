import Foundation
import GraphQL

/// Depth and static cost of an operation, computed before it runs (API.md, convention 8).
/// Every field costs 1; a field with a `first` argument (a connection) multiplies the cost of
/// what it selects by `first` (its default when left out), `nodes(ids:)` by the number of ids.
/// Introspection (`__schema`, `__type`) costs 1 a field with no multipliers and may nest to
/// `introspectionDepth`, so standard tools can load the schema but cannot use it to flood the
/// server. Arithmetic saturates, and measuring stops once the cost is over the limit.
struct QueryLimits: Sendable {
    var maxDepth = 12
    var maxCost = 10_000
    /// `first` of a connection when the query leaves it out.
    var defaultFirst = 50
    /// How deep an introspection query may nest (the standard one needs about 14).
    var introspectionDepth = 24
    /// How many introspection lists (`types`, `fields`, `args`, …) may nest in one another: the
    /// standard query nests three (types → fields → args); more repeats the whole schema per level.
    static let introspectionLists: Set<String> = ["types", "fields", "inputFields", "interfaces", "possibleTypes", "enumValues", "args", "directives"]
    var introspectionListNesting = 3
    /// How many `__schema`/`__type` fields one request may select.
    var maxIntrospectionRoots = 3
    /// Lists with no `first`, priced as this many rows (a run's jobs can be many; the rest are short).
    static let unboundedLists: [String: Int] = ["jobs": 100, "linkedSections": 10, "teachers": 10, "problems": 10, "gradingPeriods": 10,
                                                "sisCategories": 10, "lmsCategories": 10, "categoryMap": 10, "items": 10, "writes": 10, "runs": 10]

    struct Measure: Equatable {
        var depth: Int
        var cost: Int
        /// Why the query is refused whatever its cost, if it is.
        var refusal: String? = nil
    }

    func measure(_ operation: OperationDefinition, fragments: [String: FragmentDefinition], variables: [String: Map]) -> Measure {
        var visiting = Set<String>()
        // A variable left out takes its declared default.
        var values = variables
        for definition in operation.variableDefinitions where values[definition.variable.name.value] == nil {
            if let i = definition.defaultValue as? IntValue, let n = Int(i.value) { values[definition.variable.name.value] = .number(Number(n)) }
        }
        var roots = 0
        var m = measure(operation.selectionSet, fragments: fragments, variables: values, depth: 1, introspection: false, lists: 0, roots: &roots,
                        visiting: &visiting)
        if roots > maxIntrospectionRoots { m.refusal = "a request may select __schema or __type at most \(maxIntrospectionRoots) times" }
        return m
    }

    private func measure(_ set: SelectionSet, fragments: [String: FragmentDefinition], variables: [String: Map], depth: Int, introspection: Bool,
                         lists: Int, roots: inout Int, visiting: inout Set<String>) -> Measure {
        var out = Measure(depth: depth, cost: 0)
        for selection in set.selections {
            if out.cost > maxCost { break }
            var m: Measure?
            switch selection {
            case let field as Field:
                let name = field.name.value
                if name == "__typename" { continue }
                let inIntrospection = introspection || name == "__schema" || name == "__type"
                if !introspection, inIntrospection { roots += 1 }
                let nesting = lists + (inIntrospection && Self.introspectionLists.contains(name) ? 1 : 0)
                if nesting > introspectionListNesting {
                    return Measure(depth: depth, cost: 0, refusal: "introspection may nest at most \(introspectionListNesting) lists (as types → fields → args)")
                }
                var cost = 1
                var deepest = depth
                if let children = field.selectionSet {
                    let inner = measure(children, fragments: fragments, variables: variables, depth: depth + 1, introspection: inIntrospection, lists: nesting,
                                        roots: &roots, visiting: &visiting)
                    let times = inIntrospection ? 1 : multiplier(field, variables)
                    let (product, overflow) = times.multipliedReportingOverflow(by: inner.cost)
                    cost = overflow ? Int.max / 2 : min(Int.max / 2, 1 + product)
                    if let refusal = inner.refusal { return Measure(depth: depth, cost: 0, refusal: refusal) }
                    // Introspection is held to its own depth, and does not count toward the query's.
                    if inIntrospection, inner.depth > introspectionDepth {
                        return Measure(depth: depth, cost: 0, refusal: "introspection may nest at most \(introspectionDepth) levels")
                    }
                    deepest = inIntrospection ? depth : inner.depth
                }
                m = Measure(depth: deepest, cost: cost)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard let fragment = fragments[name], !visiting.contains(name) else { continue }
                visiting.insert(name)
                m = measure(fragment.selectionSet, fragments: fragments, variables: variables, depth: depth, introspection: introspection, lists: lists,
                            roots: &roots, visiting: &visiting)
                visiting.remove(name)
            case let inline as InlineFragment:
                m = measure(inline.selectionSet, fragments: fragments, variables: variables, depth: depth, introspection: introspection, lists: lists,
                            roots: &roots, visiting: &visiting)
            default:
                continue
            }
            if let m {
                if m.refusal != nil { return m }
                out.depth = max(out.depth, m.depth)
                out.cost = min(Int.max / 2, out.cost + m.cost)
            }
        }
        return out
    }

    private func multiplier(_ field: Field, _ variables: [String: Map]) -> Int {
        for argument in field.arguments {
            switch argument.name.value {
            case "first": return max(1, min(int(argument.value, variables) ?? defaultFirst, 100))
            case "ids":
                if let list = argument.value as? ListValue { return max(1, list.values.count) }
                if let v = argument.value as? Variable, case .array(let a)? = variables[v.name.value] { return max(1, a.count) }
            default: continue
            }
        }
        // A connection whose `first` was left out still returns a page; a list with no `first` is priced as a page too.
        let connections: Set<String> = ["sections", "materials", "grades", "history", "syncRuns", "syncErrors"]
        if connections.contains(field.name.value) { return defaultFirst }
        return Self.unboundedLists[field.name.value] ?? 1
    }

    private func int(_ value: any Value, _ variables: [String: Map]) -> Int? {
        if let i = value as? IntValue { return Int(i.value) }
        if let v = value as? Variable, case .number(let n)? = variables[v.name.value] { return n.intValue }
        return nil
    }
}
