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
        if method == "GET" {
            guard let query = queryItems["query"] else { return .failure(requestError(400, "a GET needs a `query` parameter")) }
            var variables: [String: Map] = [:]
            if let text = queryItems["variables"] {
                do { variables = try RequestBody.variables(text) } catch { return .failure(requestError(400, error.message)) }
            }
            return .success(Request(query: query, operationName: queryItems["operationName"], variables: variables, method: method))
        }
        guard let body, !body.isEmpty else { return .failure(requestError(400, "the body must be JSON: {\"query\": \"...\", \"variables\": {...}}")) }
        do {
            let r = try RequestBody.request(body)
            return .success(Request(query: r.query, operationName: r.operationName, variables: r.variables, method: method))
        } catch {
            return .failure(requestError(400, error.message))
        }
    }

    /// Who a bearer token acts as, or the 401 answer.
    public func authenticate(_ authorization: String?) -> Result<Principal, Answer> {
        guard let header = authorization, header.lowercased().hasPrefix("bearer ") else {
            return .failure(unauthenticated("send a token: `Authorization: Bearer pb_…` (create one with `passback token create`)"))
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
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
