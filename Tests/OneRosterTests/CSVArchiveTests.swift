import Foundation
import Testing
import ZIPFoundation

@testable import OneRoster

/// A folder of its own per test, removed when the test ends.
final class CSVScratchFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("csv-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Zips the given files (name, text) in order into `name`.
    func zip(_ files: [(String, String)], name: String = "export.zip") throws -> URL {
        try zipData(files.map { ($0.0, Data($0.1.utf8)) }, name: name)
    }

    func zipData(_ files: [(String, Data)], name: String = "export.zip") throws -> URL {
        let zipURL = url.appendingPathComponent(name)
        let archive = try Archive(url: zipURL, accessMode: .create)
        for (path, data) in files {
            try archive.addEntry(
                with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
        }
        return zipURL
    }

    /// Writes the files into a subfolder, as if unzipped.
    func folder(_ files: [(String, String)], name: String = "unzipped") throws -> URL {
        let dir = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (path, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(path)) }
        return dir
    }

    /// The text of one file inside a zip.
    func text(of file: String, in zipURL: URL) throws -> String? {
        let archive = try Archive(url: zipURL, accessMode: .read)
        guard let entry = archive[file] else { return nil }
        var data = Data()
        _ = try archive.extract(entry) { data.append($0) }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A 1.1 manifest with the given `file.<name>` modes.
func csvManifest(_ files: [String: String], version: String = "1.1") -> String {
    var text = "propertyName,value\nmanifest.version,1.0\noneroster.version,\(version)\n"
    for (name, mode) in files.sorted(by: { $0.key < $1.key }) { text += "file.\(name),\(mode)\n" }
    return text
}

let csvAcademicSessionsHeader = "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
let csvResultsHeader =
    "sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment"
let csvOrgsHeader = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"

/// Expects `body` to throw a ``OneRosterCSVError`` and returns it.
func expectCSVError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> OneRosterCSVError? {
    do {
        try body()
        Issue.record("expected a OneRosterCSVError, nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as OneRosterCSVError {
        return error
    } catch {
        Issue.record("expected a OneRosterCSVError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

enum CSVSample {
    static func date(_ text: String) -> CalendarDate { CalendarDate(text)! }
    static func time(_ text: String) -> Date { DateTime.parse(text)! }

    static let orgs = [
        Org(sourcedId: "org-1", name: "Springfield District", type: .district, identifier: "D1"),
        Org(
            sourcedId: "org-2", name: "Springfield \"Elementary\", Main St.", type: .school, identifier: "S-01",
            parent: Reference("org-1"))
    ]
    static let sessions = [
        AcademicSession(
            sourcedId: "as-2027", title: "2026–27", type: .schoolYear, startDate: date("2026-08-15"),
            endDate: date("2027-06-30"), schoolYear: "2027"),
        AcademicSession(
            sourcedId: "as-t1", title: "Fall, term 1", type: .term, startDate: date("2026-08-15"),
            endDate: date("2026-12-20"), parent: Reference("as-2027"), schoolYear: "2027"),
        AcademicSession(
            sourcedId: "as-gp1", title: "Grading period 1", type: .gradingPeriod, startDate: date("2026-08-15"),
            endDate: date("2026-10-15"), parent: Reference("as-t1"), schoolYear: "2027")
    ]
    static let courses = [
        Course(
            sourcedId: "c-1", title: "Mathématiques 6ᵉ — niveau 1", schoolYear: Reference("as-2027"),
            courseCode: "MATH6", grades: ["06", "07"], subjects: ["Math", "Geometry"], org: Reference("org-2"),
            subjectCodes: ["MA01", "MA02"])
    ]
    static let classes = [
        Class(
            sourcedId: "cl-1", title: "Math, period 1", classCode: "MATH-1", classType: .scheduled,
            location: "Room 101\r\nNorth wing", grades: ["06"], subjects: ["Math"], course: Reference("c-1"),
            school: Reference("org-2"), terms: [Reference("as-t1"), Reference("as-gp1")], subjectCodes: ["MA01"],
            periods: ["1", "2"]),
        Class(
            sourcedId: "cl-2", title: "Homeroom 6B", classType: .homeroom, course: Reference("c-1"),
            school: Reference("org-2"), terms: [Reference("as-t1")])
    ]
    static let users = [
        User(
            sourcedId: "u-t1", username: "jdoe", userIds: [.init(type: "LDAP", identifier: "jdoe"), .init(type: "SIS", identifier: "123")],
            givenName: "Jane", familyName: "O'Doe, \"JD\"", middleName: "Q", role: .teacher, identifier: "T-77",
            email: "jdoe@example.edu", sms: "+1 555 0100", phone: "555-0100", orgs: [Reference("org-1"), Reference("org-2")],
            unknownFields: ["password": .string("s3cr3t,\"x\""), "x-vendorColor": .string("blue")]),
        User(
            sourcedId: "u-s1", username: "zoe", enabledUser: false, givenName: "Zoë", familyName: "Ñúñez 李",
            role: .student, agents: [Reference("u-p1")], orgs: [Reference("org-2")], grades: ["06"]),
        User(sourcedId: "u-p1", username: "parent1", givenName: "Pat", familyName: "Núñez", role: .parent, orgs: [Reference("org-2")])
    ]
    static let enrollments = [
        Enrollment(
            sourcedId: "e-1", user: Reference("u-t1"), class: Reference("cl-1"), school: Reference("org-2"),
            role: .teacher, primary: true, beginDate: date("2026-08-15"), endDate: date("2027-06-30")),
        Enrollment(
            sourcedId: "e-2", user: Reference("u-s1"), class: Reference("cl-1"), school: Reference("org-2"),
            role: .student, primary: false),
        Enrollment(
            sourcedId: "e-3", user: Reference("u-s1"), class: Reference("cl-2"), school: Reference("org-2"),
            role: .student)
    ]
    static let demographics = [
        Demographics(
            sourcedId: "u-s1", birthDate: date("2015-03-09"), sex: "female",
            flags: ["asian": true, "white": false, "hispanicOrLatinoEthnicity": true], countryOfBirthCode: "US",
            stateOfBirthAbbreviation: "NY", cityOfBirth: "Saratoga Springs", publicSchoolResidenceStatus: "01652")
    ]
    static let categories = [
        Category(sourcedId: "cat-1", title: "Homework, \"take-home\""),
        Category(sourcedId: "cat-2", title: "Tests")
    ]
    static let lineItems = [
        LineItem(
            sourcedId: "li-1", title: "Fractions quiz", description: "Line 1\r\nLine 2, with \"quotes\"",
            assignDate: time("2026-09-01T08:00:00Z"), dueDate: time("2026-09-08T23:59:59Z"), class: Reference("cl-1"),
            category: Reference("cat-2"), gradingPeriod: Reference("as-gp1"), resultValueMin: 0, resultValueMax: 100),
        LineItem(
            sourcedId: "li-2", title: "Reading log", class: Reference("cl-1"), category: Reference("cat-1"),
            gradingPeriod: Reference("as-gp1"), resultValueMin: 0, resultValueMax: 12.5)
    ]
    static let results = [
        GradebookResult(
            sourcedId: "r-1", lineItem: Reference("li-1"), student: Reference("u-s1"), scoreStatus: .fullyGraded,
            score: 95.5, scoreDate: date("2026-09-09"), comment: "Great work — \"well done\", really.\nSee me."),
        GradebookResult(
            sourcedId: "r-2", lineItem: Reference("li-2"), student: Reference("u-s1"), scoreStatus: .exempt),
        GradebookResult(
            sourcedId: "r-3", lineItem: Reference("li-2"), student: Reference("u-s1"), scoreStatus: .notSubmitted,
            score: 0)
    ]

    static let export = OneRosterCSVExport(
        orgs: orgs, academicSessions: sessions, courses: courses, classes: classes, users: users,
        enrollments: enrollments, demographics: demographics, categories: categories, lineItems: lineItems,
        results: results, sourceSystemName: "Springfield SIS", sourceSystemCode: "SPR-1")
}

@Suite("OneRoster CSV archives")
struct CSVArchiveTests {
    // MARK: Round trips

    @Test("a bulk zip written by the writer reads back to equal records of every type")
    func bulkRoundTrip() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("bulk.zip")
        try OneRosterCSVWriter.write(CSVSample.export, mode: .bulk, to: url)

        let archive = try OneRosterCSVArchive.read(zipAt: url)
        #expect(archive.issues == [])
        #expect(archive.warnings == [])
        #expect(archive.manifest.oneRosterVersion == "1.1")
        #expect(archive.manifest.manifestVersion == "1.0")
        #expect(archive.manifest.sourceSystemName == "Springfield SIS")
        #expect(archive.manifest.sourceSystemCode == "SPR-1")
        #expect(archive.manifest.files["users"] == .bulk)
        #expect(archive.manifest.files["resources"] == .absent)
        #expect(archive.orgs?.mode == .bulk)
        #expect(archive.orgs?.records == CSVSample.orgs)
        #expect(archive.academicSessions?.records == CSVSample.sessions)
        #expect(archive.courses?.records == CSVSample.courses)
        #expect(archive.classes?.records == CSVSample.classes)
        #expect(archive.users?.records == CSVSample.users)
        #expect(archive.enrollments?.records == CSVSample.enrollments)
        #expect(archive.demographics?.records == CSVSample.demographics)
        #expect(archive.categories?.records == CSVSample.categories)
        #expect(archive.lineItems?.records == CSVSample.lineItems)
        #expect(archive.results?.records == CSVSample.results)
        // The class with a two-line location takes lines 2-3, so the next starts on line 4.
        #expect(archive.classes?.lines == [2, 4])
        #expect(archive.classes?.line(of: "cl-2") == 4)
    }

    @Test("the writer puts the exact 1.1 header first, leaves status empty in bulk and quotes what needs it")
    func writtenText() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("bulk.zip")
        try OneRosterCSVWriter.write(CSVSample.export, mode: .bulk, to: url)

        let users = try #require(try scratch.text(of: "users.csv", in: url))
        let lines = users.components(separatedBy: "\r\n")
        #expect(
            lines[0] == "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
                + "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,x-vendorColor")
        #expect(
            lines[1] == "u-t1,,,true,\"org-1,org-2\",teacher,jdoe,\"{LDAP:jdoe},{SIS:123}\",Jane,\"O'Doe, \"\"JD\"\"\","
                + "Q,T-77,jdoe@example.edu,+1 555 0100,555-0100,,,\"s3cr3t,\"\"x\"\"\",blue")
        let classes = try #require(try scratch.text(of: "classes.csv", in: url))
        #expect(
            classes.hasPrefix(
                "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
                    + "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\r\n"))
        let manifestText = try #require(try scratch.text(of: "manifest.csv", in: url))
        #expect(manifestText.contains("oneroster.version,1.1\r\n"))
        #expect(manifestText.contains("file.lineItems,bulk\r\n"))
        #expect(manifestText.contains("file.classResources,absent\r\n"))
    }

    @Test("a delta zip keeps status and dateLastModified, tobedeleted rows included")
    func deltaRoundTrip() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("delta.zip")
        let changed = CSVSample.time("2026-10-01T12:30:00Z")
        var users = CSVSample.users.map { u in
            var u = u
            u.dateLastModified = changed
            return u
        }
        users[2].status = .toBeDeleted
        let results = [
            GradebookResult(
                sourcedId: "r-1", status: .toBeDeleted, dateLastModified: changed, lineItem: Reference("li-1"),
                student: Reference("u-s1"), scoreStatus: .fullyGraded, score: 80),
            GradebookResult(
                sourcedId: "r-9", status: .active, dateLastModified: CSVSample.time("2026-10-02T08:00:00.250Z"),
                lineItem: Reference("li-2"), student: Reference("u-s1"), scoreStatus: .partiallyGraded, score: 3)
        ]
        try OneRosterCSVWriter.write(OneRosterCSVExport(users: users, results: results), mode: .delta, to: url)

        let archive = try OneRosterCSVArchive.read(zipAt: url)
        #expect(archive.issues == [])
        #expect(archive.manifest.files["users"] == .delta)
        #expect(archive.manifest.files["orgs"] == .absent)
        #expect(archive.orgs == nil)
        #expect(archive.users?.mode == .delta)
        #expect(archive.users?.records == users)
        #expect(archive.users?.records.filter(\.status.isDeleted).map(\.sourcedId) == ["u-p1"])
        #expect(archive.results?.records == results)
        let text = try #require(try scratch.text(of: "results.csv", in: url))
        #expect(text.contains("\r\nr-1,tobedeleted,2026-10-01T12:30:00Z,li-1,u-s1,fully graded,80,,\r\n"))
    }

    @Test("a bulk export leaves out records marked tobedeleted")
    func bulkOmitsDeleted() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("bulk.zip")
        var gone = CSVSample.categories[1]
        gone.status = .toBeDeleted
        try OneRosterCSVWriter.write(
            OneRosterCSVExport(categories: [CSVSample.categories[0], gone]), mode: .bulk, to: url)
        let archive = try OneRosterCSVArchive.read(zipAt: url)
        #expect(archive.categories?.records == [CSVSample.categories[0]])
    }

    @Test("writing over an existing zip replaces it and leaves no partial file behind")
    func replacesExisting() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("roster.zip")
        try OneRosterCSVWriter.write(OneRosterCSVExport(orgs: CSVSample.orgs), mode: .bulk, to: url)
        try OneRosterCSVWriter.write(OneRosterCSVExport(categories: CSVSample.categories), mode: .bulk, to: url)
        let archive = try OneRosterCSVArchive.read(zipAt: url)
        #expect(archive.orgs == nil)
        #expect(archive.categories?.records == CSVSample.categories)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["roster.zip"])
    }

    @Test("a delta export refuses a record without dateLastModified")
    func deltaNeedsDateLastModified() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            try OneRosterCSVWriter.write(
                OneRosterCSVExport(categories: CSVSample.categories), mode: .delta,
                to: scratch.url.appendingPathComponent("d.zip"))
        }
        #expect(error?.file == "categories.csv")
        #expect(error?.message.contains("cat-1") == true)
    }

    @Test("an unzipped folder reads the same as its zip")
    func directoryMatchesZip() throws {
        let scratch = try CSVScratchFolder()
        let files = [
            ("manifest.csv", csvManifest(["orgs": "bulk", "academicSessions": "bulk"])),
            ("orgs.csv", csvOrgsHeader + "\norg-1,,,District,district,D1,\norg-2,,,School,school,,org-1\n"),
            ("academicSessions.csv", csvAcademicSessionsHeader + "\nas-1,,,2026–27,schoolYear,2026-08-15,2027-06-30,,2027\n")
        ]
        let fromZip = try OneRosterCSVArchive.read(zipAt: try scratch.zip(files))
        let fromFolder = try OneRosterCSVArchive.read(directory: try scratch.folder(files))
        #expect(fromZip == fromFolder)
        #expect(fromZip.orgs?.records.map(\.sourcedId) == ["org-1", "org-2"])
        #expect(fromZip.orgs?.records[1].parent == Reference("org-1"))
    }

    @Test("thousands of rows stream across chunk boundaries with the right line numbers")
    func largeFile() throws {
        let scratch = try CSVScratchFolder()
        let url = scratch.url.appendingPathComponent("big.zip")
        let enrollments = (0..<4000).map { i in
            Enrollment(
                sourcedId: "enrollment-\(i)", user: Reference("user-\(i)"), class: Reference("class-\(i % 37)"),
                school: Reference("org-2"), role: i % 20 == 0 ? .teacher : .student, primary: i % 20 == 0,
                beginDate: CSVSample.date("2026-08-15"))
        }
        try OneRosterCSVWriter.write(OneRosterCSVExport(enrollments: enrollments), mode: .bulk, to: url)
        let read = try #require(try OneRosterCSVArchive.read(zipAt: url).enrollments)
        #expect(read.records == enrollments)
        #expect(read.lines.first == 2)
        #expect(read.lines.last == 4001)
    }

    // MARK: Hand-made files

    @Test("a BOM, CRLF line ends, reordered columns and extra columns are read; extras become unknown fields")
    func handMadeFile() throws {
        let scratch = try CSVScratchFolder()
        let orgs =
            "\u{FEFF}name,sourcedId,status,dateLastModified,type,identifier,parentSourcedId,vendorNote\r\n"
            + "District,org-1,,,district,,,\"kept, as text\"\r\n"
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([("manifest.csv", csvManifest(["orgs": "bulk"])), ("orgs.csv", orgs)]))
        let org = try #require(archive.orgs?.records.first)
        #expect(org.name == "District")
        #expect(org.sourcedId == "org-1")
        #expect(org.status == .active)
        #expect(org.identifier == nil)
        #expect(org.unknownFields == ["vendorNote": .string("kept, as text")])
    }

    @Test("userIds in {type:identifier} form are read; a malformed cell is a row issue on userIds")
    func userIds() throws {
        let scratch = try CSVScratchFolder()
        let header =
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
            + "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
        let users =
            header + "\n"
            + "u-1,,,true,org-1,student,a,\"{LDAP:jdoe}, {SIS:12:3}\",A,B,,,,,,,\"09,10\",\n"
            + "u-2,,,true,org-1,student,b,LDAP:jdoe,A,B,,,,,,,,\n"
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([("manifest.csv", csvManifest(["users": "bulk"])), ("users.csv", users)]))
        let user = try #require(archive.users?.records.first)
        #expect(user.userIds == [.init(type: "LDAP", identifier: "jdoe"), .init(type: "SIS", identifier: "12:3")])
        #expect(user.grades == ["09", "10"])
        #expect(user.orgs == [Reference("org-1")])
        #expect(archive.users?.records.count == 1)
        let issue = try #require(archive.issues.first)
        #expect(issue.file == "users.csv")
        #expect(issue.line == 3)
        #expect(issue.column == "userIds")
        #expect(issue.sourcedId == "u-2")
    }

    @Test("a CSV that the manifest marks absent or does not list is ignored with a warning")
    func ignoredFiles() throws {
        let scratch = try CSVScratchFolder()
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([
                ("manifest.csv", csvManifest(["orgs": "absent"])),
                ("orgs.csv", csvOrgsHeader + "\norg-1,,,District,district,,\n"),
                ("categories.csv", "sourcedId,status,dateLastModified,title\ncat-1,,,Tests\n")
            ]))
        #expect(archive.orgs == nil)
        #expect(archive.categories == nil)
        #expect(archive.warnings.count == 2)
        #expect(archive.warnings.contains { $0.hasPrefix("orgs.csv") && $0.contains("absent") })
        #expect(archive.warnings.contains { $0.hasPrefix("categories.csv") && $0.contains("does not list") })
    }

    @Test("a zip whose files sit in one folder is read from that folder, with a warning")
    func nestedFolder() throws {
        let scratch = try CSVScratchFolder()
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([
                ("export/manifest.csv", csvManifest(["categories": "bulk"])),
                ("export/categories.csv", "sourcedId,status,dateLastModified,title\ncat-1,,,Tests\n")
            ]))
        #expect(archive.categories?.records.map(\.title) == ["Tests"])
        #expect(archive.warnings.count == 1)
    }

    // MARK: File-level errors

    @Test("a zip without manifest.csv is refused")
    func missingManifest() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            _ = try OneRosterCSVArchive.read(
                zipAt: try scratch.zip([("categories.csv", "sourcedId,status,dateLastModified,title\n")], name: "x.zip"))
        }
        #expect(error?.file == "x.zip")
        #expect(error?.message.contains("manifest.csv") == true)
    }

    @Test("oneroster.version 1.2 is refused as OneRoster 1.2")
    func version12() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            _ = try OneRosterCSVArchive.read(zipAt: try scratch.zip([("manifest.csv", csvManifest([:], version: "1.2"))]))
        }
        #expect(error?.file == "manifest.csv")
        #expect(error?.line == 3)
        #expect(error?.message.contains("this looks like OneRoster 1.2") == true)
    }

    @Test("a manifest file mode other than bulk, delta or absent names its line")
    func badFileMode() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            _ = try OneRosterCSVArchive.read(
                zipAt: try scratch.zip([("manifest.csv", csvManifest(["orgs": "bulk", "users": "full"]))]))
        }
        #expect(error?.file == "manifest.csv")
        #expect(error?.line == 5)
        #expect(error?.message.contains("file.users") == true)
    }

    @Test("a header without a required column is refused, naming the column")
    func missingRequiredColumn() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            _ = try OneRosterCSVArchive.read(
                zipAt: try scratch.zip([
                    ("manifest.csv", csvManifest(["academicSessions": "bulk"])),
                    (
                        "academicSessions.csv",
                        "sourcedId,status,dateLastModified,title,type,startDate,parentSourcedId,schoolYear\n"
                    )
                ]))
        }
        #expect(error?.file == "academicSessions.csv")
        #expect(error?.line == 1)
        #expect(error?.column == "endDate")
    }

    @Test("a 1.2 users.csv header is refused as OneRoster 1.2")
    func users12Header() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            let header =
                "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
                + "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,"
                + "resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns"
            _ = try OneRosterCSVArchive.read(
                zipAt: try scratch.zip([("manifest.csv", csvManifest(["users": "bulk"])), ("users.csv", header + "\n")]))
        }
        #expect(error?.file == "users.csv")
        #expect(error?.message.contains("this looks like OneRoster 1.2") == true)
        #expect(error?.message.contains("orgSourcedIds") == true)
    }

    @Test("a column given twice is refused")
    func duplicateColumn() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            _ = try OneRosterCSVArchive.read(
                zipAt: try scratch.zip([
                    ("manifest.csv", csvManifest(["categories": "bulk"])),
                    ("categories.csv", "sourcedId,status,dateLastModified,title,title\n")
                ]))
        }
        #expect(error?.file == "categories.csv")
        #expect(error?.column == "title")
    }

    @Test("an unterminated quote is refused, naming the file and line")
    func unterminatedQuote() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            _ = try OneRosterCSVArchive.read(
                zipAt: try scratch.zip([
                    ("manifest.csv", csvManifest(["orgs": "bulk"])),
                    (
                        "orgs.csv",
                        csvOrgsHeader + "\norg-1,,,District,district,,\norg-2,,,\"Unclosed school,school,,org-1\n"
                    )
                ]))
        }
        #expect(error?.file == "orgs.csv")
        #expect(error?.line == 3)
        #expect(error?.column == "name")
        #expect(error?.message.contains("unterminated") == true)
    }

    @Test("a stray quote in an unquoted field is refused at its line and column")
    func strayQuote() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            _ = try OneRosterCSVArchive.read(
                zipAt: try scratch.zip([
                    ("manifest.csv", csvManifest(["orgs": "bulk"])),
                    ("orgs.csv", csvOrgsHeader + "\norg-1,,,The \"Best\" District,district,,\n")
                ]))
        }
        #expect(error?.file == "orgs.csv")
        #expect(error?.line == 2)
        #expect(error?.column == "name")
    }

    @Test("a file listed as bulk but missing from the zip is refused")
    func listedButMissing() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            _ = try OneRosterCSVArchive.read(
                zipAt: try scratch.zip([("manifest.csv", csvManifest(["users": "bulk"]))], name: "roster.zip"))
        }
        #expect(error?.file == "users.csv")
        #expect(error?.message.contains("roster.zip") == true)
    }

    @Test("a file that is not a zip is refused")
    func notAZip() {
        let error = expectCSVError {
            let scratch = try CSVScratchFolder()
            let url = scratch.url.appendingPathComponent("roster.zip")
            try Data("sourcedId,status\nthis is not a zip\n".utf8).write(to: url)
            _ = try OneRosterCSVArchive.read(zipAt: url)
        }
        #expect(error?.file == "roster.zip")
        #expect(error?.message.contains("not a readable zip") == true)
    }

    // MARK: Row-level issues

    @Test("a bad date skips only its row, reported with file, line and column startDate")
    func badDate() throws {
        let scratch = try CSVScratchFolder()
        let sessions =
            csvAcademicSessionsHeader + "\n"
            + "as-1,,,Year,schoolYear,2026-08-15,2027-06-30,,2027\n"
            + "as-2,,,\"Term,\nwith a line break\",term,2026-13-01,2026-12-20,as-1,2027\n"
            + "as-3,,,Term 2,term,2027-01-05,2027-06-30,as-1,2027\n"
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([
                ("manifest.csv", csvManifest(["academicSessions": "bulk"])), ("academicSessions.csv", sessions)
            ]))
        #expect(archive.academicSessions?.records.map(\.sourcedId) == ["as-1", "as-3"])
        #expect(archive.academicSessions?.lines == [2, 5])
        #expect(archive.issues.count == 1)
        let issue = try #require(archive.issues.first)
        #expect(issue.file == "academicSessions.csv")
        #expect(issue.line == 3)
        #expect(issue.column == "startDate")
        #expect(issue.sourcedId == "as-2")
        #expect(issue.message.contains("2026-13-01"))
    }

    @Test("a score status outside 1.1 is a row issue on scoreStatus")
    func badScoreStatus() throws {
        let scratch = try CSVScratchFolder()
        let results =
            csvResultsHeader + "\n"
            + "r-1,,,li-1,u-1,late,50,2026-09-09,\n"
            + "r-2,,,li-1,u-2,fully graded,90,2026-09-09,ok\n"
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([("manifest.csv", csvManifest(["results": "bulk"])), ("results.csv", results)]))
        #expect(archive.results?.records.map(\.sourcedId) == ["r-2"])
        #expect(archive.results?.records.first?.score == 90)
        #expect(archive.issues.map(\.column) == ["scoreStatus"])
        #expect(archive.issues.map(\.line) == [2])
    }

    @Test("a row with more fields than the header is a row issue")
    func tooManyFields() throws {
        let scratch = try CSVScratchFolder()
        let categories = "sourcedId,status,dateLastModified,title\ncat-1,,,Tests\ncat-2,,,Home,work\ncat-3,,,Quizzes\n"
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([
                ("manifest.csv", csvManifest(["categories": "bulk"])), ("categories.csv", categories)
            ]))
        #expect(archive.categories?.records.map(\.sourcedId) == ["cat-1", "cat-3"])
        let issue = try #require(archive.issues.first)
        #expect(archive.issues.count == 1)
        #expect(issue.line == 3)
        #expect(issue.column == nil)
        #expect(issue.message.contains("5 fields"))
    }

    @Test("a missing reference is reported under its CSV column name")
    func missingReference() throws {
        let scratch = try CSVScratchFolder()
        let classes =
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
            + "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
            + "cl-1,,,Math,,,M1,scheduled,,org-2,\"t1, t2\",,,\n"
            + "cl-2,,,Art,,c-2,A1,scheduled,,org-2,t1,,,\"1,2\"\n"
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([("manifest.csv", csvManifest(["classes": "bulk"])), ("classes.csv", classes)]))
        #expect(archive.issues.map(\.column) == ["courseSourcedId"])
        #expect(archive.classes?.records.first?.periods == ["1", "2"])
    }

    @Test("a delta row without dateLastModified is a row issue; a repeated sourcedId too")
    func deltaRowRules() throws {
        let scratch = try CSVScratchFolder()
        let categories =
            "sourcedId,status,dateLastModified,title\n"
            + "cat-1,active,2026-10-01T00:00:00Z,Tests\n"
            + "cat-2,tobedeleted,,Old\n"
            + "cat-1,active,2026-10-02T00:00:00Z,Tests again\n"
        let archive = try OneRosterCSVArchive.read(
            zipAt: try scratch.zip([
                ("manifest.csv", csvManifest(["categories": "delta"])), ("categories.csv", categories)
            ]))
        #expect(archive.categories?.records.map(\.title) == ["Tests"])
        #expect(archive.issues.map(\.column) == ["dateLastModified", "sourcedId"])
        #expect(archive.issues.map(\.line) == [3, 4])
    }
}
