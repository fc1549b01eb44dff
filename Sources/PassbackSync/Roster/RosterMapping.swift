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

    static func row(_ o: Org) throws(Refusal) -> RosterRow {
        try check(o.type.rawValue, in: orgTypes, "type")
        return RosterRow(collection: .orgs, header: header(o), columns: [
            "name": .text(o.name), "type": .text(o.type.rawValue), "identifier": .text(o.identifier), "parent_sourced_id": .text(o.parent?.sourcedId),
        ])
    }

    static func row(_ s: AcademicSession) throws(Refusal) -> RosterRow {
        try check(s.type.rawValue, in: sessionTypes, "type")
        guard s.startDate <= s.endDate else { throw Refusal(reason: "startDate \(s.startDate) is after endDate \(s.endDate)") }
        return RosterRow(collection: .academicSessions, header: header(s), columns: [
            "title": .text(s.title), "type": .text(s.type.rawValue), "start_date": .text(s.startDate.description),
            "end_date": .text(s.endDate.description), "parent_sourced_id": .text(s.parent?.sourcedId), "school_year": .text(s.schoolYear),
        ])
    }

    static func row(_ c: Course) throws(Refusal) -> RosterRow {
        RosterRow(collection: .courses, header: header(c), columns: [
            "title": .text(c.title), "course_code": .text(c.courseCode), "school_year_sourced_id": .text(c.schoolYear?.sourcedId),
            "org_sourced_id": .text(c.org.sourcedId),
        ])
    }

    static func row(_ c: Class) throws(Refusal) -> RosterRow {
        if let t = c.classType { try check(t.rawValue, in: classTypes, "classType") }
        return RosterRow(collection: .classes, header: header(c), columns: [
            "title": .text(c.title), "class_code": .text(c.classCode), "class_type": .text(c.classType?.rawValue), "location": .text(c.location),
            "course_sourced_id": .text(c.course.sourcedId), "school_sourced_id": .text(c.school.sourcedId),
        ], children: c.terms.map(\.sourcedId))
    }

    static func row(_ u: User) throws(Refusal) -> RosterRow {
        try check(u.role.rawValue, in: roles, "role")
        return RosterRow(collection: .users, header: header(u), columns: [
            "username": .text(u.username), "given_name": .text(u.givenName), "family_name": .text(u.familyName), "middle_name": .text(u.middleName),
            "role": .text(u.role.rawValue), "identifier": .text(u.identifier), "email": .text(u.email), "enabled": .integer(u.enabledUser ? 1 : 0),
            "grades": .text(JSONValue.array(u.grades.map { .string($0) }).jsonText),
        ], children: u.orgs.map(\.sourcedId))
    }

    static func row(_ e: Enrollment) throws(Refusal) -> RosterRow {
        try check(e.role.rawValue, in: roles, "role")
        return RosterRow(collection: .enrollments, header: header(e), columns: [
            "class_sourced_id": .text(e.class.sourcedId), "person_sourced_id": .text(e.user.sourcedId), "school_sourced_id": .text(e.school.sourcedId),
            "role": .text(e.role.rawValue), "is_primary": .integer(e.primary.map { $0 ? 1 : 0 }), "begin_date": .text(e.beginDate?.description),
            "end_date": .text(e.endDate?.description),
        ])
    }

    static func row(_ c: OneRoster.Category) throws(Refusal) -> RosterRow {
        RosterRow(collection: .categories, header: header(c), columns: ["title": .text(c.title)])
    }

    /// Maps records, collecting refusals with where each came from.
    static func rows<T>(_ records: [T], collection: RosterCollection, location: (Int) -> String, map: (T) throws(Refusal) -> RosterRow) -> ([RosterRow], [RosterReject])
    where T: OneRosterObject {
        var rows: [RosterRow] = []
        var rejects: [RosterReject] = []
        rows.reserveCapacity(records.count)
        var names: [String] = []
        for (i, r) in records.enumerated() {
            do {
                var row = try map(r)
                if row.columns.count != names.count { names = row.columns.keys.sorted() }
                row.header.fingerprint = fingerprint(row, columns: names)
                rows.append(row)
            } catch {
                rejects.append(RosterReject(collection: collection, sourcedId: r.sourcedId, location: location(i), reason: error.reason))
            }
        }
        return (rows, rejects)
    }

    /// The digest of what the cache stores of a record (its status, date, metadata, columns in
    /// the order of `columns`, and references): an unchanged record is recognised without
    /// writing it. Taken from the row, not by serializing the record's JSON again, which cost
    /// rostering more than anything else it did per record.
    static func fingerprint(_ row: RosterRow, columns: [String]) -> String {
        var digest = Fingerprint.Builder()
        digest.add(row.header.status.rawValue)
        digest.add(row.header.dateLastModified)
        digest.add(row.header.metadata)
        for name in columns {
            switch row.columns[name] {
            case .text(let v)?: digest.add(v)
            case .integer(let v)?: digest.add(v)
            case .real(let v)?: digest.add(v.map { "\($0)" })
            case nil: digest.add(nil as String?)
            }
        }
        for child in row.children.count > 1 ? row.children.sorted() : row.children { digest.add(child) }
        return digest.finish()
    }
}
