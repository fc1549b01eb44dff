import Foundation
import Testing

@testable import PassbackCore

@Suite("Vendor profiles")
struct VendorProfileTests {
    /// Seed 003's partner list, in its order and spelling.
    static let seedPartners = [
        "Infinite Campus", "Aeries", "Focus School Software", "Progressbook", "Skyward", "Synergy", "eSchool Data",
        "Follett Aspen", "SchoolTool", "Aequitas", "FACTS SIS"
    ]

    /// Whether `profile`'s field named `field` has the standard profile's value.
    static func sameAsStandard(_ profile: VendorProfile, _ field: String) -> Bool? {
        let s = VendorProfile.standard
        switch field {
        case "titleLimit": return profile.titleLimit == s.titleLimit
        case "categoryTitleLimit": return profile.categoryTitleLimit == s.categoryTitleLimit
        case "commentLimit": return profile.commentLimit == s.commentLimit
        case "dueDateRequired": return profile.dueDateRequired == s.dueDateRequired
        case "dueDateMustBeInGradingPeriod": return profile.dueDateMustBeInGradingPeriod == s.dueDateMustBeInGradingPeriod
        case "gradingPeriod": return profile.gradingPeriod == s.gradingPeriod
        case "uncategorized": return profile.uncategorized == s.uncategorized
        case "deleteSupported": return profile.deleteSupported == s.deleteSupported
        case "rateLimitSignal": return profile.rateLimitSignal == s.rateLimitSignal
        case "oauthVersion": return profile.oauthVersion == s.oauthVersion
        case "scopeRequired": return profile.scopeRequired == s.scopeRequired
        case "standardTokenURL": return profile.standardTokenURL == s.standardTokenURL
        default: return nil
        }
    }

    @Test("the standard profile comes first, then every seed partner by its exact display name")
    func displayNamesAreTheSeeds() {
        #expect(VendorProfile.all.first == VendorProfile.standard)
        #expect(VendorProfile.all.dropFirst().map(\.displayName) == Self.seedPartners)
        #expect(VendorProfile.standard.displayName == "Standard OneRoster 1.1")
    }

    @Test("ids are unique, lowercase letters and underscores")
    func idsAreUnique() {
        let ids = VendorProfile.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(Set(VendorProfile.all.map { $0.displayName.lowercased() }).count == ids.count)
        for id in ids { #expect(!id.isEmpty && id.utf8.allSatisfy { (97...122).contains($0) || $0 == 95 }, "bad id \(id)") }
        #expect(VendorProfile.standard.id == "standard")
    }

    @Test("the standard profile is plain OneRoster 1.1 and has no defaulted facts")
    func standardValues() {
        let s = VendorProfile.standard
        #expect(s.titleLimit == nil)
        #expect(s.categoryTitleLimit == nil)
        #expect(s.commentLimit == 100)
        #expect(s.dueDateRequired)
        #expect(s.dueDateMustBeInGradingPeriod)
        #expect(s.gradingPeriod == .send)
        #expect(s.uncategorized == .notSynced)
        #expect(s.deleteSupported)
        #expect(s.rateLimitSignal == .status429)
        #expect(s.oauthVersion == .oauth2)
        #expect(!s.scopeRequired)
        #expect(s.standardTokenURL)
        #expect(s.usesStandardDefaultFor.isEmpty)
    }

    @Test("every partner says which facts are defaulted, and those really are the standard's", arguments: seedPartners)
    func defaultsAreHonest(displayName: String) throws {
        let profile = try #require(VendorProfile.all.first { $0.displayName == displayName })
        #expect(!profile.usesStandardDefaultFor.isEmpty)
        #expect(profile.usesStandardDefaultFor.isSubset(of: Set(VendorProfile.factFields)))
        for field in profile.usesStandardDefaultFor {
            #expect(Self.sameAsStandard(profile, field) == true, "\(displayName).\(field) is marked defaulted but differs")
        }
        // A fact that differs from the standard must not be marked as a default.
        for field in VendorProfile.factFields where Self.sameAsStandard(profile, field) == false {
            #expect(!profile.usesStandardDefaultFor.contains(field))
        }
    }

    @Test("factFields names exactly the profile's fact fields")
    func factFieldsAreKnown() {
        #expect(VendorProfile.factFields.count == 12)
        for field in VendorProfile.factFields { #expect(Self.sameAsStandard(.standard, field) == true, "unknown field \(field)") }
    }

    @Test("Synergy syncs uncategorised items under a generic category, as seed 001 says")
    func synergyGenericCategory() {
        #expect(VendorProfile.synergy.uncategorized == .genericCategory(title: "General"))
        #expect(!VendorProfile.synergy.usesStandardDefaultFor.contains("uncategorized"))
        for profile in VendorProfile.all where profile.id != "synergy" { #expect(profile.uncategorized == .notSynced) }
    }

    @Test("limits are sane on every profile: comments 100 (seed 001), titles unlimited or positive", arguments: VendorProfile.all.map(\.id))
    func limits(id: String) throws {
        let profile = try #require(VendorProfile.named(id))
        #expect(profile.commentLimit == 100)
        #expect(profile.titleLimit.map { $0 > 0 } ?? true)
        #expect(profile.categoryTitleLimit.map { $0 > 0 } ?? true)
        #expect(!profile.usesStandardDefaultFor.contains("commentLimit"))
    }

    static let lookups: [(String, String?)] = [
        ("standard", "standard"), ("Standard OneRoster 1.1", "standard"), ("infinite_campus", "infinite_campus"),
        ("Infinite Campus", "infinite_campus"), ("INFINITE CAMPUS", "infinite_campus"), ("  aeries ", "aeries"),
        ("eschool data", "eschool_data"), ("FACTS SIS", "facts_sis"), ("facts_sis", "facts_sis"), ("Synergy", "synergy"),
        ("PowerSchool", nil), ("", nil), ("infinite", nil)
    ]

    @Test("named() finds a profile by id or display name, ignoring case", arguments: lookups)
    func named(query: String, expectedID: String?) {
        #expect(VendorProfile.named(query)?.id == expectedID)
    }

    @Test("every profile can be found by its own id and display name", arguments: VendorProfile.all.indices)
    func roundTripLookup(index: Int) {
        let profile = VendorProfile.all[index]
        #expect(VendorProfile.named(profile.id) == profile)
        #expect(VendorProfile.named(profile.displayName) == profile)
    }
}
