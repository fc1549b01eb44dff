import Foundation
import GraphQL
import OrderedCollections
import PassbackCore
import PassbackStore

/// The lists inside payloads: paged like every list, with their paging arguments checked before
/// the mutation runs.
extension MutationResolvers {
    /// The lists of payloads are connections: each payload holds its whole list (short: bounded by
    /// the input, or a plan's items), keyed, and a page of it is answered. A payload is answered
    /// once, so only its first page can be read with an idempotency key (a key answers only the
    /// same selection); what lies past it is read with queries (a run's jobs, a section's materials).
    static func payloadLists(_ t: inout ResolverTable) {
        for (type, field) in payloadListFields {
            t.object(type, [String: any Sendable].self) { f in
                f.resolve(field) { p, args, _ in try PageValue.list(p[field] as? [Keyed] ?? [], args, ordering: field, key: \.key) { $0.map(\.value) } }
            }
        }
        t.object("PlannedItem", [String: any Sendable].self) { f in
            f.resolve("problems") { p, args, _ in try PageValue.problems(p["problems"] as? [Problem] ?? [], args, ordering: "problems") }
        }
    }

    /// Refuses a mutation's payload-list `first` or `after` that its page would refuse, before the
    /// mutation runs: refused after it, the error would take the whole answer, `userErrors`
    /// included, although the change was made.
    static func checkPayloadPaging(_ info: FieldAsk) throws {
        let fields = Set(payloadListFields.map(\.1))
        func value(_ v: any Value) -> Map {
            switch v {
            case let i as IntValue: Int(i.value).map { .number(Number($0)) } ?? .undefined
            case let s as StringValue: .string(s.value)
            case let variable as Variable: info.variableValues[variable.name.value] ?? .undefined
            default: .undefined
            }
        }
        var seen = Set<String>()
        func visit(_ set: SelectionSet) throws {
            for selection in set.selections {
                switch selection {
                case let field as Field where fields.contains(field.name.value):
                    var args = OrderedDictionary<String, Map>()
                    for a in field.arguments { args[a.name.value] = value(a.value) }
                    _ = try PageValue.list([] as [Int], .dictionary(args), ordering: field.name.value, key: { _ in ListKey("", "") }) { _ in [] }
                case let inline as InlineFragment:
                    try visit(inline.selectionSet)
                case let spread as FragmentSpread:
                    if seen.insert(spread.name.value).inserted, let fragment = info.fragments[spread.name.value] { try visit(fragment.selectionSet) }
                default:
                    continue
                }
            }
        }
        for field in info.fieldASTs { if let set = field.selectionSet { try visit(set) } }
    }
}
