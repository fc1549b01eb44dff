import Crypto
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A failure to show the user, with the exit status it ends with.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var status: Int32 = 1
    init(_ description: String, status: Int32 = 1) {
        self.description = description
        self.status = status
    }
}

/// `passbackctl`'s GraphQL documents, `Clients/cli/documents/NAME.graphql` (embedded at build
/// time), by name, each with its SHA-256: requests name a document by its hash, so a server that
/// runs only the documents it knows (`api.documents` `trusted`) runs these.
enum Documents {
    static let byName: [String: (text: String, hash: String)] = Dictionary(
        uniqueKeysWithValues: EmbeddedDocuments.all.map { file in
            (String(file.name.dropLast(".graphql".count)), (file.text, SHA256.hash(data: Array(file.text.utf8)).map { String(format: "%02x", $0) }.joined()))
        })
}

/// The gateway's GraphQL API over HTTP: the only thing `passbackctl` knows of Passback.
struct API {
    var url: URL
    var token: String

    /// Runs the document `name` (`documents/NAME.graphql`); returns `data`, or throws the first
    /// error with its code. The document goes by its hash; its text follows only if the server
    /// does not know the hash.
    func run(_ name: String, _ variables: [String: Any] = [:]) async throws -> [String: Any] {
        guard let document = Documents.byName[name] else { throw CLIError("passbackctl has no document \(name) (a bug: please report it)") }
        let persisted = ["persistedQuery": ["version": 1, "sha256Hash": document.hash]]
        var (status, json, body) = try await post(["variables": variables, "extensions": persisted])
        // A 400 asks for the text: PERSISTED_QUERY_NOT_FOUND, or a gateway older than persisted
        // documents, which needs `query` in every request.
        if status == 400 {
            (status, json, body) = try await post(["query": document.text, "variables": variables, "extensions": persisted])
        }
        if let errors = json?["errors"] as? [[String: Any]], let first = errors.first {
            let code = (first["extensions"] as? [String: Any])?["code"] as? String ?? "ERROR"
            throw CLIError("\(code): \(first["message"] as? String ?? "the request failed")", status: code == "UNAUTHENTICATED" ? 3 : 1)
        }
        guard status == 200, let data = json?["data"] as? [String: Any] else {
            throw CLIError("Passback answered HTTP \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        return data
    }

    /// POSTs a GraphQL request: the status, the answer as JSON if it is, and its bytes.
    func post(_ members: [String: Any]) async throws -> (Int, [String: Any]?, Data) {
        var request = URLRequest(url: url.appending(path: "graphql"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: members)
        let body: Data
        let response: URLResponse
        do {
            (body, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach Passback at \(url.absoluteString): \(error.localizedDescription)")
        }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], body)
    }

    /// The first error's `extensions.code`.
    static func code(_ json: [String: Any]?) -> String? {
        ((json?["errors"] as? [[String: Any]])?.first?["extensions"] as? [String: Any])?["code"] as? String
    }

    /// Throws the user errors of a mutation payload.
    static func check(_ payload: Any?) throws -> [String: Any] {
        guard let payload = payload as? [String: Any] else { throw CLIError("the answer had no payload") }
        if let errors = payload["userErrors"] as? [[String: Any]], !errors.isEmpty {
            throw CLIError(
                errors.map { e in
                    let field = (e["field"] as? [String]).map { " (\($0.joined(separator: ".")))" } ?? ""
                    return "\(e["code"] as? String ?? "ERROR"): \(e["message"] as? String ?? "")\(field)"
                }.joined(separator: "\n"))
        }
        return payload
    }

    /// A section's API id from its id or its SIS sourcedId.
    func sectionID(_ given: String) async throws -> String {
        let data = try await run("SectionBySourcedId", ["s": given])
        if let id = (data["sectionBySourcedId"] as? [String: Any])?["id"] as? String { return id }
        // Not a sourcedId: use it as the API's id (a string that is neither is not one this server made).
        let missing = CLIError("no section '\(given)': give a section's SIS sourcedId (as in `passback roster` and the SIS) or its API id")
        let node: [String: Any]
        do {
            node = try await run("SectionByID", ["id": given])
        } catch let e as CLIError where e.description.hasPrefix("BAD_USER_INPUT") {
            throw missing
        }
        guard let id = (node["section"] as? [String: Any])?["id"] as? String else { throw missing }
        return id
    }

    /// Every page of a connection, following `endCursor`.
    func all(_ name: String, _ variables: [String: Any], path: [String]) async throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        var after: Any = NSNull()
        while true {
            var v = variables
            v["after"] = after
            var node: Any? = try await run(name, v)
            for key in path { node = (node as? [String: Any])?[key] }
            guard let connection = node as? [String: Any] else { throw CLIError("no such \(path.first ?? "object")") }
            out += connection["nodes"] as? [[String: Any]] ?? []
            let info = connection["pageInfo"] as? [String: Any]
            guard info?["hasNextPage"] as? Bool == true, let cursor = info?["endCursor"] as? String else { return out }
            after = cursor
        }
    }
}
