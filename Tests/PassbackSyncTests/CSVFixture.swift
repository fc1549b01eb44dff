import Foundation
import PassbackCore

/// A small OneRoster 1.1 CSV export written cell by cell, so a test can break any one cell of
/// any row the way real exports do (a typo, an empty cell, a row with a field too many).
struct CSVFixture {
    static let headers: [String: [String]] = [
        "orgs": ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
        "academicSessions": ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"],
        "courses": [
            "sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"
        ],
        "classes": [
            "sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId",
            "termSourcedIds", "subjects", "subjectCodes", "periods"
        ],
        "users": [
            "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username", "userIds", "givenName", "familyName",
            "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password"
        ],
        "enrollments": [
            "sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate", "endDate"
        ],
        "categories": ["sourcedId", "status", "dateLastModified", "title"],
        "demographics": [
            "sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
            "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"
        ]
    ]
    static let order = ["orgs", "academicSessions", "courses", "classes", "users", "enrollments", "categories", "demographics"]

    /// Rows of each file as column → cell, in file order.
    var rows: [String: [[String: String]]] = [:]
    /// `bulk`, `delta` or `absent` per file; a file with no mode is absent.
    var modes: [String: String] = [:]
    /// Rows given as raw fields (for a ragged row), by file and sourcedId.
    var raw: [String: [String: [String]]] = [:]

    /// A district, a school, a school year with a term and a grading period, a course, a class,
    /// `users` students (u-001...) and a teacher, each enrolled, and a category: all bulk.
    static func school(users: Int = 12) -> CSVFixture {
        var f = CSVFixture()
        f.rows["orgs"] = [
            ["sourcedId": "d-1", "name": "District", "type": "district"],
            ["sourcedId": "s-1", "name": "North High", "type": "school", "parentSourcedId": "d-1"]
        ]
        f.rows["academicSessions"] = [
            ["sourcedId": "y-1", "title": "2026-2027", "type": "schoolYear", "startDate": "2026-08-01", "endDate": "2027-06-30", "schoolYear": "2027"],
            [
                "sourcedId": "t-1", "title": "Semester 1", "type": "term", "startDate": "2026-08-17", "endDate": "2027-01-15", "parentSourcedId": "y-1",
                "schoolYear": "2027"
            ],
            [
                "sourcedId": "gp-1", "title": "Quarter 1", "type": "gradingPeriod", "startDate": "2026-08-17", "endDate": "2026-10-16",
                "parentSourcedId": "t-1",
                "schoolYear": "2027"
            ]
        ]
        f.rows["courses"] = [["sourcedId": "c-1", "title": "Biology", "courseCode": "BIO", "orgSourcedId": "s-1", "schoolYearSourcedId": "y-1"]]
        f.rows["classes"] = [
            [
                "sourcedId": "k-1", "title": "Biology - Period 1", "courseSourcedId": "c-1", "classCode": "BIO-1", "classType": "scheduled",
                "schoolSourcedId": "s-1", "termSourcedIds": "t-1"
            ]
        ]
        var people: [[String: String]] = [
            [
                "sourcedId": "t-001", "enabledUser": "true", "orgSourcedIds": "s-1", "role": "teacher", "username": "ada.teacher",
                "givenName": "Ada", "familyName": "Teacher"
            ]
        ]
        var enrollments: [[String: String]] = [
            [
                "sourcedId": "e-t-001", "classSourcedId": "k-1", "schoolSourcedId": "s-1", "userSourcedId": "t-001",
                "role": "teacher", "primary": "true"
            ]
        ]
        for i in 1...users {
            let id = String(format: "u-%03d", i)
            people.append([
                "sourcedId": id, "enabledUser": "true", "orgSourcedIds": "s-1", "role": "student", "username": "student\(i)",
                "givenName": "Student", "familyName": "Number \(i)", "grades": "09"
            ])
            enrollments.append([
                "sourcedId": "e-\(id)", "classSourcedId": "k-1", "schoolSourcedId": "s-1", "userSourcedId": id, "role": "student",
                "primary": "false", "beginDate": "2026-08-17", "endDate": "2027-06-11"
            ])
        }
        f.rows["users"] = people
        f.rows["enrollments"] = enrollments
        f.rows["categories"] = [["sourcedId": "cat-1", "title": "Homework"]]
        for name in order where name != "demographics" { f.modes[name] = "bulk" }
        return f
    }

    /// Sets one cell of the row with `sourcedId`.
    mutating func set(_ file: String, _ sourcedId: String, _ column: String, _ value: String) {
        guard let i = rows[file]?.firstIndex(where: { $0["sourcedId"] == sourcedId }) else { fatalError("no \(sourcedId) in \(file)") }
        rows[file]![i][column] = value
    }

    /// Gives the row with `sourcedId` one field more than the header: a ragged row.
    mutating func makeRagged(_ file: String, _ sourcedId: String) {
        guard let row = rows[file]?.first(where: { $0["sourcedId"] == sourcedId }) else { fatalError("no \(sourcedId) in \(file)") }
        raw[file, default: [:]][sourcedId] = Self.headers[file]!.map { row[$0] ?? "" } + ["stray"]
    }

    /// Leaves the rows with these sourcedIds out of `file`.
    mutating func remove(_ file: String, _ ids: Set<String>) {
        rows[file]?.removeAll { ids.contains($0["sourcedId"] ?? "") }
    }

    func text(_ file: String) -> String {
        let header = Self.headers[file]!
        var lines = [header.joined(separator: ",")]
        for row in rows[file] ?? [] {
            let fields = raw[file]?[row["sourcedId"] ?? ""] ?? header.map { row[$0] ?? "" }
            lines.append(fields.map(Self.quote).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func quote(_ cell: String) -> String {
        cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }

    /// Writes the zip (with its manifest) and returns where.
    func zip() async throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appending(path: "csvfixture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var manifest = "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\n"
        var paths = [folder.appending(path: "manifest.csv").path]
        for name in Self.order {
            let mode = modes[name] ?? "absent"
            manifest += "file.\(name),\(mode)\r\n"
            guard mode != "absent" else { continue }
            let url = folder.appending(path: "\(name).csv")
            try text(name).write(to: url, atomically: true, encoding: .utf8)
            paths.append(url.path)
        }
        try manifest.write(to: folder.appending(path: "manifest.csv"), atomically: true, encoding: .utf8)
        let zip = FileManager.default.temporaryDirectory.appending(path: "csvfixture-\(UUID().uuidString).zip")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments =
            [
                "python3", "-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1],'w'); [z.write(f, f.split('/')[-1]) for f in sys.argv[2:]]; z.close()",
                zip.path
            ] + paths
        try p.run()
        await waitForExit(p)
        guard p.terminationStatus == 0 else { throw FixtureError(message: "python3 could not write \(zip.path)") }
        return zip
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
