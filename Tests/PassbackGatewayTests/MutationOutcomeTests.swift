import Foundation
import Testing

@testable import PassbackGateway

@Suite("Mutation outcomes as idempotency keys keep them")
struct MutationOutcomeTests {
    typealias Outcome = MutationResolvers.Outcome

    @Test("an outcome kept by this build comes back the same, field by field")
    func roundTrip() throws {
        let outcomes = [
            Outcome(section: 4, objectsToCheck: 12), Outcome(sections: [1, 2]), Outcome(material: .init(materialID: 7, classID: 3)), Outcome(run: 9),
            Outcome(runs: [5, 6], userErrors: [UserError(.conflict, "job 2 is completed", field: ["input", "jobIds", "1"])]), Outcome(org: "d-1"),
            Outcome(rosterRequest: 8), Outcome(lmsCourse: 2, lmsIDs: ["m-1", "m-2"]), Outcome(recorded: 30), Outcome(lmsCategory: 11), Outcome(jobs: [3])
        ]
        for outcome in outcomes {
            let text = String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self)
            #expect(try Outcome.stored(text, operation: "any") == outcome, "\(text)")
        }
    }

    @Test("an outcome an earlier build kept by position (ids, strings, count) is read by the operation that kept it")
    func earlierBuildsShape() throws {
        func read(_ json: String, _ operation: String) throws -> Outcome { try Outcome.stored(json, operation: operation) }
        #expect(
            try read(#"{"ids":[7,3],"strings":[],"count":0,"userErrors":[]}"#, "setMaterialSyncToSIS") == Outcome(material: .init(materialID: 7, classID: 3)))
        #expect(try read(#"{"ids":[4],"strings":[],"count":12,"userErrors":[]}"#, "verifySection") == Outcome(section: 4, objectsToCheck: 12))
        #expect(try read(#"{"ids":[5],"strings":[],"count":0,"userErrors":[]}"#, "refreshRoster") == Outcome(rosterRequest: 5))
        #expect(try read(#"{"ids":[2],"strings":["a","b"],"count":0,"userErrors":[]}"#, "upsertMaterials") == Outcome(lmsCourse: 2, lmsIDs: ["a", "b"]))
        #expect(try read(#"{"ids":[],"strings":[],"count":30,"userErrors":[]}"#, "recordGrades") == Outcome(recorded: 30))
        #expect(try read(#"{"ids":[],"strings":["d-1"],"count":0,"userErrors":[]}"#, "saveDefaultSyncSchedule") == Outcome(org: "d-1"))
        #expect(try read(#"{"ids":[1,2],"strings":[],"count":0,"userErrors":[]}"#, "saveSyncSchedule") == Outcome(sections: [1, 2]))
        #expect(try read(#"{"ids":[9],"strings":[],"count":0,"userErrors":[]}"#, "syncChanges") == Outcome(run: 9))
        let refused = try read(#"{"ids":[],"strings":[],"count":0,"userErrors":[{"message":"no","code":"NOT_FOUND","field":["input"]}]}"#, "saveCategoryMap")
        #expect(refused.userErrors.map(\.message) == ["no"] && refused.section == nil)
    }
}
