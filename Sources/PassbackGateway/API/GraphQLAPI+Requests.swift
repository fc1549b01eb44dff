import Foundation
import GraphQL
import Logging
import PassbackCore
import PassbackStore

/// From HTTP to a GraphQL request: the body or query string decoded, the bearer token authenticated.
extension GraphQLAPI {
    /// Turns an HTTP request into a GraphQL request, or an answer saying what is wrong with it.
    public func decode(method: String, body: [UInt8]?, queryItems: [String: String]) -> Result<Request, Answer> {
        decodeRequest(method: method, body: body, queryItems: queryItems).flatMap { request in
            // Variables reach the library's coercion, which recurses per level and quotes refused values.
            guard RequestBody.nesting(of: request.variables, upTo: limits.maxVariableNesting) <= limits.maxVariableNesting else {
                return .failure(requestError(400, "`variables` nest lists and objects more than \(limits.maxVariableNesting) levels deep"))
            }
            return .success(request)
        }
    }

    func decodeRequest(method: String, body: [UInt8]?, queryItems: [String: String]) -> Result<Request, Answer> {
        let members: RequestBody.Members
        if method == "GET" {
            do {
                members = RequestBody.Members(
                    query: queryItems["query"], operationName: queryItems["operationName"],
                    variables: try queryItems["variables"].map(RequestBody.variables) ?? [:],
                    documentHash: try queryItems["extensions"].flatMap(RequestBody.documentHash))
            } catch {
                return .failure(requestError(400, error.message))
            }
            guard members.query != nil || members.documentHash != nil else {
                return .failure(requestError(400, "a GET needs a `query` parameter (or `extensions` with a persisted query's hash)"))
            }
        } else {
            guard let body, !body.isEmpty else { return .failure(requestError(400, "the body must be JSON: {\"query\": \"...\", \"variables\": {...}}")) }
            do { members = try RequestBody.request(body) } catch { return .failure(requestError(400, error.message)) }
        }
        return document(members.query, hash: members.documentHash).map {
            Request(
                query: $0, operationName: members.operationName, variables: members.variables, method: method,
                registers: members.query != nil ? members.documentHash : nil)
        }
    }

    /// The document to run: the one sent, or the one its hash names (automatic persisted queries).
    /// With `api.documents` `trusted`, only a document the server knows (`PersistedDocuments`).
    func document(_ query: String?, hash: String?) -> Result<String, Answer> {
        guard let query else {
            guard let hash, let known = persisted.document(hash) else {
                // Sending the text would not help a server that runs only what it knows: say so at once.
                guard !persisted.onlyKnown else {
                    return .failure(
                        requestError(
                            403,
                            "this server runs only the documents it knows (api.documents is trusted): its clients' and those its operator adds with api.trustedDocuments; none has this hash",
                            code: .documentNotTrusted))
                }
                return .failure(
                    requestError(
                        400, "PersistedQueryNotFound: no document with this hash is known here; send it once with `query` and the same hash",
                        code: .persistedQueryNotFound))
            }
            return .success(known)
        }
        // A document sent whole, with no hash, to a server that runs any: nothing to look up.
        guard hash != nil || persisted.onlyKnown else { return .success(query) }
        let actual = PersistedDocuments.hash(query)
        if let hash, hash != actual {
            return .failure(requestError(400, "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query` (that is \(actual))"))
        }
        guard persisted.allows(hash: actual) else {
            return .failure(
                requestError(
                    403,
                    "this server runs only the documents it knows (api.documents is trusted): its clients' and those its operator adds with api.trustedDocuments; this one (SHA-256 \(actual)) is not one of them",
                    code: .documentNotTrusted))
        }
        return .success(query)
    }

    /// `text` without the spaces around it, as Foundation's `trimmingCharacters(in: .whitespaces)`
    /// gives; an ASCII text (every real header) is trimmed of its spaces and tabs here, without
    /// building a character set for every request.
    static func trimmingSpaces(_ text: Substring) -> String {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return text.trimmingCharacters(in: .whitespaces) }
        let isSpace = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        guard let start = text.utf8.firstIndex(where: { !isSpace($0) }), let end = text.utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[start...end])
    }

    /// Who a bearer token acts as, or the 401 answer.
    public func authenticate(_ authorization: String?) -> Result<Principal, Answer> {
        guard let header = authorization, header.lowercased().hasPrefix("bearer ") else {
            return .failure(unauthenticated("send a token: `Authorization: Bearer pb_…` (create one with `passback token create`)"))
        }
        let token = Self.trimmingSpaces(header.dropFirst(7))
        guard APIToken.looksValid(token) else { return .failure(unauthenticated("this is not a Passback token")) }
        do {
            guard let principal = try TokenStore(services.database).principal(for: token, at: services.clock.now) else {
                return .failure(unauthenticated("this token is unknown, expired or revoked"))
            }
            return .success(principal)
        } catch  where PassbackDatabase.isBusy(error) {
            return .failure(busy())
        } catch {
            logger.error("token lookup failed: \(error)")
            return .failure(requestError(503, "the database cannot be read", code: .internalError))
        }
    }
}
