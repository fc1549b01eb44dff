import Foundation
import GraphQL

/// Which engine runs a query or mutation: the planner (`API/Planner/`) when it covers the
/// operation, GraphQLSwift's executor otherwise (introspection, subscriptions, variables the
/// planner leaves to the library to refuse). Both call the same resolvers.
extension GraphQLAPI {
    public enum Engine: Sendable {
        /// Planned where the planner covers the operation (the default).
        case planned
        /// GraphQLSwift's executor for everything: the reference the differential test compares with.
        case reference
    }

    /// What an execution gave: its data (a `Map` from GraphQLSwift, JSON from the planner),
    /// its errors, and the fields the answer holds (what it costs).
    struct Executed {
        enum Data {
            case map(Map?)
            case json([UInt8]?)
        }

        var data: Data
        var errors: [GraphQLError]
        var fields: Int

        var hasData: Bool {
            switch data {
            case .map(let map): map != nil
            case .json(let bytes): bytes != nil
            }
        }
    }

    /// A plan and the variables it runs with.
    struct PlannedRun {
        let plan: OperationPlan
        let variables: [String: Map]
    }

    /// Runs the prepared operation on the planner when `planned` is given and binds its
    /// arguments, else on GraphQLSwift. A planned execution's time is kept by its plan.
    func run(_ prepared: PreparedDocument, _ request: Request, planned: PlannedRun?, context: APIContext) async throws -> Executed {
        if let planned, let execution = try? PlannedExecution(plan: planned.plan, context: context, variables: planned.variables) {
            context.services.work.planned.add(1, ordering: .relaxed)
            let started = ContinuousClock.now
            let outcome = await execution.run()
            planned.plan.timing.record(ContinuousClock.now - started, stoppedEarly: Task.isCancelled)
            return Executed(data: .json(outcome.data), errors: outcome.errors, fields: outcome.fields)
        }
        context.services.work.reference.add(1, ordering: .relaxed)
        let result = try await GraphQL.execute(
            schema: schema, documentAST: prepared.document.value, rootValue: Root(), context: context,
            variableValues: request.variables, operationName: request.operationName)
        return Executed(data: .map(result.data), errors: result.errors, fields: PrincipalLimiter.actualCost(result.data))
    }

    /// The plan this request runs on, or nil when the planner leaves it to GraphQLSwift.
    /// Only documents the document cache holds are planned (valid, of ordinary size). Without
    /// `compile`, only a plan compiled already (a request's thread looks, the lane compiles).
    func plannedRun(_ prepared: PreparedDocument, _ request: Request, compile: Bool = true) -> PlannedRun? {
        guard limits.engine == .planned, prepared.operation.operation != .subscription, prepared.held else { return nil }
        guard compile || plans.knows(query: request.query, operationName: request.operationName) else { return nil }
        let schema = self.schema
        guard let variables = try? InputCoercion.variables(prepared.operation, request.variables, schema: schema) else {
            return nil
        }
        guard compile else {
            let plan = plans.compiled(query: request.query, operationName: request.operationName, variables: variables)
            return plan.map { PlannedRun(plan: $0, variables: variables) }
        }
        let table = self.table
        let plan = plans.plan(
            query: request.query, operationName: request.operationName, document: prepared.document.value, operation: prepared.operation,
            fragments: prepared.fragments, variables: variables
        ) { operation, fragments, variables in
            try? PlanCompiler.compile(operation, fragments: fragments, schema: schema, table: table, variables: variables)
        }
        return plan.map { PlannedRun(plan: $0, variables: variables) }
    }
}
