import Foundation
import OneRosterModels
import Testing

@testable import PassbackCore

@Suite("What a SIS write carries, and its fingerprint")
struct SISContentTests {
    static let lineItem = LineItemContent(
        sourcedId: "li-1", lmsMaterialID: "m-7", sectionSourcedId: "c-1", title: "Quiz 1 — ácido", description: nil,
        dueAt: Timestamp.date("2026-11-15T12:00:00.000Z"), categorySourcedId: "cat-9", gradingPeriodSourcedId: "gp-2", resultValueMax: 10)
    static let graded = ResultContent(
        sourcedId: "r-1", lineItemSourcedId: "li-1", studentSourcedId: "stu-3", scoreStatus: .fullyGraded, score: 9.5, scoreDay: day("2026-11-16"),
        comment: "Good work")
    static let exempt = ResultContent(
        sourcedId: "r-2", lineItemSourcedId: "li-1", studentSourcedId: "stu-4", scoreStatus: .exempt, score: nil, scoreDay: nil, comment: nil)
    static let category = CategoryContent(sourcedId: "cat-g", title: "Passback")

    // The digests were computed outside Swift, by Python's hashlib, from the documented layout
    // (the kind, then per field U+001E and U+001F + text, or U+001E U+0000 for nil; SHA-256, the
    // first 16 bytes in hex). The outbox compares them with what the SIS accepted under earlier
    // versions: a change here would resend every item of every section after an upgrade.
    @Test("fingerprints are the digests earlier versions stored")
    func storedDigests() {
        #expect(Self.lineItem.fingerprint == "6b6f757eb547d1d57f77a12fa0e65b4b")
        #expect(Self.graded.fingerprint == "2b6e9789979035b4383c38fdf3eeb2c5")
        #expect(Self.exempt.fingerprint == "08fcac17004f38edd4db7d20a6999810")
        #expect(Self.category.fingerprint == "f1fa4395feb53c00264baaaf6a5ad945")
    }

    @Test("the lineItem PUT is exactly the content: every field in its place, the due instant as both dates")
    func lineItemModel() {
        let json = Self.lineItem.model.json
        #expect(json["sourcedId"]?.stringValue == "li-1")
        #expect(json["status"]?.stringValue == "active")
        #expect(json["title"]?.stringValue == "Quiz 1 — ácido")
        #expect(json["description"] == nil)
        #expect(json["assignDate"]?.stringValue == "2026-11-15T12:00:00Z")
        #expect(json["dueDate"]?.stringValue == "2026-11-15T12:00:00Z")
        #expect(json["class"]?.objectValue?["sourcedId"]?.stringValue == "c-1")
        #expect(json["category"]?.objectValue?["sourcedId"]?.stringValue == "cat-9")
        #expect(json["gradingPeriod"]?.objectValue?["sourcedId"]?.stringValue == "gp-2")
        #expect(json["resultValueMin"]?.numberValue == 0)
        #expect(json["resultValueMax"]?.numberValue == 10)
        #expect(json["metadata"]?.objectValue?["passback.lmsMaterialId"]?.stringValue == "m-7")
        #expect(json["metadata"]?.objectValue?["passback.section"]?.stringValue == "c-1")
    }

    @Test("the result PUT is exactly the content; an exempt result carries no score, day or comment")
    func resultModel() {
        let json = Self.graded.model.json
        #expect(json["lineItem"]?.objectValue?["sourcedId"]?.stringValue == "li-1")
        #expect(json["student"]?.objectValue?["sourcedId"]?.stringValue == "stu-3")
        #expect(json["scoreStatus"]?.stringValue == "fully graded")
        #expect(json["score"]?.numberValue == 9.5)
        #expect(json["scoreDate"]?.stringValue == "2026-11-16")
        #expect(json["comment"]?.stringValue == "Good work")
        let exempt = Self.exempt.model.json
        #expect(exempt["scoreStatus"]?.stringValue == "exempt")
        #expect(exempt["score"] == nil && exempt["scoreDate"] == nil && exempt["comment"] == nil)
        #expect(Self.category.model.json["title"]?.stringValue == "Passback")
        #expect(Self.category.model.json["metadata"]?.objectValue?["passback.generic"] == .bool(true))
    }

    @Test("every field the PUT carries moves the fingerprint, and the PUT with it")
    func everyFieldCounts() {
        let l = Self.lineItem
        func item(
            title: String? = nil, description: String?? = nil, due: Date?? = nil, category: String?? = nil, period: String?? = nil, max: Double? = nil,
            material: String? = nil, section: String? = nil
        ) -> LineItemContent {
            LineItemContent(
                sourcedId: l.sourcedId, lmsMaterialID: material ?? l.lmsMaterialID, sectionSourcedId: section ?? l.sectionSourcedId,
                title: title ?? l.title, description: description ?? l.description, dueAt: due ?? l.dueAt,
                categorySourcedId: category ?? l.categorySourcedId, gradingPeriodSourcedId: period ?? l.gradingPeriodSourcedId,
                resultValueMax: max ?? l.resultValueMax)
        }
        let variants = [
            item(title: "Quiz 1"), item(description: .some("Bring a calculator")), item(due: .some(nil)), item(category: .some(nil)),
            item(period: .some("gp-3")), item(max: 10.5), item(material: "m-8"), item(section: "c-2")
        ]
        for v in variants {
            #expect(v.fingerprint != l.fingerprint)
            #expect(v.model.json != l.model.json)
        }
        #expect(Set(variants.map(\.fingerprint)).count == variants.count)
        #expect(item().fingerprint == l.fingerprint, "the same content, the same fingerprint")
    }
}
