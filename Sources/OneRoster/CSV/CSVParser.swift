import Foundation

/// An RFC 4180 CSV parser fed with bytes in chunks of any size, so a large file never has to be
/// in memory at once.
///
/// Quoted fields may hold commas, doubled quotes and line breaks (CRLF, LF or CR, kept as they
/// are). Rows end with CRLF, LF or CR. A UTF-8 byte order mark at the very start is skipped,
/// and blank lines are skipped. Every row carries the line it starts on, so errors point at
/// what a person sees in an editor.
public struct CSVParser: Sendable {
    /// One parsed row.
    public struct Row: Sendable, Equatable {
        /// The 1-based line on which the row starts.
        public var line: Int
        /// The fields, decoded as UTF-8, quotes removed.
        public var fields: [String]

        /// A row starting at `line`.
        public init(line: Int, fields: [String]) {
            self.line = line
            self.fields = fields
        }
    }

    /// Broken CSV syntax: the row cannot be split into fields at all.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The 1-based line where the problem is.
        public var line: Int
        /// The 1-based number of the field within its row.
        public var field: Int
        /// What is wrong.
        public var message: String

        public var description: String { "line \(line), field \(field): \(message)" }
    }

    private enum State: Sendable {
        case fieldStart, unquoted, quoted, afterClosingQuote
    }

    private static let quote = UInt8(ascii: "\"")
    private static let comma = UInt8(ascii: ",")
    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    /// The physical line of the next byte.
    private var line = 1
    private var rowLine = 1
    private var fieldLine = 1
    private var quoteLine = 1
    private var rowHasBytes = false
    private var lastWasCR = false
    /// The first bytes, held back until it is known whether they are a byte order mark.
    private var head: [UInt8]? = []
    private var ready: [Row] = []
    private var failure: SyntaxError?
    /// Bytes of the row being read, so a row (or a field) without end is refused early.
    private var rowBytes = 0
    private let maxFieldBytes: Int
    private let maxRowBytes: Int
    /// Whether runs of plain field bytes are taken at once rather than byte by byte (the same
    /// rows and errors; a test compares the two).
    var scansRuns = true

    /// A parser at the start of a file, refusing a field or row longer than `limits` allow.
    public init(limits: CSVLimits = .standard) {
        maxFieldBytes = limits.maxFieldBytes
        maxRowBytes = limits.maxRowBytes
        field.reserveCapacity(256)
    }

    /// Parses a whole file at once.
    public static func parse(_ data: Data) throws(SyntaxError) -> [Row] {
        var parser = CSVParser()
        var rows: [Row] = []
        try parser.feed(data, into: &rows)
        try parser.finish(into: &rows)
        return rows
    }

    /// Parses a whole text at once.
    public static func parse(_ text: String) throws(SyntaxError) -> [Row] {
        try parse(Data(text.utf8))
    }

    /// Consumes the next chunk and appends the rows it completed to `rows`. When the chunk is
    /// broken, the rows before the error are still appended, then the error is thrown; the
    /// parser stays failed.
    public mutating func feed(_ data: Data, into rows: inout [Row]) throws(SyntaxError) {
        defer { handOver(into: &rows) }
        if let failure { throw failure }
        data.withUnsafeBytes { buffer in
            guard scansRuns else {
                for byte in buffer where !consumeWatchingForBOM(byte) { break }
                return
            }
            var i = 0
            while i < buffer.count {
                if head == nil, state == .unquoted || state == .quoted {
                    let end = runEnd(buffer, from: i)
                    if end > i {
                        guard takeRun(UnsafeRawBufferPointer(rebasing: buffer[i..<end])) else { break }
                        i = end
                        continue
                    }
                }
                guard consumeWatchingForBOM(buffer[i]) else { break }
                i += 1
            }
        }
        if let failure { throw failure }
    }

    /// Where the run of bytes from `start` that only add to the field being read ends: in an
    /// unquoted field, before a comma, quote or line break; in a quoted one, before a quote or
    /// a line break (which counts lines).
    private func runEnd(_ buffer: UnsafeRawBufferPointer, from start: Int) -> Int {
        var end = start
        if state == .unquoted {
            while end < buffer.count {
                let b = buffer[end]
                if b == Self.comma || b == Self.quote || b == Self.cr || b == Self.lf { break }
                end += 1
            }
        } else {
            while end < buffer.count {
                let b = buffer[end]
                if b == Self.quote || b == Self.cr || b == Self.lf { break }
                end += 1
            }
        }
        return end
    }

    /// Takes a run of field bytes at once, as ``consume(_:)`` takes them one by one. A run
    /// that would cross a limit is taken byte by byte, so the refusal is the same.
    private mutating func takeRun(_ run: UnsafeRawBufferPointer) -> Bool {
        guard run.count <= maxFieldBytes - field.count, run.count <= maxRowBytes - rowBytes else {
            for byte in run where !consume(byte) { return false }
            return true
        }
        lastWasCR = false
        if state == .unquoted { rowHasBytes = true }
        field.append(contentsOf: run)
        rowBytes += run.count
        return true
    }

    /// Ends the input and appends the last row, if it had no line break after it.
    public mutating func finish(into rows: inout [Row]) throws(SyntaxError) {
        defer { handOver(into: &rows) }
        if let failure { throw failure }
        if let pending = head {
            head = nil
            for byte in pending where !consume(byte) { break }
            if let failure { throw failure }
        }
        switch state {
        case .quoted:
            failure = SyntaxError(
                line: quoteLine, field: fields.count + 1,
                message: "unterminated quoted field: the quote opened here is never closed")
        case .fieldStart where !rowHasBytes:
            break
        default:
            endRow()
        }
        if let failure { throw failure }
    }

    private mutating func handOver(into rows: inout [Row]) {
        rows.append(contentsOf: ready)
        ready.removeAll(keepingCapacity: true)
    }

    /// Holds back the first three bytes until they are known not to be a byte order mark.
    private mutating func consumeWatchingForBOM(_ byte: UInt8) -> Bool {
        guard var pending = head else { return consume(byte) }
        pending.append(byte)
        if pending == Self.bom {
            head = nil
            return true
        }
        if pending.count < Self.bom.count, Self.bom.starts(with: pending) {
            head = pending
            return true
        }
        head = nil
        for b in pending where !consume(b) { return false }
        return true
    }

    /// Returns false once the input is broken; `failure` then says why.
    private mutating func consume(_ byte: UInt8) -> Bool {
        let afterCR = lastWasCR
        lastWasCR = byte == Self.cr
        if state == .quoted {
            if byte == Self.quote {
                state = .afterClosingQuote
            } else {
                field.append(byte)
                if byte == Self.cr || (byte == Self.lf && !afterCR) { line += 1 }
            }
            return withinLimits()
        }
        // The LF of a CRLF whose CR already ended the row.
        if byte == Self.lf && afterCR { return true }
        if state == .fieldStart {
            if !rowHasBytes { rowLine = line }
            fieldLine = line
        }
        switch byte {
        case Self.comma:
            rowHasBytes = true
            endField()
        case Self.cr, Self.lf:
            if rowHasBytes || state != .fieldStart { endRow() }
            rowBytes = 0
            line += 1
            return failure == nil
        case Self.quote:
            rowHasBytes = true
            switch state {
            case .fieldStart:
                state = .quoted
                quoteLine = line
            case .afterClosingQuote:
                field.append(Self.quote)
                state = .quoted
            default:
                return fail(
                    "a quote (\") inside an unquoted field; quote the whole field and double the quotes inside it")
            }
        default:
            rowHasBytes = true
            if state == .afterClosingQuote {
                return fail("text after the closing quote of a field; a quote inside a quoted field must be doubled (\"\")")
            }
            state = .unquoted
            field.append(byte)
        }
        return failure == nil && withinLimits()
    }

    /// Counts the byte just taken against the row's and the field's bounds.
    private mutating func withinLimits() -> Bool {
        rowBytes += 1
        if field.count > maxFieldBytes {
            failure = SyntaxError(
                line: fieldLine, field: fields.count + 1,
                message: "a field longer than \(maxFieldBytes) bytes (csv.maxFieldBytes); no OneRoster value is this long: is this the right file?")
            return false
        }
        if rowBytes > maxRowBytes {
            failure = SyntaxError(
                line: rowLine, field: fields.count + 1,
                message: "a row longer than \(maxRowBytes) bytes (csv.maxRowBytes); no OneRoster row is this long: is this the right file?")
            return false
        }
        return true
    }

    private mutating func fail(_ message: String) -> Bool {
        failure = SyntaxError(line: line, field: fields.count + 1, message: message)
        return false
    }

    private mutating func endField() {
        guard failure == nil else { return }
        // Most cells are ASCII, which needs no validation.
        if field.allSatisfy({ $0 < 0x80 }) {
            fields.append(String(decoding: field, as: UTF8.self))
        } else if let text = String(validating: field, as: UTF8.self) {
            fields.append(text)
        } else {
            failure = SyntaxError(line: fieldLine, field: fields.count + 1, message: "is not valid UTF-8")
        }
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endRow() {
        endField()
        guard failure == nil else { return }
        ready.append(Row(line: rowLine, fields: fields))
        fields.removeAll(keepingCapacity: true)
        rowHasBytes = false
    }
}
