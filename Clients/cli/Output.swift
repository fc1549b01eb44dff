import Foundation

/// How results print: an aligned table for people, JSON or CSV for scripts.
enum Format: String, CaseIterable {
    case table, json, csv
}

struct Table {
    var columns: [String]
    var rows: [[String]]

    func render(_ format: Format, json: Any? = nil) -> String {
        switch format {
        case .json:
            let value = json ?? rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }
            let data = (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        case .csv:
            return ([columns] + rows).map { $0.map(CSV.field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        case .table:
            guard !rows.isEmpty else { return "(none)\n" }
            let widths = columns.indices.map { i in ([columns[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
            func line(_ cells: [String]) -> String {
                zip(cells, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(
                    in: .whitespaces)
            }
            return ([line(columns), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(separator: "\n") + "\n"
        }
    }
}

/// RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF line ends.
enum CSV {
    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Rows with the line each starts on; throws naming the line of a broken quote.
    static func parse(_ text: String) throws -> [(line: Int, fields: [String])] {
        var rows: [(Int, [String])] = []
        var field = "", fields: [String] = [], quoted = false, line = 1, rowLine = 1, afterQuote = false
        var chars = Array(text)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        func endRow() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append((rowLine, fields)) }
            fields = []
            field = ""
        }
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { field.append("\""); i += 1 } else { quoted = false; afterQuote = true }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
            } else {
                switch c {
                case "\"" where field.isEmpty && !afterQuote: quoted = true
                case ",": fields.append(field); field = ""; afterQuote = false
                case "\r\n", "\n", "\r":
                    endRow()
                    afterQuote = false
                    line += 1
                    rowLine = line
                default:
                    if afterQuote { throw CLIError("line \(line): text after a closing quote") }
                    field.append(c)
                }
            }
            i += 1
        }
        if quoted { throw CLIError("line \(rowLine): a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        return rows
    }
}

func string(_ v: Any?) -> String {
    switch v {
    case let s as String: s
    case let n as NSNumber: n.stringValue
    case let a as [Any]: a.map { string($0) }.joined(separator: " ")
    case nil, is NSNull: ""
    default: "\(v!)"
    }
}

/// The items of a connection's page (`{ nodes [...] }`).
func nodes(_ connection: Any?) -> [[String: Any]] {
    (connection as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
}

/// A page of problems as one cell: `CODE: message; …`, and how many more there are.
func problemText(_ connection: Any?) -> String {
    let shown = nodes(connection)
    let total = ((connection as? [String: Any])?["totalCount"] as? Int) ?? shown.count
    return shown.map { "\(string($0["code"])): \(string($0["message"]))" }.joined(separator: "; ")
        + (total > shown.count ? "; and \(total - shown.count) more" : "")
}

/// Says on standard error how many items of a payload's list were not shown (past its first page).
func noteUnlisted(_ connection: Any?, _ what: String) {
    let shown = nodes(connection).count
    let total = ((connection as? [String: Any])?["totalCount"] as? Int) ?? shown
    if total > shown { FileHandle.standardError.write(Data("\(total) \(what); the first \(shown) are listed\n".utf8)) }
}
