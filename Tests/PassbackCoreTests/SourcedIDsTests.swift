import Foundation
import Testing

@testable import PassbackCore

@Suite("Deterministic sourcedIds")
struct SourcedIDsTests {
    /// (namespace, name, expected) from Python's `uuid.uuid5`, the RFC 4122 reference.
    static let references: [(String, String, String)] = [
        ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", "886313e1-3b8a-5372-9b90-0c9aee199e5d"),
        ("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "https://example.org/é", "4db32f13-2b90-551e-bb13-4c966035961b")
    ]

    @Test("uuidV5 matches Python's uuid.uuid5", arguments: references)
    func uuidV5MatchesReference(namespace: String, name: String, expected: String) throws {
        let ns = try #require(UUID(uuidString: namespace))
        #expect(SourcedIDs.uuidV5(namespace: ns, name: name).uuidString.lowercased() == expected)
    }

    @Test("uuidV5 sets version 5 and the RFC 4122 variant")
    func versionAndVariant() {
        for name in ["", "a", "lineItem", String(repeating: "x", count: 1000)] {
            let u = SourcedIDs.uuidV5(namespace: SourcedIDs.namespace, name: name).uuid
            #expect(u.6 >> 4 == 5)
            #expect(u.8 >> 6 == 0b10)
        }
    }

    @Test("the namespace is the one every id ever sent was derived from")
    func namespaceNeverChanges() {
        #expect(SourcedIDs.namespace.uuidString.lowercased() == "3c6e0b52-8f41-4d2a-9b17-5ec4702da986")
    }

    @Test("lineItem, result and generic category ids match an independent Python derivation")
    func goldenIDs() {
        let lineItem = SourcedIDs.lineItem(connection: "demo", materialLmsID: "m-17", sectionSourcedId: "sec-1001")
        #expect(lineItem == "01e8b25b-c846-5d89-b00f-55a70285eb70")
        #expect(SourcedIDs.result(lineItemSourcedId: lineItem, studentSourcedId: "stu-042") == "6b01ebc5-05e5-5611-bed1-377c3f541317")
        #expect(SourcedIDs.genericCategory(connection: "demo", title: "General") == "33ab2ce9-9657-5aa6-9edc-f64b6e38161e")
        // Lengths are UTF-8 bytes, not characters.
        #expect(SourcedIDs.lineItem(connection: "dé", materialLmsID: "m", sectionSourcedId: "s") == "b26a7e9a-d55b-574c-b45d-c0d91c6e75ea")
    }

    @Test("ids are lowercase and stable across calls")
    func lowercaseAndStable() {
        let a = SourcedIDs.lineItem(connection: "C", materialLmsID: "M", sectionSourcedId: "S")
        #expect(a == a.lowercased())
        #expect(a == SourcedIDs.lineItem(connection: "C", materialLmsID: "M", sectionSourcedId: "S"))
        let r = SourcedIDs.result(lineItemSourcedId: a, studentSourcedId: "STU")
        #expect(r == r.lowercased())
        #expect(UUID(uuidString: r) != nil)
    }

    @Test("fields containing the separator cannot be confused")
    func separatorsCannotCollide() {
        #expect(
            SourcedIDs.lineItem(connection: "a:b", materialLmsID: "c", sectionSourcedId: "s")
                != SourcedIDs.lineItem(connection: "a", materialLmsID: "b:c", sectionSourcedId: "s"))
        #expect(
            SourcedIDs.lineItem(connection: "c", materialLmsID: "a:b", sectionSourcedId: "s")
                != SourcedIDs.lineItem(connection: "c", materialLmsID: "a", sectionSourcedId: "b:s"))
        #expect(
            SourcedIDs.lineItem(connection: "a\u{0}b", materialLmsID: "c", sectionSourcedId: "s")
                != SourcedIDs.lineItem(connection: "a", materialLmsID: "b\u{0}c", sectionSourcedId: "s"))
        #expect(SourcedIDs.result(lineItemSourcedId: "a:b", studentSourcedId: "c") != SourcedIDs.result(lineItemSourcedId: "a", studentSourcedId: "b:c"))
        #expect(SourcedIDs.name(kind: "k", fields: ["a:b", "c"]) != SourcedIDs.name(kind: "k", fields: ["a", "b:c"]))
    }

    @Test("each input changes the id, and kinds of object never share one")
    func everyInputMatters() {
        let base = SourcedIDs.lineItem(connection: "c", materialLmsID: "m", sectionSourcedId: "s")
        #expect(base != SourcedIDs.lineItem(connection: "c2", materialLmsID: "m", sectionSourcedId: "s"))
        #expect(base != SourcedIDs.lineItem(connection: "c", materialLmsID: "m2", sectionSourcedId: "s"))
        #expect(base != SourcedIDs.lineItem(connection: "c", materialLmsID: "m", sectionSourcedId: "s2"))
        #expect(SourcedIDs.result(lineItemSourcedId: "c", studentSourcedId: "m") != SourcedIDs.genericCategory(connection: "c", title: "m"))
        #expect(SourcedIDs.result(lineItemSourcedId: base, studentSourcedId: "x") != SourcedIDs.result(lineItemSourcedId: base, studentSourcedId: "y"))
    }
}
