import Foundation
import GRDB
import PassbackCore
import PassbackStore
import PassbackTesting

/// A database file of its own for one test, under the temporary directory, removed (with its
/// WAL and shared-memory files) when the test ends.
struct TemporaryDatabaseFile {
    let path: String

    init() {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("passback-store-tests-\(UUID().uuidString).sqlite").path
    }

    func remove() {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}

/// Runs `body` with the path of a fresh database file and removes the file afterwards.
func withTemporaryDatabaseFile<R>(_ body: (String) throws -> R) throws -> R {
    let file = TemporaryDatabaseFile()
    defer { file.remove() }
    return try body(file.path)
}

/// Opens a plain GRDB connection on a store file, to look at it (or tamper with it) the way
/// the store's own API cannot.
func rawQueue(_ path: String) throws -> DatabaseQueue {
    var config = Configuration()
    config.busyMode = .timeout(10)
    return try DatabaseQueue(path: path, configuration: config)
}

/// An instant from the store's fixed-width text (`2026-09-01T00:00:00.000Z`).
func at(_ text: String) -> Date {
    guard let date = Timestamp.date(text) else { fatalError("bad test timestamp \(text)") }
    return date
}

/// A store on a fresh file, with one connection saved and one running full pull.
final class StoreFixture {
    let file = TemporaryDatabaseFile()
    let database: PassbackDatabase
    let roster: RosterStore
    let lms: LMSStore
    let queries: CacheQueries
    let connection: String
    let runID: Int64
    let startedAt = at("2026-08-01T06:00:00.000Z")

    init(connection: String = "district_one") throws {
        database = try PassbackDatabase(path: file.path)
        roster = RosterStore(database)
        lms = LMSStore(database)
        queries = CacheQueries(database)
        self.connection = connection
        try roster.saveConnection(
            ConnectionSettings(id: connection, baseURL: URL(string: "https://sis.example.org/ims/oneroster/v1p1")!),
            at: startedAt)
        runID = try roster.startRun(connection: connection, source: "rest", mode: "full", at: startedAt)
    }

    deinit { file.remove() }

    /// Stores rows as one page of the fixture's run.
    @discardableResult
    func apply(_ rows: [RosterRow], run: Int64? = nil, connection: String? = nil, pageOffset: Int = 0, at now: Date? = nil) throws -> RosterCounts {
        guard let collection = rows.first?.collection else { return RosterCounts() }
        return try roster.applyPage(
            rows, rejects: [], collection: collection, connection: connection ?? self.connection, runID: run ?? runID,
            mode: "full", since: nil, nextOffset: pageOffset + rows.count, pageOffset: pageOffset, at: now ?? startedAt
        ).counts
    }

    /// The store id of a section.
    func classID(_ sourcedId: String) throws -> Int64 {
        guard let id = try lms.classID(connection: connection, sourcedId: sourcedId) else {
            throw StoreError(.notFound, "test fixture: no class \(sourcedId)")
        }
        return id
    }

    /// Writes through a second, plain connection (for what the store has no method for yet).
    func rawWrite(_ sql: String, _ arguments: StatementArguments = []) throws {
        try rawQueue(file.path).write { db in try db.execute(sql: sql, arguments: arguments) }
    }

    func rawRead<T>(_ body: (Database) throws -> T) throws -> T {
        try rawQueue(file.path).read(body)
    }
}

/// Hand-built rostered rows, one builder per collection, with the columns of
/// `Schema/migrations/0001_roster.sql`. The fingerprint digests everything the row carries,
/// as the importer's does, so a changed value means a changed fingerprint.
enum Rows {
    static func row(
        _ collection: RosterCollection, _ sourcedId: String, status: RosterStatus, columns: [String: ColumnValue],
        children: [String] = []
    ) -> RosterRow {
        let content =
            ([collection.rawValue, sourcedId, status.rawValue] + columns.keys.sorted().map { "\($0)=\(columns[$0]!)" }
            + ["children=" + children.joined(separator: ",")]).joined(separator: "|")
        let header = RosterHeader(
            sourcedId: sourcedId, status: status, dateLastModified: "2026-07-01T00:00:00.000Z", metadata: nil,
            fingerprint: Fingerprint.of(content))
        return RosterRow(collection: collection, header: header, columns: columns, children: children)
    }

    static func org(_ sourcedId: String, name: String, type: String = "school", parent: String? = nil, status: RosterStatus = .active) -> RosterRow {
        row(
            .orgs, sourcedId, status: status,
            columns: [
                "name": .text(name), "type": .text(type), "identifier": .text(nil), "parent_sourced_id": .text(parent)
            ])
    }

    static func session(
        _ sourcedId: String, title: String, type: String, start: String, end: String, parent: String? = nil,
        status: RosterStatus = .active
    ) -> RosterRow {
        row(
            .academicSessions, sourcedId, status: status,
            columns: [
                "title": .text(title), "type": .text(type), "start_date": .text(start), "end_date": .text(end),
                "parent_sourced_id": .text(parent), "school_year": .text("2027")
            ])
    }

    static func section(
        _ sourcedId: String, title: String, school: String, course: String = "course-1", terms: [String] = [],
        classCode: String? = nil, status: RosterStatus = .active
    ) -> RosterRow {
        row(
            .classes, sourcedId, status: status,
            columns: [
                "title": .text(title), "class_code": .text(classCode), "class_type": .text("scheduled"), "location": .text(nil),
                "course_sourced_id": .text(course), "school_sourced_id": .text(school)
            ], children: terms)
    }

    static func person(
        _ sourcedId: String, given: String, family: String, role: String = "teacher", orgs: [String] = [],
        status: RosterStatus = .active
    ) -> RosterRow {
        row(
            .users, sourcedId, status: status,
            columns: [
                "username": .text(sourcedId), "given_name": .text(given), "family_name": .text(family), "middle_name": .text(nil),
                "role": .text(role), "identifier": .text(nil), "email": .text("\(sourcedId)@example.org"), "enabled": .integer(1),
                "grades": .text("[]")
            ], children: orgs)
    }

    static func enrollment(
        _ sourcedId: String, section: String, person: String, school: String, role: String = "teacher",
        status: RosterStatus = .active
    ) -> RosterRow {
        row(
            .enrollments, sourcedId, status: status,
            columns: [
                "class_sourced_id": .text(section), "person_sourced_id": .text(person), "school_sourced_id": .text(school),
                "role": .text(role), "is_primary": .integer(1), "begin_date": .text(nil), "end_date": .text(nil)
            ])
    }

    static func category(_ sourcedId: String, title: String) -> RosterRow {
        row(.categories, sourcedId, status: .active, columns: ["title": .text(title)])
    }
}
