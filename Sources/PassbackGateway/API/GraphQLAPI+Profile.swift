import Foundation
import GraphQL
import PassbackCore

/// The benchmark hook: one request step by step, each step timed.
extension GraphQLAPI {
    /// Where one request's time goes, in seconds (for the benchmarks): parse, validate, execute, encode.
    public struct Profile: Sendable {
        public var parse: Double
        public var validate: Double
        public var execute: Double
        public var encode: Double
        public var bytes: Int
    }

    /// Runs a query step by step, timing each step; no cache, as on a first request.
    public func profile(_ query: String, variables: [String: Map], principal: Principal) async throws -> Profile {
        func seconds(_ since: ContinuousClock.Instant) -> Double {
            let d = ContinuousClock.now - since
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        var t = ContinuousClock.now
        if let refusal = limits.document.refusal(query) { throw APIError(.parseFailed, refusal) }
        let document = try GraphQL.parse(source: Source(body: query, name: "request"))
        let parse = seconds(t)
        t = ContinuousClock.now
        let errors = validate(document)
        let validate = seconds(t)
        guard errors.isEmpty else { throw APIError(.validationFailed, errors.map(\.message).joined(separator: "; ")) }
        t = ContinuousClock.now
        let result = try await GraphQL.execute(
            schema: schema, documentAST: document, rootValue: Root(),
            context: APIContext(principal: principal, services: services, requestID: "profile"), variableValues: variables)
        let execute = seconds(t)
        t = ContinuousClock.now
        let body = render(result.errors, data: result.data, status: 200).body
        return Profile(parse: parse, validate: validate, execute: execute, encode: seconds(t), bytes: body.utf8.count)
    }
}
