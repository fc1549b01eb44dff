import Foundation
import ZIPFoundation

/// Where the CSV files of an export come from: a zip, or the folder it was unzipped into.
/// Files are streamed in chunks so a large `enrollments.csv` is never in memory at once.
protocol CSVArchiveSource {
    /// The archive's name for error messages.
    var name: String { get }
    /// The names of the files at the top level.
    var fileNames: [String] { get }
    /// Remarks about the archive's layout that do not stop reading.
    var warnings: [String] { get }
    /// Passes the file's bytes to `consumer` in order, a chunk at a time.
    func stream(_ fileName: String, into consumer: (Data) throws -> Void) throws
}

/// A zip archive. The 1.1 binding says the zip is flat; a zip whose files all sit in one folder
/// (as some tools make) is read from that folder, with a warning.
struct ZipCSVSource: CSVArchiveSource {
    let name: String
    let fileNames: [String]
    /// Prefix of the folder holding manifest.csv, empty for a flat zip.
    let folder: String
    /// Each file's entry and where its local header starts.
    private let entries: [String: (entry: Entry, offset: UInt64)]
    private let reader: ZipEntryReader
    private let limits: CSVLimits
    private(set) var warnings: [String] = []

    init(url: URL, limits: CSVLimits = .standard) throws(OneRosterCSVError) {
        name = url.lastPathComponent
        self.limits = limits
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw OneRosterCSVError(file: name, message: "does not exist")
        }
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
            reader = try ZipEntryReader(url: url)
        } catch {
            throw OneRosterCSVError(file: name, message: "is not a readable zip archive (\(error))")
        }
        // ZIPFoundation lists the entries in central-directory order, as the reader found their offsets.
        let all = Array(archive)
        guard all.count == reader.localHeaderOffsets.count else {
            throw OneRosterCSVError(file: name, message: "is not a readable zip archive (its central directory is damaged)")
        }
        var entries: [String: (entry: Entry, offset: UInt64)] = [:]
        for (entry, offset) in zip(all, reader.localHeaderOffsets) where entry.type == .file {
            let path = entry.path
            if path.hasPrefix("__MACOSX/") { continue }
            entries[path] = (entry, offset)
        }
        var folder = ""
        if entries[OneRosterCSVManifest.fileName] == nil {
            let nested = entries.keys.filter { $0.hasSuffix("/" + OneRosterCSVManifest.fileName) }
            if nested.count == 1 {
                folder = String(nested[0].dropLast(OneRosterCSVManifest.fileName.count))
                warnings.append(
                    "\(name): the CSV files are inside the folder \(folder) rather than at the top of the zip; read from there")
            }
        }
        self.folder = folder
        var byName: [String: (entry: Entry, offset: UInt64)] = [:]
        for (path, entry) in entries where path.hasPrefix(folder) {
            let rest = String(path.dropFirst(folder.count))
            if !rest.contains("/") { byName[rest] = entry }
        }
        self.entries = byName
        fileNames = byName.keys.sorted()
    }

    func stream(_ fileName: String, into consumer: (Data) throws -> Void) throws {
        guard let found = entries[fileName] else {
            throw OneRosterCSVError(file: fileName, message: "is not in \(name)")
        }
        do {
            // 16 KiB at a time: the compressed bytes read so far bound what may come out of them,
            // so smaller reads refuse a bomb sooner (after 1.6 MB at 100:1, not 6.4 MB).
            try reader.stream(found.entry, localHeaderOffset: found.offset, bufferSize: 16 * 1024, limits: limits, into: consumer)
        } catch let refused as ZipEntryReader.Refused {
            throw OneRosterCSVError(file: fileName, message: refused.description)
        }
    }
}

/// A folder holding the unzipped files.
struct DirectoryCSVSource: CSVArchiveSource {
    let name: String
    let fileNames: [String]
    var warnings: [String] { [] }
    private let url: URL
    private let maxBytes: Int64

    init(url: URL, limits: CSVLimits = .standard) throws(OneRosterCSVError) {
        self.url = url
        maxBytes = limits.maxEntryBytes
        name = url.lastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OneRosterCSVError(file: name, message: "is not a folder")
        }
        do {
            let items = try FileManager.default.contentsOfDirectory(
                at: url, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            fileNames = try items.filter { try $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true }
                .map(\.lastPathComponent).sorted()
        } catch {
            throw OneRosterCSVError(file: name, message: "cannot be listed (\(error))")
        }
    }

    func stream(_ fileName: String, into consumer: (Data) throws -> Void) throws {
        let handle = try FileHandle(forReadingFrom: url.appendingPathComponent(fileName))
        defer { try? handle.close() }
        var total: Int64 = 0
        while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
            total += Int64(chunk.count)
            if total > maxBytes {
                throw OneRosterCSVError(file: fileName, message: "is larger than \(maxBytes) bytes (csv.maxEntryBytes)")
            }
            try consumer(chunk)
        }
    }
}
