import GraphQL

/// How a field was asked for: the field's nodes (one per time the selection names it), the
/// document's fragments and the operation's coerced variables. The few resolvers that read
/// their own selection (a mutation's idempotency fingerprint and payload paging) take this,
/// which both engines can give: GraphQLSwift's `GraphQLResolveInfo` cannot be made outside the
/// library.
struct FieldAsk: Sendable {
    var fieldASTs: [Field]
    var fragments: [String: FragmentDefinition]
    var variableValues: [String: Map]

    init(fieldASTs: [Field], fragments: [String: FragmentDefinition], variableValues: [String: Map]) {
        self.fieldASTs = fieldASTs
        self.fragments = fragments
        self.variableValues = variableValues
    }

    init(_ info: GraphQLResolveInfo) {
        fieldASTs = info.fieldASTs
        fragments = info.fragments
        variableValues = info.variableValues.compactMapValues { $0 as? Map }
    }
}

/// A field's resolver as the planned executor calls it. A `value` reads its parent and does no
/// I/O: it runs inline, never awaited. A `load` reads arguments or data and is awaited.
enum PlannedResolve: Sendable {
    /// The parent is `Any`: the planner unwraps a value held in an `Optional` inside a plain
    /// value's `any Sendable` (`PlannedExecution.unwrapped`), which the language gives back as
    /// `Any` only. Every parent was made as a `Sendable` value; each resolver casts it to its own
    /// `Sendable` type.
    typealias Read = @Sendable (Any) throws -> (any Sendable)?
    typealias Load = nonisolated(nonsending) @Sendable (Any, Map, any Sendable, () -> FieldAsk) async throws -> (any Sendable)?

    case value(Read)
    case load(Load)
}
