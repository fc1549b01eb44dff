import Foundation
import GraphQL
import Logging
import OrderedCollections
import PassbackStore

/// How answers look: errors with their codes (internal ones logged, never shown) and the JSON envelope.
extension GraphQLAPI {
    func requestError(_ status: Int, _ message: String, code: APIError.Code = .badUserInput, headers: [String: String] = [:]) -> Answer {
        var answer = render([GraphQLError(message: message, extensions: ["code": .string(code.rawValue)])], data: nil, status: status)
        answer.headers.merge(headers) { _, new in new }
        return answer
    }

    func unauthenticated(_ message: String) -> Answer {
        requestError(401, message, code: .unauthenticated, headers: ["WWW-Authenticate": "Bearer realm=\"passback\""])
    }

    /// Errors as clients see them: our own with their code; anything else as INTERNAL, logged
    /// with the request id and never shown.
    func present(_ result: GraphQLResult, requestID: String, status: Int, extensions: [String: Map] = [:]) -> Answer {
        render(presentErrors(result.errors, requestID: requestID), data: result.data, status: status, extensions: extensions)
    }

    /// An execution's answer, from either engine: the planned one's `data` is JSON already.
    func present(_ executed: Executed, requestID: String, status: Int, extensions: [String: Map] = [:]) -> Answer {
        let errors = presentErrors(executed.errors, requestID: requestID)
        switch executed.data {
        case .map(let data): return render(errors, data: data, status: status, extensions: extensions)
        case .json(let data):
            let encoder = GraphQLJSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            var body: [UInt8] = [UInt8(ascii: "{")]
            var parts: [[UInt8]] = []
            if let data { parts.append(Array("\"data\":".utf8) + data) }
            do {
                if !errors.isEmpty { parts.append(Array("\"errors\":".utf8) + Array(try encoder.encode(errors))) }
                if !extensions.isEmpty {
                    // Every answer has them (its cost): written directly, not through `Encodable`.
                    var part = Array("\"extensions\":".utf8)
                    JSONBytes.map(
                        .dictionary(OrderedDictionary(uniqueKeysWithValues: extensions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })), into: &part)
                    parts.append(part)
                }
            } catch {
                return Answer(status: 500, body: "{\"errors\":[{\"message\":\"the answer could not be encoded\"}]}")
            }
            for (i, part) in parts.enumerated() {
                if i > 0 { body.append(UInt8(ascii: ",")) }
                body.append(contentsOf: part)
            }
            body.append(UInt8(ascii: "}"))
            return Answer(status: status, body: String(decoding: body, as: UTF8.self))
        }
    }

    func presentErrors(_ errors: [GraphQLError], requestID: String) -> [GraphQLError] {
        errors.map { error -> GraphQLError in
            if let api = error.originalError as? APIError {
                var extensions = api.extra
                extensions["code"] = .string(api.code.rawValue)
                return GraphQLError(message: api.message, locations: error.locations, path: error.path, extensions: extensions)
            }
            if PassbackDatabase.isBusy(error.originalError) {
                logger.warning("request \(requestID): \(String(describing: error.originalError!)) at \(error.path)")
                return GraphQLError(
                    message: Self.busyMessage, locations: error.locations, path: error.path,
                    extensions: ["code": .string(APIError.Code.serviceUnavailable.rawValue)])
            }
            if error.originalError == nil || error.originalError is GraphQLError {
                // The library's own errors (argument and variable coercion): the caller's input.
                return presentable(error, code: .badUserInput)
            }
            logger.error("request \(requestID): \(String(describing: error.originalError!)) at \(error.path)")
            return GraphQLError(
                message: "internal error (request \(requestID)); the server log has the details", locations: error.locations, path: error.path,
                extensions: ["code": .string(APIError.Code.internalError.rawValue)])
        }
    }

    func presentable(_ error: GraphQLError, code: APIError.Code) -> GraphQLError {
        var extensions = error.extensions
        if extensions["code"] == nil { extensions["code"] = .string(code.rawValue) }
        return GraphQLError(message: error.message, locations: error.locations, path: error.path, extensions: extensions)
    }

    func render(_ errors: [GraphQLError], data: Map?, status: Int, extensions: [String: Map] = [:]) -> Answer {
        let encoder = GraphQLJSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let result = Envelope(result: GraphQLResult(data: data, errors: errors), extensions: extensions)
        let body =
            (try? encoder.encode(result)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"errors\":[{\"message\":\"the answer could not be encoded\"}]}"
        return Answer(status: status, body: body)
    }
}

/// A GraphQL response with its `extensions` (the library's result has none).
struct Envelope: Encodable {
    var result: GraphQLResult
    var extensions: [String: Map]

    enum Keys: String, CodingKey { case extensions }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        guard !extensions.isEmpty else { return }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(
            Map.dictionary(OrderedDictionary(uniqueKeysWithValues: extensions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
            forKey: .extensions)
    }
}
