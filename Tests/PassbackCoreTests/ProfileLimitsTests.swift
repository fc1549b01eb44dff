import Foundation
import Testing

@testable import PassbackCore

@Suite("A connection's overrides of its vendor profile's limits")
struct ProfileLimitsTests {
    static func plan(
        _ material: MaterialInfo = Fixture.material, grades: [GradeInfo] = [], limits: ProfileLimits,
        profile: VendorProfile = .standard
    ) -> ItemPlan {
        Validation.plan(material: material, grades: grades, section: Fixture.section, profile: limits.applied(to: profile))
    }

    @Test("a title limit the standard profile lacks: a 60-character title is an item problem naming the limit")
    func titleLimit() {
        var material = Fixture.material
        material.title = String(repeating: "t", count: 60)
        #expect(Self.plan(material, limits: ProfileLimits()).problems.isEmpty, "the standard profile has no title limit")
        let plan = Self.plan(material, limits: ProfileLimits(titleLimit: 50))
        #expect(plan.blocked)
        #expect(plan.problems.map(\.code) == [.titleTooLong])
        #expect(plan.problems.first?.message.contains("accepts at most 50") == true)
        #expect(!Self.plan(material, limits: ProfileLimits(titleLimit: 60)).blocked, "exactly at the limit is fine")
    }

    @Test("a comment limit cuts comments to it, with the warning")
    func commentLimit() {
        let plan = Self.plan(
            grades: [GradeInfo(studentSourcedId: "s1", score: 5, comment: String(repeating: "c", count: 30))],
            limits: ProfileLimits(commentLimit: 20))
        #expect(plan.results.first?.comment?.count == 20)
        #expect(plan.problems.map(\.code) == [.commentTooLong])
        #expect(plan.problems.first?.message.contains("accepts 20") == true)
    }

    @Test("a due date can be made optional, or required where the profile does not require it")
    func dueDateRequired() {
        var material = Fixture.material
        material.dueAt = nil
        #expect(Self.plan(material, limits: ProfileLimits()).problems.map(\.code) == [.dueDateMissing])
        #expect(Self.plan(material, limits: ProfileLimits(dueDateRequired: false)).problems.isEmpty)
        var lenient = VendorProfile.standard
        lenient.dueDateRequired = false
        #expect(Self.plan(material, limits: ProfileLimits(dueDateRequired: true), profile: lenient).problems.map(\.code) == [.dueDateMissing])
    }

    @Test("a generic category can be named, or turned off")
    func genericCategory() {
        var material = Fixture.material
        material.lmsCategoryID = nil
        let named = Self.plan(material, limits: ProfileLimits(genericCategory: "Misc"))
        #expect(named.problems.isEmpty)
        #expect(named.sisCategory == Validation.genericCategory(connection: "demo", title: "Misc"))
        let off = Self.plan(material, limits: ProfileLimits(genericCategory: ""), profile: .synergy)
        #expect(off.problems.map(\.code) == [.uncategorized], "an empty title turns Synergy's generic category off")
    }

    @Test("an overridden field is the district's fact, no longer a defaulted guess; the rest stays as it was")
    func overriddenFieldsAreFacts() {
        let p = ProfileLimits(titleLimit: 40, dueDateRequired: false).applied(to: .aeries)
        #expect(p.titleLimit == 40 && !p.dueDateRequired)
        #expect(!p.usesStandardDefaultFor.contains("titleLimit") && !p.usesStandardDefaultFor.contains("dueDateRequired"))
        #expect(p.usesStandardDefaultFor.contains("categoryTitleLimit"))
        #expect(ProfileLimits().applied(to: .aeries) == .aeries)
        #expect(ProfileLimits().isEmpty && !ProfileLimits(commentLimit: 100).isEmpty)
    }

    @Test(
        "bad overrides are named with their key",
        arguments: [
            (ProfileLimits(titleLimit: 0), "connection.x.titleLimit must be a whole number of characters from 1"),
            (ProfileLimits(commentLimit: -5), "connection.x.commentLimit"),
            (ProfileLimits(categoryTitleLimit: 200_000), "connection.x.categoryTitleLimit"),
            (ProfileLimits(genericCategory: " Misc"), "connection.x.genericCategory must not start or end with spaces"),
            (
                ProfileLimits(categoryTitleLimit: 5, genericCategory: "Uncategorized"),
                "'Uncategorized' has 13 characters but connection.x.categoryTitleLimit is 5"
            )
        ])
    func problems(limits: ProfileLimits, mentions: String) {
        let problems = limits.problems(on: .standard, keyPrefix: "connection.x.")
        #expect(problems.count == 1)
        #expect(problems.first?.contains(mentions) == true, "\(problems)")
    }

    @Test("a category title limit is checked against the profile's own generic category too")
    func categoryLimitAgainstProfile() {
        #expect(ProfileLimits(categoryTitleLimit: 3).problems(on: .synergy, keyPrefix: "k.").first?.contains("'General' has 7 characters") == true)
        #expect(ProfileLimits(categoryTitleLimit: 7).problems(on: .synergy, keyPrefix: "k.").isEmpty)
        #expect(
            ProfileLimits(titleLimit: 50, commentLimit: 255, dueDateRequired: true, genericCategory: "Misc").problems(on: .standard, keyPrefix: "k.").isEmpty)
    }
}
