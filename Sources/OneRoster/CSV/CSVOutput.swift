import Foundation

/// A buffered CSV file: cells are quoted only when they must be, rows end with CRLF.
struct CSVOutput {
    let fileName: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private static let flushSize = 256 * 1024

    init(url: URL, fileName: String) throws(OneRosterCSVError) {
        self.fileName = fileName
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw OneRosterCSVError(file: fileName, message: "cannot be created")
        }
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw OneRosterCSVError(file: fileName, message: "cannot be opened for writing (\(error))")
        }
        buffer.reserveCapacity(Self.flushSize + 4096)
    }

    mutating func row(_ cells: [String]) throws(OneRosterCSVError) {
        for (i, cell) in cells.enumerated() {
            if i > 0 { comma() }
            self.cell(cell)
        }
        try endRow()
    }

    mutating func comma() { buffer.append(UInt8(ascii: ",")) }

    mutating func cell(_ text: String) {
        let needsQuotes = text.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 13 || $0 == 10 }
        guard needsQuotes else {
            buffer.append(contentsOf: text.utf8)
            return
        }
        buffer.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") { buffer.append(byte) }
            buffer.append(byte)
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// Renders a JSON value of the model as the cell of a column of this kind.
    mutating func cell(_ value: JSONValue?, as kind: CSVColumn.Kind) {
        guard let value else { return }
        switch kind {
        case .text:
            switch value {
            case .string(let s): cell(s)
            case .number(let n): cell(Self.format(n))
            case .bool(let b): cell(b ? "true" : "false")
            default: break
            }
        case .reference:
            if let id = Self.sourcedId(value) { cell(id) }
        case .references:
            cell((value.arrayValue ?? [value]).compactMap(Self.sourcedId).joined(separator: ","))
        case .list:
            switch value {
            case .array(let items): cell(items.compactMap(\.stringValue).joined(separator: ","))
            case .string(let s): cell(s)
            default: break
            }
        case .userIds:
            let pairs = (value.arrayValue ?? []).compactMap { item -> String? in
                guard let o = item.objectValue, let type = o["type"]?.stringValue else { return nil }
                return "{" + type + ":" + (o["identifier"]?.stringValue ?? "") + "}"
            }
            cell(pairs.joined(separator: ","))
        }
    }

    mutating func endRow() throws(OneRosterCSVError) {
        buffer.append(13)
        buffer.append(10)
        if buffer.count >= Self.flushSize { try flush() }
    }

    mutating func close() throws(OneRosterCSVError) {
        try flush()
        do { try handle.close() } catch {
            throw OneRosterCSVError(file: fileName, message: "cannot be written (\(error))")
        }
    }

    private mutating func flush() throws(OneRosterCSVError) {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw OneRosterCSVError(file: fileName, message: "cannot be written (\(error))")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private static func sourcedId(_ value: JSONValue) -> String? {
        switch value {
        case .object(let o): return o["sourcedId"]?.stringValue
        case .string(let s): return s
        default: return nil
        }
    }

    /// Whole numbers without a fraction (`100`, not `100.0`), others in their shortest form.
    static func format(_ n: Double) -> String {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    }
}
