import Foundation

/// A OneRoster 1.1 CSV export (the bulk exchange binding), read from a zip or an unzipped folder.
///
/// Reading is strict about the archive and lenient about rows: a missing manifest, another
/// OneRoster version, a bad header or broken CSV syntax throws a ``OneRosterCSVError``; a row
/// that does not fit its model is skipped and reported in ``issues``. Each file is streamed, so
/// memory grows with the records kept, not with the size of the files.
///
/// What 1.1 CSV cannot carry comes back empty: references have only a `sourcedId` (no `type`
/// or `href`), `metadata` and `children` are absent. Extra columns land in each record's
/// `unknownFields` as strings.
public struct OneRosterCSVArchive: Sendable, Equatable {
    /// The manifest.
    public var manifest: OneRosterCSVManifest
    /// `orgs.csv`, `nil` when the manifest marks it absent.
    public var orgs: CSVFileContents<Org>?
    /// `academicSessions.csv`.
    public var academicSessions: CSVFileContents<AcademicSession>?
    /// `courses.csv`.
    public var courses: CSVFileContents<Course>?
    /// `classes.csv`.
    public var classes: CSVFileContents<Class>?
    /// `users.csv`.
    public var users: CSVFileContents<User>?
    /// `enrollments.csv`.
    public var enrollments: CSVFileContents<Enrollment>?
    /// `demographics.csv`.
    public var demographics: CSVFileContents<Demographics>?
    /// `categories.csv`.
    public var categories: CSVFileContents<Category>?
    /// `lineItems.csv`.
    public var lineItems: CSVFileContents<LineItem>?
    /// `results.csv`.
    public var results: CSVFileContents<GradebookResult>?
    /// Things that were ignored on purpose, such as a CSV file the manifest marks absent.
    public var warnings: [String]

    /// The skipped rows of every file, file by file.
    public var issues: [CSVRowIssue] {
        var all: [CSVRowIssue] = []
        all += orgs?.issues ?? []
        all += academicSessions?.issues ?? []
        all += courses?.issues ?? []
        all += classes?.issues ?? []
        all += users?.issues ?? []
        all += enrollments?.issues ?? []
        all += demographics?.issues ?? []
        all += categories?.issues ?? []
        all += lineItems?.issues ?? []
        all += results?.issues ?? []
        return all
    }

    /// Reads a zip archive.
    public static func read(zipAt url: URL) throws(OneRosterCSVError) -> OneRosterCSVArchive {
        try read(from: ZipCSVSource(url: url))
    }

    /// Reads a folder holding the unzipped files, by the same rules as a zip.
    public static func read(directory url: URL) throws(OneRosterCSVError) -> OneRosterCSVArchive {
        try read(from: DirectoryCSVSource(url: url))
    }

    static func read(from source: some CSVArchiveSource) throws(OneRosterCSVError) -> OneRosterCSVArchive {
        var reader = Reader(source: source)
        let manifest = try reader.readManifest()
        return try reader.readFiles(manifest: manifest)
    }

    private struct Reader<Source: CSVArchiveSource> {
        let source: Source
        let present: Set<String>
        var warnings: [String]

        init(source: Source) {
            self.source = source
            present = Set(source.fileNames)
            warnings = source.warnings
        }

        func readManifest() throws(OneRosterCSVError) -> OneRosterCSVManifest {
            let name = OneRosterCSVManifest.fileName
            guard present.contains(name) else {
                throw OneRosterCSVError(
                    file: source.name, message: "has no \(name); every OneRoster CSV export must include one")
            }
            var parser = CSVParser()
            var rows: [CSVParser.Row] = []
            try stream(name) { data throws(OneRosterCSVError) in
                do throws(CSVParser.SyntaxError) { try parser.feed(data, into: &rows) } catch {
                    throw Self.syntaxError(name, error)
                }
            }
            do throws(CSVParser.SyntaxError) { try parser.finish(into: &rows) } catch { throw Self.syntaxError(name, error) }
            return try OneRosterCSVManifest.read(rows)
        }

        private static func syntaxError(_ file: String, _ error: CSVParser.SyntaxError) -> OneRosterCSVError {
            OneRosterCSVError(file: file, line: error.line, message: "field \(error.field): \(error.message)")
        }

        mutating func readFiles(manifest: OneRosterCSVManifest) throws(OneRosterCSVError) -> OneRosterCSVArchive {
            let supported = Set(CSVFileSpec.all.map(\.name))
            for (file, mode) in manifest.files.sorted(by: { $0.key < $1.key }) where mode != .absent {
                let fileName = file + ".csv"
                guard present.contains(fileName) else {
                    throw OneRosterCSVError(
                        file: fileName,
                        message: "the manifest marks it \(mode.rawValue) (file.\(file)) but it is not in \(source.name)")
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
            let orgs = try load(Org.self, manifest)
            let academicSessions = try load(AcademicSession.self, manifest)
            let courses = try load(Course.self, manifest)
            let classes = try load(Class.self, manifest)
            let users = try load(User.self, manifest)
            let enrollments = try load(Enrollment.self, manifest)
            let demographics = try load(Demographics.self, manifest)
            let categories = try load(Category.self, manifest)
            let lineItems = try load(LineItem.self, manifest)
            let results = try load(GradebookResult.self, manifest)
            return OneRosterCSVArchive(
                manifest: manifest, orgs: orgs, academicSessions: academicSessions, courses: courses,
                classes: classes, users: users, enrollments: enrollments, demographics: demographics,
                categories: categories, lineItems: lineItems, results: results, warnings: warnings)
        }

        private mutating func load<T: CSVRecord>(
            _ type: T.Type, _ manifest: OneRosterCSVManifest
        ) throws(OneRosterCSVError) -> CSVFileContents<T>? {
            let mode = manifest.mode(of: T.csvSpec.name)
            guard mode != .absent else { return nil }
            var loader = CSVFileLoader<T>(mode: mode)
            try stream(T.csvSpec.fileName) { data throws(OneRosterCSVError) in try loader.feed(data) }
            let contents = try loader.finish()
            warnings += loader.warnings
            return contents
        }

        /// Streams a file, keeping the loader's errors as they are and naming the file in any other.
        private func stream(
            _ fileName: String, into consumer: (Data) throws(OneRosterCSVError) -> Void
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
}
