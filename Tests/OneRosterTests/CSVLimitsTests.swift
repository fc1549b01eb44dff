import Foundation
import OneRosterSandbox
import Testing

@testable import OneRoster

/// Hostile and oversized exports are refused quickly, in bounded memory, saying which limit
/// (and which configuration key) they broke.
@Suite("Bounded reading of CSV exports")
struct CSVLimitsTests {
    @Test("a 1 MB zip holding a 1 GiB users.csv of zeros is refused within seconds, in bounded memory")
    func zipBomb() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("bomb.zip")
        try HostileExport.zipOfZeros(to: url, bytes: 1 << 30)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        #expect(size < 2 << 20, "the bomb is about a megabyte (\(size) bytes)")
        let before = CSVFuzzTests.residentMiB()
        let started = ContinuousClock.now
        let error = #expect(throws: OneRosterCSVError.self) { _ = try OneRosterCSVArchive.read(zipAt: url) }
        let elapsed = ContinuousClock.now - started
        #expect(error?.file == "users.csv")
        #expect(error?.message.contains("csv.maxCompressionRatio") == true, "\(error?.description ?? "")")
        #expect(error?.message.contains("zip bomb") == true)
        #expect(elapsed < .seconds(5), "refused in \(elapsed)")
        #expect(CSVFuzzTests.residentMiB() - before < 100)
    }

    @Test("a bomb whose zip understates its inflated size is refused once more comes out than it declared")
    func lyingBomb() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("liar.zip")
        try HostileExport.zipOfZeros(to: url, bytes: 256 << 20, declaredSize: 4096)
        let lifted = CSVLimits(maxFieldBytes: 1 << 30, maxRowBytes: 1 << 30)
        let started = ContinuousClock.now
        let error = #expect(throws: OneRosterCSVError.self) { _ = try OneRosterCSVArchive.read(zipAt: url, limits: lifted) }
        #expect(error?.file == "users.csv")
        #expect(error?.message.contains("more than the 4096 bytes its zip entry declares") == true, "\(error?.description ?? "")")
        #expect(ContinuousClock.now - started < .seconds(5))

        // With the default limits the endless first field gives it away as well.
        let field = #expect(throws: OneRosterCSVError.self) { _ = try OneRosterCSVArchive.read(zipAt: url) }
        #expect(field?.file == "users.csv")
        #expect(field?.message.contains("4096") == true || field?.message.contains("csv.maxFieldBytes") == true, "\(field?.description ?? "")")
    }

    @Test("a bomb that declares a plausible size is refused by the ratio of what actually comes out")
    func plausibleBomb() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("plausible.zip")
        // 256 MiB of zeros deflate to about 260 KB; declared as 20 MB, about 77:1, which passes the first look.
        try HostileExport.zipOfZeros(to: url, bytes: 256 << 20, declaredSize: 20_000_000)
        let lifted = CSVLimits(maxFieldBytes: 1 << 30, maxRowBytes: 1 << 30)
        let started = ContinuousClock.now
        let error = #expect(throws: OneRosterCSVError.self) { _ = try OneRosterCSVArchive.read(zipAt: url, limits: lifted) }
        #expect(error?.file == "users.csv")
        #expect(error?.message.contains("csv.maxCompressionRatio") == true, "\(error?.description ?? "")")
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("a file larger than csv.maxEntryBytes is refused, from a zip or a folder")
    func entryCap() throws {
        let scratch = try CSVScratchFolder()
        let files = [
            ("manifest.csv", csvManifest(["orgs": "bulk"])),
            (
                "orgs.csv",
                "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
                    + (1...200).map { "o\($0),,,School \($0),school,,\n" }.joined()
            )
        ]
        let small = CSVLimits(maxEntryBytes: 2_000)
        let zip = try scratch.zip(files)
        let folder = try scratch.folder(files)
        for read in [{ try OneRosterCSVArchive.read(zipAt: zip, limits: small) }, { try OneRosterCSVArchive.read(directory: folder, limits: small) }] {
            let error = #expect(throws: OneRosterCSVError.self) { _ = try read() }
            #expect(error?.file == "orgs.csv")
            #expect(error?.message.contains("csv.maxEntryBytes") == true, "\(error?.description ?? "")")
        }
        #expect(try OneRosterCSVArchive.read(zipAt: zip).orgs?.records.count == 200)
    }

    @Test("the bomb is a valid zip: with the bounds lifted it inflates whole and matches its checksum")
    func bombIsValid() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("small-bomb.zip")
        try HostileExport.zipOfZeros(to: url, bytes: 100_003)
        let lifted = CSVLimits(maxFieldBytes: 1 << 20, maxRowBytes: 1 << 20, maxCompressionRatio: 10_000)
        // Read to the end (checksum included), the one "row" then fails as a header.
        let error = #expect(throws: OneRosterCSVError.self) { _ = try OneRosterCSVArchive.read(zipAt: url, limits: lifted) }
        #expect(error?.message.contains("the header lacks the required column") == true, "\(error?.description ?? "")")
    }

    @Test("a row longer than csv.maxRowBytes is refused at the line where it starts")
    func rowCap() throws {
        var parser = CSVParser(limits: CSVLimits(maxFieldBytes: 100, maxRowBytes: 1_000))
        var rows: [CSVParser.Row] = []
        let wide = Array(repeating: String(repeating: "x", count: 90), count: 20).joined(separator: ",")
        let error = #expect(throws: CSVParser.SyntaxError.self) { try parser.feed(Data("a,b\n\"q\nq\",c\n\(wide)\n".utf8), into: &rows) }
        #expect(rows.count == 2, "the rows before it are read")
        #expect(error?.line == 4)
        #expect(error?.message.contains("csv.maxRowBytes") == true)
    }

    @Test("a file is handed over in batches while it is read: the rows before a break at its end arrive before the error")
    func batchesWhileReading() throws {
        let scratch = try CSVScratchFolder()
        let rows = (1...2_000).map { "o\($0),,,School number \($0),school,,\n" }.joined()
        let zip = try scratch.zip([
            ("manifest.csv", csvManifest(["orgs": "bulk"])),
            ("orgs.csv", csvOrgsHeader + "\n" + rows + "o2001,,,\"unterminated,school,,\n")
        ])
        var reader = try OneRosterCSVReader(zipAt: zip)
        var batches: [Int] = []
        let error = #expect(throws: OneRosterCSVError.self) {
            try reader.readFiles(batchSize: 100) { batch in
                guard case .orgs(let contents) = batch else { return }
                batches.append(contents.records.count)
            }
        }
        // About 70 KB, inflated 16 KiB at a time, each read completing some 450-500 of these short rows.
        #expect(batches.count >= 4, "handed over as it was read: \(batches)")
        #expect(batches.dropLast().allSatisfy { $0 >= 100 && $0 <= 600 } && (batches.last ?? 0) <= 600, "\(batches)")
        #expect(batches.reduce(0, +) == 2_000, "every row before the break went out before the error")
        #expect(error?.file == "orgs.csv")
        #expect(error?.line == 2_002)
    }
}
