import Foundation
import GraphQL
import PassbackStore
import Testing

@testable import PassbackGateway

/// `Schema/schema.graphql` is the contract (API.md, convention 1).
@Suite("Schema contract")
struct SchemaContractTests {
    static var schemaFile: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "Schema/schema.graphql")
    }

    @Test("the server's printed schema is exactly Schema/schema.graphql")
    func golden() throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "passback-schema-\(UUID().uuidString).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let api = try GraphQLAPI(services: APIServices(database: try PassbackDatabase(path: path)))
        let file = try String(contentsOf: Self.schemaFile, encoding: .utf8)
        let printed = api.printedSchema + "\n"
        if printed != file {
            let out = FileManager.default.temporaryDirectory.appending(path: "schema.printed.graphql")
            try printed.write(to: out, atomically: true, encoding: .utf8)
            Issue.record("the printed schema differs from Schema/schema.graphql; the printed one is at \(out.path): diff them")
        }
    }

    @Test("every type, field, argument, enum value and input field of the contract has a description")
    func everythingDescribed() throws {
        let undescribed = try Self.undescribed(in: ExecutableSchema.build(GraphQLAPI.resolvers))
        if !undescribed.isEmpty {
            Issue.record("\(undescribed.count) elements of Schema/schema.graphql have no description: \(undescribed.joined(separator: ", "))")
        }
    }

    @Test("the description check names each kind of undescribed element, and only those")
    func undescribedAreNamed() throws {
        let schema = try buildSchema(
            source: #"""
                """Described."""
                type Query {
                  """Described."""
                  described("""Described.""" a: Int): Int
                  bare(b: Int): Kind
                }
                enum Kind {
                  """Described."""
                  ONE
                  TWO
                }
                input Filter {
                  """Described."""
                  kept: Int
                  loose: Int
                }
                type Lone {
                  """Described."""
                  x("""Described.""" f: Filter): Int
                }
                """#)
        let found = try Self.undescribed(in: schema)
        #expect(
            found
                == [
                    "type Kind", "enum value Kind.TWO", "type Filter", "input field Filter.loose", "type Lone",
                    "field Query.bare", "argument Query.bare(b:)"
                ].sorted())
    }

    /// Every element of `schema` without a description, as "kind Type.name": the named types
    /// (introspection types and the built-in scalars left out), their fields and the fields'
    /// arguments, input fields and enum values. Sorted.
    static func undescribed(in schema: GraphQLSchema) throws -> [String] {
        func bare(_ text: String?) -> Bool { text?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true }
        let builtIn: Set<String> = ["String", "Int", "Float", "Boolean", "ID"]
        var out: [String] = []
        for (name, type) in schema.typeMap where !name.hasPrefix("__") && !builtIn.contains(name) {
            let description: String?
            var fields: GraphQLFieldMap = [:]
            switch type {
            case let t as GraphQLObjectType: description = t.description; fields = try t.fields()
            case let t as GraphQLInterfaceType: description = t.description; fields = try t.fields()
            case let t as GraphQLUnionType: description = t.description
            case let t as GraphQLScalarType: description = t.description
            case let t as GraphQLEnumType:
                description = t.description
                out += t.values.filter { bare($0.description) }.map { "enum value \(name).\($0.name)" }
            case let t as GraphQLInputObjectType:
                description = t.description
                out += try t.fields().filter { bare($0.value.description) }.map { "input field \(name).\($0.key)" }
            default:
                Issue.record("\(name) is a kind of type the description check does not know")
                continue
            }
            if bare(description) { out.append("type \(name)") }
            for (fieldName, field) in fields {
                if bare(field.description) { out.append("field \(name).\(fieldName)") }
                out += field.args.filter { bare($0.value.description) }.map { "argument \(name).\(fieldName)(\($0.key):)" }
            }
        }
        return out.sorted()
    }

    @Test("every list of objects is a connection with `first` and `after`, and the cost model prices each by its `first`")
    func everyListIsAConnection() throws {
        let schema = try ExecutableSchema.build(GraphQLAPI.resolvers)
        // The lists API.md itself names: a connection's own `edges` and `nodes`, `nodes(ids:)` (priced
        // by its ids) and a payload's `userErrors` (convention 5).
        let allowed: Set<String> = ["nodes", "edges", "userErrors"]
        func unwrapped(_ type: any GraphQLType) -> any GraphQLType {
            if let t = type as? GraphQLNonNull { return unwrapped(t.ofType) }
            return type
        }
        var plainLists: [String] = [], unpriced: [String] = []
        for (name, type) in schema.typeMap where !name.hasPrefix("__") {
            guard let object = type as? GraphQLObjectType else { continue }
            for (fieldName, field) in try object.fields() {
                if let list = unwrapped(field.type) as? GraphQLList,
                    unwrapped(list.ofType) is GraphQLObjectType || unwrapped(list.ofType) is GraphQLInterfaceType,
                    !allowed.contains(fieldName)
                {
                    plainLists.append("\(name).\(fieldName)")
                }
                if (unwrapped(field.type) as? GraphQLObjectType)?.name.hasSuffix("Connection") == true {
                    if field.args["first"] == nil || field.args["after"] == nil { plainLists.append("\(name).\(fieldName) (no first/after)") }
                    if !QueryLimits.connections.contains(fieldName) { unpriced.append("\(name).\(fieldName)") }
                }
            }
        }
        #expect(plainLists.isEmpty, "lists that are not connections (priced by a guess): \(plainLists.sorted())")
        #expect(unpriced.isEmpty, "connections QueryLimits does not price by `first`: \(unpriced.sorted())")
    }

    @Test("building fails when the contract has a field no resolver serves, or a resolver serves a field the contract lacks")
    func driftIsCaught() throws {
        var missing = GraphQLAPI.resolvers
        missing.fields["Section"]?["title"] = nil
        #expect(throws: ExecutableSchema.SchemaProblem.self) { try ExecutableSchema.build(missing) }
        var extra = GraphQLAPI.resolvers
        extra.fields["Section"]?["nickname"] = { _, _, _, _ in nil }
        do {
            _ = try ExecutableSchema.build(extra)
            Issue.record("a resolver for a field the contract lacks was accepted")
        } catch let problem as ExecutableSchema.SchemaProblem {
            #expect(problem.description.contains("Section.nickname"))
        }
    }

    @Test("no field is left to the library's default resolver: a payload or other plain value without a field's key is an error naming it, not a silent null")
    func everyFieldResolved() throws {
        let schema = try ExecutableSchema.build(GraphQLAPI.resolvers)
        var unresolved: [String] = []
        for (name, type) in schema.typeMap where !name.hasPrefix("__") {
            guard let object = type as? GraphQLObjectType else { continue }
            for (field, definition) in try object.fields() where definition.resolve == nil { unresolved.append("\(name).\(field)") }
        }
        #expect(unresolved.isEmpty, "fields read by the default resolver: \(unresolved.sorted())")
        let misspelled: [String: any Sendable] = ["sectoin": 1, "userErrors": [Int]()]
        #expect(throws: APIError.self) { _ = try ResolverTable.plainValue(misspelled, "SaveCategoryMapPayload", "section") }
        let null: [String: any Sendable] = ["section": Int?.none, "userErrors": [Int]()]
        #expect(throws: Never.self) { _ = try ResolverTable.plainValue(null, "SaveCategoryMapPayload", "section") }
    }

    @Test("the API's run and job states are the store's, one for one")
    func statesMatchTheStore() throws {
        let schema = try ExecutableSchema.build(GraphQLAPI.resolvers)
        func values(_ name: String) -> [String] { (schema.getType(name: name) as? GraphQLEnumType)?.values.map(\.name).sorted() ?? [] }
        #expect(values("SyncRunState") == RunState.allCases.map { $0.rawValue.uppercased() }.sorted())
        #expect(values("SyncJobState") == JobState.allCases.map { $0.rawValue.uppercased() }.sorted())
    }
}
