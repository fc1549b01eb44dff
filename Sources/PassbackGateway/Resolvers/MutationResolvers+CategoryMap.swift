import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// `saveCategoryMap` and `createLmsCategory`: a teacher configures a section.
extension MutationResolvers {
    /// The section of `sectionId`, which the viewer must teach.
    static func taughtSection(_ input: Map, _ ctx: APIContext, field: String = "sectionId") async throws -> SectionSummary {
        let id = try GlobalID.rowID(input[field].nonNullString ?? "", of: "Section", argument: "input.\(field)")
        guard let row = try await ctx.sections.load(id), row.connectionID == ctx.connection else {
            throw APIError(.notFound, "input.\(field): no such section")
        }
        try ctx.requireTeacher(of: id)
        return row
    }

    static func saveCategoryMap(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let section = try await taughtSection(input, ctx)
        let entries = input["map"].list ?? []
        guard entries.count <= maxMappings else { throw APIError.badInput("input.map: at most \(maxMappings) rows (got \(entries.count))") }
        guard let course = try await ctx.courseOfSection.load(section.id) else {
            return .failed(
                UserError(.conflict, "this section is not linked to an LMS course yet, so it has no LMS categories to map", field: ["input", "sectionId"]))
        }
        var errors: [UserError] = []
        var map: [String: String] = [:]
        var seen: [Int64: Int] = [:]
        for (i, e) in entries.enumerated() {
            let path = ["input", "map", String(i)]
            guard let lmsID = try? GlobalID.rowID(e["lmsCategoryId"].nonNullString ?? "", of: "LmsCategory", argument: "lmsCategoryId"),
                let category = try await ctx.lmsCategories.load(lmsID), category.courseID == course.id
            else {
                errors.append(
                    UserError(.notFound, "row \(i + 1): this LMS category is not a category of the section's course", field: path + ["lmsCategoryId"]))
                continue
            }
            guard let sis = try? GlobalID.key(e["sisCategoryId"].nonNullString ?? "", of: "SisCategory", argument: "sisCategoryId") else {
                errors.append(UserError(.notFound, "row \(i + 1): not the id of a SIS category", field: path + ["sisCategoryId"]))
                continue
            }
            if let first = seen[lmsID] {
                errors.append(
                    UserError(
                        .conflict,
                        "row \(i + 1): LMS category '\(category.title)' is already mapped in row \(first + 1); an LMS category maps to one SIS category",
                        field: path + ["lmsCategoryId"]))
                continue
            }
            seen[lmsID] = i
            map[category.lmsID] = sis
        }
        guard errors.isEmpty else { return Outcome(userErrors: errors) }
        let problems = try LMSStore(ctx.services.database).saveCategoryMap(classID: section.id, map: map, savedBy: ctx.principal.userSourcedId, at: ctx.now)
        guard problems.isEmpty else { return Outcome(userErrors: problems.map { UserError(.notFound, $0.message, field: ["input", "map"]) }) }
        return Outcome(section: section.id)
    }

    static func createLmsCategory(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let section = try await taughtSection(input, ctx)
        let title = (input["title"].nonNullString ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= 200 else {
            return .failed(UserError(.invalid, "a category needs a title of 1 to 200 characters", field: ["input", "title"]))
        }
        guard let course = try await ctx.courseOfSection.load(section.id) else {
            return .failed(UserError(.conflict, "this section is not linked to an LMS course yet", field: ["input", "sectionId"]))
        }
        let existing = try await ctx.categoriesOfCourse.load(course.id) ?? []
        if existing.contains(where: { $0.title.caseInsensitiveCompare(title) == .orderedSame }) {
            return .failed(UserError(.conflict, "the course already has a category named '\(title)'", field: ["input", "title"]))
        }
        let id = try LMSStore(ctx.services.database).upsertCategory(
            courseID: course.id, lmsID: "passback-" + UUID().uuidString.lowercased(), title: title,
            createdByTeacher: true, at: ctx.now)
        return Outcome(lmsCategory: id)
    }
}
