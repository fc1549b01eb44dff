import Foundation
import GraphQL
import PassbackConfig
import PassbackCore
import Testing

@testable import PassbackGateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Documents sent by their SHA-256 (`extensions.persistedQuery`), the clients' documents the
/// server knows, and `api.documents` `trusted`, which runs only those.
@Suite("Persisted and trusted documents", .serialized)
struct PersistedDocumentTests {
    /// A request's JSON body with any of `query`, `variables` and a persisted query's hash.
    static func body(query: String? = nil, hash: String? = nil, version: Any = 1, variables: [String: Any] = [:]) throws -> Data {
        var members: [String: Any] = ["variables": variables]
        if let query { members["query"] = query }
        if let hash { members["extensions"] = ["persistedQuery": ["version": version, "sha256Hash": hash]] }
        return try JSONSerialization.data(withJSONObject: members)
    }

    static func post(_ env: GatewayEnv, _ body: Data, token: String, path: String = "graphql") async throws -> Reply {
        var request = URLRequest(url: env.base.appending(path: path))
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        return try await env.send(request)
    }

    static func get(_ env: GatewayEnv, _ items: [URLQueryItem], token: String, path: String = "graphql") async throws -> Reply {
        var components = URLComponents(url: env.base.appending(path: path), resolvingAgainstBaseURL: false)!
        components.queryItems = items
        var request = URLRequest(url: components.url!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        return try await env.send(request)
    }

    static func widgetDocument(_ name: String) throws -> String {
        try #require(try ClientDocuments.files().first { $0.client == "widget" && $0.name == name }?.text)
    }

    @Test("each of the widget's and passbackctl's documents is one valid operation named as its file, and each client uses every one it has and no other")
    func clientDocuments() throws {
        let schema = try ExecutableSchema.build(GraphQLAPI.resolvers)
        let files = try ClientDocuments.files()
        #expect(files.filter { $0.client == "widget" }.count >= 15 && files.filter { $0.client == "cli" }.count >= 15)
        for file in files {
            let document = try parse(source: Source(body: file.text, name: file.name))
            let errors = validate(schema: schema, ast: document)
            #expect(errors.isEmpty, "\(file.client)/\(file.name): \(errors.map(\.message))")
            let operations = document.definitions.compactMap { $0 as? OperationDefinition }
            #expect(operations.count == 1 && operations.first?.name?.value == file.name, "\(file.client)/\(file.name) holds one operation of its name")
        }
        // The widget names its documents in calls and in the table of a section's lists.
        let widget = try String(contentsOf: ClientDocuments.root.appending(path: "Clients/widget/widget.js"), encoding: .utf8)
        let widgetUses = Set(
            ClientDocuments.matches(widget, #"(?:gql|subscribe)\("(\w+)""#) + ClientDocuments.matches(widget, #"^\s+\w+: "(Section\w+)",$"#, multiline: true))
        #expect(widgetUses == Set(files.filter { $0.client == "widget" }.map(\.name)))
        #expect(!widget.contains("`query") && !widget.contains("`mutation") && !widget.contains("`subscription"), "no document is written in widget.js")
        // passbackctl names them in calls (`run`, `all`, its lists), the jobs mutations by the mutation's name.
        var cli = ""
        for file in ["API.swift", "Admin.swift", "Passbackctl.swift", "Output.swift"] {
            cli += try String(contentsOf: ClientDocuments.root.appending(path: "Clients/cli/\(file)"), encoding: .utf8)
        }
        let cliUses = Set(
            ClientDocuments.matches(cli, #"(?:run|all|list)\(\s*"([A-Z]\w+)""#)
                + ClientDocuments.matches(cli, #"mutation: "(\w+)""#).map { $0.prefix(1).uppercased() + $0.dropFirst() })
        #expect(cliUses == Set(files.filter { $0.client == "cli" }.map(\.name)))
        #expect(!cli.contains("query(") && !cli.contains("mutation(\\$"), "no document is written in passbackctl's Swift")
    }

    @Test("documents.json lists the widget's documents with the SHA-256 that sha256sum gives for their files")
    func manifestHashes() async throws {
        try await withGateway { env in
            let reply = try await env.send(URLRequest(url: env.base.appending(path: "widget/documents.json")))
            #expect(reply.status == 200 && reply.headers["content-type"]?.hasPrefix("application/json") == true)
            let manifest = try #require(try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: [String: String]])
            let directory = ClientDocuments.root.appending(path: "Clients/widget/documents")
            let sha256sum = Process()
            sha256sum.executableURL = URL(filePath: "/usr/bin/sha256sum")
            sha256sum.currentDirectoryURL = directory
            let names = try ClientDocuments.files().filter { $0.client == "widget" }.map(\.name)
            sha256sum.arguments = names.map { $0 + ".graphql" }
            let out = Pipe()
            sha256sum.standardOutput = out
            try sha256sum.run()
            let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            sha256sum.waitUntilExit()
            var expected: [String: String] = [:]
            for line in printed.split(separator: "\n") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                expected[String(parts[1].dropLast(".graphql".count))] = String(parts[0])
            }
            #expect(expected.count == names.count)
            #expect(Set(manifest.keys) == Set(names))
            for (name, hash) in expected {
                #expect(manifest[name]?["sha256Hash"] == hash, "\(name)")
                #expect(manifest[name]?["query"] == (try Self.widgetDocument(name)), "\(name)")
            }
        }
    }

    @Test(
        "a document goes by its hash: known ones at once, others after the client sends them once with it; a wrong hash or shape is refused saying what to send"
    )
    func automaticPersistedQueries() async throws {
        try await withGateway { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            // The widget's own document, never sent whole.
            let viewer = try Self.widgetDocument("Viewer")
            let byHash = try await Self.post(env, try Self.body(hash: PersistedDocuments.hash(viewer)), token: token)
            #expect(byHash.status == 200 && byHash["viewer", "role"] as? String == "TEACHER", "\(byHash.text)")
            let byGET = try await Self.get(
                env, [URLQueryItem(name: "extensions", value: #"{"persistedQuery":{"version":1,"sha256Hash":"\#(PersistedDocuments.hash(viewer))"}}"#)],
                token: token)
            #expect(byGET.status == 200 && byGET["viewer", "role"] as? String == "TEACHER", "\(byGET.text)")

            // Another document: unknown until sent once with its hash.
            let mine = "query Mine { viewer { role user { sourcedId } } }"
            let hash = PersistedDocuments.hash(mine)
            let unknown = try await Self.post(env, try Self.body(hash: hash), token: token)
            #expect(
                unknown.status == 400 && unknown.codes == ["PERSISTED_QUERY_NOT_FOUND"] && unknown.text.contains("send it once with `query`"), "\(unknown.text)"
            )
            let wrong = try await Self.post(env, try Self.body(query: mine, hash: PersistedDocuments.hash(mine + " ")), token: token)
            #expect(
                wrong.status == 400 && wrong.codes == ["BAD_USER_INPUT"] && wrong.text.contains("is not the SHA-256 of `query` (that is \(hash))"),
                "\(wrong.text)")
            let stillUnknown = try await Self.post(env, try Self.body(hash: hash), token: token)
            #expect(stillUnknown.codes == ["PERSISTED_QUERY_NOT_FOUND"], "a wrong hash registers nothing: \(stillUnknown.text)")
            let registered = try await Self.post(env, try Self.body(query: mine, hash: hash), token: token)
            #expect(registered.status == 200 && registered["viewer", "user", "sourcedId"] as? String == env.yearLongSection.teacher, "\(registered.text)")
            let known = try await Self.post(env, try Self.body(hash: hash.uppercased()), token: token)
            #expect(known.status == 200 && known["viewer", "user", "sourcedId"] as? String == env.yearLongSection.teacher, "\(known.text)")

            // Only a document that parses and validates is kept, and only an ordinary-sized one.
            for text in [
                "query Broken { viewer { role ", "query Invalid { viewer { nope } }",
                "query Big { viewer { role } }\n#" + String(repeating: "x", count: 17 * 1024)
            ] {
                let sent = try await Self.post(env, try Self.body(query: text, hash: PersistedDocuments.hash(text)), token: token)
                let again = try await Self.post(env, try Self.body(hash: PersistedDocuments.hash(text)), token: token)
                #expect(again.codes == ["PERSISTED_QUERY_NOT_FOUND"], "\(text.prefix(40)) (\(sent.status)) was not kept: \(again.text)")
            }

            // Malformed `extensions`.
            for (body, says) in [
                (try Self.body(hash: hash, version: 2), "only version 1"), (try Self.body(hash: "abc"), "64 hex digits"),
                (Data(#"{"extensions": {"persistedQuery": "x"}}"#.utf8), "`extensions.persistedQuery` is"),
                (Data(#"{"extensions": [1]}"#.utf8), "`extensions` must be a JSON object"),
                (Data(#"{"variables": {}, "extensions": {}}"#.utf8), "needs `query`")
            ] {
                let refused = try await Self.post(env, body, token: token)
                #expect(refused.status == 400 && refused.codes == ["BAD_USER_INPUT"] && refused.text.contains(says), "\(says): \(refused.text)")
            }
            let getNothing = try await Self.get(env, [URLQueryItem(name: "variables", value: "{}")], token: token)
            #expect(getNothing.status == 400 && getNothing.text.contains("a GET needs a `query` parameter"), "\(getNothing.text)")
            // A hash goes through authentication like a document does.
            let anonymous = try await Self.post(env, try Self.body(hash: PersistedDocuments.hash(viewer)), token: "pb_nope")
            #expect(anonymous.status == 401)
        }
    }

    @Test("the server keeps the last documents clients registered, up to its bound, and none when only trusted documents run")
    func registrationIsBounded() throws {
        let documents = PersistedDocuments(onlyKnown: false, registeredCapacity: 2)
        let texts = ["{ a }", "{ b }", "{ c }", "{ d }", "{ e }"]
        for text in texts { documents.register(text, hash: PersistedDocuments.hash(text)) }
        #expect(texts.map { documents.document(PersistedDocuments.hash($0)) } == [nil, nil, nil, "{ d }", "{ e }"])
        let widget = try Self.widgetDocument("Materials")
        #expect(documents.document(PersistedDocuments.hash(widget)) == widget, "the clients' documents are always known")
        let trusted = PersistedDocuments(onlyKnown: true)
        trusted.register("{ a }", hash: PersistedDocuments.hash("{ a }"))
        #expect(trusted.document(PersistedDocuments.hash("{ a }")) == nil)
    }

    @Test("with api.documents trusted only the clients' and the operator's documents run, whole or by hash; anything else is refused before it is parsed")
    func trustedOnly() async throws {
        let operators = PassbackConfiguration.TrustedDocument(path: "/etc/passback/documents/roles.graphql", text: "query Roles { viewer { role } }\n")
        var limits = GraphQLAPI.Limits()
        limits.onlyTrustedDocuments = true
        limits.trustedDocuments = [operators]
        try await withGateway(limits: limits) { env in
            let token = try env.token(.teacher, user: env.yearLongSection.teacher)
            let section = try env.sectionID(env.yearLongSection.section)
            // The widget's document, whole and by hash; passbackctl's; the operator's.
            let materials = try Self.widgetDocument("Materials")
            let whole = try await Self.post(env, try Self.body(query: materials, variables: ["id": section]), token: token)
            #expect(whole.status == 200 && whole["section", "materials", "totalCount"] != nil, "\(whole.text)")
            let byHash = try await Self.post(env, try Self.body(hash: PersistedDocuments.hash(materials), variables: ["id": section]), token: token)
            // The same data (the cost's bucket refills between the two, so not the same text).
            #expect(byHash.status == 200 && (byHash.json["data"] as? NSDictionary).map { $0 == whole.json["data"] as? NSDictionary } == true, "\(byHash.text)")
            let cli = try #require(try ClientDocuments.files().first { $0.client == "cli" && $0.name == "SectionTitle" }?.text)
            let title = try await Self.post(env, try Self.body(hash: PersistedDocuments.hash(cli), variables: ["id": section]), token: token)
            #expect(title.status == 200 && title["section", "title"] as? String != nil, "\(title.text)")
            let roles = try await Self.post(env, try Self.body(hash: PersistedDocuments.hash(operators.text)), token: token)
            #expect(roles.status == 200 && roles["viewer", "role"] as? String == "TEACHER", "\(roles.text)")

            // Anything else: refused, sent whole, with its hash, by GET, as a subscription, or as introspection.
            let other = "{ viewer { role } }"
            for reply in [
                try await Self.post(env, try Self.body(query: other), token: token),
                try await Self.post(env, try Self.body(query: other, hash: PersistedDocuments.hash(other)), token: token),
                try await Self.get(env, [URLQueryItem(name: "query", value: other)], token: token),
                try await Self.post(env, try Self.body(query: ProtocolTests.introspection), token: token),
                try await Self.get(
                    env, [URLQueryItem(name: "query", value: "subscription($id: ID!) { syncRunUpdated(id: $id) { id } }")], token: token,
                    path: "graphql/stream")
            ] {
                #expect(reply.status == 403 && reply.codes == ["DOCUMENT_NOT_TRUSTED"] && reply.text.contains("api.trustedDocuments"), "\(reply.text)")
            }
            let notRegistered = try await Self.post(env, try Self.body(hash: PersistedDocuments.hash(other)), token: token)
            #expect(
                notRegistered.status == 403 && notRegistered.codes == ["DOCUMENT_NOT_TRUSTED"] && notRegistered.text.contains("none has this hash"),
                "an unknown hash is refused at once, not answered with a request for the text: \(notRegistered.text)")
        }
    }
}
