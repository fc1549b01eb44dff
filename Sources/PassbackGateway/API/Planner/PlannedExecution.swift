import Foundation
import GraphQL
import PassbackCore

/// Runs an `OperationPlan` for one request and writes its `data` as JSON bytes.
///
/// Fields run one after another in the task that serves the request: a field that only reads
/// its parent runs inline, and only a field that loads is awaited. Nothing is a child task,
/// and no answer tree is built: each value is written into the buffer as it is completed. The
/// batch loaders still load each level once: a list's first row loads its siblings' children
/// with its own (`BatchLoader`), whatever order the rows are completed in.
///
/// What GraphQLSwift 4.x does, this does (the differential test compares the two): an error
/// makes the nearest nullable field `null` (here: the buffer is cut back to where that field's
/// value began); a list leaves out an item that completed to `null`; a resolver's error is
/// given the field's nodes and path, unless it is already a `GraphQLError`; a `null` for a
/// non-null field is "Cannot return null for non-nullable field T.f." with no path; an error
/// that reaches the root leaves no data and only that error.
final class PlannedExecution {
    struct Outcome {
        /// The `data` object's JSON; nil when an error reached the root.
        var data: [UInt8]?
        var errors: [GraphQLError]
        /// Fields the answer holds (`PrincipalLimiter.actualCost` of the same answer).
        var fields: Int
    }

    /// An error already located, on its way to the nearest nullable field.
    private struct Bubble: Error {
        var error: GraphQLError
    }

    private enum Step {
        case key(String)
        case index(Int)
    }

    private let plan: OperationPlan
    private let context: APIContext
    private let variables: [String: Map]
    private let bound: [Int: Map]
    private var out: [UInt8] = []
    private var errors: [GraphQLError] = []
    private var fields = 0
    private var path: [Step] = []

    /// Binds the arguments that read variables; throws `InputCoercion.Unplanned` when one would
    /// not coerce (the request then runs on GraphQLSwift, which reports it).
    init(plan: OperationPlan, context: APIContext, variables: [String: Map]) throws {
        self.plan = plan
        self.context = context
        self.variables = variables
        var bound: [Int: Map] = [:]
        for field in plan.boundFields {
            guard case .bound(let shapes) = field.arguments else { continue }
            bound[field.index] = try InputCoercion.arguments(shapes, variables)
        }
        self.bound = bound
    }

    nonisolated(nonsending) func run() async -> Outcome {
        out.reserveCapacity(8 * 1024)
        do {
            try await object(Root(), plan.root)
            return Outcome(data: out, errors: errors, fields: fields)
        } catch let bubble as Bubble {
            return Outcome(data: nil, errors: [bubble.error], fields: 0)
        } catch {
            return Outcome(data: nil, errors: [GraphQLError(error)], fields: 0)
        }
    }

    private nonisolated(nonsending) func object(_ source: Any, _ selection: SelectionPlan) async throws {
        out.append(UInt8(ascii: "{"))
        for (i, field) in selection.fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: field.keyBytes)
            fields += 1
            path.append(.key(field.key))
            defer { path.removeLast() }
            if try await !catching(await resolve(field, source, typeName: selection.typeName), field.shape, field) { JSONBytes.null(into: &out) }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A field's value on `source`, or its resolver's error.
    private nonisolated(nonsending) func resolve(_ field: FieldPlan, _ source: Any, typeName: String) async -> Result<Any?, any Error> {
        switch field.resolve {
        case nil:
            return .success(typeName)
        case .value(let read)?:
            return Result { try read(source) }
        case .load(let load)?:
            let arguments: Map
            switch field.arguments {
            case .constant(let map): arguments = map
            case .bound: arguments = bound[field.index] ?? [:]
            }
            let (plan, variables) = (plan, variables)
            do {
                return .success(
                    try await load(source, arguments, context) {
                        FieldAsk(fieldASTs: field.nodes, fragments: plan.fragments, variableValues: variables)
                    })
            } catch {
                return .failure(error)
            }
        }
    }

    /// `Section.materials` (`FusedMaterials`): the connection's fields and each material's plain
    /// fields written from the page's values, in the selection's order, counted and located as
    /// `object` does; a material's other fields completed by the planner.
    private nonisolated(nonsending) func connection(_ page: PageValue, _ fused: FusedMaterials) async throws {
        out.append(UInt8(ascii: "{"))
        for (i, (field, kind)) in zip(fused.connection.fields, fused.fields).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: field.keyBytes)
            fields += 1
            path.append(.key(field.key))
            defer { path.removeLast() }
            switch kind {
            case .typename:
                JSONBytes.string(fused.connection.typeName, into: &out)
            case .totalCount:
                JSONBytes.int(page.totalCount, into: &out)
            case .pageInfo(let info, let kinds):
                out.append(UInt8(ascii: "{"))
                for (j, (f, k)) in zip(info.fields, kinds).enumerated() {
                    if j > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: f.keyBytes)
                    fields += 1
                    switch k {
                    case .typename: JSONBytes.string(info.typeName, into: &out)
                    case .hasNextPage: JSONBytes.bool(page.hasNextPage, into: &out)
                    case .hasPreviousPage: JSONBytes.bool(page.hasPreviousPage, into: &out)
                    case .startCursor: Self.optional(page.startCursor, into: &out)
                    case .endCursor: Self.optional(page.endCursor, into: &out)
                    }
                }
                out.append(UInt8(ascii: "}"))
            case .nodes(let node, let kinds):
                out.append(UInt8(ascii: "["))
                for (j, value) in page.nodes.enumerated() {
                    if j > 0 { out.append(UInt8(ascii: ",")) }
                    path.append(.index(j))
                    defer { path.removeLast() }
                    guard let material = value as? MaterialValue else {
                        // Not a material: the planner's own rules say what that is.
                        _ = try await catching(.success(value), .nonNull(.object(node)), field)
                        continue
                    }
                    try await self.material(material, node, kinds)
                }
                out.append(UInt8(ascii: "]"))
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    private nonisolated(nonsending) func material(_ m: MaterialValue, _ node: SelectionPlan, _ kinds: [FusedMaterials.MaterialField]) async throws {
        out.append(UInt8(ascii: "{"))
        for (i, (field, kind)) in zip(node.fields, kinds).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: field.keyBytes)
            fields += 1
            let row = m.row
            switch kind {
            case .typename: JSONBytes.string(node.typeName, into: &out)
            case .id: JSONBytes.string(GlobalID.material(row.id, section: m.classID), into: &out)
            case .lmsId: JSONBytes.string(row.lmsID, into: &out)
            case .title: JSONBytes.string(row.title, into: &out)
            case .dueDate: Self.optional(row.dueAt.map { Timestamp.text($0) }, into: &out)
            case .lastSyncedAt: Self.optional(row.lastSyncedAt.map { Timestamp.text($0) }, into: &out)
            case .maxPoints where row.maxPoints?.isFinite ?? true:
                if let points = row.maxPoints { JSONBytes.double(points, into: &out) } else { JSONBytes.null(into: &out) }
            case .syncToSIS: JSONBytes.bool(row.syncToSIS, into: &out)
            case .published: JSONBytes.bool(row.published, into: &out)
            case .deleted: JSONBytes.bool(row.deleted, into: &out)
            case .syncStatus: JSONBytes.string(row.status.rawValue, into: &out)
            case .maxPoints, .planned:
                path.append(.key(field.key))
                defer { path.removeLast() }
                if try await !catching(await resolve(field, m, typeName: node.typeName), field.shape, field) { JSONBytes.null(into: &out) }
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func optional(_ text: String?, into out: inout [UInt8]) {
        if let text { JSONBytes.string(text, into: &out) } else { JSONBytes.null(into: &out) }
    }

    /// Completes a value; false when it is `null` (and nothing was written). An error makes it
    /// `null` here if the shape is nullable, and is recorded; otherwise it goes up.
    private nonisolated(nonsending) func catching(_ result: Result<Any?, any Error>, _ shape: Shape, _ field: FieldPlan) async throws -> Bool {
        let (mark, counted) = (out.count, fields)
        let error: GraphQLError
        do {
            return try await complete(try result.get(), shape, field)
        } catch let bubble as Bubble {
            error = bubble.error
        } catch let graphQL as GraphQLError {
            error = graphQL
        } catch let other {
            error = GraphQLError(message: String(describing: other), nodes: field.nodes, path: currentPath, originalError: other)
        }
        guard !shape.isNonNull else { throw Bubble(error: error) }
        errors.append(error)
        out.removeSubrange(mark...)
        fields = counted
        return false
    }

    private nonisolated(nonsending) func complete(_ value: Any?, _ shape: Shape, _ field: FieldPlan) async throws -> Bool {
        if case .nonNull(let inner) = shape {
            guard try await complete(value, inner, field) else {
                throw GraphQLError(message: "Cannot return null for non-nullable field \(field.parentType).\(field.name).")
            }
            return true
        }
        // A leaf of a plain Swift type is written at once (a cast reads through an `Optional`).
        if case .leaf(let leaf) = shape, let value, Self.writeDirectly(value, leaf, into: &out) { return true }
        guard let value = Self.unwrapped(value) else { return false }
        switch shape {
        case .nonNull:
            return false
        case .leaf(let leaf):
            try write(value, leaf)
        case .object(let selection):
            if let fused = field.fused, let page = value as? PageValue {
                try await connection(page, fused)
            } else {
                try await object(value, selection)
            }
        case .abstract(let name, let plans):
            guard let node = value as? any NodeValue else { throw APIError(.internalError, "a Node resolved to \(type(of: value))") }
            let typeName = type(of: node).typeName
            guard let selection = plans[typeName] else {
                throw GraphQLError(message: "Runtime Object type \"\(typeName)\" is not a possible type for \"\(name)\".", nodes: field.nodes)
            }
            try await object(node, selection)
        case .list(let item):
            // An array is read element by element where it lies: a cast to `[Any?]` would copy
            // and box every element first.
            guard let items = value as? any ListBox else {
                throw GraphQLError(message: "Expected array, but did not find one for field \(field.parentType).\(field.name).")
            }
            out.append(UInt8(ascii: "["))
            var wrote = false
            for i in 0..<items.boxedCount {
                let element = items.boxedElement(i)
                let mark = out.count
                if wrote { out.append(UInt8(ascii: ",")) }
                path.append(.index(i))
                defer { path.removeLast() }
                if try await catching(.success(element), item, field) {
                    wrote = true
                } else {
                    out.removeSubrange(mark...)
                }
            }
            out.append(UInt8(ascii: "]"))
        }
        return true
    }

    /// A built-in scalar holding its plain Swift type, written as GraphQLSwift's `serialize`
    /// would make it; false for anything else.
    private static func writeDirectly(_ value: Any, _ leaf: Leaf, into out: inout [UInt8]) -> Bool {
        switch leaf.kind {
        case .string:
            guard let s = value as? String else { return false }
            JSONBytes.string(s, into: &out)
        case .int:
            guard let n = value as? Int, n >= Int(Int32.min), n <= Int(Int32.max) else { return false }
            JSONBytes.int(n, into: &out)
        case .float:
            guard let d = value as? Double, d.isFinite else { return false }
            JSONBytes.double(d, into: &out)
        case .boolean:
            guard let b = value as? Bool else { return false }
            JSONBytes.bool(b, into: &out)
        case .dateTime:
            guard let text = Scalars.dateTimeText(value) else { return false }
            JSONBytes.string(text, into: &out)
        case .enumeration(let names):
            guard let name = value as? String, names.contains(name) else { return false }
            JSONBytes.string(name, into: &out)
        case .other:
            return false
        }
        return true
    }

    private func write(_ value: Any, _ leaf: Leaf) throws {
        if Self.writeDirectly(value, leaf, into: &out) { return }
        JSONBytes.map(try leaf.type.serialize(value: value), into: &out)
    }

    private var currentPath: GraphQL.IndexPath {
        GraphQL.IndexPath(
            path.map { step -> any IndexPathElement in
                switch step {
                case .key(let key): key
                case .index(let index): index
                }
            })
    }

    /// The value inside however many `Optional`s hold it (a plain value's entries are
    /// `any Sendable` and may hold one), as GraphQLSwift's `unwrap` does with a `Mirror`.
    static func unwrapped(_ value: Any?) -> Any? {
        guard var value else { return nil }
        while let optional = value as? any OptionalBox {
            guard let inner = optional.wrappedAny else { return nil }
            value = inner
        }
        return value
    }
}

/// An array whose elements the planner reads one at a time as `Any?`.
protocol ListBox {
    var boxedCount: Int { get }
    func boxedElement(_ index: Int) -> Any?
}

extension Array: ListBox {
    var boxedCount: Int { count }
    func boxedElement(_ index: Int) -> Any? { self[index] }
}

protocol OptionalBox {
    var wrappedAny: Any? { get }
}

extension Optional: OptionalBox {
    var wrappedAny: Any? {
        switch self {
        case .none: nil
        case .some(let wrapped): wrapped
        }
    }
}
