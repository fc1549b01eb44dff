import Foundation
import GraphQL
@testable import PassbackGateway
import PassbackStore
import Testing

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
}
