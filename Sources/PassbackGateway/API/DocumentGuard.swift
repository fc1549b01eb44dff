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
    func refusal(_ document: String) -> String? {
        var bytes = document.utf8.makeIterator()
        var pending: UInt8? = nil
        func next() -> UInt8? {
            if let p = pending {
                pending = nil
                return p
            }
            return bytes.next()
        }

        // What each open bracket is: a selection set, a literal (list, object, list type), or arguments / variable definitions.
        enum Open { case selection, literal, arguments }
        var stack: [Open] = []
        var selections = 0, literals = 0, definitions = 0, tokens = 0

        func token() -> String? {
            tokens += 1
            return tokens > maxTokens ? "the document has more than \(maxTokens) tokens; send a smaller document (put data in variables)" : nil
        }

        while let c = next() {
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ","), 0xEF, 0xBB, 0xBF:
                continue  // whitespace, commas and the byte-order mark are ignored
            case UInt8(ascii: "#"):
                while let d = next(), d != UInt8(ascii: "\n"), d != UInt8(ascii: "\r") {}
                continue
            case UInt8(ascii: "\""):
                if let refused = token() { return refused }
                // A block string `"""…"""` or a plain string `"…"`; neither holds brackets that count.
                let second = next()
                if second == UInt8(ascii: "\"") {
                    let third = next()
                    if third == UInt8(ascii: "\"") {
                        var quotes = 0
                        var escaped = false
                        while let d = next() {
                            if d == UInt8(ascii: "\"") {
                                if escaped { escaped = false; quotes = 0; continue }
                                quotes += 1
                                if quotes == 3 { break }
                            } else {
                                escaped = d == UInt8(ascii: "\\")
                                quotes = 0
                            }
                        }
                    } else {
                        pending = third  // `""`: an empty string, then whatever follows
                    }
                } else {
                    var d = second
                    while let ch = d, ch != UInt8(ascii: "\""), ch != UInt8(ascii: "\n") {
                        if ch == UInt8(ascii: "\\") { _ = next() }
                        d = next()
                    }
                }
                continue
            case UInt8(ascii: "{"):
                if let refused = token() { return refused }
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
                literals += 1
                if literals > maxValueNesting {
                    return "a list or object value nests more than \(maxValueNesting) levels deep"
                }
                stack.append(.literal)
            case UInt8(ascii: "("):
                if let refused = token() { return refused }
                stack.append(.arguments)
            case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ")"):
                if let refused = token() { return refused }
                // Unbalanced brackets are the parser's to report; only keep the counts true.
                guard let top = stack.popLast() else { continue }
                switch top {
                case .selection: selections -= 1
                case .literal: literals -= 1
                case .arguments: break
                }
            case UInt8(ascii: "."):
                // `...` is one token; skip the other two dots.
                if let refused = token() { return refused }
                if let d = next(), d != UInt8(ascii: ".") { pending = d } else if let d = next(), d != UInt8(ascii: ".") { pending = d }
            default:
                if let refused = token() { return refused }
                // A name or number runs until a byte that cannot continue it.
                if Self.continuesWord(c) {
                    while let d = next() {
                        if !Self.continuesWord(d) {
                            pending = d
                            break
                        }
                    }
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
