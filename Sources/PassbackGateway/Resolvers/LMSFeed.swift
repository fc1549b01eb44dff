import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// The integration role's mutations: the LMS side of the cache. A batch is checked whole
/// before anything is written, so a bad row changes nothing.
enum LMSFeed {
    typealias Outcome = MutationResolvers.Outcome

    static func course(_ input: Map, _ ctx: APIContext) throws -> LMSCourseRecord? {
        try ctx.reads.lmsCourse(connection: ctx.connection, lmsID: input["courseLmsId"].nonNullString ?? "")
    }

    static let noCourse = UserError(.notFound, "no LMS course with this lmsId; create it with upsertLmsCourse first", field: ["input", "courseLmsId"])

    static func upsertCourse(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        try ctx.requireIntegration()
        let lmsID = input["lmsId"].nonNullString ?? "", title = (input["title"].nonNullString ?? "").trimmingCharacters(in: .whitespaces)
        guard !lmsID.isEmpty, !title.isEmpty else { return .failed(UserError(.invalid, "a course needs an lmsId and a title", field: ["input"])) }
        let sections = (input["sectionSourcedIds"].list ?? []).compactMap(\.nonNullString)
        let categories = input["categories"].list ?? []
        guard sections.count <= 100, categories.count <= 200 else { throw APIError.badInput("at most 100 sections and 200 categories per course") }
        let store = LMSStore(ctx.services.database)
        for (i, s) in sections.enumerated() where try store.classID(connection: ctx.connection, sourcedId: s) == nil {
            return .failed(UserError(.notFound, "no section '\(s)' in the roster; roster it first", field: ["input", "sectionSourcedIds", String(i)]))
        }
        for (i, c) in categories.enumerated() where (c["lmsId"].nonNullString ?? "").isEmpty || (c["title"].nonNullString ?? "").isEmpty {
            return .failed(UserError(.invalid, "category \(i + 1) needs an lmsId and a title", field: ["input", "categories", String(i)]))
        }
        let id: Int64
        do {
            id = try store.upsertCourse(connection: ctx.connection, lmsID: lmsID, title: title, sectionSourcedIds: sections, at: ctx.now)
        } catch let conflict as LMSStore.LinkConflict {
            return .failed(UserError(.conflict, conflict.description, field: ["input", "sectionSourcedIds", String(conflict.index)]))
        }
        for c in categories { try store.upsertCategory(courseID: id, lmsID: c["lmsId"].nonNullString!, title: c["title"].nonNullString!, at: ctx.now) }
        return Outcome(lmsCourse: id)
    }

    static func upsertMaterials(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        try ctx.requireIntegration()
        let items = input["materials"].list ?? []
        guard items.count <= MutationResolvers.maxMaterials else {
            throw APIError.badInput("input.materials: at most \(MutationResolvers.maxMaterials) per call (got \(items.count)); send several calls")
        }
        guard let course = try course(input, ctx) else { return .failed(noCourse) }
        let categories = Set((try ctx.reads.lmsCategories(courseIDs: [course.id])[course.id] ?? []).map(\.lmsID))
        var errors: [UserError] = []
        var materials: [LMSStore.MaterialInput] = []
        for (i, m) in items.enumerated() {
            let path = ["input", "materials", String(i)]
            let lmsID = m["lmsId"].nonNullString ?? "", title = m["title"].nonNullString ?? ""
            if lmsID.isEmpty { errors.append(UserError(.invalid, "material \(i + 1) needs an lmsId", field: path + ["lmsId"])) }
            if title.trimmingCharacters(in: .whitespaces).isEmpty {
                errors.append(UserError(.invalid, "material \(i + 1) needs a title", field: path + ["title"]))
            }
            if let c = m["categoryLmsId"].nonNullString, !categories.contains(c) {
                errors.append(UserError(.notFound, "material \(i + 1): no category '\(c)' in this course", field: path + ["categoryLmsId"]))
            }
            if let p = m["maxPoints"].nonNullDouble, p < 0 || !p.isFinite {
                errors.append(UserError(.invalid, "material \(i + 1): maxPoints must be 0 or more", field: path + ["maxPoints"]))
            }
            materials.append(
                LMSStore.MaterialInput(
                    lmsID: lmsID, title: title, description: m["description"].nonNullString, dueAt: m["dueDate"].nonNullString.flatMap(Scalars.instant),
                    categoryLmsID: m["categoryLmsId"].nonNullString, maxPoints: m["maxPoints"].nonNullDouble, syncToSIS: m["syncToSIS"].nonNullBool ?? true,
                    published: m["published"].nonNullBool ?? true))
        }
        guard errors.isEmpty else { return Outcome(userErrors: errors) }
        try LMSStore(ctx.services.database).upsertMaterials(courseID: course.id, materials, at: ctx.now)
        return Outcome(lmsCourse: course.id, lmsIDs: materials.map(\.lmsID))
    }

    static func recordGrades(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        try ctx.requireIntegration()
        let items = input["grades"].list ?? []
        guard items.count <= MutationResolvers.maxGrades else {
            throw APIError.badInput("input.grades: at most \(MutationResolvers.maxGrades) per call (got \(items.count)); send several calls")
        }
        guard let course = try course(input, ctx) else { return .failed(noCourse) }
        let store = LMSStore(ctx.services.database)
        let materialIDs = try store.materialIDs(courseID: course.id, lmsIDs: Array(Set(items.compactMap { $0["materialLmsId"].nonNullString })))
        var errors: [UserError] = []
        var grades: [LMSStore.GradeInput] = []
        for (i, g) in items.enumerated() {
            let path = ["input", "grades", String(i)]
            let lmsID = g["materialLmsId"].nonNullString ?? ""
            guard let materialID = materialIDs[lmsID] else {
                errors.append(UserError(.notFound, "grade \(i + 1): no material '\(lmsID)' in this course", field: path + ["materialLmsId"]))
                continue
            }
            let student = g["studentSourcedId"].nonNullString ?? ""
            let score = g["score"].nonNullDouble
            let exception = g["exception"].nonNullString?.lowercased()
            if student.isEmpty { errors.append(UserError(.invalid, "grade \(i + 1) needs a studentSourcedId", field: path + ["studentSourcedId"])) }
            if let score, !score.isFinite { errors.append(UserError(.invalid, "grade \(i + 1): score must be a number", field: path + ["score"])) }
            if score != nil, exception != nil {
                errors.append(UserError(.invalid, "grade \(i + 1): give a score or an exception, not both", field: path + ["exception"]))
            }
            grades.append(
                LMSStore.GradeInput(
                    materialID: materialID, studentSourcedId: student, score: score, exception: exception,
                    comment: g["comment"].nonNullString))
        }
        guard errors.isEmpty else { return Outcome(userErrors: errors) }
        try store.recordGrades(grades, at: ctx.now)
        return Outcome(recorded: grades.count)
    }

    static func deleteMaterial(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        try ctx.requireIntegration()
        guard let course = try course(input, ctx) else { return .failed(noCourse) }
        let lmsID = input["lmsId"].nonNullString ?? ""
        guard try LMSStore(ctx.services.database).deleteMaterial(courseID: course.id, lmsID: lmsID, at: ctx.now) else {
            return .failed(UserError(.notFound, "no material '\(lmsID)' in this course", field: ["input", "lmsId"]))
        }
        return Outcome(lmsCourse: course.id, lmsIDs: [lmsID])
    }

    static func restoreMaterial(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        try ctx.requireIntegration()
        guard let course = try course(input, ctx) else { return .failed(noCourse) }
        let lmsID = input["lmsId"].nonNullString ?? ""
        let store = LMSStore(ctx.services.database)
        guard try store.materialID(courseID: course.id, lmsID: lmsID) != nil else {
            return .failed(UserError(.notFound, "no material '\(lmsID)' in this course", field: ["input", "lmsId"]))
        }
        try store.restoreMaterial(courseID: course.id, lmsID: lmsID, at: ctx.now)
        return Outcome(lmsCourse: course.id, lmsIDs: [lmsID])
    }

    /// `FedMaterial`s of an outcome: each material's id in every linked section.
    static func fedMaterials(_ o: Outcome, _ ctx: APIContext) throws -> [Keyed] {
        guard let course = o.lmsCourse else { return [] }
        let sections = try ctx.reads.linkedSections(courseIDs: [course])[course] ?? []
        let ids = try LMSStore(ctx.services.database).materialIDs(courseID: course, lmsIDs: o.lmsIDs)
        return o.lmsIDs.map { lmsID in
            Keyed(
                ListKey(lmsID, ""),
                ["lmsId": lmsID, "ids": ids[lmsID].map { m in sections.map { GlobalID.material(m, section: $0) } } ?? []] as [String: any Sendable])
        }
    }
}
