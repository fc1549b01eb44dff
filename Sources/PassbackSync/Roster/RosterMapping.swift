import Foundation
import OneRoster
import PassbackCore
import PassbackStore

/// Turns OneRoster records into the cache's rows. A value the 1.1 model does not allow is
/// refused here with a reason a person can act on (the database's CHECKs are the net).
enum RosterMapping {
    static let orgTypes: Set<String> = ["district", "school", "department", "local", "state", "national"]
    static let sessionTypes: Set<String> = ["schoolYear", "term", "semester", "gradingPeriod"]
    static let roles: Set<String> = ["student", "teacher", "administrator", "aide", "guardian", "parent", "proctor", "relative"]
    static let classTypes: Set<String> = ["homeroom", "scheduled"]

    struct Refusal: Error {
        var reason: String
    }

    static func check(_ value: String, in allowed: Set<String>, _ field: String) throws(Refusal) {
        guard allowed.contains(value) else {
            throw Refusal(reason: "\(field) '\(value)' is not a OneRoster 1.1 value (one of \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    static func header(_ r: some OneRosterObject) -> RosterHeader {
        RosterHeader(
            sourcedId: r.sourcedId, status: r.status.isDeleted ? .toBeDeleted : .active,
            dateLastModified: r.dateLastModified.map(Timestamp.text), metadata: r.metadata.map { JSONValue.object($0).jsonText },
            fingerprint: "")
    }

    // Each table's columns in name order, the order ``RosterRow`` keeps them in (its
    // initializer checks it in debug builds): every row of a table shares its array.
    static let orgColumns = ["identifier", "name", "parent_sourced_id", "type"]
    static let sessionColumns = ["end_date", "parent_sourced_id", "school_year", "start_date", "title", "type"]
    static let courseColumns = ["course_code", "org_sourced_id", "school_year_sourced_id", "title"]
    static let classColumns = ["class_code", "class_type", "course_sourced_id", "location", "school_sourced_id", "title"]
    static let userColumns = ["email", "enabled", "family_name", "given_name", "grades", "identifier", "middle_name", "role", "username"]
    static let enrollmentColumns = ["begin_date", "class_sourced_id", "end_date", "is_primary", "person_sourced_id", "role", "school_sourced_id"]
    static let categoryColumns = ["title"]

    static func row(_ o: Org) throws(Refusal) -> RosterRow {
        try check(o.type.rawValue, in: orgTypes, "type")
        return RosterRow(
            collection: .orgs, header: header(o), names: orgColumns,
            values: [
                .text(o.identifier), .text(o.name), .text(o.parent?.sourcedId), .text(o.type.rawValue)
            ])
    }

    static func row(_ s: AcademicSession) throws(Refusal) -> RosterRow {
        try check(s.type.rawValue, in: sessionTypes, "type")
        guard s.startDate <= s.endDate else { throw Refusal(reason: "startDate \(s.startDate) is after endDate \(s.endDate)") }
        return RosterRow(
            collection: .academicSessions, header: header(s), names: sessionColumns,
            values: [
                .text(s.endDate.description), .text(s.parent?.sourcedId), .text(s.schoolYear), .text(s.startDate.description), .text(s.title),
                .text(s.type.rawValue)
            ])
    }

    static func row(_ c: Course) throws(Refusal) -> RosterRow {
        RosterRow(
            collection: .courses, header: header(c), names: courseColumns,
            values: [
                .text(c.courseCode), .text(c.org.sourcedId), .text(c.schoolYear?.sourcedId), .text(c.title)
            ])
    }

    static func row(_ c: Class) throws(Refusal) -> RosterRow {
        if let t = c.classType { try check(t.rawValue, in: classTypes, "classType") }
        return RosterRow(
            collection: .classes, header: header(c), names: classColumns,
            values: [
                .text(c.classCode), .text(c.classType?.rawValue), .text(c.course.sourcedId), .text(c.location), .text(c.school.sourcedId), .text(c.title)
            ], children: c.terms.map(\.sourcedId))
    }

    static func row(_ u: User) throws(Refusal) -> RosterRow {
        try check(u.role.rawValue, in: roles, "role")
        return RosterRow(
            collection: .users, header: header(u), names: userColumns,
            values: [
                .text(u.email), .integer(u.enabledUser ? 1 : 0), .text(u.familyName), .text(u.givenName),
                .text(JSONValue.array(u.grades.map { .string($0) }).jsonText), .text(u.identifier), .text(u.middleName), .text(u.role.rawValue),
                .text(u.username)
            ], children: u.orgs.map(\.sourcedId))
    }

    static func row(_ e: Enrollment) throws(Refusal) -> RosterRow {
        try check(e.role.rawValue, in: roles, "role")
        return RosterRow(
            collection: .enrollments, header: header(e), names: enrollmentColumns,
            values: [
                .text(e.beginDate?.description), .text(e.class.sourcedId), .text(e.endDate?.description), .integer(e.primary.map { $0 ? 1 : 0 }),
                .text(e.user.sourcedId), .text(e.role.rawValue), .text(e.school.sourcedId)
            ])
    }

    static func row(_ c: OneRoster.Category) throws(Refusal) -> RosterRow {
        RosterRow(collection: .categories, header: header(c), names: categoryColumns, values: [.text(c.title)])
    }

    /// Whether any text of `row` (its sourcedId, a column, a reference) holds U+0000.
    static func holdsNUL(_ row: RosterRow) -> Bool {
        func nul(_ s: String?) -> Bool {
            guard var s else { return false }
            return s.withUTF8 { bytes in bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false }
        }
        if nul(row.header.sourcedId) || row.children.contains(where: nul) { return true }
        return row.values.contains { if case .text(let s) = $0 { return nul(s) } else { return false } }
    }

    /// Maps records, collecting refusals with where each came from. Each row gets its
    /// fingerprint, unless `fingerprints` is false (the CSV import takes them on the transaction's
    /// thread, ``RosterCSVImport/store(_:_:)``, to share the work between its two threads).
    static func rows<T>(
        _ records: [T], collection: RosterCollection, fingerprints: Bool = true, location: (Int) -> String,
        map: (T) throws(Refusal) -> RosterRow
    ) -> ([RosterRow], [RosterReject])
    where T: OneRosterObject {
        var rows: [RosterRow] = []
        var rejects: [RosterReject] = []
        rows.reserveCapacity(records.count)
        for (i, r) in records.enumerated() {
            do throws(Refusal) {
                var row = try map(r)
                // SQLite's C strings end at a NUL: a value holding one would be stored whole but
                // read back cut, so the record could not be found again (and a later reject of it
                // could not keep it). No roster value holds one.
                if holdsNUL(row) { throw Refusal(reason: "a value holds a NUL character (U+0000), which no OneRoster value may; remove it in the SIS") }
                if fingerprints { row.header.fingerprint = fingerprint(row) }
                rows.append(row)
            } catch {
                rejects.append(RosterReject(collection: collection, sourcedId: r.sourcedId, location: location(i), reason: error.reason))
            }
        }
        return (rows, rejects)
    }

    /// The digest of what the cache stores of a record (its status, date, metadata, columns in
    /// name order, and references): an unchanged record is recognised without writing it.
    /// Taken from the row, not by serializing the record's JSON again, which cost rostering
    /// more than anything else it did per record.
    static func fingerprint(_ row: RosterRow) -> String {
        var digest = Fingerprint.Builder()
        digest.add(row.header.status.rawValue)
        digest.add(row.header.dateLastModified)
        digest.add(row.header.metadata)
        for value in row.values {
            switch value {
            case .text(let v): digest.add(v)
            case .integer(let v): digest.add(v)
            case .real(let v): digest.add(v.map { "\($0)" })
            }
        }
        for child in row.children.count > 1 ? row.children.sorted() : row.children { digest.add(child) }
        return digest.finish()
    }
}
