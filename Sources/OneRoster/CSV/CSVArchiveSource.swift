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
    private let archive: Archive
    private let entries: [String: Entry]
    private(set) var warnings: [String] = []

    init(url: URL) throws(OneRosterCSVError) {
        name = url.lastPathComponent
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw OneRosterCSVError(file: name, message: "does not exist")
        }
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw OneRosterCSVError(file: name, message: "is not a readable zip archive (\(error))")
        }
        var entries: [String: Entry] = [:]
        for entry in archive where entry.type == .file {
            let path = entry.path
            if path.hasPrefix("__MACOSX/") { continue }
            entries[path] = entry
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
        var byName: [String: Entry] = [:]
        for (path, entry) in entries where path.hasPrefix(folder) {
            let rest = String(path.dropFirst(folder.count))
            if !rest.contains("/") { byName[rest] = entry }
        }
        self.entries = byName
        fileNames = byName.keys.sorted()
    }

    func stream(_ fileName: String, into consumer: (Data) throws -> Void) throws {
        guard let entry = entries[fileName] else {
            throw OneRosterCSVError(file: fileName, message: "is not in \(name)")
        }
        _ = try archive.extract(entry, bufferSize: 64 * 1024, consumer: consumer)
    }
}

/// A folder holding the unzipped files.
struct DirectoryCSVSource: CSVArchiveSource {
    let name: String
    let fileNames: [String]
    var warnings: [String] { [] }
    private let url: URL

    init(url: URL) throws(OneRosterCSVError) {
        self.url = url
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
        while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
            try consumer(chunk)
        }
    }
}
