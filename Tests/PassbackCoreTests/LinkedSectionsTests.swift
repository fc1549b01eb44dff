import PassbackCore
import Testing

@Suite("Which linked section a grade belongs to")
struct LinkedSectionsTests {
    typealias E = LinkedSections.Enrollment

    @Test(
        "enrolled: their sections only; dropped everywhere: the sections they left; never enrolled: every section",
        arguments: [
            // (enrollments, section A, section B)
            ([E(sectionSourcedId: "A", active: true)], true, false),
            ([E(sectionSourcedId: "A", active: true), E(sectionSourcedId: "B", active: true)], true, true),
            ([E(sectionSourcedId: "A", active: false), E(sectionSourcedId: "B", active: true)], false, true),
            ([E(sectionSourcedId: "B", active: false)], false, true),
            ([E(sectionSourcedId: "A", active: false), E(sectionSourcedId: "B", active: false)], true, true),
            ([], true, true)
        ])
    func belongs(enrollments: [E], a: Bool, b: Bool) {
        #expect(LinkedSections.grade(of: enrollments, belongsTo: "A") == a)
        #expect(LinkedSections.grade(of: enrollments, belongsTo: "B") == b)
    }
}
