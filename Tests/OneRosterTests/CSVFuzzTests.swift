import Foundation
import OneRosterSandbox
import Testing
import ZIPFoundation

@testable import OneRoster

/// Mutated OneRoster CSV exports against the roster reader, for a bounded time: byte flips;
/// quotes, commas, CR, LF, BOMs and NULs where they do not belong; ragged rows; duplicated and
/// deleted header columns; long fields; random Unicode and broken UTF-8; truncated files;
/// wrong manifests; corrupted zips and random bytes as a zip. Every input must be answered
/// (an archive, or a `OneRosterCSVError`) within a deadline, without crashing the process, and
/// the resident set must stay bounded.
///
/// `PASSBACK_FUZZ_SECONDS` sets the time (default 15) and `PASSBACK_FUZZ_SEED` the seed
/// (default: a new one, printed, so a failure can be replayed). Each input is written to disk
/// before it is read, so a crash leaves the input that caused it behind (the path is printed).
@Suite("CSV fuzz", .serialized)
struct CSVFuzzTests {
    static let deadline: Double = 5
    /// Read whatever the time, so a machine the whole suite keeps busy stretches the run
    /// instead of failing it; each input has its own deadline, so this cannot hang.
    static let minimumInputs = 50
    /// What one input may add to the resident set, and all of them together. The process is
    /// shared with the other suites `swift test` runs in parallel (they run during each read and
    /// their memory counts too), so both are generous: they catch an input that takes hundreds
    /// of MiB, not a few.
    static let maxInputGrowthMiB = 300
    static let maxGrowthMiB = 500

    @Test("mutated exports never crash or hang the reader, and memory stays bounded")
    func fuzz() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["PASSBACK_FUZZ_SECONDS"] ?? "") ?? 15
        let seed = UInt64(environment["PASSBACK_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max / 2)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("passback-csv-fuzz-\(seed)")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        print("CSV fuzz: seed \(seed), \(seconds) s (PASSBACK_FUZZ_SEED=\(seed) replays it); each input is written to \(work.path) first")

        // The loop runs on a thread of its own, waiting on each read there: it neither blocks one
        // of the few threads the suite's async tests share nor waits for one between inputs.
        let run = try await Self.onThread { try Self.run(seconds: seconds, seed: seed, work: work) }
        for failure in run.failures { Issue.record(Comment(rawValue: failure)) }
        print(
            "CSV fuzz: \(run.n) inputs, \(run.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); "
                + "resident \(run.baseline) MiB at start, \(run.peak) MiB at most; one input added \(run.worstInput.growth) MiB at most")
        #expect(run.counts["read"] ?? 0 > 0 && run.counts["refused"] ?? 0 > 0, "the inputs should be both read and refused: \(run.counts)")
        #expect(run.worstInput.growth < Self.maxInputGrowthMiB, "\(run.worstInput.label) grew the resident set by \(run.worstInput.growth) MiB (seed \(seed))")
        #expect(run.peak - run.baseline < Self.maxGrowthMiB, "the resident set grew from \(run.baseline) to \(run.peak) MiB")
        try? FileManager.default.removeItem(at: work)
    }

    struct Run: Sendable {
        var n = 0
        var counts: [String: Int] = [:]
        var baseline = 0
        var peak = 0
        var worstInput = (growth: 0, label: "")
        var failures: [String] = []
    }

    /// Mutated inputs, each read within the deadline, until `seconds` have passed and at least
    /// `minimumInputs` were read.
    static func run(seconds: Double, seed: UInt64, work: URL) throws -> Run {
        var generator = try CSVMutator(seed: seed, bulk: Self.export(.bulk, in: work), delta: Self.export(.delta, in: work))
        var run = Run()
        run.baseline = Self.residentMiB()
        run.peak = run.baseline
        let stop = Date().addingTimeInterval(seconds)
        while Date() < stop || run.n < minimumInputs {
            let input = generator.next()
            let target = try input.write(in: work)
            let started = Date()
            let before = Self.residentMiB()
            guard let outcome = Self.readBlocking(target, input.isZip, within: Self.deadline) else {
                run.failures.append("input \(run.n) (seed \(seed), \(input.label)) was not answered within \(Self.deadline) s; it is at \(target.path)")
                return run
            }
            let elapsed = Date().timeIntervalSince(started)
            if elapsed > Self.deadline {
                run.failures.append("input \(run.n) (seed \(seed), \(input.label)) took \(elapsed) s")
            }
            let after = Self.residentMiB()
            if after - before > run.worstInput.growth { run.worstInput = (after - before, "input \(run.n), \(input.label)") }
            run.peak = max(run.peak, after)
            run.counts[outcome, default: 0] += 1
            run.n += 1
        }
        run.peak = max(run.peak, Self.residentMiB())
        return run
    }

    /// Runs `body` on a new thread and waits for it, suspended.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// `read`, for a caller on a thread of its own: it waits there.
    static func readBlocking(_ url: URL, _ isZip: Bool, within seconds: Double) -> String? {
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var outcome: String?
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread {
            do throws(OneRosterCSVError) {
                let archive = isZip ? try OneRosterCSVArchive.read(zipAt: url) : try OneRosterCSVArchive.read(directory: url)
                _ = archive.issues.map(\.description).joined().count + archive.warnings.joined().count
                box.lock.withLock { box.outcome = "read" }
            } catch {
                box.lock.withLock { box.outcome = error.message.isEmpty || error.description.isEmpty ? "unexplained" : "refused" }
            }
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return box.lock.withLock { box.outcome }
    }

    /// The files of a valid export written by the writer.
    static func export(_ mode: CSVFileMode, in work: URL) throws -> [(String, Data)] {
        let url = work.appendingPathComponent("valid-\(mode.rawValue).zip")
        var contents = CSVSample.export
        if mode == .delta {
            // A delta of people and their enrollments (every row of a delta needs dateLastModified).
            contents = OneRosterCSVExport(sourceSystemName: "Springfield SIS")
            let changed = CSVSample.time("2026-10-01T12:30:00Z")
            contents.users = CSVSample.users.map { u in
                var u = u
                u.dateLastModified = changed
                return u
            }
            contents.enrollments = CSVSample.enrollments.map { e in
                var e = e
                e.dateLastModified = changed
                return e
            }
        }
        try OneRosterCSVWriter.write(contents, mode: mode, to: url)
        let archive = try Archive(url: url, accessMode: .read)
        var files: [(String, Data)] = []
        for entry in archive {
            var data = Data()
            _ = try archive.extract(entry) { data.append($0) }
            files.append((entry.path, data))
        }
        try FileManager.default.removeItem(at: url)
        return files.sorted { $0.0 < $1.0 }
    }

    /// Reads on a thread of its own; nil if no answer came within `seconds` (the thread is left
    /// to finish on its own: a hang cannot be stopped from here, only reported). The caller
    /// waits suspended, not blocked: a blocked test thread is one of the few the whole suite's
    /// async tests share.
    static func read(_ url: URL, _ isZip: Bool, within seconds: Double) async -> String? {
        final class First: @unchecked Sendable {
            let lock = NSLock()
            var continuation: CheckedContinuation<String?, Never>?
            func resume(_ value: String?) {
                let c = lock.withLock { () -> CheckedContinuation<String?, Never>? in
                    defer { continuation = nil }
                    return continuation
                }
                c?.resume(returning: value)
            }
        }
        let first = First()
        return await withCheckedContinuation { continuation in
            first.lock.withLock { first.continuation = continuation }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { first.resume(nil) }
            Thread {
                do throws(OneRosterCSVError) {
                    let archive = isZip ? try OneRosterCSVArchive.read(zipAt: url) : try OneRosterCSVArchive.read(directory: url)
                    // Touch what a caller reads, so nothing lazy is left unchecked.
                    _ = archive.issues.map(\.description).joined().count + archive.warnings.joined().count
                    first.resume("read")
                } catch {
                    first.resume(error.message.isEmpty || error.description.isEmpty ? "unexplained" : "refused")
                }
            }.start()
        }
    }

    /// VmRSS of this process, from /proc/self/status (0 where there is none).
    static func residentMiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kB = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kB / 1024
    }
}

/// One generated input: files to zip or to put in a folder, or raw bytes as a zip.
struct CSVFuzzInput {
    enum Shape {
        case folder([(String, Data)])
        case zip([(String, Data)], corrupt: (inout Data) -> Void)
        case rawZip(Data)
    }

    var shape: Shape
    var label: String
    var isZip: Bool {
        if case .folder = shape { return false }
        return true
    }

    /// Writes the input under `work` and returns what to read.
    func write(in work: URL) throws -> URL {
        let fm = FileManager.default
        switch shape {
        case .folder(let files):
            let dir = work.appendingPathComponent("input")
            try? fm.removeItem(at: dir)
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
            return dir
        case .zip(let files, let corrupt):
            let url = work.appendingPathComponent("input.zip")
            try? fm.removeItem(at: url)
            let archive = try Archive(url: url, accessMode: .create)
            for (i, (name, data)) in files.enumerated() {
                try archive.addEntry(
                    with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: i % 2 == 0 ? .deflate : .none,
                    provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
            }
            var bytes = try Data(contentsOf: url)
            corrupt(&bytes)
            try bytes.write(to: url)
            return url
        case .rawZip(let bytes):
            let url = work.appendingPathComponent("input.zip")
            try bytes.write(to: url)
            return url
        }
    }
}

/// Mutates a valid export, seeded (SplitMix64), so a run can be replayed.
struct CSVMutator {
    var rng: SeededRandom
    let bulk: [(String, Data)]
    let delta: [(String, Data)]

    init(seed: UInt64, bulk: [(String, Data)], delta: [(String, Data)]) {
        rng = SeededRandom(seed: seed)
        self.bulk = bulk
        self.delta = delta
    }

    /// Keeps generated inputs under 1 MB.
    static let maxBytes = 900_000

    mutating func next() -> CSVFuzzInput {
        // One input in ten is not an export at all.
        if rng.below(10) == 0 {
            var bytes = rng.bytes(rng.below(4096))
            if rng.coin() { bytes.insert(contentsOf: [0x50, 0x4B, 0x03, 0x04], at: 0) }
            if rng.coin() { bytes += [0x50, 0x4B, 0x05, 0x06] + rng.bytes(18) }
            return CSVFuzzInput(shape: .rawZip(Data(bytes)), label: "random bytes as a zip")
        }
        var files = (rng.coin() ? bulk : delta).map { ($0.0, [UInt8]($0.1)) }
        var labels: [String] = []
        for _ in 0...rng.below(3) { labels.append(mutate(&files)) }
        let data = files.map { ($0.0, Data($0.1.prefix(Self.maxBytes / max(1, files.count)))) }
        if rng.coin() {
            return CSVFuzzInput(shape: .folder(data.filter { !$0.0.contains("/") && !$0.0.isEmpty }), label: labels.joined(separator: "; ") + " (folder)")
        }
        // A zip, sometimes with its own bytes damaged.
        var corruption = "intact"
        var damage: (inout Data) -> Void = { _ in }
        switch rng.below(6) {
        case 0:
            let flips = (0..<(1 + rng.below(8))).map { _ in (rng.next(), UInt8(truncatingIfNeeded: rng.next())) }
            corruption = "\(flips.count) zip bytes flipped"
            damage = { d in for (at, x) in flips where !d.isEmpty { d[Int(at % UInt64(d.count))] ^= max(1, x) } }
        case 1:
            let keep = rng.next()
            corruption = "zip truncated"
            damage = { d in d = d.prefix(Int(keep % UInt64(max(1, d.count)))) }
        case 2:
            // The central directory's sizes and offsets, where readers trust numbers.
            let at = rng.next(), value = UInt32(truncatingIfNeeded: rng.next())
            corruption = "a central-directory number changed"
            damage = { d in
                guard let end = d.lastRange(of: Data([0x50, 0x4B, 0x01, 0x02])) else { return }
                let offset = end.lowerBound + 10 + Int(at % 36)
                guard offset + 4 <= d.count else { return }
                withUnsafeBytes(of: value.littleEndian) { d.replaceSubrange(offset..<offset + 4, with: $0) }
            }
        default:
            break
        }
        return CSVFuzzInput(shape: .zip(data, corrupt: damage), label: labels.joined(separator: "; ") + " (zip, \(corruption))")
    }

    /// One mutation of the files; returns what it did.
    mutating func mutate(_ files: inout [(String, [UInt8])]) -> String {
        guard !files.isEmpty else { return "no files" }
        let f = rng.below(files.count)
        let name = files[f].0
        var bytes = files[f].1
        var writeBack = true
        defer { if writeBack { files[f].1 = bytes } }
        switch rng.below(13) {
        case 0:
            let count = 1 + rng.below(8)
            for _ in 0..<count where !bytes.isEmpty { bytes[rng.below(bytes.count)] ^= UInt8(1 + rng.below(255)) }
            return "\(count) bytes flipped in \(name)"
        case 1:
            let tokens: [[UInt8]] = [
                [0x22], [0x2C], [0x0D], [0x0A], [0x0D, 0x0A], [0xEF, 0xBB, 0xBF], [0x00], [0x22, 0x22], [0x22, 0x2C, 0x22],
                [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x2C, 0x2C, 0x2C]
            ]
            let token = tokens[rng.below(tokens.count)]
            let times = 1 + rng.below(4)
            for _ in 0..<times { bytes.insert(contentsOf: token, at: rng.below(bytes.count + 1)) }
            return "\(times)× \(token) inserted in \(name)"
        case 2:
            var lines = split(bytes)
            guard lines.count > 1 else { return "nothing to make ragged in \(name)" }
            let l = 1 + rng.below(lines.count - 1)
            if rng.coin() {
                lines[l] += Array(repeating: UInt8(ascii: ","), count: 1 + rng.below(5))
            } else if let comma = lines[l].lastIndex(of: UInt8(ascii: ",")) {
                lines[l].removeSubrange(comma...)
            }
            bytes = join(lines)
            return "line \(l + 1) of \(name) made ragged"
        case 3:
            var lines = split(bytes)
            guard !lines.isEmpty else { return "no header in \(name)" }
            var columns = lines[0].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map(Array.init)
            guard !columns.isEmpty else { return "no header in \(name)" }
            let c = rng.below(columns.count)
            let what: String
            switch rng.below(3) {
            case 0: columns.insert(columns[c], at: rng.below(columns.count + 1)); what = "duplicated"
            case 1: columns.remove(at: c); what = "deleted"
            default: columns[c] = Array(String(decoding: columns[c], as: UTF8.self).uppercased().utf8); what = "upper-cased"
            }
            lines[0] = Array(columns.joined(separator: [UInt8(ascii: ",")]))
            bytes = join(lines)
            return "header column \(c) of \(name) \(what)"
        case 4:
            let length = rng.below(200_000)
            var field: [UInt8] =
                rng.coin() ? [0x22] + Array(repeating: UInt8(ascii: "a"), count: length) + [0x22] : Array(repeating: UInt8(ascii: "b"), count: length)
            if rng.coin() { field = field.map { $0 == UInt8(ascii: "a") ? UInt8(ascii: ",") : $0 } }
            bytes.insert(contentsOf: field, at: rng.below(bytes.count + 1))
            return "a field of \(length) bytes in \(name)"
        case 5:
            var text = ""
            for _ in 0..<(1 + rng.below(40)) {
                let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF, 0x0300...0x036F]
                let r = ranges[rng.below(ranges.count)]
                if let s = Unicode.Scalar(r.lowerBound + UInt32(rng.below(Int(r.upperBound - r.lowerBound) + 1))) { text.unicodeScalars.append(s) }
            }
            bytes.insert(contentsOf: Array(text.utf8), at: rng.below(bytes.count + 1))
            return "random Unicode in \(name)"
        case 6:
            let keep = rng.below(bytes.count + 1)
            bytes = Array(bytes.prefix(keep))
            return "\(name) truncated to \(keep) bytes"
        case 7:
            var lines = split(bytes)
            guard lines.count > 1 else { return "nothing to repeat in \(name)" }
            let l = rng.below(lines.count)
            for _ in 0..<(1 + rng.below(50)) { lines.insert(lines[l], at: rng.below(lines.count + 1)) }
            bytes = join(lines)
            return "line \(l + 1) of \(name) repeated"
        case 8:
            guard let m = files.firstIndex(where: { $0.0 == "manifest.csv" }) else { return "no manifest" }
            var text = String(decoding: files[m].1, as: UTF8.self)
            let what: String
            switch rng.below(7) {
            case 0: text = text.replacingOccurrences(of: "oneroster.version,1.1", with: "oneroster.version,1.2"); what = "version 1.2"
            case 1:
                text = text.replacingOccurrences(of: "file.users,bulk", with: "file.users,sometimes")
                text = text.replacingOccurrences(of: "file.users,delta", with: "file.users,sometimes"); what = "a bad mode"
            case 2: text = text.replacingOccurrences(of: "file.orgs,", with: "file.xorgs,"); what = "orgs unlisted"
            case 3: text = text.replacingOccurrences(of: "file.classResources,absent", with: "file.classResources,bulk"); what = "an unsupported file listed"
            case 4: text = "propertyName,value\r\n"; what = "header only"
            case 5: text = text.replacingOccurrences(of: "propertyName,value", with: "value,propertyName,extra"); what = "a wrong header"
            default: text += "file.users,absent\r\nfile.users,bulk\r\n"; what = "a file listed twice"
            }
            if m == f { bytes = Array(text.utf8) } else { files[m].1 = Array(text.utf8) }
            return "manifest: \(what)"
        case 9:
            files.remove(at: f)
            writeBack = false
            return "\(name) removed"
        case 10:
            bytes = rng.coin() ? [] : Array(split(bytes).first ?? [])
            return "\(name) emptied (or header only)"
        case 11:
            let other = files[rng.below(files.count)]
            bytes = other.1
            return "\(name) holds \(other.0)"
        default:
            let names = ["../users.csv", "nested/manifest.csv", "users.CSV", ".hidden.csv", "a b.csv", "x.txt", "manifest.csv"]
            let extra = names[rng.below(names.count)]
            files.append((extra, rng.coin() ? bytes : rng.bytes(rng.below(200))))
            return "an extra entry \(extra)"
        }
    }

    func split(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
    }

    func join(_ lines: [[UInt8]]) -> [UInt8] { Array(lines.joined(separator: [UInt8(ascii: "\n")])) }
}

/// The few draws the mutator needs, from the sandbox's seeded generator (SplitMix64).
extension SeededRandom {
    /// 0..<n (0 when n is 0).
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    mutating func coin() -> Bool { next() & 1 == 0 }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// Inputs the fuzz test found, kept as regressions.
@Suite("CSV fuzz findings")
struct CSVFuzzFindingTests {
    /// Seed 6716746539496736146, input 5330: a zip whose manifest's deflate stream has flipped bytes.
    static let corruptDeflate = """
        UEsDBBQAAAgIAI5xgV2VKklhrwAAAJYBAAAMAAAAbWFuaWZlc3QuY3N2fdBNCsJADAXgfaF38ACl6DHcuLAniNPXGshMSjIVvL3j\
        H8gobr+XkPAW0wWWrweK6C4kK9omUuIJnvsLzFlTt+u3baMJpp5hH7xrzIkFPQUaETkM8HviHZ0cKb/SQBmzGqN2IfefeITrauEr\
        K+j4G1ZYvtLZHTlzqBIkU5FYwLsRkunlwgn7jFiNq82V2O83Cq+SK1y9VPY+81zr/VrKjI/eh8U4zRNDxs2wH9rmYVBLAwQUAAAI\
        AACOcYFdV4qAdjIAAAAyAAAADAAAAC4uL3VzZXJzLmNzdp9TSJHE41yTuneM/lcQ/72dfRa3Vx2+GcpYT610WbXrDlxy/nlVtpFT\
        wqNkEA0zastLUEsBAhUDFAAACAgAjnGBXZUqSWGvAAAAlgEAAAwAAAAAAAAAAAAAAKSBAAAAAG1hbmlmZXN0LmNzdlBLAQIVAxQA\
        AAgAAI5xgV1XioB2MgAAADIAAAAMAAAAAAAAAAAAAACkgdkAAAAuLi91c2Vycy5jc3ZQSwUGAAAAAAIAAgB0AAAANQEAAAAA
        """

    @Test("a zip whose deflate stream is corrupt is refused at once, not read forever")
    func corruptDeflate() async throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("corrupt.zip")
        try #require(Data(base64Encoded: Self.corruptDeflate)).write(to: url)
        let outcome = await CSVFuzzTests.read(url, true, within: CSVFuzzTests.deadline)
        #expect(outcome == "refused", "\(outcome ?? "no answer within \(CSVFuzzTests.deadline) s")")
    }

    @Test("a deflate stream that does not end within its entry's bytes is refused, whatever follows them")
    func unendedDeflate() async throws {
        // A stored deflate block announcing 65,535 bytes, then the manifest's text: the stream
        // cannot end before the file does. Written stored, then marked deflate in both headers.
        let scratch = try CSVScratchFolder()
        let body = Data([0x00, 0xFF, 0xFF, 0x00, 0x00]) + Data(csvManifest(["orgs": "absent"]).utf8)
        let archive = try Archive(url: scratch.url.appendingPathComponent("unended.zip"), accessMode: .create)
        try archive.addEntry(
            with: "manifest.csv", type: .file, uncompressedSize: Int64(body.count), compressionMethod: .none,
            provider: { position, size in body.subdata(in: Int(position)..<Int(position) + size) })
        let url = scratch.url.appendingPathComponent("unended.zip")
        var bytes = try Data(contentsOf: url)
        bytes[8] = 8
        let directory = try #require(bytes.range(of: Data([0x50, 0x4B, 0x01, 0x02])))
        bytes[directory.lowerBound + 10] = 8
        try bytes.write(to: url)
        let outcome = await CSVFuzzTests.read(url, true, within: CSVFuzzTests.deadline)
        #expect(outcome == "refused", "\(outcome ?? "no answer within \(CSVFuzzTests.deadline) s")")
        guard outcome != nil else { return }
        let error = expectCSVError { _ = try OneRosterCSVArchive.read(zipAt: url) }
        #expect(error?.message.contains("does not end") == true, "\(String(describing: error))")
    }
}
