import Foundation
import ZIPFoundation

/// Writes a OneRoster 1.1 CSV zip: `manifest.csv` plus one file per collection, with the exact
/// 1.1 headers and column order, RFC 4180 quoting and CRLF line ends. ``OneRosterCSVArchive``
/// reads it back to equal records.
///
/// What 1.1 CSV has no column for is not written: reference `type` and `href`, `metadata`,
/// `children`, and unknown fields that are not strings. Unknown string fields become extra
/// columns after the standard ones. Multi-valued cells are joined with commas, so an item that
/// itself holds a comma cannot survive (the binding has no escape for it).
public enum OneRosterCSVWriter {
    /// Writes `contents` as a zip at `url`, replacing any file there.
    ///
    /// - `bulk`: `status` and `dateLastModified` are left empty, as the binding says, and
    ///   records whose status is `tobedeleted` are left out, since a bulk file lists exactly
    ///   what exists.
    /// - `delta`: both are filled; a record without `dateLastModified` is an error.
    public static func write(_ contents: OneRosterCSVExport, mode: CSVFileMode, to url: URL) throws(OneRosterCSVError) {
        guard mode != .absent else {
            throw OneRosterCSVError(file: url.lastPathComponent, message: "an export is bulk or delta, not absent")
        }
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("oneroster-csv-\(UUID().uuidString)")
        do {
            try fm.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            throw OneRosterCSVError(file: url.lastPathComponent, message: "cannot create a work folder (\(error))")
        }
        defer { try? fm.removeItem(at: work) }

        var written: [String] = []
        func add<T: CSVRecord>(_ records: [T]?) throws(OneRosterCSVError) {
            guard let records else { return }
            try CSVFileWriter<T>.write(records, mode: mode, to: work.appendingPathComponent(T.csvSpec.fileName))
            written.append(T.csvSpec.fileName)
        }
        try add(contents.orgs)
        try add(contents.academicSessions)
        try add(contents.courses)
        try add(contents.classes)
        try add(contents.users)
        try add(contents.enrollments)
        try add(contents.demographics)
        try add(contents.categories)
        try add(contents.lineItems)
        try add(contents.results)
        try writeManifest(contents, mode: mode, written: Set(written), to: work.appendingPathComponent("manifest.csv"))

        // Built beside the destination and renamed over it, so a reader never sees half a zip.
        let partial = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
        defer { try? fm.removeItem(at: partial) }
        do {
            let archive = try Archive(url: partial, accessMode: .create)
            for file in ["manifest.csv"] + written {
                try archive.addEntry(
                    with: file, fileURL: work.appendingPathComponent(file), compressionMethod: .deflate)
            }
        } catch {
            throw OneRosterCSVError(file: url.lastPathComponent, message: "cannot write the zip (\(error))")
        }
        guard rename(partial.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw OneRosterCSVError(file: url.lastPathComponent, message: "cannot be written (\(reason))")
        }
    }

    private static func writeManifest(
        _ contents: OneRosterCSVExport, mode: CSVFileMode, written: Set<String>, to url: URL
    ) throws(OneRosterCSVError) {
        var out = try CSVOutput(url: url, fileName: "manifest.csv")
        try out.row(["propertyName", "value"])
        try out.row(["manifest.version", "1.0"])
        try out.row(["oneroster.version", "1.1"])
        let names = (CSVFileSpec.all.map(\.name) + CSVFileSpec.unsupportedNames).sorted {
            $0.lowercased() < $1.lowercased()
        }
        for name in names {
            try out.row(["file." + name, written.contains(name + ".csv") ? mode.rawValue : CSVFileMode.absent.rawValue])
        }
        if let name = contents.sourceSystemName { try out.row(["source.systemName", name]) }
        if let code = contents.sourceSystemCode { try out.row(["source.systemCode", code]) }
        try out.close()
    }
}

/// Writes one CSV file of records through their JSON mapping.
private enum CSVFileWriter<T: CSVRecord> {
    static func write(_ records: [T], mode: CSVFileMode, to url: URL) throws(OneRosterCSVError) {
        let spec = T.csvSpec
        var kept: [T] = []
        kept.reserveCapacity(records.count)
        var extraNames: Set<String> = []
        for record in records where !(mode == .bulk && record.status.isDeleted) {
            if mode == .delta && record.dateLastModified == nil {
                throw OneRosterCSVError(
                    file: spec.fileName, column: "dateLastModified",
                    message: "record \(record.sourcedId) has no dateLastModified, which every row of a delta file needs")
            }
            for (key, value) in record.unknownFields where !spec.keys.contains(key) {
                if case .string = value { extraNames.insert(key) }
            }
            kept.append(record)
        }
        let extras = extraNames.sorted()
        var out = try CSVOutput(url: url, fileName: spec.fileName)
        try out.row(spec.columns.map(\.name) + extras)
        for record in kept {
            let json = record.json
            for (i, column) in spec.columns.enumerated() {
                if i > 0 { out.comma() }
                if mode == .bulk && (column.name == "status" || column.name == "dateLastModified") { continue }
                out.cell(json[column.key], as: column.kind)
            }
            for name in extras {
                out.comma()
                if case .string(let s)? = json[name] { out.cell(s) }
            }
            try out.endRow()
        }
        try out.close()
    }
}
