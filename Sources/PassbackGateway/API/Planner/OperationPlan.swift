import Foundation
import GraphQL
import OrderedCollections

/// A validated operation compiled once: for each selection, the fields it answers in order,
/// each with its resolver, its arguments (bound once, or per request when they read
/// variables) and how its value is written. `@skip` and `@include` are decided when the plan
/// is made, so a plan is kept per answer to them (`PlanCache`).
///
/// What a plan holds is what GraphQLSwift's executor works out again for every object it
/// completes (`collectFields`, `getFieldDef`, the field's resolver behind a lock, its return
/// type unwrapped): here it is done once per document.
struct OperationPlan: Sendable {
    let operation: OperationDefinition
    let fragments: [String: FragmentDefinition]
    let root: SelectionPlan
    /// The fields whose arguments read variables.
    let boundFields: [FieldPlan]
    /// How long its recent executions took: where the next one runs.
    let timing = PlanTiming()
}

/// The fields one object answers, in the order of the response.
struct SelectionPlan: Sendable {
    let typeName: String
    let fields: [FieldPlan]
}

final class FieldPlan: Sendable {
    enum Arguments: Sendable {
        case constant(Map)
        /// Read from the variables: bound per request, before any field runs.
        case bound([InputCoercion.ArgumentShape])
    }

    /// Its place among the plan's fields (its bound arguments are kept by it).
    let index: Int
    /// The response key, and the bytes `"key":` written before its value.
    let key: String
    let keyBytes: [UInt8]
    let name: String
    let parentType: String
    /// Every node the selection names it by (as GraphQLSwift's `fieldASTs`).
    let nodes: [Field]
    /// Nil for `__typename`.
    let resolve: PlannedResolve?
    let arguments: Arguments
    let shape: Shape
    /// `Section.materials` written from its page directly, when it selects what that knows.
    let fused: FusedMaterials?

    init(index: Int, key: String, name: String, parentType: String, nodes: [Field], resolve: PlannedResolve?, arguments: Arguments, shape: Shape) {
        self.index = index
        self.key = key
        var bytes: [UInt8] = []
        JSONBytes.string(key, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
        self.keyBytes = bytes
        self.name = name
        self.parentType = parentType
        self.nodes = nodes
        self.resolve = resolve
        self.arguments = arguments
        self.shape = shape
        self.fused = parentType == SectionValue.typeName && name == "materials" ? FusedMaterials(shape) : nil
    }
}

/// How a field's value is completed and written.
indirect enum Shape: Sendable {
    case nonNull(Shape)
    case list(Shape)
    case leaf(Leaf)
    case object(SelectionPlan)
    /// An interface: the plan of each type that implements it.
    case abstract(String, [String: SelectionPlan])

    var isNonNull: Bool {
        if case .nonNull = self { return true }
        return false
    }
}

/// A scalar or enum. A built-in scalar holding its plain Swift type, an enum value given as
/// its name and a `DateTime` are written directly (as their `serialize` would make them); any
/// other value goes through the type's own `serialize`, as in GraphQLSwift.
struct Leaf: @unchecked Sendable {
    enum Kind: Sendable {
        case string, int, float, boolean, dateTime, other
        /// An enum, with its values' names.
        case enumeration(Set<String>)
    }

    let kind: Kind
    /// The schema's type (built once, then only read).
    let type: any GraphQLLeafType

    init(_ type: any GraphQLLeafType) {
        self.type = type
        if let enumeration = type as? GraphQLEnumType {
            // Built from SDL, each value's internal value is its name (`buildSchema`).
            let names = enumeration.values.filter { $0.value == .string($0.name) }.map(\.name)
            kind = names.count == enumeration.values.count ? .enumeration(Set(names)) : .other
            return
        }
        switch (type as? GraphQLScalarType)?.name {
        case "String", "ID": kind = .string
        case "Int": kind = .int
        case "Float": kind = .float
        case "Boolean": kind = .boolean
        case "DateTime": kind = .dateTime
        default: kind = .other
        }
    }
}

/// Compiles one operation (`PlanCache.plan`).
struct PlanCompiler {
    let schema: GraphQLSchema
    let table: ResolverTable
    let fragments: [String: FragmentDefinition]
    /// The coerced variables: only `@skip`/`@include` read them here.
    let variables: [String: Map]
    /// Fields planned so far: the next field's `FieldPlan.index`.
    private(set) var count = 0
    private(set) var bound: [FieldPlan] = []

    init(schema: GraphQLSchema, table: ResolverTable, fragments: [String: FragmentDefinition], variables: [String: Map]) {
        self.schema = schema
        self.table = table
        self.fragments = fragments
        self.variables = variables
    }

    /// The plan of a query or mutation, or `Unplanned` for what it leaves to GraphQLSwift
    /// (introspection, subscriptions, a field without a planned resolver).
    static func compile(
        _ operation: OperationDefinition, fragments: [String: FragmentDefinition], schema: GraphQLSchema, table: ResolverTable,
        variables: [String: Map]
    ) throws -> OperationPlan {
        let rootType: GraphQLObjectType?
        switch operation.operation {
        case .query: rootType = schema.queryType
        case .mutation: rootType = schema.mutationType
        case .subscription: rootType = nil
        }
        guard let rootType else { throw InputCoercion.Unplanned() }
        var compiler = PlanCompiler(schema: schema, table: table, fragments: fragments, variables: variables)
        let root = try compiler.selection(rootType, [operation.selectionSet])
        return OperationPlan(operation: operation, fragments: fragments, root: root, boundFields: compiler.bound)
    }

    mutating func selection(_ type: GraphQLObjectType, _ sets: [SelectionSet]) throws -> SelectionPlan {
        var grouped = OrderedDictionary<String, [Field]>()
        for set in sets { try collect(type, set, &grouped, visited: [:]) }
        let definitions = try type.fields()
        var fields: [FieldPlan] = []
        for (key, nodes) in grouped {
            let name = nodes[0].name.value
            let index = count
            count += 1
            if name == "__typename" {
                fields.append(
                    FieldPlan(
                        index: index, key: key, name: name, parentType: type.name, nodes: nodes, resolve: nil, arguments: .constant([:]),
                        shape: .nonNull(.leaf(Leaf(GraphQLString)))))
                continue
            }
            // Introspection (`__schema`, `__type`) stays with GraphQLSwift.
            guard let definition = definitions[name], let resolve = table.plannedResolver(type.name, name) else { throw InputCoercion.Unplanned() }
            let arguments: FieldPlan.Arguments
            if nodes[0].arguments.contains(where: { InputCoercion.readsVariables($0.value) }) {
                arguments = .bound(InputCoercion.arguments(definition.args, nodes[0].arguments))
            } else {
                arguments = .constant(try InputCoercion.arguments(definition.args, nodes[0].arguments, [:]))
            }
            let shape = try self.shape(definition.type, nodes)
            let plan = FieldPlan(
                index: index, key: key, name: name, parentType: type.name, nodes: nodes, resolve: resolve, arguments: arguments, shape: shape)
            if case .bound = arguments { bound.append(plan) }
            fields.append(plan)
        }
        return SelectionPlan(typeName: type.name, fields: fields)
    }

    mutating func shape(_ type: any GraphQLType, _ nodes: [Field]) throws -> Shape {
        switch type {
        case let nonNull as GraphQLNonNull: return .nonNull(try shape(nonNull.ofType, nodes))
        case let list as GraphQLList: return .list(try shape(list.ofType, nodes))
        case let leaf as any GraphQLLeafType: return .leaf(Leaf(leaf))
        case let object as GraphQLObjectType: return .object(try selection(object, nodes.compactMap(\.selectionSet)))
        case let abstract as any GraphQLAbstractType:
            var plans: [String: SelectionPlan] = [:]
            for possible in schema.getPossibleTypes(abstractType: abstract) {
                plans[possible.name] = try selection(possible, nodes.compactMap(\.selectionSet))
            }
            return .abstract(abstract.name, plans)
        default: throw InputCoercion.Unplanned()
        }
    }

    /// GraphQLSwift's `collectFields`, with its handling of visited fragments: the names a
    /// selection has spread are known to its later siblings, not to the selection that holds it
    /// (the library shadows its `inout` set), so a fragment spread at two levels is collected
    /// twice and its field's nodes are repeated. The answer is the same; what a mutation
    /// fingerprints from its nodes (`SelectionFingerprint`) is kept the same too.
    func collect(_ type: GraphQLObjectType, _ set: SelectionSet, _ fields: inout OrderedDictionary<String, [Field]>, visited: [String: Bool]) throws {
        var visited = visited
        for selection in set.selections {
            switch selection {
            case let field as Field:
                guard try included(field.directives) else { continue }
                fields[field.alias?.value ?? field.name.value, default: []].append(field)
            case let inline as InlineFragment:
                guard try included(inline.directives), matches(inline.typeCondition, type) else { continue }
                try collect(type, inline.selectionSet, &fields, visited: visited)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard visited[name] == nil, try included(spread.directives) else { continue }
                visited[name] = true
                guard let fragment = fragments[name], matches(fragment.typeCondition, type) else { continue }
                try collect(type, fragment.selectionSet, &fields, visited: visited)
            default:
                continue
            }
        }
    }

    func matches(_ condition: NamedType?, _ type: GraphQLObjectType) -> Bool {
        guard let condition, let conditional = schema.getType(name: condition.name.value) else { return true }
        if let object = conditional as? GraphQLObjectType { return object.name == type.name }
        if let abstract = conditional as? any GraphQLAbstractType { return schema.isSubType(abstractType: abstract, maybeSubType: type) }
        return false
    }

    /// `@skip` and `@include`, as `shouldIncludeNode` reads them.
    func included(_ directives: [Directive]) throws -> Bool {
        if let skip = directives.first(where: { $0.name.value == "skip" }), try condition(skip) == .bool(true) { return false }
        if let include = directives.first(where: { $0.name.value == "include" }), try condition(include) == .bool(false) { return false }
        return true
    }

    func condition(_ directive: Directive) throws -> Map {
        guard let argument = directive.arguments.first(where: { $0.name.value == "if" }) else { throw InputCoercion.Unplanned() }
        // `if` is a `Boolean!`: a variable that is null or absent here (allowed where it has a
        // default) is GraphQLSwift's to refuse.
        switch argument.value {
        case let literal as BooleanValue: return .bool(literal.value)
        case let variable as Variable:
            guard let value = variables[variable.name.value], case .bool = value else { throw InputCoercion.Unplanned() }
            return value
        default: throw InputCoercion.Unplanned()
        }
    }

    /// The variables a document's `@skip` and `@include` read: a plan is kept per their values.
    static func directiveVariables(_ document: Document) -> [String] {
        var names: Set<String> = []
        func visit(_ directives: [Directive]) {
            for d in directives where d.name.value == "skip" || d.name.value == "include" {
                for a in d.arguments { if let v = a.value as? Variable { names.insert(v.name.value) } }
            }
        }
        func visit(_ set: SelectionSet) {
            for selection in set.selections {
                switch selection {
                case let field as Field:
                    visit(field.directives)
                    if let inner = field.selectionSet { visit(inner) }
                case let inline as InlineFragment:
                    visit(inline.directives)
                    visit(inline.selectionSet)
                case let spread as FragmentSpread:
                    visit(spread.directives)
                default:
                    continue
                }
            }
        }
        for definition in document.definitions {
            if let op = definition as? OperationDefinition { visit(op.selectionSet) }
            if let fragment = definition as? FragmentDefinition { visit(fragment.selectionSet) }
        }
        return names.sorted()
    }
}

/// Plans by document, operation and the values of the variables its `@skip`/`@include` read
/// (nil where the operation is GraphQLSwift's). Bounded: at most `capacity` documents, each
/// with at most `plansPerDocument` answers to its directives (past that a plan is compiled for
/// the request and not kept); when full it starts again empty (documents worth planning are
/// the few clients send again and again).
final class PlanCache: @unchecked Sendable {
    private struct Family {
        var directiveVariables: [String]
        var plans: [[Map]: OperationPlan?] = [:]
    }

    static let plansPerDocument = 16

    private let lock = NSLock()
    private var families: [String: Family] = [:]
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Whether a plan of this document and operation has been asked for (compiled or not).
    func knows(query: String, operationName: String?) -> Bool {
        lock.withLock { families[query + "\u{0}" + (operationName ?? "")] != nil }
    }

    /// The plan for these variables if it is compiled already; nil otherwise, or when the
    /// operation is left to GraphQLSwift.
    func compiled(query: String, operationName: String?, variables: [String: Map]) -> OperationPlan? {
        let name = query + "\u{0}" + (operationName ?? "")
        return lock.withLock { () -> OperationPlan? in
            guard let family = families[name] else { return nil }
            let values = family.directiveVariables.map { variables[$0] ?? .undefined }
            return family.plans[values] ?? nil
        }
    }

    /// The plan for these variables, compiled on first use; nil when the operation is left to
    /// GraphQLSwift.
    func plan(
        query: String, operationName: String?, document: Document, operation: OperationDefinition, fragments: [String: FragmentDefinition],
        variables: [String: Map], compile: (OperationDefinition, [String: FragmentDefinition], [String: Map]) -> OperationPlan?
    ) -> OperationPlan? {
        let name = query + "\u{0}" + (operationName ?? "")
        let known = lock.withLock { families[name]?.directiveVariables }
        let directiveVariables = known ?? PlanCompiler.directiveVariables(document)
        let values = directiveVariables.map { variables[$0] ?? .undefined }
        if let known = lock.withLock({ families[name]?.plans[values] }) { return known }
        let plan = compile(operation, fragments, variables)
        lock.withLock {
            if families[name] == nil, families.count >= capacity { families.removeAll() }
            var family = families[name] ?? Family(directiveVariables: directiveVariables)
            guard family.plans.count < Self.plansPerDocument else { return }
            family.plans.updateValue(plan, forKey: values)
            families[name] = family
        }
        return plan
    }
}
