import GraphQL

/// Validation of literal lists and objects put where the schema wants something else, run
/// before the library's rules.
///
/// The library's `ValuesOfCorrectTypeRule` quotes such a literal with its AST printer, which
/// prints a nested list or object twice whenever its line is longer than 80 characters: a
/// 16-level list around a long string costs 2¹⁶ copies of the string. This rule finds the
/// same literals the library would quote (a list where no list is expected, an object where
/// no input object is expected) and quotes them with `LiteralPreview`, in linear time. When it
/// reports anything, the library's rules are not run, so the exponential printer never sees
/// a refused list or object; everything it may still print is a leaf.
enum LiteralShapeRule {
    @Sendable static func rule(_ context: ValidationContext) -> Visitor {
        Visitor(enter: { node, _, _, _, _ in
            switch node.kind {
            case .listValue:
                guard let position = context.parentInputType, let expected = context.inputType else { return .continue }
                if nullable(position) is GraphQLList { return .continue }
                report(context, node as! Value, expected: expected)
                return .break
            case .objectValue:
                guard let expected = context.inputType else { return .continue }
                if getNamedType(type: expected) is GraphQLInputObjectType { return .continue }
                report(context, node as! Value, expected: expected)
                return .break
            default:
                return .continue
            }
        })
    }

    static func nullable(_ type: GraphQLType) -> GraphQLType {
        (type as? GraphQLNonNull)?.ofType ?? type
    }

    static func report(_ context: ValidationContext, _ value: Value, expected: GraphQLType) {
        context.report(error: GraphQLError(message: "Expected value of type \"\(expected)\", found \(LiteralPreview.text(value)).", nodes: [value]))
    }
}

/// A literal value as GraphQL text, cut after `limit` characters: each node is visited at
/// most once, so the cost is linear in what is printed.
enum LiteralPreview {
    static func text(_ value: Value, limit: Int = 80) -> String {
        var out = ""
        append(value, to: &out, limit: limit)
        return out.utf8.count > limit ? String(out.prefix(limit)) + "…" : out
    }

    private static func append(_ value: Value, to out: inout String, limit: Int) {
        guard out.utf8.count <= limit else { return }
        switch value {
        case let v as IntValue: out += v.value
        case let v as FloatValue: out += v.value
        case let v as BooleanValue: out += v.value ? "true" : "false"
        case is NullValue: out += "null"
        case let v as EnumValue: out += v.value
        case let v as Variable: out += "$" + v.name.value
        case let v as StringValue:
            out += "\""
            for ch in v.value {
                if out.utf8.count > limit { return }
                switch ch {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default: out.append(ch)
                }
            }
            out += "\""
        case let v as ListValue:
            out += "["
            for (i, item) in v.values.enumerated() {
                if out.utf8.count > limit { return }
                if i > 0 { out += ", " }
                append(item, to: &out, limit: limit)
            }
            out += "]"
        case let v as ObjectValue:
            out += "{"
            for (i, field) in v.fields.enumerated() {
                if out.utf8.count > limit { return }
                out += (i > 0 ? ", " : " ") + field.name.value + ": "
                append(field.value, to: &out, limit: limit)
            }
            out += " }"
        default:
            out += "…"
        }
    }
}
