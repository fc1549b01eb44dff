import GraphQL
import OneRoster
import OrderedCollections

/// The JSON of a GraphQL request, read by the wire layer's byte parser and turned into `Map`s
/// directly. `Map`'s own `Decodable` conformance tries every kind of value in turn and decodes
/// each object twice, so a nested object is decoded 2ⁿ times at depth n: a batch of 1,000
/// grades spent more time there than in everything else it does.
enum RequestBody {
    struct Invalid: Error {
        var message: String
    }

    /// A request's members: the document, or the SHA-256 of one the server knows
    /// (`extensions.persistedQuery`), or both.
    struct Members {
        var query: String?
        var operationName: String?
        var variables: [String: Map]
        /// `extensions.persistedQuery.sha256Hash`, lower-case hex.
        var documentHash: String?
    }

    /// `{"query": "…", "operationName": "…", "variables": {…}, "extensions": {"persistedQuery":
    /// {"version": 1, "sha256Hash": "…"}}}`; `query` may be left out when the hash is given,
    /// `operationName`, `variables` and `extensions` may be absent or null, other members are ignored.
    static func request(_ bytes: [UInt8]) throws(Invalid) -> Members {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw Invalid(message: "the body is not JSON (\(error))") }
        guard case .object(let object) = value else { throw Invalid(message: "the body must be a JSON object: {\"query\": \"...\", \"variables\": {...}}") }
        let hash = try documentHash(object["extensions"])
        let query: String?
        switch object["query"] {
        case .string(let text): query = text
        case nil where hash != nil, .null where hash != nil: query = nil
        default: throw Invalid(message: "the body needs `query`, a string holding the GraphQL document (or `extensions.persistedQuery` with its SHA-256)")
        }
        let operationName: String?
        switch object["operationName"] {
        case nil, .null: operationName = nil
        case .string(let name): operationName = name
        default: throw Invalid(message: "`operationName` must be a string")
        }
        return Members(query: query, operationName: operationName, variables: try variables(object["variables"]), documentHash: hash)
    }

    /// The `extensions` of a GET, as JSON text.
    static func documentHash(_ text: String) throws(Invalid) -> String? {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw Invalid(message: "`extensions` is not JSON (\(error))") }
        return try documentHash(value)
    }

    /// `extensions.persistedQuery.sha256Hash` (the automatic persisted queries convention), or
    /// nil when there is no `persistedQuery`. Other extensions are ignored.
    static func documentHash(_ extensions: JSONValue?) throws(Invalid) -> String? {
        let persisted: JSONValue?
        switch extensions {
        case nil, .null: return nil
        case .object(let members): persisted = members["persistedQuery"]
        default: throw Invalid(message: "`extensions` must be a JSON object")
        }
        let shape = "`extensions.persistedQuery` is {\"version\": 1, \"sha256Hash\": \"<the document's SHA-256, 64 hex digits>\"}"
        switch persisted {
        case nil, .null: return nil
        case .object(let p):
            guard case .number(let version) = p["version"], version == 1 else { throw Invalid(message: shape + ": only version 1 is known") }
            guard case .string(let hash) = p["sha256Hash"], hash.utf8.count == 64,
                hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) })
            else { throw Invalid(message: shape) }
            return hash.lowercased()
        default: throw Invalid(message: shape)
        }
    }

    /// The `variables` of a GET, as JSON text.
    static func variables(_ text: String) throws(Invalid) -> [String: Map] {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw Invalid(message: "`variables` is not JSON (\(error))") }
        return try variables(value)
    }

    static func variables(_ value: JSONValue?) throws(Invalid) -> [String: Map] {
        switch value {
        case nil, .null: return [:]
        case .object(let object): return object.mapValues(map)
        default: throw Invalid(message: "`variables` must be a JSON object")
        }
    }

    /// How deep lists and objects nest in `variables` (each variable's value counts from 1),
    /// looking no further than one level past `limit`.
    static func nesting(of variables: [String: Map], upTo limit: Int) -> Int {
        func depth(_ value: Map, _ level: Int) -> Int {
            guard level <= limit else { return level }
            switch value {
            case .array(let items): return items.reduce(level) { max($0, depth($1, level + 1)) }
            case .dictionary(let fields): return fields.values.reduce(level) { max($0, depth($1, level + 1)) }
            default: return level - 1
            }
        }
        return variables.values.reduce(0) { max($0, depth($1, 1)) }
    }

    static func map(_ value: JSONValue) -> Map {
        switch value {
        case .null: .null
        case .bool(let b): .bool(b)
        case .number(let n): .number(Number(n))
        case .string(let s): .string(s)
        case .array(let items): .array(items.map(map))
        case .object(let object):
            .dictionary(OrderedDictionary(uniqueKeysWithValues: object.lazy.sorted { $0.key < $1.key }.map { ($0.key, map($0.value)) }))
        }
    }
}
