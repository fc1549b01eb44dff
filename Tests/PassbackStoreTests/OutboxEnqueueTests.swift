import Foundation
import GRDB
import PassbackCore
import Testing

@testable import PassbackStore

@Suite("Queuing a planned item")
struct OutboxEnqueueTests {
    struct Job: Equatable {
        var target: String
        var dependsOn: String?
        var materialID: Int64?
        var classID: Int64?
    }

    static func write(_ kind: JobKind, _ target: String) -> JobSpec { JobSpec(kind: kind, targetSourcedId: target, payload: "{}", fingerprint: target) }

    @Test("writes go category, lineItem, results, each waiting on the last write before it that is not a result; the category belongs to no item")
    func order() throws {
        let fixture = try StoreFixture()
        let t = at("2026-09-01T08:00:00.000Z")
        try fixture.apply([Rows.org("s-1", name: "North High")])
        try fixture.apply([Rows.section("c-1", title: "Algebra I", school: "s-1")])
        let course = try fixture.lms.upsertCourse(connection: fixture.connection, lmsID: "lms-alg", title: "Algebra I", sectionSourcedIds: ["c-1"], at: t)
        let material = try fixture.lms.upsertMaterial(courseID: course, .init(lmsID: "m1", title: "Quiz", maxPoints: 10), at: t)
        let classID = try fixture.classID("c-1")
        let engine = EngineStore(fixture.database)
        func run(_ writes: [JobSpec]) throws -> [Job] {
            let item = PlannedItem(
                materialID: material, lmsID: "m1", title: "Quiz", lineItemSourcedId: "li-1", decision: .send, problems: [], writes: writes)
            let run = try engine.enqueueRun(
                connection: fixture.connection, classID: classID, trigger: .syncChanges, startedBy: "t-1", items: [item], maxAttempts: 3, at: t)
            return try fixture.rawRead { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT j.target_sourced_id, p.target_sourced_id AS parent, j.material_id, j.class_id FROM outbox_job j
                        LEFT JOIN outbox_job p ON p.id = j.depends_on_job_id WHERE j.sync_run_id = ? ORDER BY j.id
                        """, arguments: [run]
                ).map { Job(target: $0[0], dependsOn: $0[1], materialID: $0[2], classID: $0[3]) }
            }
        }

        // Given in another order: queued in the order the SIS needs them.
        #expect(
            try run([Self.write(.putResult, "r-1"), Self.write(.putLineItem, "li-1"), Self.write(.putResult, "r-2"), Self.write(.putCategory, "cat-g")])
                == [
                    Job(target: "cat-g", dependsOn: nil, materialID: nil, classID: nil),
                    Job(target: "li-1", dependsOn: "cat-g", materialID: material, classID: classID),
                    Job(target: "r-1", dependsOn: "li-1", materialID: material, classID: classID),
                    Job(target: "r-2", dependsOn: "li-1", materialID: material, classID: classID)
                ])
        // The SIS holds the lineItem: the results wait on the category; without one, on nothing.
        #expect(
            try run([Self.write(.putCategory, "cat-h"), Self.write(.putResult, "r-3")]) == [
                Job(target: "cat-h", dependsOn: nil, materialID: nil, classID: nil),
                Job(target: "r-3", dependsOn: "cat-h", materialID: material, classID: classID)
            ])
        #expect(try run([Self.write(.putResult, "r-4")]) == [Job(target: "r-4", dependsOn: nil, materialID: material, classID: classID)])
    }
}
