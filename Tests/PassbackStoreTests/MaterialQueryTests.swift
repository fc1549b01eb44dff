import Foundation
import GRDB
import PassbackCore
import Testing

@testable import PassbackStore

/// A section (`c-1`) whose LMS course holds thirteen materials with varied titles, due dates
/// and statuses; a second linked section (`c-2`) with other statuses; and another course, in
/// another section, whose material must never show in `c-1`.
final class MaterialFixture {
    struct Spec: Sendable {
        var lmsID: String
        var title: String
        var due: String?
        var syncToSIS = true
        var category: String?
        /// The state in `c-1`; nil is never synced.
        var state: LMSStore.SyncState?
    }

    static let specs: [Spec] = [
        Spec(
            lmsID: "m01", title: "Quiz 1", due: "2026-09-10T15:00:00.000Z", category: "cat-quiz",
            state: .init(status: .successful, lastSyncedAt: at("2026-09-16T00:00:00.000Z"))),
        Spec(
            lmsID: "m02", title: "Pop-Quiz 3", due: "2026-10-31T23:30:00.000Z", category: "cat-quiz",
            state: .init(status: .error, errorCode: "TITLE_NOT_UNIQUE", errorMessage: "Two materials share this title; rename one.", errorField: "title")),
        Spec(
            lmsID: "m03", title: "Unit Test", due: "2026-11-01T00:00:00.000Z", category: "cat-test",
            state: .init(status: .updatesAvailable, lastSyncedAt: at("2026-09-20T08:00:00.000Z"))),
        Spec(lmsID: "m04", title: "Lab: ácido", due: nil, state: .init(status: .inProgress)),
        Spec(
            lmsID: "m05", title: "Essay", due: "2026-09-01T00:00:00.000Z", syncToSIS: false,
            state: .init(status: .successful, lastSyncedAt: at("2026-09-02T00:00:00.000Z"))),
        Spec(lmsID: "m06", title: "essay draft", due: nil),
        Spec(lmsID: "m07", title: "50% Project", due: "2026-12-01T12:00:00.000Z"),
        Spec(
            lmsID: "m08", title: "Lab_2", due: "2026-09-15T12:00:00.000Z",
            state: .init(status: .successful, lastSyncedAt: at("2026-09-16T00:00:00.000Z"))),
        Spec(
            lmsID: "m09", title: "Lab 2", due: "2026-09-15T12:00:00.000Z",
            state: .init(status: .error, errorCode: "DUE_DATE_OUTSIDE_GRADING_PERIOD", errorMessage: "Move the due date into a grading period.")),
        Spec(lmsID: "m10", title: "Reading \"Abc\"", due: nil, state: .init(status: .successful, lastSyncedAt: at("2026-10-01T00:00:00.000Z"))),
        Spec(
            lmsID: "m11", title: "Final Exam", due: "2026-12-15T09:00:00.000Z", category: "cat-test",
            state: .init(status: .updatesAvailable, lastSyncedAt: at("2026-10-05T00:00:00.000Z"))),
        Spec(lmsID: "m12", title: "abacus drill", due: "2026-10-31T00:00:00.000Z"),
        // Ties "Essay" under the case-blind title order; stored after it, so it has the larger id.
        Spec(lmsID: "m13", title: "ESSAY", due: nil)
    ]

    let store: StoreFixture
    let courseID: Int64
    let section: Int64
    let otherLinkedSection: Int64
    /// Material store ids by LMS id.
    var ids: [String: Int64] = [:]
    /// The specs as they stand (inserts between pages add to them).
    var specs = MaterialFixture.specs
    let now = at("2026-11-20T10:00:00.000Z")

    init() throws {
        store = try StoreFixture()
        try store.apply([Rows.org("s-1", name: "North High")])
        try store.apply([
            Rows.session("sy-2027", title: "2026-2027", type: "schoolYear", start: "2026-08-01", end: "2027-06-30"),
            Rows.session("t-1", title: "Fall", type: "term", start: "2026-08-01", end: "2026-12-31", parent: "sy-2027"),
            Rows.session("gp-1", title: "Quarter 1", type: "gradingPeriod", start: "2026-09-01", end: "2026-10-31", parent: "t-1"),
            Rows.session("gp-2", title: "Quarter 2", type: "gradingPeriod", start: "2026-11-01", end: "2027-01-31", parent: "t-1")
        ])
        try store.apply([
            Rows.section("c-1", title: "Algebra I", school: "s-1", terms: ["t-1"]),
            Rows.section("c-2", title: "Algebra I (2nd period)", school: "s-1", terms: ["t-1"]),
            Rows.section("c-3", title: "Biology", school: "s-1", terms: ["t-1"])
        ])
        courseID = try store.lms.upsertCourse(connection: store.connection, lmsID: "lms-alg", title: "Algebra I", sectionSourcedIds: ["c-1", "c-2"], at: now)
        try store.lms.upsertCategory(courseID: courseID, lmsID: "cat-quiz", title: "Quizzes", at: Date())
        try store.lms.upsertCategory(courseID: courseID, lmsID: "cat-test", title: "Tests", createdByTeacher: true, at: Date())
        section = try store.classID("c-1")
        otherLinkedSection = try store.classID("c-2")
        for spec in Self.specs { try add(spec) }

        // Another section's course: never listed in c-1.
        let biology = try store.lms.upsertCourse(connection: store.connection, lmsID: "lms-bio", title: "Biology", sectionSourcedIds: ["c-3"], at: now)
        try store.lms.upsertMaterial(courseID: biology, .init(lmsID: "m01", title: "Quiz 99"), at: now)

        // c-2 has its own states: m01 in error there, the rest never synced.
        try store.lms.setSyncState(
            materialID: ids["m01"]!, classID: otherLinkedSection,
            .init(status: .error, errorCode: "CATEGORY_UNMAPPED", errorMessage: "Map Quizzes"), at: now)
    }

    /// Stores a material and its state in `c-1`.
    func add(_ spec: Spec) throws {
        let id = try store.lms.upsertMaterial(
            courseID: courseID,
            .init(
                lmsID: spec.lmsID, title: spec.title, dueAt: spec.due.map(at),
                categoryLmsID: spec.category, maxPoints: 10, syncToSIS: spec.syncToSIS), at: now)
        ids[spec.lmsID] = id
        if let state = spec.state { try store.lms.setSyncState(materialID: id, classID: section, state, at: now) }
        if let index = specs.firstIndex(where: { $0.lmsID == spec.lmsID }) { specs[index] = spec } else { specs.append(spec) }
    }

    func lmsIDs(_ items: [SectionMaterial]) -> [String] {
        let byID = Dictionary(uniqueKeysWithValues: ids.map { ($0.value, $0.key) })
        return items.map { byID[$0.id] ?? "?\($0.id)" }
    }

    func list(_ filter: MaterialFilter = MaterialFilter(), order: MaterialOrder = MaterialOrder(), section: Int64? = nil) throws -> [String] {
        lmsIDs(try store.queries.materials(ofSection: section ?? self.section, filter: filter, order: order, first: 100, after: nil).items)
    }

    /// Every page from the start, `first` at a time; `between` runs after each page.
    func allPages(
        _ filter: MaterialFilter = MaterialFilter(), order: MaterialOrder, first: Int,
        between: (Int) throws -> Void = { _ in }
    ) throws -> [KeysetPage<SectionMaterial>] {
        var pages: [KeysetPage<SectionMaterial>] = []
        var after: String?
        repeat {
            let page = try store.queries.materials(ofSection: section, filter: filter, order: order, first: first, after: after)
            pages.append(page)
            after = page.endCursor
            try between(pages.count)
        } while pages.last!.hasNextPage && pages.count < 100
        return pages
    }

    /// The order the widget must show, worked out here from the specs: SQLite's NOCASE folds
    /// ASCII letters only; missing keys go last in both directions; the id breaks ties.
    func expectedOrder(_ order: MaterialOrder, of lmsIDs: Set<String>? = nil) -> [String] {
        func key(_ spec: Spec) -> [UInt8]? {
            switch order.field {
            case .title: spec.title.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }
            case .dueDate: spec.due.map { Array($0.utf8) }
            case .lastSyncedAt: spec.state?.lastSyncedAt.map { Array(Timestamp.text($0).utf8) }
            }
        }
        let keyed = specs.filter { lmsIDs?.contains($0.lmsID) ?? true }.map { (lmsID: $0.lmsID, key: key($0), id: ids[$0.lmsID]!) }
        let present = keyed.filter { $0.key != nil }.sorted { a, b in
            a.key! == b.key! ? a.id < b.id : a.key!.lexicographicallyPrecedes(b.key!)
        }.map(\.lmsID)
        let missing = keyed.filter { $0.key == nil }.sorted { $0.id < $1.id }.map(\.lmsID)
        return order.descending ? present.reversed() + missing.reversed() : present + missing
    }
}

@Suite("Materials of a section")
struct MaterialQueryTests {
    static let orders = MaterialOrder.Field.allCases

    @Test("a section lists its LMS course's materials with their status in that section")
    func listsMaterialsWithStatus() throws {
        let f = try MaterialFixture()
        let page = try f.store.queries.materials(ofSection: f.section, first: 100, after: nil)
        let byLmsID = Dictionary(uniqueKeysWithValues: zip(f.lmsIDs(page.items), page.items))
        #expect(Set(byLmsID.keys) == Set(MaterialFixture.specs.map(\.lmsID)), "only this course's materials, each once")
        #expect(page.items.count == MaterialFixture.specs.count)
        #expect(page.hasNextPage == false)
        #expect(!page.items.contains { $0.title == "Quiz 99" })

        let expected: [String: SyncStatus] = [
            "m01": .successful, "m02": .error, "m03": .updatesAvailable, "m04": .inProgress, "m05": .optOut, "m06": .notSynced,
            "m07": .notSynced, "m08": .successful, "m09": .error, "m10": .successful, "m11": .updatesAvailable, "m12": .notSynced,
            "m13": .notSynced
        ]
        #expect(byLmsID.mapValues(\.status) == expected)

        let quiz = try #require(byLmsID["m01"])
        #expect(quiz.title == "Quiz 1")
        #expect(quiz.dueAt == at("2026-09-10T15:00:00.000Z"))
        #expect(quiz.lastSyncedAt == at("2026-09-16T00:00:00.000Z"))
        #expect(quiz.maxPoints == 10)
        #expect(quiz.lmsCategoryID != nil)
        #expect(quiz.syncToSIS && quiz.published && !quiz.deleted)
        #expect(quiz.errorCode == nil)

        let popQuiz = try #require(byLmsID["m02"])
        #expect(popQuiz.errorCode == "TITLE_NOT_UNIQUE")
        #expect(popQuiz.errorMessage == "Two materials share this title; rename one.")
        #expect(popQuiz.errorField == "title")
        #expect(popQuiz.lastSyncedAt == nil)

        let essay = try #require(byLmsID["m05"])
        #expect(essay.syncToSIS == false)
        #expect(essay.status == .optOut, "opted out wins over the recorded state")
        #expect(byLmsID["m04"]?.dueAt == nil)
    }

    @Test("the same material has each linked section's own status")
    func statusIsPerSection() throws {
        let f = try MaterialFixture()
        let items = try f.store.queries.materials(ofSection: f.otherLinkedSection, first: 100, after: nil).items
        let byLmsID = Dictionary(uniqueKeysWithValues: zip(f.lmsIDs(items), items))
        #expect(byLmsID.count == MaterialFixture.specs.count)
        #expect(byLmsID["m01"]?.status == .error)
        #expect(byLmsID["m01"]?.errorCode == "CATEGORY_UNMAPPED")
        #expect(byLmsID["m02"]?.status == .notSynced)
        #expect(byLmsID["m05"]?.status == .optOut)
        #expect(byLmsID["m08"]?.lastSyncedAt == nil)
    }

    @Test(
        "search finds a part of a title in any case",
        arguments: [
            ("quiz", ["m01", "m02"]),
            ("QUIZ", ["m01", "m02"]),
            ("  Quiz ", ["m01", "m02"]),
            ("ácido", ["m04"]),
            ("lab", ["m04", "m08", "m09"]),
            ("zebra", [])
        ] as [(String, Set<String>)])
    func searchBySubstring(search: String, expected: Set<String>) throws {
        let f = try MaterialFixture()
        #expect(Set(try f.list(MaterialFilter(search: search))) == expected)
    }

    @Test(
        "a search shorter than three characters matches by LIKE inside the section",
        arguments: [
            ("ab", ["m04", "m08", "m09", "m10", "m12"]),
            ("AB", ["m04", "m08", "m09", "m10", "m12"]),
            ("ác", ["m04"]),
            ("k", [])
        ] as [(String, Set<String>)])
    func shortSearchUsesLike(search: String, expected: Set<String>) throws {
        let f = try MaterialFixture()
        #expect(Set(try f.list(MaterialFilter(search: search))) == expected)
    }

    @Test(
        "%, _ and quotes in a search are taken literally",
        arguments: [
            ("%", ["m07"]),
            ("0%", ["m07"]),
            ("50%", ["m07"]),
            ("% P", ["m07"]),
            ("_", ["m08"]),
            ("b_", ["m08"]),
            ("b_2", ["m08"]),
            ("\"", ["m10"]),
            ("\"Ab", ["m10"]),
            ("g \"Abc\"", ["m10"]),
            ("\"\"", [])
        ] as [(String, Set<String>)])
    func specialCharactersAreLiteral(search: String, expected: Set<String>) throws {
        let f = try MaterialFixture()
        #expect(Set(try f.list(MaterialFilter(search: search))) == expected)
    }

    @Test("renaming a material updates the title search")
    func renameUpdatesSearch() throws {
        let f = try MaterialFixture()
        var renamed = MaterialFixture.specs[0]
        renamed.title = "Warm-up 1"
        try f.add(renamed)

        #expect(try f.list(MaterialFilter(search: "quiz")) == ["m02"])
        #expect(try f.list(MaterialFilter(search: "warm")) == ["m01"])
        #expect(try f.list(MaterialFilter(search: "Wa")) == ["m01"])
        #expect(try f.list(MaterialFilter(search: "Quiz 1")).isEmpty)
        // The other materials are still found.
        #expect(Set(try f.list(MaterialFilter(search: "lab"))) == ["m04", "m08", "m09"])
    }

    @Test("the grading-period filter keeps materials due on its days, the last day included")
    func gradingPeriodFilter() throws {
        let f = try MaterialFixture()
        // m05 is due at the first instant of the period, m02 late on its last day, m03 at the
        // first instant after it; undated materials are in no period.
        #expect(Set(try f.list(MaterialFilter(gradingPeriodSourcedId: "gp-1"))) == ["m01", "m02", "m05", "m08", "m09", "m12"])
        #expect(Set(try f.list(MaterialFilter(gradingPeriodSourcedId: "gp-2"))) == ["m03", "m07", "m11"])
        #expect(Set(try f.list(MaterialFilter(gradingPeriodSourcedId: "gp-1", statuses: [.error]))) == ["m02", "m09"])
        #expect(try f.list(MaterialFilter(search: "quiz", gradingPeriodSourcedId: "gp-2")).isEmpty)
    }

    @Test("an unknown grading period, or a session that is not a grading period, is not found", arguments: ["gp-9", "t-1", "sy-2027"])
    func unknownGradingPeriod(sourcedId: String) throws {
        let f = try MaterialFixture()
        let error = #expect(throws: StoreError.self) { _ = try f.list(MaterialFilter(gradingPeriodSourcedId: sourcedId)) }
        #expect(error?.code == .notFound)
    }

    @Test(
        "the status filter takes several statuses at once",
        arguments: [
            ([.error, .optOut], ["m02", "m09", "m05"]),
            ([.notSynced], ["m06", "m07", "m12", "m13"]),
            ([.successful], ["m01", "m08", "m10"]),
            ([.inProgress, .updatesAvailable], ["m04", "m03", "m11"]),
            ([.successful, .error, .optOut, .notSynced, .inProgress, .updatesAvailable], Set(MaterialFixture.specs.map(\.lmsID)))
        ] as [([SyncStatus], Set<String>)])
    func statusFilter(statuses: [SyncStatus], expected: Set<String>) throws {
        let f = try MaterialFixture()
        #expect(Set(try f.list(MaterialFilter(statuses: statuses))) == expected)
    }

    @Test("every ordering sorts both ways, missing values last, ties by id", arguments: orders, [false, true])
    func orderings(field: MaterialOrder.Field, descending: Bool) throws {
        let f = try MaterialFixture()
        let order = MaterialOrder(field, descending: descending)
        let listed = try f.list(order: order)
        #expect(listed == f.expectedOrder(order))
        #expect(listed.count == MaterialFixture.specs.count)
    }

    @Test("the expected orders hold the cases the ordering tests rely on")
    func fixtureHasTiesAndGaps() throws {
        let f = try MaterialFixture()
        // Case-blind title tie broken by id (binary order would put "ESSAY" first).
        let byTitle = f.expectedOrder(MaterialOrder(.title))
        #expect(byTitle.firstIndex(of: "m05")! + 1 == byTitle.firstIndex(of: "m13")!)
        #expect(byTitle.first == "m07" && byTitle[1] == "m12", "\"50% Project\", then lower-case \"abacus drill\" among the As")
        // Undated materials last in both directions.
        #expect(Array(f.expectedOrder(MaterialOrder(.dueDate)).suffix(4)) == ["m04", "m06", "m10", "m13"])
        #expect(Array(f.expectedOrder(MaterialOrder(.dueDate, descending: true)).suffix(4)) == ["m13", "m10", "m06", "m04"])
        #expect(Array(f.expectedOrder(MaterialOrder(.lastSyncedAt, descending: true)).prefix(2)) == ["m11", "m10"])
    }

    @Test("pages of three walk every ordering exactly as the whole list", arguments: orders, [false, true])
    func pagination(field: MaterialOrder.Field, descending: Bool) throws {
        let f = try MaterialFixture()
        let order = MaterialOrder(field, descending: descending)
        let pages = try f.allPages(order: order, first: 3)
        #expect(pages.map(\.items.count) == [3, 3, 3, 3, 1])
        #expect(pages.map(\.hasNextPage) == [true, true, true, true, false])
        #expect(f.lmsIDs(pages.flatMap(\.items)) == (try f.list(order: order)))
        // Every item's cursor (not only a page's last) resumes right after that item.
        let all = pages.flatMap(\.items).map(\.id)
        for page in pages {
            for (i, item) in page.items.enumerated() {
                let rest = try f.store.queries.materials(ofSection: f.section, order: order, first: 100, after: page.cursors[i]).items.map(\.id)
                #expect(rest == Array(all[(all.firstIndex(of: item.id)! + 1)...]))
            }
        }
    }

    @Test("a cursor stays valid when materials are added before and after it between pages", arguments: orders, [false, true])
    func paginationWithInserts(field: MaterialOrder.Field, descending: Bool) throws {
        let f = try MaterialFixture()
        let order = MaterialOrder(field, descending: descending)
        let firstPage = Array(f.expectedOrder(order).prefix(3))
        let pages = try f.allPages(order: order, first: 3) { fetched in
            guard fetched == 1 else { return }
            // One new material sorts first and one last in every ascending order.
            try f.add(
                .init(
                    lmsID: "n-first", title: "AAA warm-up", due: "2026-08-15T00:00:00.000Z",
                    state: .init(status: .successful, lastSyncedAt: at("2026-08-20T00:00:00.000Z"))))
            try f.add(
                .init(
                    lmsID: "n-last", title: "zzz wrap-up", due: "2027-01-20T00:00:00.000Z",
                    state: .init(status: .successful, lastSyncedAt: at("2026-12-20T00:00:00.000Z"))))
        }
        let seen = f.lmsIDs(pages.flatMap(\.items))
        let now = f.expectedOrder(order)
        #expect(Array(seen.prefix(3)) == firstPage)
        let cut = try #require(now.firstIndex(of: firstPage[2]))
        #expect(Array(seen.dropFirst(3)) == Array(now[(cut + 1)...]), "every row after the cursor, in order, none twice")
        #expect(Set(seen).count == seen.count)
        #expect(seen.contains("n-first") == descending)
        #expect(seen.contains("n-last") == !descending)
    }

    @Test("pages keep the grading-period, status and search filters")
    func paginationWithFilters() throws {
        let f = try MaterialFixture()
        let filter = MaterialFilter(gradingPeriodSourcedId: "gp-1", statuses: [.successful, .error, .optOut])
        let pages = try f.allPages(filter, order: MaterialOrder(.dueDate, descending: true), first: 2)
        #expect(f.lmsIDs(pages.flatMap(\.items)) == ["m02", "m09", "m08", "m01", "m05"])
        #expect(pages.map(\.hasNextPage) == [true, true, false])

        let searched = try f.allPages(MaterialFilter(search: "ab"), order: MaterialOrder(.title), first: 2)
        #expect(f.lmsIDs(searched.flatMap(\.items)) == f.expectedOrder(MaterialOrder(.title), of: ["m04", "m08", "m09", "m10", "m12"]))
    }

    @Test("a cursor of one ordering is refused by another")
    func cursorOfAnotherOrderingIsRefused() throws {
        let f = try MaterialFixture()
        let page = try f.store.queries.materials(ofSection: f.section, order: MaterialOrder(.title), first: 3, after: nil)
        let cursor = try #require(page.endCursor)
        for other in [MaterialOrder(.title, descending: true), MaterialOrder(.dueDate), MaterialOrder(.lastSyncedAt, descending: true)] {
            let error = #expect(throws: StoreError.self) {
                _ = try f.store.queries.materials(ofSection: f.section, order: other, first: 3, after: cursor)
            }
            #expect(error?.code == .badCursor)
        }
        let sectionsError = #expect(throws: StoreError.self) {
            _ = try APIReads(f.store.database).sections(
                connection: f.store.connection, scope: .teacher("t-1"), search: nil, school: nil, first: 3, after: cursor)
        }
        #expect(sectionsError?.code == .badCursor)
        let errorsError = #expect(throws: StoreError.self) {
            _ = try f.store.queries.syncErrors(connection: f.store.connection, rootOrg: "s-1", first: 3, after: cursor)
        }
        #expect(errorsError?.code == .badCursor)
    }

    static func base64url(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test(
        "a garbage cursor is refused",
        arguments: [
            "", "not a cursor", "%%%%", "bm90IGEgY3Vyc29y",
            base64url(#"{"o":"materials:title:asc"}"#),
            base64url(#"{"o":"materials:title:asc","k":"a","i":"seven"}"#),
            base64url(#"["materials:title:asc","a","1"]"#)
        ])
    func garbageCursorIsRefused(cursor: String) throws {
        let f = try MaterialFixture()
        let error = #expect(throws: StoreError.self) {
            _ = try f.store.queries.materials(ofSection: f.section, first: 3, after: cursor)
        }
        #expect(error?.code == .badCursor)
    }

    @Test("deleted materials are hidden unless asked for")
    func deletedMaterialsAreHidden() throws {
        let f = try MaterialFixture()
        try f.store.rawWrite("UPDATE material SET deleted_at = ? WHERE id = ?", ["2026-11-19T00:00:00.000Z", f.ids["m03"]!])

        let visible = try f.list()
        #expect(!visible.contains("m03"))
        #expect(visible.count == MaterialFixture.specs.count - 1)
        #expect(try f.list(MaterialFilter(search: "unit")).isEmpty)
        #expect(Set(try f.list(MaterialFilter(statuses: [.updatesAvailable]))) == ["m11"])

        let all = try f.store.queries.materials(ofSection: f.section, filter: MaterialFilter(includeDeleted: true), first: 100, after: nil).items
        let byLmsID = Dictionary(uniqueKeysWithValues: zip(f.lmsIDs(all), all))
        #expect(byLmsID.count == MaterialFixture.specs.count)
        #expect(byLmsID["m03"]?.deleted == true)
        #expect(byLmsID.values.filter(\.deleted).count == 1)
        #expect(try f.list(MaterialFilter(search: "unit", includeDeleted: true)) == ["m03"])
    }
}
