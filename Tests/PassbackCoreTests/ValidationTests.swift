import Foundation
import OneRosterModels
import Testing

@testable import PassbackCore

/// A section and material that pass every rule; each test changes one thing.
enum Fixture {
    static let homework = SISCategoryRef(sourcedId: "sis-cat-hw", title: "Homework")
    static let q1 = GradingPeriodInfo(sourcedId: "gp-q1", title: "Q1", startDay: day("2026-08-17"), endDay: day("2026-10-16"))
    static let q2 = GradingPeriodInfo(sourcedId: "gp-q2", title: "Q2", startDay: day("2026-10-19"), endDay: day("2026-12-18"))

    static let section = SectionInfo(
        connectionID: "demo", sectionSourcedId: "sec-1", configured: true, categoryMap: ["lms-hw": homework], gradingPeriods: [q1, q2],
        enrolledStudents: ["s1", "s2", "s3"], courseTitleCounts: ["quiz 1": 1, "essay": 1])

    static let material = MaterialInfo(
        lmsID: "m-1", title: "Quiz 1", dueAt: utc("2026-09-10T15:00Z"), lmsCategoryID: "lms-hw", maxPoints: 10, syncToSIS: true, deleted: false,
        lmsCategoryTitle: "Homework (LMS)")

    /// A profile like the standard but with the many-SIS 50-character title limit.
    static let limited: VendorProfile = {
        var p = VendorProfile.standard
        p.titleLimit = 50
        return p
    }()

    static func plan(
        _ material: MaterialInfo = material, grades: [GradeInfo] = [], section: SectionInfo = section, profile: VendorProfile = limited
    ) -> ItemPlan {
        Validation.plan(material: material, grades: grades, section: section, profile: profile)
    }
}

@Suite("Validation rules")
struct ValidationTests {
    @Test("a material that passes every rule is planned whole")
    func happyPath() {
        let grades = [
            GradeInfo(studentSourcedId: "s2", score: 7.5, comment: "Good"), GradeInfo(studentSourcedId: "s1", exception: .excused)
        ]
        let plan = Fixture.plan(grades: grades)
        let lineItem = SourcedIDs.lineItem(connection: "demo", materialLmsID: "m-1", sectionSourcedId: "sec-1")
        #expect(plan.problems.isEmpty)
        #expect(!plan.blocked)
        #expect(plan.lineItemSourcedId == lineItem)
        #expect(plan.sisCategory == Fixture.homework)
        #expect(plan.gradingPeriodSourcedId == "gp-q1")
        #expect(
            plan.results == [
                PlannedResult(
                    sourcedId: SourcedIDs.result(lineItemSourcedId: lineItem, studentSourcedId: "s1"), studentSourcedId: "s1", scoreStatus: .exempt,
                    score: nil, comment: nil),
                PlannedResult(
                    sourcedId: SourcedIDs.result(lineItemSourcedId: lineItem, studentSourcedId: "s2"), studentSourcedId: "s2",
                    scoreStatus: .fullyGraded, score: 7.5, comment: "Good")
            ])
    }

    /// One item-level rule, broken one way.
    struct RuleCase: Sendable, CustomTestStringConvertible {
        var name: String
        var material: MaterialInfo
        var section: SectionInfo
        var profile: VendorProfile
        var expected: [ProblemCode]
        var testDescription: String { name }

        init(
            _ name: String, material: MaterialInfo = Fixture.material, section: SectionInfo = Fixture.section, profile: VendorProfile = Fixture.limited,
            expected: [ProblemCode]
        ) {
            self.name = name
            self.material = material
            self.section = section
            self.profile = profile
            self.expected = expected
        }
    }

    static func material(_ change: (inout MaterialInfo) -> Void) -> MaterialInfo {
        var m = Fixture.material
        change(&m)
        return m
    }

    static func section(_ change: (inout SectionInfo) -> Void) -> SectionInfo {
        var s = Fixture.section
        change(&s)
        return s
    }

    static func profile(_ change: (inout VendorProfile) -> Void) -> VendorProfile {
        var p = Fixture.limited
        change(&p)
        return p
    }

    static let rules: [RuleCase] = [
        RuleCase(
            "section never configured",
            section: section {
                $0.configured = false; $0.categoryMap = [:]
            }, expected: [.sectionNotConfigured]),
        RuleCase("duplicate title", section: section { $0.courseTitleCounts["quiz 1"] = 2 }, expected: [.titleNotUnique]),
        RuleCase(
            "duplicate title differing in case and spacing", material: material { $0.title = "  QUIZ   1 " },
            section: section { $0.courseTitleCounts["quiz 1"] = 2 }, expected: [.titleNotUnique]),
        RuleCase("title counted once is unique", section: section { $0.courseTitleCounts["quiz 1"] = 1 }, expected: []),
        RuleCase("title missing from the counts is unique", section: section { $0.courseTitleCounts = [:] }, expected: []),
        RuleCase("title of 51 characters over a 50 limit", material: material { $0.title = String(repeating: "x", count: 51) }, expected: [.titleTooLong]),
        RuleCase("title of exactly 50 characters", material: material { $0.title = String(repeating: "x", count: 50) }, expected: []),
        RuleCase("title limit counts characters, not bytes", material: material { $0.title = String(repeating: "é👩‍👩‍👧", count: 25) }, expected: []),
        RuleCase(
            "no title limit in the standard profile", material: material { $0.title = String(repeating: "x", count: 500) }, profile: .standard, expected: []),
        RuleCase("due date missing", material: material { $0.dueAt = nil }, expected: [.dueDateMissing]),
        RuleCase("due date missing where not required", material: material { $0.dueAt = nil }, profile: profile { $0.dueDateRequired = false }, expected: []),
        RuleCase("due date between two grading periods", material: material { $0.dueAt = utc("2026-10-17T12:00Z") }, expected: [.dueDateOutsideGradingPeriod]),
        RuleCase("due date before the term", material: material { $0.dueAt = utc("2026-08-16T23:59:59Z") }, expected: [.dueDateOutsideGradingPeriod]),
        RuleCase("due date after the term", material: material { $0.dueAt = utc("2026-12-19T00:00Z") }, expected: [.dueDateOutsideGradingPeriod]),
        RuleCase("due date on a period's first day", material: material { $0.dueAt = utc("2026-08-17T00:00Z") }, expected: []),
        RuleCase("due date late on a period's last day (UTC)", material: material { $0.dueAt = utc("2026-12-18T23:59:59Z") }, expected: []),
        RuleCase("no grading periods rostered", section: section { $0.gradingPeriods = [] }, expected: [.dueDateOutsideGradingPeriod]),
        RuleCase(
            "outside any period when the SIS derives it but checks it", material: material { $0.dueAt = utc("2027-01-05T00:00Z") },
            profile: profile { $0.gradingPeriod = .sisDerives }, expected: [.dueDateOutsideGradingPeriod]),
        RuleCase(
            "outside any period when we must send one though the SIS does not check", material: material { $0.dueAt = utc("2027-01-05T00:00Z") },
            profile: profile { $0.dueDateMustBeInGradingPeriod = false }, expected: [.dueDateOutsideGradingPeriod]),
        RuleCase(
            "outside any period is fine when the SIS derives and does not check", material: material { $0.dueAt = utc("2027-01-05T00:00Z") },
            profile: profile {
                $0.dueDateMustBeInGradingPeriod = false; $0.gradingPeriod = .sisDerives
            }, expected: []),
        RuleCase("category not in the map", material: material { $0.lmsCategoryID = "lms-labs" }, expected: [.categoryUnmapped]),
        RuleCase("no category", material: material { $0.lmsCategoryID = nil }, expected: [.uncategorized]),
        RuleCase("an empty category id is no category", material: material { $0.lmsCategoryID = "" }, expected: [.uncategorized]),
        RuleCase("no category under a generic-category SIS", material: material { $0.lmsCategoryID = nil }, profile: .synergy, expected: []),
        RuleCase(
            "unconfigured section does not also report its empty map",
            section: section {
                $0.configured = false; $0.categoryMap = [:]
            }, expected: [.sectionNotConfigured]),
        RuleCase(
            "unconfigured section still reports a missing category",
            material: material { $0.lmsCategoryID = nil }, section: section { $0.configured = false }, expected: [.sectionNotConfigured, .uncategorized]),
        RuleCase(
            "every item-level error at once, in rule order",
            material: material {
                $0.title = "  quiz 1" + String(repeating: "!", count: 60); $0.dueAt = nil; $0.lmsCategoryID = nil
            },
            section: section {
                $0.configured = false; $0.courseTitleCounts = [Validation.titleKey("quiz 1" + String(repeating: "!", count: 60)): 3]
            },
            expected: [.sectionNotConfigured, .titleNotUnique, .titleTooLong, .dueDateMissing, .uncategorized]),
        RuleCase(
            "title, date and category errors together",
            material: material {
                $0.title = String(repeating: "y", count: 60); $0.dueAt = utc("2027-06-01T00:00Z"); $0.lmsCategoryID = "nope"
            },
            expected: [.titleTooLong, .dueDateOutsideGradingPeriod, .categoryUnmapped])
    ]

    @Test("each item-level rule reports its code and blocks the item", arguments: rules)
    func itemRule(_ c: RuleCase) {
        let plan = Validation.plan(material: c.material, grades: [GradeInfo(studentSourcedId: "s1", score: 1)], section: c.section, profile: c.profile)
        #expect(plan.problems.map(\.code) == c.expected)
        #expect(plan.blocked == !c.expected.isEmpty)
        #expect(plan.results.isEmpty == !c.expected.isEmpty, "a blocked item sends nothing, an unblocked one sends its result")
        #expect(plan.problems.allSatisfy { $0.studentSourcedId == nil })
        #expect(plan.problems.allSatisfy { !$0.message.isEmpty && $0.field != nil })
    }

    @Test("opted-out and deleted materials are blocked silently", arguments: [(false, false), (true, true), (false, true)])
    func optedOutOrDeleted(syncToSIS: Bool, deleted: Bool) {
        // Broken every way, to show that no rule is even looked at.
        let material = Self.material {
            $0.syncToSIS = syncToSIS; $0.deleted = deleted; $0.dueAt = nil; $0.lmsCategoryID = "nope"
        }
        let plan = Fixture.plan(material, grades: [GradeInfo(studentSourcedId: "s1", score: 3)], section: Self.section { $0.configured = false })
        #expect(plan.blocked)
        #expect(plan.problems.isEmpty)
        #expect(plan.results.isEmpty)
        #expect(plan.lineItemSourcedId == SourcedIDs.lineItem(connection: "demo", materialLmsID: "m-1", sectionSourcedId: "sec-1"))
    }

    @Test("messages name the concrete limit, dates and category")
    func messagesAreConcrete() {
        let long = Fixture.plan(Self.material { $0.title = String(repeating: "t", count: 62) }, profile: Self.profile { $0.displayName = "Aeries" })
        #expect(long.problems.first?.message.contains("62 characters; Aeries accepts at most 50") == true)
        let outside = Fixture.plan(Self.material { $0.dueAt = utc("2026-10-17T12:00Z") })
        #expect(outside.problems.first?.message.contains("2026-10-17") == true)
        #expect(outside.problems.first?.message.contains("Q1 (2026-08-17 to 2026-10-16), Q2 (2026-10-19 to 2026-12-18)") == true)
        let unmapped = Fixture.plan(
            Self.material {
                $0.lmsCategoryID = "lms-labs"; $0.lmsCategoryTitle = "Labs"
            })
        #expect(unmapped.problems.first?.message.contains("“Labs”") == true)
    }

    // MARK: grading period and category resolution

    @Test("the grading period sent is the one containing the due date's UTC day")
    func gradingPeriodChoice() {
        #expect(Fixture.plan(Self.material { $0.dueAt = utc("2026-11-02T10:00Z") }).gradingPeriodSourcedId == "gp-q2")
        #expect(Fixture.plan(Self.material { $0.dueAt = utc("2026-10-16T23:59:59Z") }).gradingPeriodSourcedId == "gp-q1")
        #expect(Fixture.plan(profile: Self.profile { $0.gradingPeriod = .sisDerives }).gradingPeriodSourcedId == nil)
        #expect(Fixture.plan(Self.material { $0.dueAt = nil }, profile: Self.profile { $0.dueDateRequired = false }).gradingPeriodSourcedId == nil)
    }

    @Test("overlapping periods: the one that ends first wins, whatever the input order")
    func overlappingPeriods() {
        let year = GradingPeriodInfo(sourcedId: "gp-year", title: "Year", startDay: day("2026-08-01"), endDay: day("2027-06-30"))
        let s1 = GradingPeriodInfo(sourcedId: "gp-s1", title: "S1", startDay: day("2026-08-01"), endDay: day("2026-12-20"))
        let s2 = GradingPeriodInfo(sourcedId: "gp-s2", title: "S2", startDay: day("2026-12-20"), endDay: day("2027-05-30"))
        let due = utc("2026-12-20T12:00Z")
        for periods in [[year, s1, s2], [s2, s1, year], [s1, year, s2]] {
            #expect(Validation.gradingPeriod(containing: due, in: periods)?.sourcedId == "gp-s1")
        }
        #expect(Validation.gradingPeriod(containing: utc("2026-12-21T00:00Z"), in: [year, s1, s2])?.sourcedId == "gp-s2")
    }

    @Test("an uncategorised item under a generic-category SIS goes under the connection's generic category")
    func genericCategory() {
        let plan = Fixture.plan(Self.material { $0.lmsCategoryID = nil }, profile: .synergy)
        let expected = Validation.genericCategory(connection: "demo", title: "General")
        #expect(plan.sisCategory == expected)
        #expect(expected.sourcedId == SourcedIDs.genericCategory(connection: "demo", title: "General"))
        #expect(expected.sourcedId != Validation.genericCategory(connection: "other", title: "General").sourcedId)
        #expect(!plan.blocked)
    }

    static let titleKeys: [(String, String)] = [
        ("Quiz 1", "quiz 1"), ("  quiz  1 ", "quiz 1"), ("QUIZ\t1\n", "quiz 1"), ("Quiz\u{00A0}1", "quiz 1"), ("Essay", "essay"),
        ("Ünit Tëst", "ünit tëst"), ("", "")
    ]

    @Test("title keys ignore case and spacing", arguments: titleKeys)
    func titleKey(title: String, key: String) {
        #expect(Validation.titleKey(title) == key)
    }

    @Test("composed and decomposed accents are the same title")
    func unicodeTitles() {
        #expect(Validation.titleKey("Caf\u{E9}") == Validation.titleKey("Cafe\u{301}"))
        let counts = [Validation.titleKey("Caf\u{E9}"): 2]
        let plan = Fixture.plan(Self.material { $0.title = "Cafe\u{301}" }, section: Self.section { $0.courseTitleCounts = counts })
        #expect(plan.problems.map(\.code) == [.titleNotUnique])
    }

    // MARK: results

    @Test("a grade for a student not enrolled fails alone; the others go")
    func notEnrolled() {
        let grades = [GradeInfo(studentSourcedId: "s1", score: 5), GradeInfo(studentSourcedId: "ghost", score: 9), GradeInfo(studentSourcedId: "s2", score: 6)]
        let plan = Fixture.plan(grades: grades)
        #expect(!plan.blocked)
        #expect(plan.problems.map(\.code) == [.studentNotEnrolled])
        #expect(plan.problems.first?.studentSourcedId == "ghost")
        #expect(plan.results.map(\.studentSourcedId) == ["s1", "s2"])
    }

    @Test("in a linked course, another section's student is sent there and is no problem here; a student of no linked section is reported by one section only")
    func linkedSections() {
        let linked = Self.section {
            $0.otherLinkedSections = ["sec-2"]
            $0.otherLinkedStudents = ["s3", "t1", "t2"] // s3 is in both sections
        }
        let grades = ["s1", "t1", "s3", "ghost", "t2"].map { GradeInfo(studentSourcedId: $0, score: 5) }
        let reporting = Validation.plan(material: Fixture.material, grades: grades, section: linked, profile: Fixture.limited)
        #expect(reporting.results.map(\.studentSourcedId) == ["s1", "s3"])
        #expect(reporting.problems.map(\.code) == [.studentNotEnrolled])
        #expect(reporting.problems.first?.studentSourcedId == "ghost")
        #expect(reporting.problems.first?.message.contains("other section linked to this course (sec-2)") == true)
        let other = Validation.plan(material: Fixture.material, grades: grades, section: linked, profile: Fixture.limited, reportsUnenrolled: false)
        #expect(other.results.map(\.studentSourcedId) == ["s1", "s3"])
        #expect(other.problems.isEmpty)
        #expect(!other.blocked)
    }

    static let badScores: [Double] = [.nan, .infinity, -.infinity, -0.5, -100]

    @Test("a score that is not finite or is negative fails that result only", arguments: badScores)
    func invalidScore(score: Double) {
        let plan = Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", score: score), GradeInfo(studentSourcedId: "s2", score: 4)])
        #expect(!plan.blocked)
        #expect(plan.problems.map(\.code) == [.scoreInvalid])
        #expect(plan.problems.first?.studentSourcedId == "s1")
        #expect(plan.problems.first?.field == "score")
        #expect(plan.results.map(\.studentSourcedId) == ["s2"])
    }

    static let goodScores: [Double] = [0, -0.0, 0.5, 10, 12.5, 100]

    @Test("zero, fractions and extra credit are valid scores", arguments: goodScores)
    func validScore(score: Double) {
        let plan = Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", score: score)])
        #expect(plan.problems.isEmpty)
        #expect(plan.results.first?.score == score)
    }

    static let highScores: [(Double, Bool)] = [(100, false), (100.5, true), (1e6, true), (1e308, true), (.greatestFiniteMagnitude, true)]

    @Test("a score above 10× the maximum is sent as it is, with a SCORE_UNUSUALLY_HIGH warning", arguments: highScores)
    func unusuallyHighScore(score: Double, warned: Bool) throws {
        let plan = Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", score: score), GradeInfo(studentSourcedId: "s2", score: 4)])
        #expect(!plan.blocked)
        #expect(plan.results.map(\.score) == [score, 4], "extra credit is sent whatever its size")
        #expect(plan.problems.map(\.code) == (warned ? [.scoreUnusuallyHigh] : []))
        if warned {
            #expect(plan.problems[0].severity == .warning)
            #expect(plan.problems[0].studentSourcedId == "s1")
            #expect(plan.problems[0].field == "score")
            #expect(plan.warnings.map(\.code) == [.scoreUnusuallyHigh] && plan.errors.isEmpty)
        }
    }

    @Test("the multiple is the profile's, and an item without maximum points is never flagged")
    func unusuallyHighScoreMultipleAndNoMaximum() {
        let strict = Self.profile { $0.scoreWarningMultiple = 2 }
        #expect(Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", score: 21)], profile: strict).problems.map(\.code) == [.scoreUnusuallyHigh])
        #expect(Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", score: 20)], profile: strict).problems.isEmpty)
        #expect(VendorProfile.standard.scoreWarningMultiple == 10)
        for max in [nil, 0] as [Double?] {
            var material = Fixture.material
            material.maxPoints = max
            #expect(Fixture.plan(material, grades: [GradeInfo(studentSourcedId: "s1", score: 1e308)]).problems.isEmpty, "max \(String(describing: max))")
        }
    }

    @Test("a grade with neither score nor exception is not sent and is not a problem")
    func ungraded() {
        let plan = Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", comment: "see me"), GradeInfo(studentSourcedId: "ghost")])
        #expect(plan.problems.isEmpty)
        #expect(plan.results.isEmpty)
        #expect(!plan.blocked)
    }

    static let exceptionRows: [(GradeException?, Double?, ResultScoreStatus)] = [
        (.excused, nil, .exempt), (.incomplete, 3, .partiallyGraded), (.missing, 0, .notSubmitted), (.missing, nil, .notSubmitted), (nil, 8, .fullyGraded)
    ]

    @Test("exceptions are sent as their mapped scoreStatus, with the score if any", arguments: exceptionRows)
    func exceptions(exception: GradeException?, score: Double?, status: ResultScoreStatus) {
        let plan = Fixture.plan(grades: [GradeInfo(studentSourcedId: "s3", score: score, exception: exception)])
        #expect(plan.results.count == 1)
        #expect(plan.results.first?.scoreStatus == status)
        #expect(plan.results.first?.score == score)
    }

    static let comments: [(Int, Bool)] = [(0, false), (99, false), (100, false), (101, true), (250, true)]

    @Test("a comment over the limit is cut to it with a warning; the grade still goes", arguments: comments)
    func commentLimit(length: Int, warned: Bool) throws {
        let comment = String(repeating: "é", count: length)
        let plan = Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", score: 5, comment: comment)])
        #expect(!plan.blocked)
        let result = try #require(plan.results.first)
        #expect(result.comment == String(repeating: "é", count: min(length, 100)))
        #expect(plan.problems.map(\.code) == (warned ? [.commentTooLong] : []))
        if warned {
            #expect(plan.problems[0].severity == .warning)
            #expect(plan.problems[0].studentSourcedId == "s1")
            #expect(plan.problems[0].message.contains("\(length) characters"))
        }
    }

    @Test("the comment limit is the profile's")
    func profileCommentLimit() {
        let plan = Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", score: 5, comment: "abcdefgh")], profile: Self.profile { $0.commentLimit = 5 })
        #expect(plan.results.first?.comment == "abcde")
        #expect(plan.problems.map(\.code) == [.commentTooLong])
    }

    @Test("a blocked item sends no result but still lists per-result problems after the item-level ones")
    func blockedStillListsResultProblems() {
        let grades = [GradeInfo(studentSourcedId: "s2", score: -1), GradeInfo(studentSourcedId: "ghost", score: 1), GradeInfo(studentSourcedId: "s1", score: 1)]
        let plan = Fixture.plan(Self.material { $0.dueAt = nil }, grades: grades)
        #expect(plan.blocked)
        #expect(plan.results.isEmpty)
        #expect(plan.problems.map(\.code) == [.dueDateMissing, .studentNotEnrolled, .scoreInvalid])
        #expect(plan.problems.map(\.studentSourcedId) == [nil, "ghost", "s2"])
        #expect(plan.sisCategory == Fixture.homework, "the dry run still shows the category it would use")
    }

    @Test("plans are the same whatever the order of the grades; the last grade of a student wins")
    func deterministic() {
        let grades = [
            GradeInfo(studentSourcedId: "s3", score: 1), GradeInfo(studentSourcedId: "ghost", score: 1), GradeInfo(studentSourcedId: "s1", score: -2),
            GradeInfo(studentSourcedId: "s2", score: 2)
        ]
        let plan = Fixture.plan(grades: grades)
        #expect(Fixture.plan(grades: grades.reversed()) == plan)
        #expect(plan.results.map(\.studentSourcedId) == ["s2", "s3"])
        let twice = Fixture.plan(grades: [GradeInfo(studentSourcedId: "s1", score: 1), GradeInfo(studentSourcedId: "s1", score: 9)])
        #expect(twice.results.map(\.score) == [9])
    }

    @Test("errors and warnings are split for display")
    func errorsAndWarnings() {
        let plan = Fixture.plan(
            grades: [GradeInfo(studentSourcedId: "s1", score: 1, comment: String(repeating: "c", count: 120)), GradeInfo(studentSourcedId: "x", score: 1)])
        #expect(plan.errors.map(\.code) == [.studentNotEnrolled])
        #expect(plan.warnings.map(\.code) == [.commentTooLong])
    }
}
