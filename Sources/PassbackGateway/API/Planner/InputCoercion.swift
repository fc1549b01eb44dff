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

    /// An input object's fields, made once per type: the schema built from its SDL makes the
    /// map anew on every call of `fields()`, and the widget's variables were checked and
    /// coerced through it on every request (3 % of a page's CPU time). Types are kept with
    /// their fields, so an identifier is never that of another type made later.
    private static let inputFields = Mutex<[ObjectIdentifier: (type: GraphQLInputObjectType, fields: InputObjectFieldMap)]>([:])

    static func fields(of object: GraphQLInputObjectType) throws -> InputObjectFieldMap {
        if let known = inputFields.withLock({ $0[ObjectIdentifier(object)] }) { return known.fields }
        let fields = try object.fields()
        inputFields.withLock { $0[ObjectIdentifier(object)] = (object, fields) }
        return fields
    }

    /// The operation's variables, coerced as `getVariableValues` does.
    static func variables(_ definitions: [VariableDefinition], _ inputs: [String: Map], schema: GraphQLSchema) throws -> [String: Map] {
        var out: [String: Map] = [:]
        for definition in definitions {
            guard let type = inputType(definition.type, schema) else { throw Unplanned() }
            var value = inputs[definition.variable.name.value] ?? .undefined
            if value == .undefined, let defaultValue = definition.defaultValue {
                value = try fromAST(defaultValue, type, [:])
            }
            guard isValid(value, type) else { throw Unplanned() }
            out[definition.variable.name.value] = try coerce(value, type)
        }
        return out
    }

    /// A field's or a directive's arguments, as `getArgumentValues` makes them: every defined
    /// argument in order, `.undefined` for one neither given nor defaulted.
    static func arguments(_ definitions: GraphQLArgumentConfigMap, _ nodes: [Argument], _ variables: [String: Map]) throws -> Map {
        var args = OrderedDictionary<String, Map>()
        for (name, definition) in definitions {
            let value: Map
            if let node = nodes.first(where: { $0.name.value == name }) {
                value = try fromAST(node.value, definition.type, variables)
            } else {
                value = definition.defaultValue ?? .undefined
            }
            guard isValid(value, definition.type) else { throw Unplanned() }
            args[name] = value
        }
        return .dictionary(args)
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
    static func fromAST(_ node: any Value, _ type: any GraphQLInputType, _ variables: [String: Map]) throws -> Map {
        if let nonNull = type as? GraphQLNonNull {
            guard !(node is NullValue), let inner = nonNull.ofType as? any GraphQLInputType else { throw Unplanned() }
            return try fromAST(node, inner, variables)
        }
        if node is NullValue { return .null }
        if let variable = node as? Variable { return variables[variable.name.value] ?? .undefined }
        if let list = type as? GraphQLList {
            guard let item = list.ofType as? any GraphQLInputType else { throw Unplanned() }
            if let values = node as? ListValue { return .array(try values.values.map { try fromAST($0, item, variables) }) }
            return .array([try fromAST(node, item, variables)])
        }
        if let object = type as? GraphQLInputObjectType {
            guard let value = node as? ObjectValue, !object.isOneOf else { throw Unplanned() }
            var out = OrderedDictionary<String, Map>()
            for (name, field) in try fields(of: object) {
                if let given = value.fields.first(where: { $0.name.value == name }) {
                    out[name] = try fromAST(given.value, field.type, variables)
                } else {
                    out[name] = field.defaultValue ?? .undefined
                }
            }
            return .dictionary(out)
        }
        if let leaf = type as? any GraphQLLeafType {
            return (try? leaf.parseLiteral(valueAST: node)) ?? .null
        }
        throw Unplanned()
    }

    /// `validate(value:forType:)`, answering only whether it found no error.
    static func isValid(_ value: Map, _ type: any GraphQLInputType) -> Bool {
        if let nonNull = type as? GraphQLNonNull {
            guard value != .null, value != .undefined, let inner = nonNull.ofType as? any GraphQLInputType else { return false }
            return isValid(value, inner)
        }
        if value == .null || value == .undefined { return true }
        if let list = type as? GraphQLList {
            guard let item = list.ofType as? any GraphQLInputType else { return false }
            if case .array(let values) = value { return values.allSatisfy { isValid($0, item) } }
            return isValid(value, item)
        }
        if let object = type as? GraphQLInputObjectType {
            guard case .dictionary(let given) = value, !object.isOneOf, let defined = try? Self.fields(of: object) else { return false }
            guard given.keys.allSatisfy({ defined[$0] != nil }) else { return false }
            return defined.allSatisfy { isValid(given[$0.key] ?? .undefined, $0.value.type) }
        }
        if let leaf = type as? any GraphQLLeafType {
            guard let parsed = try? leaf.parseValue(value: value) else { return false }
            return parsed != .null && parsed != .undefined
        }
        return false
    }

    /// `coerceValue`.
    static func coerce(_ value: Map, _ type: any GraphQLInputType) throws -> Map {
        if let nonNull = type as? GraphQLNonNull {
            guard let inner = nonNull.ofType as? any GraphQLInputType else { throw Unplanned() }
            return try coerce(value, inner)
        }
        if value == .undefined || value == .null { return value }
        if let list = type as? GraphQLList {
            guard let item = list.ofType as? any GraphQLInputType else { throw Unplanned() }
            if case .array(let values) = value { return .array(try values.map { try coerce($0, item) }) }
            return .array([try coerce(value, item)])
        }
        if let object = type as? GraphQLInputObjectType {
            guard case .dictionary(let given) = value else { throw Unplanned() }
            var out = OrderedDictionary<String, Map>()
            for (name, field) in try fields(of: object) {
                if let v = given[name], v != .undefined {
                    out[name] = try coerce(v, field.type)
                } else {
                    out[name] = field.defaultValue ?? .undefined
                }
            }
            return .dictionary(out)
        }
        if let leaf = type as? any GraphQLLeafType { return try leaf.parseValue(value: value) }
        throw Unplanned()
    }
}
