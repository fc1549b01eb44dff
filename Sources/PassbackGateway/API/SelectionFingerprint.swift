import Foundation
import GraphQL

/// What a field's answer depends on besides its arguments: its selection sets as printed, the
/// fragments they spread (and those spread in turn), and the values of the variables read in
/// them (`@include(if: $x)`, `first: $n`). An idempotency key answers only a request with the
/// same fingerprint, so a replay cannot ask a stored outcome for more than was first selected.
enum SelectionFingerprint {
    static func text(of info: FieldAsk) -> String {
        var walk = Walk()
        var parts: [String] = []
        for field in info.fieldASTs {
            guard let set = field.selectionSet else { continue }
            parts.append(print(ast: set))
            walk.visit(set)
        }
        // Each fragment spread is printed once, by name; the document is already parsed and held to
        // the depth limit, so walking it is bounded.
        var printed: Set<String> = []
        while let name = walk.fragments.first(where: { !printed.contains($0) }) {
            printed.insert(name)
            guard let fragment = info.fragments[name] else { continue }
            parts.append(print(ast: fragment))
            walk.visit(fragment.directives)
            walk.visit(fragment.selectionSet)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for name in walk.variables.sorted() {
            let value = info.variableValues[name] ?? .undefined
            parts.append("$\(name)=" + ((try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"))
        }
        return parts.joined(separator: "\n")
    }

    /// The fragment names and variable names a selection reads.
    private struct Walk {
        var fragments: Set<String> = []
        var variables: Set<String> = []

        mutating func visit(_ set: SelectionSet) {
            for selection in set.selections {
                switch selection {
                case let field as Field:
                    for a in field.arguments { visit(a.value) }
                    visit(field.directives)
                    if let inner = field.selectionSet { visit(inner) }
                case let spread as FragmentSpread:
                    fragments.insert(spread.name.value)
                    visit(spread.directives)
                case let inline as InlineFragment:
                    visit(inline.directives)
                    visit(inline.selectionSet)
                default:
                    break
                }
            }
        }

        mutating func visit(_ directives: [Directive]) {
            for d in directives { for a in d.arguments { visit(a.value) } }
        }

        mutating func visit(_ value: Value) {
            switch value {
            case let v as Variable: variables.insert(v.name.value)
            case let list as ListValue: for item in list.values { visit(item) }
            case let object as ObjectValue: for field in object.fields { visit(field.value) }
            default: break
            }
        }
    }
}
