import Foundation

/// Some records of one file of a CSV export, as ``OneRosterCSVReader`` hands them over.
public enum OneRosterCSVBatch: Sendable {
    case orgs(CSVFileContents<Org>)
    case academicSessions(CSVFileContents<AcademicSession>)
    case courses(CSVFileContents<Course>)
    case classes(CSVFileContents<Class>)
    case users(CSVFileContents<User>)
    case enrollments(CSVFileContents<Enrollment>)
    case demographics(CSVFileContents<Demographics>)
    case categories(CSVFileContents<Category>)
    case lineItems(CSVFileContents<LineItem>)
    case results(CSVFileContents<GradebookResult>)
}

/// Reads a OneRoster 1.1 CSV export file by file, handing over records in batches, so memory
/// stays bounded whatever the export's size: nothing of a file is kept once its batch is handed
/// over but the sourcedIds seen (to find duplicates). ``OneRosterCSVArchive`` reads whole
/// exports with it.
///
/// Opening reads and checks the manifest and which files are there; ``readFiles(batchSize:_:)``
/// then reads every file the manifest lists, in a fixed order (orgs, academicSessions, courses,
/// classes, users, enrollments, demographics, categories, lineItems, results). Each present
/// file gives at least one batch (its last, possibly empty), so a header-only file is seen.
public struct OneRosterCSVReader {
    /// The manifest.
    public let manifest: OneRosterCSVManifest
    /// Things ignored on purpose (files not listed, columns without a name...), so far.
    public private(set) var warnings: [String]
    let source: any CSVArchiveSource
    let limits: CSVLimits
    /// Rows are read in place, not through a JSON object each (``CSVFileLoader/readsInPlace``);
    /// tests turn it off to compare the two.
    var readsInPlace = true

    /// Opens a zip archive.
    public init(zipAt url: URL, limits: CSVLimits = .standard) throws(OneRosterCSVError) {
        try self.init(source: ZipCSVSource(url: url, limits: limits), limits: limits)
    }

    /// Opens a folder holding the unzipped files, by the same rules as a zip.
    public init(directory url: URL, limits: CSVLimits = .standard) throws(OneRosterCSVError) {
        try self.init(source: DirectoryCSVSource(url: url, limits: limits), limits: limits)
    }

    init(source: any CSVArchiveSource, limits: CSVLimits) throws(OneRosterCSVError) {
        self.source = source
        self.limits = limits
        let present = Set(source.fileNames)
        var warnings = source.warnings
        let name = OneRosterCSVManifest.fileName
        guard present.contains(name) else {
            throw OneRosterCSVError(file: source.name, message: "has no \(name); every OneRoster CSV export must include one")
        }
        var parser = CSVParser(limits: limits)
        var rows: [CSVParser.Row] = []
        try Self.stream(source, name) { data throws(OneRosterCSVError) in
            do throws(CSVParser.SyntaxError) { try parser.feed(data, into: &rows) } catch {
                throw Self.syntaxError(name, error)
            }
        }
        do throws(CSVParser.SyntaxError) { try parser.finish(into: &rows) } catch { throw Self.syntaxError(name, error) }
        let manifest = try OneRosterCSVManifest.read(rows)

        let supported = Set(CSVFileSpec.all.map(\.name))
        for (file, mode) in manifest.files.sorted(by: { $0.key < $1.key }) where mode != .absent {
            let fileName = file + ".csv"
            guard present.contains(fileName) else {
                throw OneRosterCSVError(
                    file: fileName, message: "the manifest marks it \(mode.rawValue) (file.\(file)) but it is not in \(source.name)")
            }
            if !supported.contains(file) {
                warnings.append("\(fileName): not read; this library does not load \(file)")
            }
        }
        for fileName in present.sorted() where fileName != OneRosterCSVManifest.fileName {
            guard fileName.hasSuffix(".csv") else {
                warnings.append("\(fileName): not a CSV file; ignored")
                continue
            }
            let file = String(fileName.dropLast(".csv".count))
            switch manifest.files[file] {
            case nil:
                warnings.append("\(fileName): ignored, the manifest does not list file.\(file)")
            case .absent?:
                warnings.append("\(fileName): ignored, the manifest marks it absent (file.\(file),absent)")
            default:
                break
            }
        }
        self.manifest = manifest
        self.warnings = warnings
    }

    /// Reads every file the manifest lists, handing over records and issues as they are read,
    /// once `batchSize` of them are pending (a batch ends where a read of the file does, so it
    /// may hold the few hundred rows of one 16 KiB read more). Throws a ``OneRosterCSVError`` for a broken file (the batches handed over
    /// before it stand: a caller that wants all or nothing reads inside a transaction), and
    /// whatever `handler` throws, as it is.
    public mutating func readFiles(batchSize: Int = 1000, _ handler: (OneRosterCSVBatch) throws -> Void) throws {
        try load(Org.self, batchSize, handler, OneRosterCSVBatch.orgs)
        try load(AcademicSession.self, batchSize, handler, OneRosterCSVBatch.academicSessions)
        try load(Course.self, batchSize, handler, OneRosterCSVBatch.courses)
        try load(Class.self, batchSize, handler, OneRosterCSVBatch.classes)
        try load(User.self, batchSize, handler, OneRosterCSVBatch.users)
        try load(Enrollment.self, batchSize, handler, OneRosterCSVBatch.enrollments)
        try load(Demographics.self, batchSize, handler, OneRosterCSVBatch.demographics)
        try load(Category.self, batchSize, handler, OneRosterCSVBatch.categories)
        try load(LineItem.self, batchSize, handler, OneRosterCSVBatch.lineItems)
        try load(GradebookResult.self, batchSize, handler, OneRosterCSVBatch.results)
    }

    private mutating func load<T: CSVRecord>(
        _ type: T.Type, _ batchSize: Int, _ handler: (OneRosterCSVBatch) throws -> Void,
        _ wrap: (CSVFileContents<T>) -> OneRosterCSVBatch
    ) throws {
        let mode = manifest.mode(of: T.csvSpec.name)
        guard mode != .absent else { return }
        var loader = CSVFileLoader<T>(mode: mode, limits: limits)
        loader.readsInPlace = readsInPlace
        // The handler's own error (a database's, say) is carried past the typed throws of the
        // streaming below and rethrown as it was.
        var passthrough: (any Error)?
        func hand(_ contents: CSVFileContents<T>) throws(OneRosterCSVError) {
            do { try handler(wrap(contents)) } catch let e as OneRosterCSVError { throw e } catch {
                passthrough = error
                throw OneRosterCSVError(file: T.csvSpec.fileName, message: "\(error)")
            }
        }
        do {
            try Self.stream(source, T.csvSpec.fileName) { data throws(OneRosterCSVError) in
                try loader.feed(data)
                if loader.pending >= batchSize { try hand(loader.drain()) }
            }
            let last = try loader.finish()
            warnings += loader.warnings
            try hand(last)
        } catch {
            if let passthrough { throw passthrough }
            throw error
        }
    }

    private static func syntaxError(_ file: String, _ error: CSVParser.SyntaxError) -> OneRosterCSVError {
        OneRosterCSVError(file: file, line: error.line, message: "field \(error.field): \(error.message)")
    }

    /// Streams a file, keeping the loader's errors as they are and naming the file in any other.
    private static func stream(
        _ source: any CSVArchiveSource, _ fileName: String, into consumer: (Data) throws(OneRosterCSVError) -> Void
    ) throws(OneRosterCSVError) {
        do {
            try source.stream(fileName) { data in try consumer(data) }
        } catch let error as OneRosterCSVError {
            throw error
        } catch {
            throw OneRosterCSVError(file: fileName, message: "cannot be read from \(source.name) (\(error))")
        }
    }
}
