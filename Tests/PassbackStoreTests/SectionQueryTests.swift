import Foundation
import GRDB
import PassbackCore
import PassbackStore
import Testing

@Suite("Sections of a teacher (the query behind Query.sections for a teacher)")
struct SectionQueryTests {
    /// A teacher (`t-1`) with active teacher enrollments in five active sections (two share a
    /// title), and the cases that must not show: a student enrollment, a dropped teacher
    /// enrollment, a dropped section, another teacher's section.
    static func fixture() throws -> StoreFixture {
        let fixture = try StoreFixture()
        // "Algebra I" b is stored before a, so the id tie-break differs from sourcedId order.
        try fixture.apply([
            Rows.section("c-alg-b", title: "Algebra I", school: "s-1"),
            Rows.section("c-alg-a", title: "Algebra I", school: "s-1"),
            Rows.section("c-chem", title: "Chemistry", school: "s-1"),
            Rows.section("c-bio", title: "Biology", school: "s-1", classCode: "BIO-1"),
            Rows.section("c-drama", title: "Drama", school: "s-2"),
            Rows.section("c-econ", title: "Economics", school: "s-1"),
            Rows.section("c-french", title: "French", school: "s-1"),
            Rows.section("c-geo", title: "Geography", school: "s-1", status: .toBeDeleted),
            Rows.section("c-hist", title: "History", school: "s-1")
        ])
        try fixture.apply([
            Rows.enrollment("e-1", section: "c-alg-b", person: "t-1", school: "s-1"),
            Rows.enrollment("e-2", section: "c-alg-a", person: "t-1", school: "s-1"),
            Rows.enrollment("e-3", section: "c-chem", person: "t-1", school: "s-1"),
            Rows.enrollment("e-4", section: "c-bio", person: "t-1", school: "s-1"),
            Rows.enrollment("e-5", section: "c-drama", person: "t-1", school: "s-2"),
            Rows.enrollment("e-6", section: "c-econ", person: "t-1", school: "s-1", role: "student"),
            Rows.enrollment("e-7", section: "c-french", person: "t-1", school: "s-1", status: .toBeDeleted),
            Rows.enrollment("e-8", section: "c-geo", person: "t-1", school: "s-1"),
            Rows.enrollment("e-9", section: "c-hist", person: "t-2", school: "s-1")
        ])
        return fixture
    }

    static let expectedOrder = ["c-alg-b", "c-alg-a", "c-bio", "c-chem", "c-drama"]

    /// Every page from the start, `first` at a time; `between` runs after each page.
    static func allPages(
        _ fixture: StoreFixture, teacher: String = "t-1", first: Int,
        between: (Int) throws -> Void = { _ in }
    ) throws -> [KeysetPage<SectionSummary>] {
        var pages: [KeysetPage<SectionSummary>] = []
        var after: String?
        repeat {
            let page = try APIReads(fixture.database).sections(
                connection: fixture.connection, scope: .teacher(teacher), search: nil, school: nil, first: first, after: after
            ).page
            pages.append(page)
            after = page.endCursor
            try between(pages.count)
        } while pages.last!.hasNextPage && pages.count < 50
        return pages
    }

    @Test("only active sections where the person is an active teacher are listed, by title then id")
    func onlyActiveTeacherSections() throws {
        let fixture = try Self.fixture()
        let page = try APIReads(fixture.database).sections(
            connection: fixture.connection, scope: .teacher("t-1"), search: nil, school: nil, first: 50, after: nil
        ).page
        #expect(page.items.map(\.sourcedId) == Self.expectedOrder)
        #expect(page.hasNextPage == false)
        for (i, cursor) in page.cursors.enumerated() {
            let rest = try APIReads(fixture.database).sections(
                connection: fixture.connection, scope: .teacher("t-1"), search: nil, school: nil, first: 50, after: cursor
            ).page
            #expect(rest.items.map(\.sourcedId) == Array(Self.expectedOrder.dropFirst(i + 1)), "each cursor resumes right after its item")
        }

        let biology = try #require(page.items.first { $0.sourcedId == "c-bio" })
        #expect(biology.title == "Biology")
        #expect(biology.classCode == "BIO-1")
        #expect(biology.schoolSourcedId == "s-1")
        #expect(biology.courseSourcedId == "course-1")
        #expect(biology.connectionID == fixture.connection)
        #expect(biology.id == (try fixture.classID("c-bio")))

        #expect(
            try APIReads(fixture.database).sections(connection: fixture.connection, scope: .teacher("t-2"), search: nil, school: nil, first: 50, after: nil)
                .page.items.map(\.sourcedId) == ["c-hist"])
        #expect(
            try APIReads(fixture.database).sections(connection: fixture.connection, scope: .teacher("nobody"), search: nil, school: nil, first: 50, after: nil)
                .page.items.isEmpty)
    }

    @Test("pages of two walk every section once, in order")
    func keysetPagination() throws {
        let fixture = try Self.fixture()
        let pages = try Self.allPages(fixture, first: 2)
        #expect(pages.map(\.items.count) == [2, 2, 1])
        #expect(pages.map(\.hasNextPage) == [true, true, false])
        #expect(pages.flatMap(\.items).map(\.sourcedId) == Self.expectedOrder)
    }

    @Test("a cursor stays valid when sections are added before and after it between pages")
    func cursorSurvivesInserts() throws {
        let fixture = try Self.fixture()
        let pages = try Self.allPages(fixture, first: 2) { fetched in
            guard fetched == 1 else { return }
            // The first page ended at the second "Algebra I"; one new section sorts before it,
            // one after it.
            try fixture.apply([
                Rows.section("c-aard", title: "Aardvark Studies", school: "s-1"),
                Rows.section("c-botany", title: "Botany", school: "s-1")
            ])
            try fixture.apply([
                Rows.enrollment("e-10", section: "c-aard", person: "t-1", school: "s-1"),
                Rows.enrollment("e-11", section: "c-botany", person: "t-1", school: "s-1")
            ])
        }
        let seen = pages.flatMap(\.items).map(\.sourcedId)
        #expect(seen == ["c-alg-b", "c-alg-a", "c-bio", "c-botany", "c-chem", "c-drama"])
        #expect(Set(seen).count == seen.count, "no section twice")
    }

    @Test("a cursor this server did not make is refused")
    func garbageCursorIsRefused() throws {
        let fixture = try Self.fixture()
        let error = #expect(throws: StoreError.self) {
            _ = try APIReads(fixture.database).sections(
                connection: fixture.connection, scope: .teacher("t-1"), search: nil, school: nil, first: 2, after: "bm90IGEgY3Vyc29y"
            ).page
        }
        #expect(error?.code == .badCursor)
    }

    // the `FROM enrollment e JOIN class c` query) yields one row per matching enrollment, not per
    // section: a teacher with two active teacher enrollments in one class (two SIS enrollment
    // records, e.g. a re-enrollment or a co-teacher duplicate) sees that section twice, and the
    // (title, id) cursor then skips the duplicate at a page edge. It needs DISTINCT or EXISTS.
    @Test("a section is listed once even when the teacher has two enrollments in it")
    func sectionWithTwoEnrollmentsIsListedOnce() throws {
        let fixture = try Self.fixture()
        try fixture.apply([Rows.enrollment("e-1-again", section: "c-bio", person: "t-1", school: "s-1")])
        let page = try APIReads(fixture.database).sections(
            connection: fixture.connection, scope: .teacher("t-1"), search: nil, school: nil, first: 50, after: nil
        ).page
        #expect(page.items.map(\.sourcedId) == Self.expectedOrder)
    }
}
