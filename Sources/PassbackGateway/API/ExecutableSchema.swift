import Foundation
import GraphQL
import OneRoster
import PassbackCore

/// A field's resolver, typed by its parent's Swift value.
typealias Resolve<Parent> = nonisolated(nonsending) @Sendable (Parent, Map, APIContext) async throws -> (any Sendable)?
/// A resolver that also reads how its field was asked for.
typealias ResolveAsked<Parent> = nonisolated(nonsending) @Sendable (Parent, Map, APIContext, FieldAsk) async throws -> (any Sendable)?

/// Resolvers by type and field name, registered by the files under `Resolvers/`.
struct ResolverTable: Sendable {
    var fields: [String: [String: GraphQLFieldResolve]] = [:]
    /// The same resolvers in the form the planned executor calls (`PlannedResolve`): the two
    /// engines run one body per field.
    var planned: [String: [String: PlannedResolve]] = [:]
    var subscriptions: [String: GraphQLFieldResolve] = [:]
    /// Types whose values are plain `[String: any Sendable]` dictionaries, read by key.
    var plainTypes: Set<String> = []

    /// Registers the fields of an object type whose values are `Parent`.
    mutating func object<Parent: Sendable>(_ type: String, _ parent: Parent.Type, _ build: (inout FieldSet<Parent>) -> Void) {
        var set = FieldSet<Parent>(type: type)
        build(&set)
        fields[type, default: [:]].merge(set.resolvers) { _, new in new }
        planned[type, default: [:]].merge(set.planned) { _, new in new }
    }

    /// The planned executor's resolver of `type.field`: the registered one, or a plain type's
    /// value read by key; nil for a field with neither (the schema's build refuses that).
    func plannedResolver(_ type: String, _ field: String) -> PlannedResolve? {
        if let registered = planned[type]?[field] { return registered }
        guard isPlain(type) else { return nil }
        return .value { try Self.plainValue($0, type, field) }
    }

    mutating func plain(_ types: String...) { plainTypes.formUnion(types) }

    /// Mutation payloads are always plain: `MutationResolvers` builds them whole.
    func isPlain(_ type: String) -> Bool { plainTypes.contains(type) || type.hasSuffix("Payload") }

    /// The resolver of a field of a plain type: the value under the field's name, which must be
    /// there (a `null` is stored as `nil`). A key the code misspelled or forgot is an internal
    /// error naming the field, never a silent `null`.
    static func plainField(_ type: String, _ field: String) -> GraphQLFieldResolve {
        { source, _, _, _ in try plainValue(source, type, field) }
    }

    static func plainValue(_ source: Any, _ type: String, _ field: String) throws -> (any Sendable)? {
        guard let value = source as? [String: any Sendable] else {
            throw APIError(.internalError, "\(type).\(field) resolved on a \(Swift.type(of: source)), not a plain value")
        }
        guard let index = value.index(forKey: field) else {
            throw APIError(.internalError, "\(type).\(field) is missing from its value (it has \(value.keys.sorted().joined(separator: ", ")))")
        }
        return value[index].value
    }
}

/// The resolvers of one object type.
struct FieldSet<Parent: Sendable> {
    let type: String
    var resolvers: [String: GraphQLFieldResolve] = [:]
    var planned: [String: PlannedResolve] = [:]

    init(type: String) { self.type = type }

    /// A field read straight off the value.
    mutating func value(_ name: String, _ read: @escaping @Sendable (Parent) -> (any Sendable)?) {
        let type = self.type
        let typed: PlannedResolve.Read = { source in
            guard let parent = source as? Parent else { throw APIError(.internalError, "\(type).\(name) resolved on a \(Swift.type(of: source))") }
            return read(parent)
        }
        resolvers[name] = { source, _, _, _ in try typed(source) }
        planned[name] = .value(typed)
    }

    /// A field that reads arguments or loads data.
    mutating func resolve(_ name: String, _ body: @escaping Resolve<Parent>) {
        resolve(name, withInfo: { parent, args, context, _ in try await body(parent, args, context) })
    }

    /// A field that also reads how it was asked for (its selection, fragments and variables).
    mutating func resolve(_ name: String, withInfo body: @escaping ResolveAsked<Parent>) {
        let type = self.type
        let typed: PlannedResolve.Load = { source, args, context, ask in
            guard let parent = source as? Parent else { throw APIError(.internalError, "\(type).\(name) resolved on a \(Swift.type(of: source))") }
            guard let context = context as? APIContext else { throw APIError(.internalError, "no request context") }
            // A request stopped (its client went away, or its deadline passed) loads nothing more:
            // the library does not look at cancellation, so each field that reads data does.
            try Task.checkCancellation()
            context.services.work.resolved.add(1, ordering: .relaxed)
            return try await body(parent, args, context, ask())
        }
        resolvers[name] = { source, args, context, info in try await typed(source, args, context, { FieldAsk(info) }) }
        planned[name] = .load(typed)
    }
}

/// A Swift value that is a `Node` of the API.
protocol NodeValue: Sendable {
    static var typeName: String { get }
}

/// Builds the executable schema: `Schema/schema.graphql` (embedded at build time) is the
/// contract, and the resolvers are attached to it by type and field name. Building fails if a
/// field of the contract has no resolver or a resolver names a field the contract lacks, so the
/// file and the code cannot drift apart (the golden test builds it).
enum ExecutableSchema {
    static var sdl: String { EmbeddedSchema.all[0].text }

    static func build(_ table: ResolverTable) throws -> GraphQLSchema {
        let base = try buildSchema(source: sdl)
        guard let oldNode = base.getType(name: "Node") as? GraphQLInterfaceType else { throw SchemaProblem("the contract has no Node interface") }
        // SDL cannot carry a type resolver; Node is rebuilt with one that names the Swift value's type.
        let node = try GraphQLInterfaceType(
            name: "Node", description: oldNode.description, fields: oldNode.fields, interfaces: oldNode.interfaces,
            resolveType: { value, _ in
                guard let v = value as? any NodeValue else { throw APIError(.internalError, "a Node resolved to \(type(of: value))") }
                return type(of: v).typeName
            },
            astNode: oldNode.astNode)
        var problems: [String] = []
        var types: [any GraphQLNamedType] = []
        for (name, type) in base.typeMap where !name.hasPrefix("__") {
            if name == "Node" {
                types.append(node)
                continue
            }
            types.append(type)
            if let input = type as? GraphQLInputObjectType {
                // An input type built from SDL rebuilds its fields from the AST on every access, and
                // coercion reads them once per object of a variable (1,000 times for a batch of
                // grades): built once here, they are read, not rebuilt.
                let fields = try input.fields()
                input.fields = { fields }
                continue
            }
            guard let object = type as? GraphQLObjectType else { continue }
            let oldFields = try object.fields()
            let resolvers = table.fields[name] ?? [:]
            var fields = GraphQLFieldMap()
            for (fieldName, field) in oldFields {
                let new = GraphQLField(
                    type: replacingNode(field.type, with: node), description: field.description,
                    deprecationReason: field.deprecationReason, args: field.args, astNode: field.astNode)
                if name == base.subscriptionType?.name {
                    guard let subscribe = table.subscriptions[fieldName], let resolve = resolvers[fieldName] else {
                        problems.append("Subscription.\(fieldName) has no subscribe/resolve pair")
                        continue
                    }
                    new.subscribe = subscribe
                    new.resolve = resolve
                } else if let resolve = resolvers[fieldName] {
                    new.resolve = resolve
                } else if table.isPlain(name) {
                    new.resolve = ResolverTable.plainField(name, fieldName)
                } else {
                    problems.append("\(name).\(fieldName) has no resolver")
                }
                fields[fieldName] = new
            }
            for extra in resolvers.keys where oldFields[extra] == nil { problems.append("a resolver for \(name).\(extra), which the contract lacks") }
            let interfaces = try object.interfaces().map { $0.name == "Node" ? node : $0 }
            object.fields = { fields }
            object.interfaces = { interfaces }
        }
        for name in table.fields.keys where base.typeMap[name] == nil { problems.append("resolvers for type \(name), which the contract lacks") }
        guard problems.isEmpty else { throw SchemaProblem(problems.sorted().joined(separator: "; ")) }
        if let dateTime = base.getType(name: "DateTime") as? GraphQLScalarType { Scalars.install(dateTime: dateTime) }
        if let date = base.getType(name: "Date") as? GraphQLScalarType { Scalars.install(date: date) }
        return try GraphQLSchema(
            query: base.queryType, mutation: base.mutationType, subscription: base.subscriptionType, types: types,
            directives: base.directives)
    }

    static func replacingNode(_ type: any GraphQLOutputType, with node: GraphQLInterfaceType) -> any GraphQLOutputType {
        switch type {
        case let list as GraphQLList:
            return GraphQLList(replacingNode(list.ofType as! any GraphQLOutputType, with: node))
        case let nonNull as GraphQLNonNull:
            return GraphQLNonNull(replacingNode(nonNull.ofType as! any GraphQLOutputType, with: node) as! any GraphQLNullableType)
        case let interface as GraphQLInterfaceType where interface.name == "Node":
            return node
        default:
            return type
        }
    }

    struct SchemaProblem: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// The `DateTime` and `Date` scalars.
enum Scalars {
    /// An RFC 3339 instant (a time and a zone are required).
    static func instant(_ text: String) -> Date? {
        text.count >= 20 ? OneRoster.DateTime.parse(text) : nil
    }

    /// A `DateTime`'s text: a `Date` as the store writes it, or text as it is; nil for anything else.
    static func dateTimeText(_ value: Any) -> String? {
        if let d = value as? Date { return Timestamp.text(d) }
        return value as? String
    }

    static func install(dateTime: GraphQLScalarType) {
        dateTime.serialize = { value in
            guard let text = dateTimeText(value) else { throw GraphQLError(message: "DateTime cannot represent \(type(of: value))") }
            return .string(text)
        }
        dateTime.parseValue = { value in
            guard case .string(let s) = value, Scalars.instant(s) != nil else {
                throw GraphQLError(message: "DateTime must be an RFC 3339 instant such as 2026-09-01T13:45:00Z")
            }
            return value
        }
        dateTime.parseLiteral = { ast in
            guard let s = ast as? StringValue, Scalars.instant(s.value) != nil else {
                throw GraphQLError(message: "DateTime must be an RFC 3339 instant such as 2026-09-01T13:45:00Z")
            }
            return .string(s.value)
        }
    }

    static func install(date: GraphQLScalarType) {
        date.serialize = { value in
            if let s = value as? String { return .string(s) }
            throw GraphQLError(message: "Date cannot represent \(type(of: value))")
        }
        let check: @Sendable (String) -> Bool = { s in
            s.count == 10 && CalendarDate(s) != nil
        }
        date.parseValue = { value in
            guard case .string(let s) = value, check(s) else { throw GraphQLError(message: "Date must be YYYY-MM-DD") }
            return value
        }
        date.parseLiteral = { ast in
            guard let s = ast as? StringValue, check(s.value) else { throw GraphQLError(message: "Date must be YYYY-MM-DD") }
            return .string(s.value)
        }
    }
}
