import GraphQL
import OrderedCollections
import Synchronization

/// Variables and arguments as GraphQLSwift coerces them (`Execution/Values.swift`,
/// `Utilities/ValueFromAST.swift`, `Utilities/IsValidValue.swift` of its 4.x releases, whose
/// functions are internal to the library), for the planned executor. Only input the library
/// would accept is coerced here: anything it would refuse throws `Unplanned`, and the request
/// runs on the library, which gives its own error. So the planner needs none of the library's
/// error messages, and a resolver sees the same `Map` from either engine (the differential
/// test compares them).
enum InputCoercion {
    /// Input the planner leaves to the library.
    struct Unplanned: Error {}

    /// An input type resolved once, walked with a `switch`: coercing the widget's variables and
    /// arguments through GraphQLSwift's types asked a dynamic cast at every level, made the
    /// variables' types anew per request and looked up input fields behind a lock (6 % of the
    /// page's CPU at four connections, medium). Variables' shapes are kept per operation
    /// (`variableShapes`), arguments' by the plan (`FieldPlan.Arguments.bound`).
    indirect enum InputShape: Sendable {
        case nonNull(InputShape)
        case list(InputShape)
        case object(InputObjectShape)
        case leaf(LeafBox)
        /// A `@oneOf` input object: left to the library.
        case unplanned
    }

    /// An input object's fields in their declared order. Made before its fields are set, so a
    /// type that holds itself (through a list) refers to the same shape; never changed after.
    final class InputObjectShape: @unchecked Sendable {
        struct Field {
            let name: String
            let shape: InputShape
            let defaultValue: Map?
        }

        fileprivate(set) var fields: [Field] = []
        fileprivate(set) var names: Set<String> = []
    }

    final class LeafBox: @unchecked Sendable {
        let type: any GraphQLLeafType
        init(_ type: any GraphQLLeafType) { self.type = type }
    }

    /// The shape of a schema input type (its input objects made once, `made` by identity).
    static func shape(_ type: any GraphQLInputType, _ made: inout [ObjectIdentifier: InputObjectShape]) -> InputShape {
        switch type {
        case let nonNull as GraphQLNonNull:
            guard let inner = nonNull.ofType as? any GraphQLInputType else { return .unplanned }
            return .nonNull(shape(inner, &made))
        case let list as GraphQLList:
            guard let inner = list.ofType as? any GraphQLInputType else { return .unplanned }
            return .list(shape(inner, &made))
        case let object as GraphQLInputObjectType:
            guard !object.isOneOf, let fields = try? object.fields() else { return .unplanned }
            if let known = made[ObjectIdentifier(object)] { return .object(known) }
            let made1 = InputObjectShape()
            made[ObjectIdentifier(object)] = made1
            made1.fields = fields.map { InputObjectShape.Field(name: $0.key, shape: shape($0.value.type, &made), defaultValue: $0.value.defaultValue) }
            made1.names = Set(fields.keys)
            return .object(made1)
        case let leaf as any GraphQLLeafType: return .leaf(LeafBox(leaf))
        default: return .unplanned
        }
    }

    /// A variable's definition, resolved.
    struct VariableShape: Sendable {
        let name: String
        let shape: InputShape
        let defaultValue: (any Value)?
    }

    /// An argument's definition and the node that gives it (nil: its default or nothing).
    struct ArgumentShape: Sendable {
        let name: String
        let shape: InputShape
        let node: (any Value)?
        let defaultValue: Map?
    }

    static func arguments(_ definitions: GraphQLArgumentConfigMap, _ nodes: [Argument]) -> [ArgumentShape] {
        var made: [ObjectIdentifier: InputObjectShape] = [:]
        return definitions.map { name, definition in
            ArgumentShape(
                name: name, shape: shape(definition.type, &made), node: nodes.first(where: { $0.name.value == name })?.value,
                defaultValue: definition.defaultValue)
        }
    }

    /// An operation's variables resolved, kept per operation node: a document the cache holds
    /// keeps its nodes, so the same request finds them again. Emptied when it holds 512.
    private static let variableShapes = Mutex<[ObjectIdentifier: (operation: OperationDefinition, shapes: [VariableShape]?)]>([:])

    static func shapes(of operation: OperationDefinition, schema: GraphQLSchema) -> [VariableShape]? {
        if let known = variableShapes.withLock({ $0[ObjectIdentifier(operation)] }), known.operation === operation { return known.shapes }
        var made: [ObjectIdentifier: InputObjectShape] = [:]
        var shapes: [VariableShape]? = []
        for definition in operation.variableDefinitions {
            guard let type = inputType(definition.type, schema) else {
                shapes = nil
                break
            }
            shapes?.append(VariableShape(name: definition.variable.name.value, shape: shape(type, &made), defaultValue: definition.defaultValue))
        }
        variableShapes.withLock {
            if $0.count >= 512 { $0 = [:] }
            $0[ObjectIdentifier(operation)] = (operation, shapes)
        }
        return shapes
    }

    /// The operation's variables, coerced as `getVariableValues` does.
    static func variables(_ operation: OperationDefinition, _ inputs: [String: Map], schema: GraphQLSchema) throws -> [String: Map] {
        guard let shapes = shapes(of: operation, schema: schema) else { throw Unplanned() }
        var out: [String: Map] = [:]
        for variable in shapes {
            var value = inputs[variable.name] ?? .undefined
            if value == .undefined, let defaultValue = variable.defaultValue {
                value = try fromAST(defaultValue, variable.shape, [:])
            }
            guard isValid(value, variable.shape) else { throw Unplanned() }
            out[variable.name] = try coerce(value, variable.shape)
        }
        return out
    }

    /// A field's or a directive's arguments, as `getArgumentValues` makes them: every defined
    /// argument in order, `.undefined` for one neither given nor defaulted.
    static func arguments(_ shapes: [ArgumentShape], _ variables: [String: Map]) throws -> Map {
        var args = OrderedDictionary<String, Map>(minimumCapacity: shapes.count)
        for argument in shapes {
            let value = try argument.node.map { try fromAST($0, argument.shape, variables) } ?? argument.defaultValue ?? .undefined
            guard isValid(value, argument.shape) else { throw Unplanned() }
            args[argument.name] = value
        }
        return .dictionary(args)
    }

    /// `arguments` of definitions and nodes not resolved before (a plan's constant arguments).
    static func arguments(_ definitions: GraphQLArgumentConfigMap, _ nodes: [Argument], _ variables: [String: Map]) throws -> Map {
        try arguments(arguments(definitions, nodes), variables)
    }

    /// Whether a value node reads a variable, anywhere inside it.
    static func readsVariables(_ value: any Value) -> Bool {
        switch value {
        case is Variable: true
        case let list as ListValue: list.values.contains(where: readsVariables)
        case let object as ObjectValue: object.fields.contains { readsVariables($0.value) }
        default: false
        }
    }

    static func inputType(_ node: any `Type`, _ schema: GraphQLSchema) -> (any GraphQLInputType)? {
        switch node {
        case let named as NamedType: return schema.getType(name: named.name.value) as? any GraphQLInputType
        case let list as ListType: return inputType(list.type, schema).map { GraphQLList($0) }
        case let nonNull as NonNullType:
            guard let inner = inputType(nonNull.type, schema) as? any GraphQLNullableType else { return nil }
            return GraphQLNonNull(inner)
        default: return nil
        }
    }

    /// `valueFromAST`.
    static func fromAST(_ node: any Value, _ shape: InputShape, _ variables: [String: Map]) throws -> Map {
        if case .nonNull(let inner) = shape {
            guard !(node is NullValue) else { throw Unplanned() }
            return try fromAST(node, inner, variables)
        }
        if node is NullValue { return .null }
        if let variable = node as? Variable { return variables[variable.name.value] ?? .undefined }
        switch shape {
        case .list(let item):
            if let values = node as? ListValue { return .array(try values.values.map { try fromAST($0, item, variables) }) }
            return .array([try fromAST(node, item, variables)])
        case .object(let object):
            guard let value = node as? ObjectValue else { throw Unplanned() }
            var out = OrderedDictionary<String, Map>(minimumCapacity: object.fields.count)
            for field in object.fields {
                if let given = value.fields.first(where: { $0.name.value == field.name }) {
                    out[field.name] = try fromAST(given.value, field.shape, variables)
                } else {
                    out[field.name] = field.defaultValue ?? .undefined
                }
            }
            return .dictionary(out)
        case .leaf(let leaf): return (try? leaf.type.parseLiteral(valueAST: node)) ?? .null
        case .nonNull, .unplanned: throw Unplanned()
        }
    }

    /// `validate(value:forType:)`, answering only whether it found no error.
    static func isValid(_ value: Map, _ shape: InputShape) -> Bool {
        if case .nonNull(let inner) = shape {
            guard value != .null, value != .undefined else { return false }
            return isValid(value, inner)
        }
        if value == .null || value == .undefined { return true }
        switch shape {
        case .list(let item):
            if case .array(let values) = value { return values.allSatisfy { isValid($0, item) } }
            return isValid(value, item)
        case .object(let object):
            guard case .dictionary(let given) = value else { return false }
            guard given.keys.allSatisfy({ object.names.contains($0) }) else { return false }
            return object.fields.allSatisfy { isValid(given[$0.name] ?? .undefined, $0.shape) }
        case .leaf(let leaf):
            guard let parsed = try? leaf.type.parseValue(value: value) else { return false }
            return parsed != .null && parsed != .undefined
        case .nonNull, .unplanned: return false
        }
    }

    /// `coerceValue`.
    static func coerce(_ value: Map, _ shape: InputShape) throws -> Map {
        if case .nonNull(let inner) = shape { return try coerce(value, inner) }
        if value == .undefined || value == .null { return value }
        switch shape {
        case .list(let item):
            if case .array(let values) = value { return .array(try values.map { try coerce($0, item) }) }
            return .array([try coerce(value, item)])
        case .object(let object):
            guard case .dictionary(let given) = value else { throw Unplanned() }
            var out = OrderedDictionary<String, Map>(minimumCapacity: object.fields.count)
            for field in object.fields {
                if let v = given[field.name], v != .undefined {
                    out[field.name] = try coerce(v, field.shape)
                } else {
                    out[field.name] = field.defaultValue ?? .undefined
                }
            }
            return .dictionary(out)
        case .leaf(let leaf): return try leaf.type.parseValue(value: value)
        case .nonNull, .unplanned: throw Unplanned()
        }
    }
}
