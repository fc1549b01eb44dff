import Foundation
import PassbackCore

extension MutationResolvers {
    /// What a mutation changed, each by name, and its user errors: the payload is read from it
    /// (showing only what the viewer may read now), and an idempotency key keeps it as JSON.
    struct Outcome: Codable, Sendable, Equatable {
        /// A material as it stands in one section (`setMaterialSyncToSIS`).
        struct MaterialRef: Codable, Sendable, Equatable {
            var materialID: Int64
            var classID: Int64
        }

        /// The section saved or checked (`saveCategoryMap`, `verifySection`).
        var section: Int64?
        /// The sections a schedule was saved for (`saveSyncSchedule`).
        var sections: [Int64] = []
        var lmsCategory: Int64?
        var material: MaterialRef?
        /// The run a sync started (`syncMaterial`, `syncChanges`).
        var run: Int64?
        /// The runs retried jobs went into (`retrySyncJobs`).
        var runs: [Int64] = []
        /// The jobs discarded (`discardSyncJobs`).
        var jobs: [Int64] = []
        /// The org a default schedule was saved for.
        var org: String?
        /// The roster request queued (`refreshRoster`).
        var rosterRequest: Int64?
        /// The LMS course fed, and the materials of it the request named (the LMS feed).
        var lmsCourse: Int64?
        var lmsIDs: [String] = []
        var objectsToCheck: Int?
        var recorded: Int?
        var userErrors: [UserError] = []

        static func failed(_ errors: UserError...) -> Outcome { Outcome(userErrors: errors) }

        enum CodingKeys: String, CodingKey {
            case section, sections, lmsCategory, material, run, runs, jobs, org, rosterRequest, lmsCourse, lmsIDs, objectsToCheck, recorded, userErrors
        }

        init(
            section: Int64? = nil, sections: [Int64] = [], lmsCategory: Int64? = nil, material: MaterialRef? = nil, run: Int64? = nil, runs: [Int64] = [],
            jobs: [Int64] = [], org: String? = nil, rosterRequest: Int64? = nil, lmsCourse: Int64? = nil, lmsIDs: [String] = [],
            objectsToCheck: Int? = nil, recorded: Int? = nil, userErrors: [UserError] = []
        ) {
            self.section = section
            self.sections = sections
            self.lmsCategory = lmsCategory
            self.material = material
            self.run = run
            self.runs = runs
            self.jobs = jobs
            self.org = org
            self.rosterRequest = rosterRequest
            self.lmsCourse = lmsCourse
            self.lmsIDs = lmsIDs
            self.objectsToCheck = objectsToCheck
            self.recorded = recorded
            self.userErrors = userErrors
        }

        /// Every key is optional: what a mutation did not set is not written.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                section: try c.decodeIfPresent(Int64.self, forKey: .section), sections: try c.decodeIfPresent([Int64].self, forKey: .sections) ?? [],
                lmsCategory: try c.decodeIfPresent(Int64.self, forKey: .lmsCategory), material: try c.decodeIfPresent(MaterialRef.self, forKey: .material),
                run: try c.decodeIfPresent(Int64.self, forKey: .run), runs: try c.decodeIfPresent([Int64].self, forKey: .runs) ?? [],
                jobs: try c.decodeIfPresent([Int64].self, forKey: .jobs) ?? [], org: try c.decodeIfPresent(String.self, forKey: .org),
                rosterRequest: try c.decodeIfPresent(Int64.self, forKey: .rosterRequest), lmsCourse: try c.decodeIfPresent(Int64.self, forKey: .lmsCourse),
                lmsIDs: try c.decodeIfPresent([String].self, forKey: .lmsIDs) ?? [], objectsToCheck: try c.decodeIfPresent(Int.self, forKey: .objectsToCheck),
                recorded: try c.decodeIfPresent(Int.self, forKey: .recorded), userErrors: try c.decodeIfPresent([UserError].self, forKey: .userErrors) ?? [])
        }

        /// An outcome an idempotency key kept, as this build or an earlier one wrote it. Builds
        /// before the named fields kept `ids`, `strings` and `count` by position, each
        /// mutation its own way: `operation` says which.
        static func stored(_ text: String, operation: String) throws -> Outcome {
            let data = Data(text.utf8)
            guard let legacy = try? JSONDecoder().decode(Legacy.self, from: data), legacy.ids != nil || legacy.strings != nil || legacy.count != nil
            else { return try JSONDecoder().decode(Outcome.self, from: data) }
            let ids = legacy.ids ?? [], strings = legacy.strings ?? [], count = legacy.count ?? 0
            var o = Outcome(userErrors: legacy.userErrors ?? [])
            switch operation {
            case "saveCategoryMap": o.section = ids.first
            case "verifySection": (o.section, o.objectsToCheck) = (ids.first, count)
            case "createLmsCategory": o.lmsCategory = ids.first
            case "setMaterialSyncToSIS": o.material = ids.count == 2 ? MaterialRef(materialID: ids[0], classID: ids[1]) : nil
            case "syncMaterial", "syncChanges": o.run = ids.first
            case "saveSyncSchedule": o.sections = ids
            case "saveDefaultSyncSchedule": o.org = strings.first
            case "retrySyncJobs": o.runs = ids
            case "discardSyncJobs": o.jobs = ids
            case "refreshRoster": o.rosterRequest = ids.first
            case "upsertLmsCourse": o.lmsCourse = ids.first
            case "upsertMaterials", "deleteMaterial", "restoreMaterial": (o.lmsCourse, o.lmsIDs) = (ids.first, strings)
            case "recordGrades": o.recorded = count
            default: break
            }
            return o
        }

        /// The positional shape of earlier builds.
        struct Legacy: Decodable {
            var ids: [Int64]?
            var strings: [String]?
            var count: Int?
            var userErrors: [UserError]?
        }
    }
}
