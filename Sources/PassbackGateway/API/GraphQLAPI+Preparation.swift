import Foundation
import GraphQL
import PassbackCore

/// Before a document runs: the lexical bounds, parse and validation (cached), the operation picked,
/// and its depth and cost measured.
extension GraphQLAPI {
    struct PreparedDocument: Sendable {
        var document: DocumentBox
        var operation: OperationDefinition
        var fragments: [String: FragmentDefinition]
        /// Whether the document cache holds it (valid, of ordinary size): only such are planned.
        var held: Bool
    }

    /// A document's fragments by name.
    static func fragments(of document: Document) -> [String: FragmentDefinition] {
        var out: [String: FragmentDefinition] = [:]
        for case let fragment as FragmentDefinition in document.definitions { out[fragment.name.value] = fragment }
        return out
    }

    /// Parse and validate (cached per document text), then pick the operation.
    /// Points a document the cache does not hold costs to parse and validate: one per 100 bytes
    /// (a widget query about 10, the largest body 2,600).
    static func parseCost(_ query: String) -> Int { max(1, query.utf8.count / 100) }

    /// `prepare`, with the parse and validation of a document the cache does not hold charged to
    /// the token (its bucket and one of its in-flight slots) before the work is done: distinct
    /// large documents cannot be sent to make the server parse for free. A cached one is free.
    ///
    /// A new document is parsed and validated on `lane` (the execution pool's threads): that work
    /// grows with the document (validation compares the fields of a selection pairwise), and on
    /// the cooperative pool it would hold a thread that serves HTTP, the worker and the scheduler.
    ///
    /// A document sent with its hash to be registered (`PersistedDocuments`) is kept once it has
    /// parsed and validated: refused or broken documents are not.
    func meteredPrepare(_ request: Request, principal: Principal, on lane: ExecutionPool.Lane) async -> Result<PreparedDocument, Answer> {
        let prepared: Result<PreparedDocument, Answer>
        if documents.contains(request.query) {
            prepared = prepare(request)
        } else {
            switch limiter.admit(token: principal.tokenID, cost: Self.parseCost(request.query)) {
            case .success:
                defer { limiter.release(token: principal.tokenID) }
                prepared = await withTaskExecutorPreference(lane) { self.prepare(request) }
            case .failure(let refusal): return .failure(rateLimited(refusal))
            }
        }
        if let hash = request.registers, case .success = prepared { persisted.register(request.query, hash: hash) }
        return prepared
    }

    /// 429 `RATE_LIMITED`, with the token's bucket and when to ask again.
    func rateLimited(_ refusal: PrincipalLimiter.Refusal) -> Answer {
        var answer = render(
            [GraphQLError(message: refusal.message, extensions: ["code": .string(APIError.Code.rateLimited.rawValue)])], data: nil,
            status: 429, extensions: ["cost": refusal.admission.extensions])
        answer.headers["Retry-After"] = String(refusal.retryAfter)
        return answer
    }

    func prepare(_ request: Request) -> Result<PreparedDocument, Answer> {
        guard request.query.utf8.count <= limits.maxBodyBytes else { return .failure(requestError(413, "the query is too large")) }
        let entry: DocumentCache.Entry
        var held = true
        if let cached = documents.get(request.query) {
            entry = cached
        } else {
            do {
                let (document, errors) = try parseAndValidate(request.query)
                entry = DocumentCache.Entry(document: DocumentBox(value: document), errors: errors)
            } catch let error as GraphQLError {
                entry = DocumentCache.Entry(document: nil, errors: [error], parseFailed: true)
            } catch {
                entry = DocumentCache.Entry(document: nil, errors: [GraphQLError(error)], parseFailed: true)
            }
            // Only valid documents of ordinary size are kept, so the cache cannot be filled with junk.
            held = entry.errors.isEmpty && request.query.utf8.count <= 16 * 1024
            if held { documents.put(request.query, entry) }
        }
        guard let document = entry.document, entry.errors.isEmpty else {
            let code: APIError.Code = entry.parseFailed ? .parseFailed : .validationFailed
            return .failure(render(entry.errors.map { presentable($0, code: code) }, data: nil, status: 400))
        }
        let operations = document.value.definitions.compactMap { $0 as? OperationDefinition }
        let fragments = Self.fragments(of: document.value)
        let chosen: OperationDefinition?
        if let name = request.operationName {
            chosen = operations.first { $0.name?.value == name }
        } else {
            chosen = operations.count == 1 ? operations[0] : nil
        }
        guard let operation = chosen else {
            return .failure(
                requestError(
                    400,
                    request.operationName == nil
                        ? "the document has several operations: say which with operationName"
                        : "no operation named '\(request.operationName!)' in the document"))
        }
        return .success(PreparedDocument(document: document, operation: operation, fragments: fragments, held: held))
    }

    /// The document's syntax tree and its validation errors. The lexical guard runs first, so
    /// the library's recursive parser never sees a document nested deep enough to exhaust the
    /// stack; literal shapes are checked before the library's rules (`LiteralShapeRule`).
    func parseAndValidate(_ query: String) throws -> (Document, [GraphQLError]) {
        if let refusal = limits.document.refusal(query) { throw GraphQLError(message: refusal) }
        let document = try GraphQL.parse(source: Source(body: query, name: "request"))
        return (document, validate(document))
    }

    /// Validation errors: literal shapes first, and the library's rules only if they pass.
    func validate(_ document: Document) -> [GraphQLError] {
        let shapes = GraphQL.validate(schema: schema, ast: document, rules: [LiteralShapeRule.rule])
        return shapes.isEmpty ? GraphQL.validate(schema: schema, ast: document) : shapes
    }

    /// The operation's static cost, or the answer refusing it.
    /// The operation's measure (cost, and `roots`: whether it introspects, fragments included), or
    /// the answer refusing it.
    func checkLimits(_ prepared: PreparedDocument, _ variables: [String: Map]) -> Result<QueryLimits.Measure, Answer> {
        let limits = QueryLimits(maxDepth: self.limits.maxDepth, maxCost: self.limits.maxCost, maxFields: self.limits.maxFields)
        var m = limits.measure(prepared.operation, fragments: prepared.fragments, variables: variables)
        // Mutations are counted once fragments are expanded: `mutation { ...M }` carries what M selects.
        if m.refusal == nil, prepared.operation.operation == .mutation, m.rootFields > self.limits.maxMutations {
            m.refusal = "a request may carry at most \(self.limits.maxMutations) mutations; send the rest in another request"
        }
        guard m.depth > limits.maxDepth || m.cost > limits.maxCost || m.refusal != nil else { return .success(m) }
        let message =
            m.refusal
            ?? (m.depth > limits.maxDepth
                ? "the query is \(m.depth) levels deep; the limit is \(limits.maxDepth)"
                : "the query's cost is \(m.cost); the limit is \(limits.maxCost) (each connection multiplies what it selects by `first`: ask for smaller pages)")
        let error = GraphQLError(
            message: message,
            extensions: [
                "code": .string(APIError.Code.queryTooComplex.rawValue), "cost": .number(Number(m.cost)),
                "depth": .number(Number(m.depth)), "maxCost": .number(Number(limits.maxCost)),
                "maxDepth": .number(Number(limits.maxDepth))
            ])
        return .failure(render([error], data: nil, status: 400))
    }
}
