/// A cheap lexical pass over a GraphQL document, run before the library's parser: it refuses
/// documents whose shape alone would make parsing, validation or printing expensive.
///
/// The library's parser recurses once per nested selection set and per nested literal, so a
/// few kilobytes of `{{{…` overflow the stack before any depth check can run; and its
/// printer, which validation uses to quote a refused literal, prints each nested list or
/// object twice when its line is long, doubling its work per level. This pass reads the
/// bytes once, in constant stack, and counts:
/// - selection-set nesting (`{` of a selection set inside another),
/// - literal nesting (`[` and `{` of a list or object value, and `[` of a list type),
/// - tokens, and top-level definitions (operations and fragments; fragment spreads chain
///   through definitions, so this bounds how deep they can recurse).
///
/// It is not a parser: a document it passes may still be refused by the parser, with the
/// parser's own message. It only has to agree with the grammar on what a bracket means.
struct DocumentGuard: Sendable {
    var maxSelectionNesting = 32
    var maxValueNesting = 16
    var maxTokens = 15_000
    var maxDefinitions = 100

    /// Why the document is refused, or nil.
    ///
    /// Where a string or comment ends must match the library's lexer exactly (a guard that
    /// thought it was still inside a string would let the brackets after it through unseen):
    /// a block string ends at the first `"""` not written `\"""`, a plain string at an
    /// unescaped `"` (or a line end, where the lexer fails), a comment at a line end.
    func refusal(_ document: String) -> String? {
        let b = Array(document.utf8)
        var i = 0
        func at(_ k: Int, _ c: Character) -> Bool { k < b.count && b[k] == c.asciiValue! }
        func tripleQuote(_ k: Int) -> Bool { at(k, "\"") && at(k + 1, "\"") && at(k + 2, "\"") }

        // What each open bracket is: a selection set, a literal (list, object, list type), or arguments / variable definitions.
        enum Open { case selection, literal, arguments }
        var stack: [Open] = []
        var selections = 0, literals = 0, definitions = 0, tokens = 0

        func token() -> String? {
            tokens += 1
            return tokens > maxTokens ? "the document has more than \(maxTokens) tokens; send a smaller document (put data in variables)" : nil
        }

        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ","), 0xEF, 0xBB, 0xBF:
                i += 1 // whitespace, commas and the byte-order mark are ignored
            case UInt8(ascii: "#"):
                while i < b.count, b[i] != UInt8(ascii: "\n"), b[i] != UInt8(ascii: "\r") { i += 1 }
            case UInt8(ascii: "\""):
                if let refused = token() { return refused }
                if tripleQuote(i) {
                    // A block string: only `\"""` escapes, as four bytes.
                    i += 3
                    while i < b.count, !tripleQuote(i) {
                        i += at(i, "\\") && tripleQuote(i + 1) ? 4 : 1
                    }
                    i += 3
                } else {
                    // A plain string: a backslash escapes the byte after it. A `\u` must have its four
                    // hex digits: the library's lexer reads them without looking where the document
                    // ends, and a document ending inside one crashed the process.
                    i += 1
                    while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\n"), b[i] != UInt8(ascii: "\r") {
                        if b[i] == UInt8(ascii: "\\"), at(i + 1, "u") {
                            guard i + 5 < b.count, b[(i + 2)...(i + 5)].allSatisfy({ Character(UnicodeScalar($0)).isHexDigit }) else {
                                return "a string has a \\u escape without four hex digits after it (write \\u00E9, or the character itself)"
                            }
                            i += 6
                            continue
                        }
                        i += b[i] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    i += 1
                }
            case UInt8(ascii: "{"):
                if let refused = token() { return refused }
                i += 1
                if stack.isEmpty {
                    definitions += 1
                    if definitions > maxDefinitions {
                        return "the document has more than \(maxDefinitions) operations and fragments"
                    }
                }
                if let top = stack.last, top != .selection {
                    literals += 1
                    if literals > maxValueNesting {
                        return "a list or object value nests more than \(maxValueNesting) levels deep"
                    }
                    stack.append(.literal)
                } else {
                    selections += 1
                    if selections > maxSelectionNesting {
                        return "selections nest more than \(maxSelectionNesting) levels deep"
                    }
                    stack.append(.selection)
                }
            case UInt8(ascii: "["):
                if let refused = token() { return refused }
                i += 1
                literals += 1
                if literals > maxValueNesting {
                    return "a list or object value nests more than \(maxValueNesting) levels deep"
                }
                stack.append(.literal)
            case UInt8(ascii: "("):
                if let refused = token() { return refused }
                i += 1
                stack.append(.arguments)
            case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ")"):
                if let refused = token() { return refused }
                i += 1
                // Unbalanced brackets are the parser's to report; only keep the counts true.
                guard let top = stack.popLast() else { continue }
                switch top {
                case .selection: selections -= 1
                case .literal: literals -= 1
                case .arguments: break
                }
            case UInt8(ascii: "."):
                // `...` is one token.
                if let refused = token() { return refused }
                i += at(i + 1, ".") && at(i + 2, ".") ? 3 : 1
            default:
                if let refused = token() { return refused }
                // A name or number runs until a byte that cannot continue it.
                i += 1
                if Self.continuesWord(c) {
                    while i < b.count, Self.continuesWord(b[i]) { i += 1 }
                }
            }
        }
        return nil
    }

    static func continuesWord(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"):
            return true
        default:
            return false
        }
    }
}
