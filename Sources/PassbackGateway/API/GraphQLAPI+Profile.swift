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
        let context = APIContext(principal: principal, services: services, requestID: "profile")
        let executed: Executed
        // The engine a request would run on, its plan compiled here (not cached).
        if limits.engine == .planned, let operation = document.definitions.first(where: { $0 is OperationDefinition }) as? OperationDefinition,
            let coerced = try? InputCoercion.variables(operation, variables, schema: schema),
            let plan = try? PlanCompiler.compile(
                operation, fragments: Self.fragments(of: document), schema: schema, table: table, variables: coerced),
            let execution = try? PlannedExecution(plan: plan, context: context, variables: coerced)
        {
            let outcome = await execution.run()
            executed = Executed(data: .json(outcome.data), errors: outcome.errors, fields: outcome.fields)
        } else {
            let result = try await GraphQL.execute(schema: schema, documentAST: document, rootValue: Root(), context: context, variableValues: variables)
            executed = Executed(data: .map(result.data), errors: result.errors, fields: 0)
        }
        let execute = seconds(t)
        t = ContinuousClock.now
        let body = present(executed, requestID: "profile", status: 200).body
        return Profile(parse: parse, validate: validate, execute: execute, encode: seconds(t), bytes: body.utf8.count)
    }
}
