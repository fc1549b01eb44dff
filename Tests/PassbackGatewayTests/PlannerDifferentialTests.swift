import Foundation
import GraphQL
import OneRosterSandbox
import OrderedCollections
import PassbackConfig
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackGateway

/// The planned executor against GraphQLSwift's, its reference: the same requests, by the same
/// principals, over the same database, through `GraphQLAPI.execute` of two APIs that differ only
/// in `Limits.engine`. Their answers must be equal: HTTP status, `data` (as JSON values), and
/// the errors with their messages, paths, locations and codes (in any order: GraphQLSwift runs
/// sibling fields concurrently, so its order of errors varies), and the cost the answer was
/// charged.
///
/// The requests are the clients' own queries (`Clients/widget/widget.js`, `passbackctl` under
/// `Clients/cli/`, the scripts under `Clients/examples/`), read from their files, and generated
/// documents: random selections over the whole schema, with aliases, inline fragments, named
/// fragments, `__typename`, `@skip`/`@include` (literal and variable), and arguments as
/// literals or variables, valid and not (bad ids, bad cursors, page sizes out of range, values
/// of the wrong type). Ids, cursors and sourcedIds come from earlier answers.
///
/// `PASSBACK_DIFF_DOCUMENTS` sets how many generated documents (default 10,000, about 100 s
/// alone on two cores) and `PASSBACK_DIFF_SEED` the seed (fixed by default, so CI runs the same
/// documents every time; another seed draws others).
/// Mutations are not generated: they change the database, so the same one cannot answer both
/// engines; the suite's mutation tests run on the planner.
@Suite("The planned executor answers as GraphQLSwift does", .serialized)
struct PlannerDifferentialTests {
    @Test("the clients' queries and generated documents get the same answer from both engines")
    func differential() async throws {
        let environment = ProcessInfo.processInfo.environment
        let count = Int(environment["PASSBACK_DIFF_DOCUMENTS"] ?? "") ?? 10_000
        let seed = UInt64(environment["PASSBACK_DIFF_SEED"] ?? "") ?? 20_261_202
        var limits = GraphQLAPI.Limits()
        limits.perToken.maximumAvailable = 1_000_000_000
        limits.perToken.restoreRate = 1_000_000_000
        limits.perToken.maxInFlight = 64
        try await withGateway(limits: limits) { env in
            let (section, teacher) = env.yearLongSection
            let token = try env.token(.teacher, user: teacher)
            let sectionID = try env.sectionID(section)
            try await env.feed(section: section, teacher: teacher, materials: 6)
            try await env.mapToFirstSISCategory(sectionID: sectionID, token: token)
            _ = try await LinkedCourseTests.syncChanges(env, section, token)
            // A second section fed and not mapped: its items are blocked, with problems.
            let other = try #require(env.sectionsByTeacher.sorted { $0.key < $1.key }.first { $0.key != teacher && !$0.value.isEmpty })
            try await env.feed(section: other.value[0], teacher: other.key, course: "lms-2", materials: 3)
            _ = try await LinkedCourseTests.syncChanges(env, other.value[0], try env.token(.teacher, user: other.key))

            let planned = env.gateway.api
            var referenceLimits = limits
            referenceLimits.engine = .reference
            let reference = try GraphQLAPI(services: planned.services, limits: referenceLimits)
            let principals = [
                Principal(tokenID: 1, connectionID: "district", userSourcedId: teacher, role: .teacher, orgSourcedId: nil),
                Principal(tokenID: 2, connectionID: "district", userSourcedId: other.key, role: .teacher, orgSourcedId: nil),
                Principal(tokenID: 3, connectionID: "district", userSourcedId: teacher, role: .admin, orgSourcedId: env.districtOrg),
                Principal(tokenID: 4, connectionID: "district", userSourcedId: teacher, role: .admin, orgSourcedId: env.schools[0]),
                Principal(tokenID: 5, connectionID: "district", userSourcedId: "lms-feed", role: .integration, orgSourcedId: nil)
            ]
            var pool = AnswerPool(sections: [sectionID, try env.sectionID(other.value[0])], sourcedIds: [section, teacher, env.districtOrg])
            var compared = Comparison()

            func check(_ query: String, _ variables: [String: Map], _ principal: Principal) async {
                let request = GraphQLAPI.Request(query: query, operationName: nil, variables: variables, method: "POST")
                let a = await planned.execute(request, principal: principal, requestID: "diff")
                let b = await reference.execute(request, principal: principal, requestID: "diff")
                compared.record(query, variables, principal, planned: a, reference: b)
                pool.harvest(a.body)
            }

            // Ids to start from: every principal's sections, and the admins' errors.
            for principal in principals {
                await check(
                    "{ viewer { sections(first: 20) { nodes { id sourcedId materials(first: 10) { nodes { id grades(first: 3) { nodes { id studentSourcedId } } } } syncRuns { nodes { id jobs(first: 3) { nodes { id } } } } } } } }",
                    [:], principal)
            }
            await check("{ syncErrors(first: 20) { nodes { id } } rosterRuns(first: 5) { nodes { id } } }", [:], principals[2])

            // The clients' own queries, each with variables drawn for its declared types.
            var generator = SelectionGenerator(schema: planned.schema, seed: seed)
            let clients = try ClientDocuments.queries()
            #expect(clients.count >= 15, "the clients' query documents were not found: \(clients.count)")
            // Three draws of variables each, so the ones naming a section reach its data.
            for document in clients {
                for principal in principals {
                    await check(document, generator.variables(for: document, pool: pool, requiredOnly: true), principal)
                    for _ in 0..<3 { await check(document, generator.variables(for: document, pool: pool), principal) }
                }
            }

            let plannedBefore = planned.services.work.planned.load(ordering: .relaxed)
            for i in 0..<count {
                let (query, variables) = generator.document(pool: pool)
                await check(query, variables, principals[i % principals.count])
            }
            let plannedRuns = planned.services.work.planned.load(ordering: .relaxed) - plannedBefore
            print("planner differential: \(compared.count) requests compared (\(count) generated, seed \(seed)); \(plannedRuns) planned")
            #expect(
                compared.mismatches.isEmpty,
                "\(compared.mismatches.count) answers differ; the first:\n\(compared.mismatches.prefix(3).joined(separator: "\n\n"))")
            // Most generated documents are valid and planned; the rest check that both refuse alike.
            #expect(plannedRuns > count / 2, "only \(plannedRuns) of \(count) generated documents ran on the planner")
        }
    }
}

@Suite("Which engine runs an operation")
struct EngineChoiceTests {
    @Test("queries and mutations run planned; introspection on GraphQLSwift; api.engine reference runs everything there")
    func choice() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "passback-engine-\(UUID().uuidString).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let services = APIServices(database: try PassbackDatabase(path: path))
        let principal = Principal(tokenID: 1, connectionID: "district", userSourcedId: "t1", role: .teacher, orgSourcedId: nil)
        func run(_ api: GraphQLAPI, _ query: String) async -> (planned: Int, reference: Int) {
            let (p, r) = (services.work.planned.load(ordering: .relaxed), services.work.reference.load(ordering: .relaxed))
            _ = await api.execute(.init(query: query, operationName: nil, variables: [:], method: "POST"), principal: principal, requestID: "engine")
            return (services.work.planned.load(ordering: .relaxed) - p, services.work.reference.load(ordering: .relaxed) - r)
        }
        let planned = try GraphQLAPI(services: services)
        #expect(await run(planned, "{ viewer { role } }") == (1, 0))
        #expect(await run(planned, "{ __schema { queryType { name } } }") == (0, 1))
        let reference = try GraphQLAPI(services: services, limits: GraphQLAPI.Limits(PassbackConfiguration.APISettings(referenceEngine: true)))
        #expect(await run(reference, "{ viewer { role } }") == (0, 1))
    }
}

@Suite("The plan cache")
struct PlanCacheTests {
    @Test("a document keeps at most plansPerDocument plans, one per answer to its @skip/@include; past that each request compiles its own")
    func bounded() throws {
        let query =
            "query($a: Boolean!, $b: Boolean!, $c: Boolean!, $d: Boolean!, $e: Boolean!) { viewer @include(if: $a) @skip(if: $b) { role @include(if: $c) connectionId @skip(if: $d) userSourcedId @include(if: $e) } }"
        let document = try GraphQL.parse(source: Source(body: query))
        let operation = try #require(document.definitions.first as? OperationDefinition)
        let cache = PlanCache(capacity: 4)
        var compiled = 0
        func ask(_ combination: Int) {
            let variables = Dictionary(uniqueKeysWithValues: ["a", "b", "c", "d", "e"].enumerated().map { ($1, Map.bool(combination >> $0 & 1 == 1)) })
            _ = cache.plan(query: query, operationName: nil, document: document, operation: operation, fragments: [:], variables: variables) {
                op, fragments, _ in
                compiled += 1
                return OperationPlan(operation: op, fragments: fragments, root: SelectionPlan(typeName: "Query", fields: []), boundFields: [])
            }
        }
        for _ in 0..<2 { for combination in 0..<20 { ask(combination) } }
        // The first 16 answers are kept; the 4 past the bound compile on each of the two rounds.
        #expect(compiled == PlanCache.plansPerDocument + 2 * (20 - PlanCache.plansPerDocument))
    }
}

/// Two answers compared as JSON values.
struct Comparison {
    var count = 0
    var mismatches: [String] = []

    mutating func record(_ query: String, _ variables: [String: Map], _ principal: Principal, planned a: GraphQLAPI.Answer, reference b: GraphQLAPI.Answer) {
        count += 1
        let (x, y) = (Self.normalized(a), Self.normalized(b))
        guard x != y else { return }
        let vars = (try? JSONEncoder().encode(variables)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        mismatches.append(
            "\(principal.role) \(principal.userSourcedId): \(query)\nvariables \(vars)\nplanned   \(a.status) \(a.body)\nreference \(b.status) \(b.body)")
    }

    /// Status, data, errors and the answer's cost (the token's bucket is each API's own).
    ///
    /// Errors are compared in any order. An error inside a subtree that another error made
    /// `null` is compared only by the root of that subtree: once a non-null field fails, which of
    /// its siblings had run (and failed) before the subtree was given up depends on the order
    /// they run in. GraphQLSwift runs them at once and cancels the rest, whose cancellation it
    /// then reports as an error of its own; the planner runs them in order and stops. The spec
    /// leaves it open (an error raised in a field that is then discarded need not be reported).
    static func normalized(_ answer: GraphQLAPI.Answer) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] else { return "\(answer.status) \(answer.body)" }
        var parts = ["\(answer.status)"]
        let data = object["data"]
        parts.append(canonical(data))
        var visible: [String] = []
        var discarded: Set<String> = []
        for error in object["errors"] as? [[String: Any]] ?? [] {
            let path = error["path"] as? [Any] ?? []
            if path.isEmpty || value(at: path.dropLast(), in: data) != nil {
                visible.append(canonical(error))
            } else {
                // The shortest prefix that is null: the subtree the error was given up with.
                let root = (0...path.count).first { value(at: path.prefix($0), in: data) == nil } ?? path.count
                discarded.insert(canonical(Array(path.prefix(root))))
            }
        }
        parts.append(visible.sorted().joined(separator: "\n"))
        parts.append(discarded.sorted().joined(separator: " "))
        let cost = (object["extensions"] as? [String: Any])?["cost"] as? [String: Any]
        parts.append(canonical(cost?["actualQueryCost"]) + " " + canonical(cost?["requestedQueryCost"]))
        return parts.joined(separator: "\n")
    }

    /// The value at a response path, nil for null or absent.
    static func value(at path: some Collection<Any>, in data: Any?) -> Any? {
        var current = data
        for step in path {
            if current is NSNull { return nil }
            if let key = step as? String {
                current = (current as? [String: Any])?[key]
            } else if let index = step as? Int, let list = current as? [Any], index < list.count {
                current = list[index]
            } else {
                return nil
            }
        }
        return current is NSNull ? nil : current
    }

    /// JSON with sorted keys, numbers as numbers (so 1 and 1.0 are one value).
    static func canonical(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "null"
        case let d as [String: Any]: return "{" + d.keys.sorted().map { "\($0):\(canonical(d[$0]))" }.joined(separator: ",") + "}"
        case let a as [Any]: return "[" + a.map(canonical).joined(separator: ",") + "]"
        case let b as Bool: return b ? "true" : "false"
        case let n as NSNumber: return "\(n.doubleValue)"
        case let s as String: return "\"\(s)\""
        default: return "\(value!)"
        }
    }
}

/// Ids, cursors and sourcedIds seen in answers, for the next documents' arguments.
struct AnswerPool {
    var ids: [String: [String]] = [:]
    var cursors: [String] = []
    var sourcedIds: [String]

    init(sections: [String], sourcedIds: [String]) {
        ids["Section"] = sections
        self.sourcedIds = sourcedIds
    }

    mutating func harvest(_ body: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) else { return }
        walk(object)
    }

    private mutating func walk(_ value: Any) {
        if let d = value as? [String: Any] {
            for (key, v) in d {
                if let s = v as? String {
                    switch key {
                    case "id": if let parsed = GlobalID.parse(s), !(ids[parsed.type]?.contains(s) ?? false) { ids[parsed.type, default: []].append(s) }
                    case "cursor", "endCursor", "startCursor": if cursors.count < 200, !cursors.contains(s) { cursors.append(s) }
                    case "sourcedId", "studentSourcedId", "userSourcedId": if sourcedIds.count < 200, !sourcedIds.contains(s) { sourcedIds.append(s) }
                    default: break
                    }
                } else {
                    walk(v)
                }
            }
        } else if let a = value as? [Any] {
            for v in a { walk(v) }
        }
    }

    var allIDs: [String] { ids.keys.sorted().flatMap { ids[$0]! } }
}

/// The documents the clients send: the widget's and `passbackctl`'s own files, and the example
/// scripts' quoted documents (a `${…}` inside one is replaced by what the script puts there, so
/// each is a document as sent).
enum ClientDocuments {
    static let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The documents the widget and `passbackctl` send, each exactly as sent (their own files,
    /// `Clients/*/documents/NAME.graphql`), by client and name.
    static func files() throws -> [(client: String, name: String, text: String)] {
        var found: [(String, String, String)] = []
        for client in ["widget", "cli"] {
            let directory = root.appending(path: "Clients/\(client)/documents")
            for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where file.hasSuffix(".graphql") {
                found.append((client, String(file.dropLast(".graphql".count)), try String(contentsOf: directory.appending(path: file), encoding: .utf8)))
            }
        }
        return found
    }

    static func queries() throws -> [String] {
        // Queries only: one database cannot answer a mutation for both engines.
        var found = try files().map(\.text).filter { $0.hasPrefix("query") }
        let examples = root.appending(path: "Clients/examples")
        for name in (try FileManager.default.contentsOfDirectory(atPath: examples.path)).sorted() where name.hasSuffix(".sh") {
            let text = try String(contentsOf: examples.appending(path: name), encoding: .utf8)
            found += matches(text, #"'(query[\s(\{][^']*)'"#).map(filled)
        }
        return found.filter { $0.contains("{") }
    }

    static func matches(_ text: String, _ pattern: String, multiline: Bool = false) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: multiline ? [.anchorsMatchLines] : []) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            Range(m.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// A client's placeholders, filled as the client fills them.
    static func filled(_ document: String) -> String {
        var d = document
        // An interpolation becomes a plain field, so the document stays one to run.
        d = d.replacingOccurrences(of: #"\$\{[^}]*\}"#, with: "__typename", options: .regularExpression)
        return d
    }
}

/// Random documents over the executable schema, and variables for any document's declared types.
struct SelectionGenerator {
    let schema: GraphQLSchema
    var rng: SeededRandom
    private var variables: [(name: String, type: String, value: Map?)] = []
    private var fragments: [String] = []
    private var aliases = 0
    private var pool = AnswerPool(sections: [], sourcedIds: [])

    init(schema: GraphQLSchema, seed: UInt64) {
        self.schema = schema
        self.rng = SeededRandom(seed: seed)
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(max(1, n))) }
    mutating func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) / 10_000 < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    /// A query with its variables.
    mutating func document(pool: AnswerPool) -> (String, [String: Map]) {
        self.pool = pool
        variables = []
        fragments = []
        aliases = 0
        guard let query = schema.queryType else { return ("{ __typename }", [:]) }
        let body = selection(of: query, depth: 0)
        let declared = variables.map { "$\($0.name): \($0.type)" }.joined(separator: ", ")
        var values: [String: Map] = [:]
        for v in variables { if let value = v.value { values[v.name] = value } }
        let head = declared.isEmpty ? "query" : "query(\(declared))"
        return (([head + " " + body] + fragments).joined(separator: "\n"), values)
    }

    /// Values for the variables a document declares (the clients' documents).
    /// With `requiredOnly`, only the non-null ones, sections' ids for `ID!`s: the document as a
    /// client sends it first (no filter, the first page).
    mutating func variables(for document: String, pool: AnswerPool, requiredOnly: Bool = false) -> [String: Map] {
        self.pool = pool
        guard let parsed = try? GraphQL.parse(source: Source(body: document)) else { return [:] }
        var out: [String: Map] = [:]
        for case let op as OperationDefinition in parsed.definitions {
            for definition in op.variableDefinitions {
                if requiredOnly {
                    guard let nonNull = definition.type as? NonNullType else { continue }
                    if (nonNull.type as? NamedType)?.name.value == "ID", let sections = pool.ids["Section"], !sections.isEmpty {
                        out[definition.variable.name.value] = .string(sections[0]) // the fed section, which has materials
                        continue
                    }
                }
                guard let type = InputCoercion.inputType(definition.type, schema) else { continue }
                if let value = self.value(for: type, argument: definition.variable.name.value, depth: 0) { out[definition.variable.name.value] = value }
            }
        }
        return out
    }

    private mutating func selection(of type: GraphQLObjectType, depth: Int) -> String {
        guard let fields = try? type.fields() else { return "{ __typename }" }
        let names = Array(fields.keys).filter { !$0.hasPrefix("__") }
        var parts: [String] = []
        for _ in 0..<(1 + int(depth == 0 ? 2 : 4)) {
            let name = pick(names)
            guard let field = fields[name], let part = self.field(name, field, depth: depth) else { continue }
            parts.append(part)
        }
        if chance(0.2) { parts.append("__typename") }
        if chance(0.15), !parts.isEmpty {
            // The same fields through a fragment: inline, or named and spread.
            let inner = parts.removeLast()
            if chance(0.5) {
                parts.append("... on \(type.name) { \(inner) }")
            } else {
                let name = "F\(fragments.count)"
                fragments.append("fragment \(name) on \(type.name) { \(inner) }")
                parts.append("...\(name)")
            }
        }
        if parts.isEmpty { parts = ["__typename"] }
        return "{ " + parts.joined(separator: " ") + " }"
    }

    private mutating func field(_ name: String, _ field: GraphQLField, depth: Int) -> String? {
        let named = Self.named(field.type)
        let composite = named is GraphQLObjectType || named is GraphQLInterfaceType
        if composite && depth >= 4 { return nil }
        var text = name
        // A unique alias, so two picks of one field with other arguments never conflict.
        aliases += 1
        text = "a\(aliases): " + text
        var args: [String] = []
        for (argName, arg) in field.args {
            let required = arg.type is GraphQLNonNull
            guard required || chance(0.5) else { continue }
            args.append("\(argName): \(argument(argName, arg.type))")
        }
        if !args.isEmpty { text += "(" + args.joined(separator: ", ") + ")" }
        if chance(0.1) {
            if chance(0.5) {
                text += " @include(if: \(chance(0.5) ? "true" : "false"))"
            } else {
                let v = "d\(variables.count)"
                // Now and then a nullable one with a default, given as null or not at all: the
                // directive's `if` is a `Boolean!`, so null is refused and absence takes the default.
                if chance(0.15) {
                    variables.append((v, "Boolean = true", chance(0.5) ? .null : nil))
                } else {
                    variables.append((v, "Boolean!", .bool(chance(0.5))))
                }
                text += chance(0.5) ? " @skip(if: $\(v))" : " @include(if: $\(v))"
            }
        }
        if let object = named as? GraphQLObjectType {
            text += " " + selection(of: object, depth: depth + 1)
        } else if let interface = named as? GraphQLInterfaceType {
            let possible = schema.getPossibleTypes(abstractType: interface)
            var parts = ["__typename", "id"]
            for _ in 0..<(1 + int(2)) {
                let t = pick(possible)
                parts.append("... on \(t.name) \(selection(of: t, depth: depth + 1))")
            }
            text += " { " + parts.joined(separator: " ") + " }"
        }
        return text
    }

    /// An argument as a literal or a variable.
    private mutating func argument(_ name: String, _ type: any GraphQLInputType) -> String {
        let value = self.value(for: type, argument: name, depth: 0)
        if chance(0.5) {
            let v = "v\(variables.count)"
            // Now and then a variable declared but not given, or given for a nullable type as null.
            variables.append((v, Self.printed(type), chance(0.05) && !(type is GraphQLNonNull) ? nil : value))
            return "$\(v)"
        }
        return Self.literal(value ?? .null)
    }

    /// A value for an input type: mostly valid and drawn from answers, sometimes not.
    mutating func value(for type: any GraphQLInputType, argument: String, depth: Int) -> Map? {
        if let nonNull = type as? GraphQLNonNull, let inner = nonNull.ofType as? any GraphQLInputType {
            return value(for: inner, argument: argument, depth: depth) ?? .string("x")
        }
        if chance(0.05) { return .null }
        if let list = type as? GraphQLList, let inner = list.ofType as? any GraphQLInputType {
            return .array((0..<int(3)).compactMap { _ in value(for: inner, argument: argument, depth: depth + 1) })
        }
        if let object = type as? GraphQLInputObjectType, let fields = try? object.fields() {
            guard depth < 3 else { return .null }
            var out: OrderedDictionary<String, Map> = [:]
            for (name, field) in fields where field.type is GraphQLNonNull || chance(0.4) {
                out[name] = value(for: field.type, argument: name, depth: depth + 1) ?? .null
            }
            return .dictionary(out)
        }
        if let enumeration = type as? GraphQLEnumType {
            return chance(0.03) ? .string("NOT_A_VALUE") : .string(pick(enumeration.values.map(\.name)))
        }
        guard let scalar = type as? GraphQLScalarType else { return .null }
        switch scalar.name {
        case "Int":
            if argument == "first" || argument == "last" { return .number(Number(pick([0, 1, 2, 3, 5, 5, 5, -1, 101, 1000]))) }
            return .number(Number(pick([0, 1, 7, 60, 600, -5, 2_000_000_000])))
        case "Float": return .number(Number(pick([0.0, 9.5, 10.0, -1.0])))
        case "Boolean": return .bool(chance(0.5))
        case "DateTime": return .string(pick(["2026-09-01T00:00:00Z", "2020-01-01T12:00:00+02:00", "yesterday"]))
        case "Date": return .string(pick(["2026-09-01", "2026-13-40", "2027-06-30"]))
        case "ID":
            let all = pool.allIDs
            if chance(0.1) || all.isEmpty { return .string(pick(["bad", "U2VjdGlvbjo5OTk5OTk", ""])) }
            if argument.lowercased().contains("section"), let sections = pool.ids["Section"], !sections.isEmpty { return .string(pick(sections)) }
            // `section(id:)` and `node(id:)` reach a section's lists (its materials, written from
            // their page: FusedMaterials) only with a section's id: half the time, one.
            if argument == "id", chance(0.5), let sections = pool.ids["Section"], !sections.isEmpty { return .string(pick(sections)) }
            return .string(pick(all))
        default:
            if argument == "after" || argument == "before" {
                // Most cursors in the pool belong to another list (refused alike); a first page reaches the rows.
                if chance(0.5) { return .null }
                return pool.cursors.isEmpty || chance(0.2) ? .string(pick(["garbage", "eyJ9"])) : .string(pick(pool.cursors))
            }
            if argument.lowercased().contains("sourcedid") || argument == "studentSourcedId" {
                return .string(pool.sourcedIds.isEmpty ? "none" : pick(pool.sourcedIds))
            }
            return .string(pick(["", "a", "Material", "quiz", "%_'", "Hom"]))
        }
    }

    static func named(_ type: any GraphQLType) -> any GraphQLType {
        if let n = type as? GraphQLNonNull { return named(n.ofType) }
        if let l = type as? GraphQLList { return named(l.ofType) }
        return type
    }

    static func printed(_ type: any GraphQLType) -> String {
        if let n = type as? GraphQLNonNull { return printed(n.ofType) + "!" }
        if let l = type as? GraphQLList { return "[" + printed(l.ofType) + "]" }
        return (type as? any GraphQLNamedType)?.name ?? "String"
    }

    static func literal(_ value: Map) -> String {
        switch value {
        case .undefined, .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.storageType == .double ? "\(n.doubleValue)" : "\(n.intValue)"
        case .string(let s):
            // An enum value is written bare; the generator only draws upper-case words for them.
            if !s.isEmpty, s.allSatisfy({ $0.isUppercase || $0 == "_" }) { return s }
            let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\""
        case .array(let items): return "[" + items.map(literal).joined(separator: ", ") + "]"
        case .dictionary(let d): return "{" + d.map { "\($0.key): \(literal($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}

@Suite("Section.materials written from its page")
struct FusedMaterialsTests {
    /// The `Section.materials` field plan of a document's first operation.
    static func materialsPlan(_ document: String) throws -> FieldPlan? {
        let schema = try ExecutableSchema.build(GraphQLAPI.resolvers)
        let parsed = try parse(source: Source(body: document, name: "test"))
        let operation = try #require(parsed.definitions.first as? OperationDefinition)
        let plan = try PlanCompiler.compile(operation, fragments: [:], schema: schema, table: GraphQLAPI.resolvers, variables: [:])
        let section = try #require(plan.root.fields.first)
        guard case .object(let selection) = section.shape else { return nil }
        return selection.fields.first { $0.name == "materials" }
    }

    @Test("the widget's page and any selection of the connection's counts, pageInfo and materials are written directly; edges are left to the planner")
    func eligibility() throws {
        let widget = try String(contentsOf: ClientDocuments.root.appending(path: "Clients/widget/documents/Materials.graphql"), encoding: .utf8)
        #expect(try Self.materialsPlan(widget)?.fused != nil, "the widget's own page")
        let aliased = """
            { section(id: "x") { m: materials(first: 5) { __typename n: totalCount pageInfo { startCursor hasPreviousPage __typename }
              nodes { __typename key: id lmsId maxPoints published deleted lmsCategory { title } grades { totalCount } } } } }
            """
        let fused = try #require(try Self.materialsPlan(aliased)?.fused)
        guard case .nodes(_, let kinds)? = fused.fields.last else { Issue.record("no nodes"); return }
        #expect(kinds.filter { if case .planned = $0 { return true } else { return false } }.count == 2, "lmsCategory and grades stay with the planner")
        #expect(try Self.materialsPlan(#"{ section(id: "x") { materials { edges { cursor node { id } } } } }"#)?.fused == nil)
        #expect(try Self.materialsPlan(#"{ section(id: "x") { materials { totalCount } } }"#)?.fused != nil)
    }
}
