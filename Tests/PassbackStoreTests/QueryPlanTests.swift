import Foundation
import GRDB
import Testing

@testable import PassbackStore

/// How SQLite runs statements whose cost must not grow with the district: the plan, not a timing
/// (SQLite plans the same way whatever the table sizes, as Passback keeps no `sqlite_stat1`).
@Suite("Query plans")
struct QueryPlanTests {
    /// The lines of `EXPLAIN QUERY PLAN` for `sql`.
    static func plan(_ fixture: StoreFixture, _ sql: String, _ arguments: StatementArguments) throws -> [String] {
        try fixture.rawRead { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String } }
    }

    @Test("who may read a section looks its id up, for a teacher and for an admin, instead of walking every class of the connection")
    func readableBySectionID() throws {
        let fixture = try StoreFixture()
        for (sql, arguments) in [
            (APIReads.readableByTeacher, ["district", "t-1", "[1,2]"] as StatementArguments),
            (APIReads.readableInOrg, ["connection": "district", "root": "d-1", "ids": "[1,2]"] as StatementArguments)
        ] {
            let lines = try Self.plan(fixture, sql, arguments)
            #expect(lines.contains { $0.hasPrefix("SEARCH c USING INTEGER PRIMARY KEY") }, "\(lines)")
            #expect(!lines.contains { $0.contains("class_by_school") }, "\(lines)")
        }
    }

    @Test("an errors page's materials and schools are read by their keys, from a statement that stays the same whatever the keys")
    func materialsAndOrgsByKey() throws {
        let fixture = try StoreFixture()
        let lines = try Self.plan(fixture, APIReads.materialsByKey, ["[[1,2],[3,4]]"])
        #expect(lines.contains { $0.hasPrefix("SEARCH m USING INTEGER PRIMARY KEY") }, "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("SCAN m") || $0.hasPrefix("SCAN si") || $0.hasPrefix("SCAN ls") }, "\(lines)")
        // Read back: the same rows whatever the order of the keys.
        let reads = APIReads(fixture.database)
        #expect(try reads.orgs(connection: "nowhere", sourcedIds: ["a\"b", "c"]).isEmpty)
    }

    @Test("a teacher's section list starts from the teacher's enrollments, instead of walking every class of the connection")
    func teacherSectionsByEnrollment() throws {
        let fixture = try StoreFixture()
        let sql = "SELECT c.id FROM class c WHERE c.connection_id = :connection AND c.status = 'active'" + APIReads.taughtBy + " ORDER BY c.title, c.id"
        let lines = try Self.plan(fixture, sql, ["connection": "district", "teacher": "t-1"])
        #expect(lines.contains { $0.contains("enrollment_by_person") }, "\(lines)")
        #expect(!lines.contains { $0.contains("class_by_school") }, "\(lines)")
    }
}
