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

    init(manifest: OneRosterCSVManifest, warnings: [String]) {
        self.manifest = manifest
        self.warnings = warnings
    }

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

    /// Reads a zip archive, within `limits`.
    public static func read(zipAt url: URL, limits: CSVLimits = .standard) throws(OneRosterCSVError) -> OneRosterCSVArchive {
        var reader = try OneRosterCSVReader(zipAt: url, limits: limits)
        return try read(&reader)
    }

    /// Reads a folder holding the unzipped files, by the same rules as a zip.
    public static func read(directory url: URL, limits: CSVLimits = .standard) throws(OneRosterCSVError) -> OneRosterCSVArchive {
        var reader = try OneRosterCSVReader(directory: url, limits: limits)
        return try read(&reader)
    }

    /// Every file in one batch each.
    private static func read(_ reader: inout OneRosterCSVReader) throws(OneRosterCSVError) -> OneRosterCSVArchive {
        var archive = OneRosterCSVArchive(manifest: reader.manifest, warnings: [])
        do {
            try reader.readFiles(batchSize: .max) { batch in
                switch batch {
                case .orgs(let c): archive.orgs = c
                case .academicSessions(let c): archive.academicSessions = c
                case .courses(let c): archive.courses = c
                case .classes(let c): archive.classes = c
                case .users(let c): archive.users = c
                case .enrollments(let c): archive.enrollments = c
                case .demographics(let c): archive.demographics = c
                case .categories(let c): archive.categories = c
                case .lineItems(let c): archive.lineItems = c
                case .results(let c): archive.results = c
                }
            }
        } catch let error as OneRosterCSVError {
            throw error
        } catch {
            throw OneRosterCSVError(file: reader.source.name, message: "\(error)")
        }
        archive.warnings = reader.warnings
        return archive
    }
}
