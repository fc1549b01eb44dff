import Foundation
import OneRosterSandbox
import Testing

@testable import OneRoster

/// The CSV reader reads a row in place (``FieldReader/init(csv:path:)``) instead of building the
/// JSON object the 1.1 binding maps it to and decoding that. Both must give the same records
/// and the same row issues (column, line, message), for valid rows and for every kind of bad
/// value: generated files of every kind, with columns shuffled, unnamed columns, empty and
/// blank cells, bad dates, booleans, statuses, numbers, userIds, duplicate sourcedIds, ragged
/// rows, in bulk and delta files, are read both ways and compared batch by batch.
/// How many seeds a property test runs: `PASSBACK_PROPERTY_SEEDS`, else `standard`.
func propertySeeds(_ standard: UInt64) -> UInt64 {
    ProcessInfo.processInfo.environment["PASSBACK_PROPERTY_SEEDS"].flatMap(UInt64.init) ?? standard
}

@Suite("CSV rows read in place")
struct CSVInPlaceTests {
    // Ten seeds a run: these cases are CPU-bound on the cooperative pool, and forty of them with the
    // parser's below held both of its threads for 20 s at the suite's start, starving the
    // in-process SIS of loopback tests. `PASSBACK_PROPERTY_SEEDS` runs more (e.g. 200).
    @Test("reading rows in place gives the records and issues the JSON path gives", arguments: 0..<propertySeeds(10))
    func sameAsJSON(seed: UInt64) throws {
        var rng = SeededRandom(seed: 0x5EED_0000 + seed)
        let scratch = try CSVScratchFolder()
        let folder = scratch.url.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
        for spec in CSVFileSpec.all {
            let mode = rng.coin() ? "bulk" : "delta"
            manifest += "file.\(spec.name),\(mode)\n"
            try Self.file(spec, rows: 20 + rng.below(60), &rng).write(to: folder.appendingPathComponent(spec.fileName), atomically: true, encoding: .utf8)
        }
        for name in CSVFileSpec.unsupportedNames { manifest += "file.\(name),absent\n" }
        try manifest.write(to: folder.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)

        let inPlace = try Self.read(folder, inPlace: true)
        let viaJSON = try Self.read(folder, inPlace: false)
        #expect(inPlace.count == viaJSON.count, "batches")
        var records = 0, issues = 0
        for (a, b) in zip(inPlace, viaJSON) {
            #expect(Self.same(a, b), "in place: \(a)\nvia JSON: \(b)")
            records += Self.counts(a).records
            issues += Self.counts(a).issues
        }
        // The files exercise both outcomes.
        #expect(records > 0 && issues > 0, "\(records) records, \(issues) issues")
    }

    @Test("rows of a file with an unknown column are read through the JSON object, unknown fields kept")
    func extraColumn() throws {
        let scratch = try CSVScratchFolder()
        let folder = scratch.url.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.categories,bulk\n"
            .write(to: folder.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
        try "sourcedId,status,dateLastModified,title,colour\nc1,,,Homework,blue\n"
            .write(to: folder.appendingPathComponent("categories.csv"), atomically: true, encoding: .utf8)
        for inPlace in [true, false] {
            let batches = try Self.read(folder, inPlace: inPlace)
            guard case .categories(let file)? = batches.first else {
                Issue.record("no categories batch")
                continue
            }
            #expect(file.records.map(\.unknownFields) == [["colour": .string("blue")]])
        }
    }

    static func read(_ folder: URL, inPlace: Bool) throws -> [OneRosterCSVBatch] {
        var reader = try OneRosterCSVReader(directory: folder)
        reader.readsInPlace = inPlace
        var batches: [OneRosterCSVBatch] = []
        // Small batches, so duplicates are found across them too.
        try reader.readFiles(batchSize: 7) { batches.append($0) }
        return batches
    }

    static func same(_ a: OneRosterCSVBatch, _ b: OneRosterCSVBatch) -> Bool {
        switch (a, b) {
        case (.orgs(let x), .orgs(let y)): x == y
        case (.academicSessions(let x), .academicSessions(let y)): x == y
        case (.courses(let x), .courses(let y)): x == y
        case (.classes(let x), .classes(let y)): x == y
        case (.users(let x), .users(let y)): x == y
        case (.enrollments(let x), .enrollments(let y)): x == y
        case (.demographics(let x), .demographics(let y)): x == y
        case (.categories(let x), .categories(let y)): x == y
        case (.lineItems(let x), .lineItems(let y)): x == y
        case (.results(let x), .results(let y)): x == y
        default: false
        }
    }

    static func counts(_ batch: OneRosterCSVBatch) -> (records: Int, issues: Int) {
        func c<T>(_ f: CSVFileContents<T>) -> (Int, Int) { (f.records.count, f.issues.count) }
        return switch batch {
        case .orgs(let f): c(f)
        case .academicSessions(let f): c(f)
        case .courses(let f): c(f)
        case .classes(let f): c(f)
        case .users(let f): c(f)
        case .enrollments(let f): c(f)
        case .demographics(let f): c(f)
        case .categories(let f): c(f)
        case .lineItems(let f): c(f)
        case .results(let f): c(f)
        }
    }

    /// A file of `spec`: its columns shuffled (now and then an unnamed one among them), rows of
    /// values mostly valid, some not.
    static func file(_ spec: CSVFileSpec, rows: Int, _ rng: inout SeededRandom) -> String {
        var header = spec.columns.map(\.name)
        header.shuffle(using: &rng)
        if rng.below(4) == 0 { header.insert("", at: rng.below(header.count + 1)) }
        var lines = [header.map(quoted).joined(separator: ",")]
        var ids: [String] = []
        for i in 0..<rows {
            var cells = header.map { name -> String in
                guard !name.isEmpty else { return rng.coin() ? "" : "ignored" }
                let column = spec.columns.first { $0.name == name }!
                // Valid most of the time, so records come out too.
                return rng.below(6) == 0 ? rng.pick(bad(column)) : rng.pick(good(column, spec))
            }
            if let at = header.firstIndex(of: "sourcedId") {
                let id: String
                switch rng.below(12) {
                case 0 where !ids.isEmpty: id = rng.pick(ids)
                case 1: id = rng.pick(["", " "])
                default: id = "\(spec.name)-\(i)"
                }
                cells[at] = id
                ids.append(id)
            }
            if rng.below(25) == 0 {
                if rng.coin() { cells.append("x") } else { cells.removeLast() }
            }
            lines.append(cells.map(quoted).joined(separator: ","))
        }
        return lines.joined(separator: rng.coin() ? "\n" : "\r\n") + "\n"
    }

    static func quoted(_ cell: String) -> String {
        cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }

    static let dates = ["startDate", "endDate", "beginDate", "birthDate", "assignDate", "dueDate", "scoreDate"]
    static let bools = [
        "enabledUser", "primary", "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"
    ]
    static let numbers = ["resultValueMin", "resultValueMax", "score"]

    /// Values the 1.1 model takes for a column (or that it keeps as they are).
    static func good(_ column: CSVColumn, _ spec: CSVFileSpec) -> [String] {
        switch column.kind {
        case .reference: return ["r1", "r-2", " r3 "]
        case .references: return ["a", "a,b", " a , b ", "a,b,a"]
        case .list: return ["", "09", "09,10", " 09 , 10 "]
        case .userIds: return ["", "{SIS:1}", "{SIS:1},{LDAP:jdoe}", " {A: b} , {C:d} "]
        case .text: break
        }
        switch column.name {
        case "status": return ["", "", "active", "tobedeleted", "inactive"]
        case "dateLastModified": return ["2026-09-01T00:00:00Z", "2026-09-01T10:00:00.123+02:00", "2026-09-01"]
        case let n where dates.contains(n): return n == "endDate" ? ["2027-06-30", "2026-06-30"] : ["2026-09-01", "2026-09-01T12:00:00Z", ""]
        case let n where bools.contains(n): return ["true", "false", "TRUE", "False", ""]
        case let n where numbers.contains(n): return ["0", "95.5", "-3", ""]
        case "role": return ["student", "teacher", "aide", "parent", "Student"]
        case "type": return spec.name == "orgs" ? ["district", "school", "campus"] : ["schoolYear", "term", "gradingPeriod", "quarter"]
        case "classType": return ["homeroom", "scheduled", "lab"]
        case "scoreStatus": return ["fully graded", "exempt", "not submitted"]
        case "sex": return ["male", "female", "other", ""]
        default: return ["text", "Ünïcödé", "a,b", "say \"hi\"", "", "x"]
        }
    }

    /// Values it refuses, or edge cases of its rules.
    static func bad(_ column: CSVColumn) -> [String] {
        switch column.kind {
        case .reference: return ["", " "]
        case .references: return ["", ",", " , ", "a,,b"]
        case .list: return [",", " ", "a,,b"]
        case .userIds: return ["{bad", "{:x}", "{A:b}x", "A:b", "{A:b},"]
        case .text: break
        }
        switch column.name {
        case "status": return ["deleted", "Active", "x", " "]
        case "dateLastModified": return ["yesterday", "2026-13-01T00:00:00Z", " ", "2026-09-01T25:00:00Z"]
        case let n where dates.contains(n): return ["2026-02-30", "09/01/2026", "2026-9-1", " "]
        case let n where bools.contains(n): return ["yes", "1", " true", "t"]
        case let n where numbers.contains(n): return ["abc", "1e999", "nan", " "]
        default: return ["", " ", "\t"]
        }
    }
}

/// The parser takes runs of plain field bytes at once; byte by byte it must give the same rows
/// and the same errors (line, field, message), whatever the chunking and the limits.
@Suite("CSV parser runs")
struct CSVParserRunTests {
    @Test("taking runs at once gives the rows and errors of taking bytes one by one", arguments: 0..<propertySeeds(50))
    func sameAsByteByByte(seed: UInt64) {
        var rng = SeededRandom(seed: 0xC5F0_0000 + seed)
        let alphabet: [[UInt8]] = [
            Array("abc".utf8), Array("x".utf8), [UInt8(ascii: ",")], [UInt8(ascii: "\"")], [UInt8(ascii: "\"")],
            [UInt8(ascii: "\r")], [UInt8(ascii: "\n")], Array("\r\n".utf8), Array("é".utf8), [0xFF], Array(repeating: UInt8(ascii: "z"), count: 40)
        ]
        var input: [UInt8] = rng.below(5) == 0 ? [0xEF, 0xBB, 0xBF] : []
        for _ in 0..<rng.below(400) { input += rng.pick(alphabet) }
        let limits = CSVLimits(maxFieldBytes: 1 + rng.below(120), maxRowBytes: 1 + rng.below(400))
        var chunks: [Data] = []
        var at = 0
        while at < input.count {
            let size = 1 + rng.below(64)
            chunks.append(Data(input[at..<min(at + size, input.count)]))
            at += size
        }
        func parse(runs: Bool) -> ([CSVParser.Row], CSVParser.SyntaxError?) {
            var parser = CSVParser(limits: limits)
            parser.scansRuns = runs
            var rows: [CSVParser.Row] = []
            do {
                for chunk in chunks { try parser.feed(chunk, into: &rows) }
                try parser.finish(into: &rows)
                return (rows, nil)
            } catch {
                return (rows, error)
            }
        }
        let byRuns = parse(runs: true), byBytes = parse(runs: false)
        #expect(byRuns.0 == byBytes.0, "rows of \(input)")
        #expect(byRuns.1 == byBytes.1, "error of \(input)")
    }
}
