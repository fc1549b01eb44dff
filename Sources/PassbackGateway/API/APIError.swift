import Foundation
import GraphQL

/// A failure the client can act on, sent as a top-level error with `extensions.code`
/// (API.md, convention 5). Anything else a resolver throws is reported as `INTERNAL`, with
/// no text from inside.
struct APIError: Error, Sendable, CustomStringConvertible {
    enum Code: String, Sendable {
        case unauthenticated = "UNAUTHENTICATED"
        case forbidden = "FORBIDDEN"
        case notFound = "NOT_FOUND"
        case badUserInput = "BAD_USER_INPUT"
        case queryTooComplex = "QUERY_TOO_COMPLEX"
        case validationFailed = "GRAPHQL_VALIDATION_FAILED"
        case parseFailed = "GRAPHQL_PARSE_FAILED"
        case rateLimited = "RATE_LIMITED"
        case deadlineExceeded = "DEADLINE_EXCEEDED"
        case internalError = "INTERNAL"
        /// A request named a document by its hash that the server does not know: send it again with `query`.
        case persistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
        /// The server runs only the documents it knows (`api.documents` `trusted`), and this is not one.
        case documentNotTrusted = "DOCUMENT_NOT_TRUSTED"
        /// The database is locked by another connection: nothing is wrong with the request, send it again.
        case serviceUnavailable = "SERVICE_UNAVAILABLE"
    }

    var code: Code
    var message: String
    var extra: [String: Map] = [:]

    init(_ code: Code, _ message: String, extra: [String: Map] = [:]) {
        self.code = code
        self.message = message
        self.extra = extra
    }

    var description: String { message }

    static func forbidden(_ what: String) -> APIError { APIError(.forbidden, what) }
    static func badInput(_ what: String) -> APIError { APIError(.badUserInput, what) }
}

/// A domain problem of a mutation's input, returned in the payload's `userErrors`.
struct UserError: Error, Sendable, Codable, Hashable {
    enum Code: String, Sendable, Codable {
        case notFound = "NOT_FOUND"
        case invalid = "INVALID"
        case conflict = "CONFLICT"
        case ruleFailed = "RULE_FAILED"
    }

    var field: [String]?
    var message: String
    var code: Code

    init(_ code: Code, _ message: String, field: [String]? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }
}
