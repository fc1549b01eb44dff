import Foundation
import OneRoster
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackSync

/// The cache recognises an unchanged record by its fingerprint, so the digest of a record may
/// not change between versions (every row would be rewritten at the next import), and the
/// rows the mapping builds in column order must equal the ones a dictionary of columns gives.
@Suite("Roster mapping")
struct RosterMappingTests {
    static let enrollment = Enrollment(
        sourcedId: "e1", user: Reference("u1"), class: Reference("c1"), school: Reference("s1"), role: RoleType(rawValue: "student"),
        primary: true, beginDate: CalendarDate("2026-09-01"))
    static let section = Class(
        sourcedId: "k1", status: RecordStatus(rawValue: "tobedeleted"), title: "Math", classType: .scheduled, course: Reference("co1"),
        school: Reference("s1"), terms: [Reference("t2"), Reference("t1")])

    @Test("fingerprints are the digests earlier versions stored (tagged, length-prefixed parts, columns by name)")
    func fingerprintsAreStable() throws {
        let (rows, rejects) = RosterMapping.rows([Self.enrollment], collection: .enrollments, location: { "line \($0)" }, map: RosterMapping.row)
        #expect(rejects.isEmpty)
        #expect(rows.first?.header.fingerprint == "5d57e28256b37f35e200db3560f95656")
        let (classes, _) = RosterMapping.rows([Self.section], collection: .classes, location: { "line \($0)" }, map: RosterMapping.row)
        #expect(classes.first?.header.fingerprint == "a36763f88db0ebb9ca0fccb75acae7df")
    }

    @Test("a row built in column order equals the row built from a dictionary of its columns")
    func orderedRowsEqualDictionaryRows() throws {
        let row = try RosterMapping.row(Self.enrollment)
        let rebuilt = RosterRow(collection: row.collection, header: row.header, columns: row.columns, children: row.children)
        #expect(row == rebuilt)
        #expect(row.names == row.columns.keys.sorted())
        #expect(row[column: "person_sourced_id"] == .text("u1"))
        #expect(row[column: "colour"] == nil)
        var changed = row
        changed.columns["role"] = .text("teacher")
        #expect(changed[column: "role"] == .text("teacher") && changed != row)
    }
}
