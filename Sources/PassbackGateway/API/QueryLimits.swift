import Foundation
import GraphQL

/// Depth and static cost of an operation, computed before it runs (API.md, convention 8).
/// Every field costs 1 (`__typename` too), a field that runs queries of its own more (see
/// `baseCost`); a field with a `first` argument (a connection) multiplies the cost of
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
    /// Every list of the API is a connection (API.md, convention 3), so every list is priced by its
    /// `first` (at most 100), or by `defaultFirst` when it is left out; only `nodes(ids:)` is priced
    /// by its ids. These are the connection fields' names.
    static let connections: Set<String> = [
        "sections", "materials", "grades", "history", "syncRuns", "syncErrors", "jobs", "rosterRuns",
        "teachers", "linkedSections", "gradingPeriods", "sisCategories", "lmsCategories", "categoryMap",
        "problems", "items", "writes", "runs", "syncErrorSummary", "rejects"
    ]
    /// Connections whose page is smaller than `defaultFirst` when `first` is left out: an item's
    /// problems are listed under every item of a page of materials.
    static let smallerPages = ["problems": 10]

    /// Most fields the operation may select once fragments are expanded.
    var maxFields = 2_000

    struct Measure: Equatable {
        /// How many levels of fields nest (introspection counts one level here; it has its own bound).
        var depth: Int
        var cost: Int
        /// Fields selected, with every fragment expanded where it is spread.
        var fields = 0
        /// `__schema` and `__type` fields selected.
        var roots = 0
        /// Root fields of the operation, with fragments expanded (for the mutation cap).
        var rootFields = 0
        /// Why the query is refused whatever its cost, if it is.
        var refusal: String? = nil
    }

    /// Measures an operation. Each fragment is measured once per context (inside introspection
    /// or not, and how many introspection lists enclose it) and its measure reused wherever it
    /// is spread, so fragments spreading fragments cost linear time to measure however large
    /// they expand.
    func measure(_ operation: OperationDefinition, fragments: [String: FragmentDefinition], variables: [String: Map]) -> Measure {
        // A variable left out takes its declared default.
        var values = variables
        for definition in operation.variableDefinitions where values[definition.variable.name.value] == nil {
            if let i = definition.defaultValue as? IntValue, let n = Int(i.value) { values[definition.variable.name.value] = .number(Number(n)) }
        }
        var walk = Walk(limits: self, fragments: fragments, variables: values)
        var m = walk.measure(operation.selectionSet, introspection: false, lists: 0, root: true)
        if m.refusal == nil, m.roots > maxIntrospectionRoots { m.refusal = "a request may select __schema or __type at most \(maxIntrospectionRoots) times" }
        if m.refusal == nil, m.fields > maxFields {
            m.refusal = "the query selects \(m.fields) fields once its fragments are expanded; the limit is \(maxFields)"
        }
        return m
    }

    private struct Walk {
        let limits: QueryLimits
        let fragments: [String: FragmentDefinition]
        let variables: [String: Map]
        struct Key: Hashable {
            var name: String
            var introspection: Bool
            var lists: Int
            var root: Bool
        }
        var memo: [Key: Measure] = [:]
        var visiting = Set<String>()

        static func add(_ a: Int, _ b: Int) -> Int { min(Int.max / 2, a &+ b) }

        /// `depth` of the result is the height of the selection set: 0 for none, 1 for leaves only.
        mutating func measure(_ set: SelectionSet, introspection: Bool, lists: Int, root: Bool) -> Measure {
            var out = Measure(depth: 0, cost: 0)
            for selection in set.selections {
                // Past a limit the answer is known; stop counting.
                if out.cost > limits.maxCost || out.fields > limits.maxFields { break }
                var m: Measure
                switch selection {
                case let field as Field:
                    m = measure(field, introspection: introspection, lists: lists, root: root)
                    if root { m.rootFields = 1 }
                case let spread as FragmentSpread:
                    let name = spread.name.value
                    guard let fragment = fragments[name], !visiting.contains(name) else { continue }
                    let key = Key(name: name, introspection: introspection, lists: lists, root: root)
                    if let known = memo[key] {
                        m = known
                    } else {
                        visiting.insert(name)
                        m = measure(fragment.selectionSet, introspection: introspection, lists: lists, root: root)
                        visiting.remove(name)
                        memo[key] = m
                    }
                case let inline as InlineFragment:
                    m = measure(inline.selectionSet, introspection: introspection, lists: lists, root: root)
                default:
                    continue
                }
                if m.refusal != nil { return m }
                out.depth = max(out.depth, m.depth)
                out.cost = Self.add(out.cost, m.cost)
                out.fields = Self.add(out.fields, m.fields)
                out.roots = Self.add(out.roots, m.roots)
                out.rootFields = Self.add(out.rootFields, m.rootFields)
            }
            return out
        }

        mutating func measure(_ field: Field, introspection: Bool, lists: Int, root: Bool) -> Measure {
            let name = field.name.value
            let inIntrospection = introspection || name == "__schema" || name == "__type"
            let nesting = lists + (inIntrospection && QueryLimits.introspectionLists.contains(name) ? 1 : 0)
            if nesting > limits.introspectionListNesting {
                return Measure(depth: 0, cost: 0, refusal: "introspection may nest at most \(limits.introspectionListNesting) lists (as types → fields → args)")
            }
            var m = Measure(depth: 1, cost: 1, fields: 1, roots: !introspection && inIntrospection ? 1 : 0)
            guard let children = field.selectionSet else { return m }
            let base = inIntrospection ? 1 : QueryLimits.baseCost(name, root: root)
            let inner = measure(children, introspection: inIntrospection, lists: nesting, root: false)
            if inner.refusal != nil { return inner }
            let times = inIntrospection ? 1 : limits.multiplier(field, variables)
            let (product, overflow) = times.multipliedReportingOverflow(by: inner.cost)
            m.cost = overflow ? Int.max / 2 : min(Int.max / 2, base + product)
            m.fields = Self.add(1, inner.fields)
            m.roots = Self.add(m.roots, inner.roots)
            if inIntrospection, !introspection {
                // Introspection is held to its own depth, and counts one level toward the query's.
                if 1 + inner.depth > limits.introspectionDepth {
                    return Measure(depth: 0, cost: 0, refusal: "introspection may nest at most \(limits.introspectionDepth) levels")
                }
            } else {
                m.depth = 1 + inner.depth
            }
            return m
        }
    }

    /// Connections that are not batched: each one (each alias) runs its own page query and its
    /// own COUNT (`Query.sections`, `Viewer.sections`, `Query.syncRuns`, `Query.syncErrors`,
    /// `Query.rosterRuns`, `RosterRun.rejects`).
    static let unbatchedConnections: Set<String> = ["sections", "syncErrors", "rosterRuns", "rejects"]

    /// What a field with a selection costs before what it selects. Most read a row a batch
    /// loader already fetched, or one batched query per level (1); a connection answered on its
    /// own runs its page query and a COUNT for `totalCount` (10); a connection below a list is
    /// batched per level but still counts (2); the org-wide error summary aggregates every item
    /// of the admin's org (50).
    static func baseCost(_ field: String, root: Bool) -> Int {
        if field == "syncErrorSummary" { return 50 }
        if unbatchedConnections.contains(field) || (root && field == "syncRuns") { return 10 }
        if ["materials", "grades", "history", "syncRuns", "jobs"].contains(field) { return 2 }
        return 1
    }

    fileprivate func multiplier(_ field: Field, _ variables: [String: Map]) -> Int {
        for argument in field.arguments {
            switch argument.name.value {
            case "first": return max(1, min(int(argument.value, variables) ?? defaultFirst, 100))
            case "ids":
                if let list = argument.value as? ListValue { return max(1, list.values.count) }
                if let v = argument.value as? Variable, case .array(let a)? = variables[v.name.value] { return max(1, a.count) }
            default: continue
            }
        }
        // A connection whose `first` was left out still returns a page of its default size.
        guard Self.connections.contains(field.name.value) else { return 1 }
        return Self.smallerPages[field.name.value] ?? defaultFirst
    }

    private func int(_ value: any Value, _ variables: [String: Map]) -> Int? {
        if let i = value as? IntValue { return Int(i.value) }
        if let v = value as? Variable, case .number(let n)? = variables[v.name.value] { return n.intValue }
        return nil
    }
}
