import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// `Section`: a teacher's or admin's view of one SIS class, its people, calendar, categories,
/// schedule, materials and runs.
extension TypeResolvers {
    static func section(_ t: inout ResolverTable) {
        t.object("Section", SectionValue.self) { f in
            f.value("id") { $0.id }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("title") { $0.row.title }
            f.value("classCode") { $0.row.classCode }
            f.resolve("sisUnreachableSince") { s, _, ctx in
                try await ctx.unreachableSince.load(s.row.connectionID).map(Timestamp.text)
            }
            f.resolve("school") { s, _, ctx in
                let siblings = try await siblingRows(s, ctx)
                return try await ctx.orgs.load(s.row.schoolSourcedId, batch: siblings.map(\.schoolSourcedId)).map(OrgValue.init)
            }
            f.resolve("term") { s, _, ctx in try await ctx.terms.load(s.row.id, batch: s.batch).map(SessionValue.init) }
            f.resolve("teachers") { s, args, ctx in
                let siblings = try await siblingRows(s, ctx)
                let teachers = try await ctx.teachers.load(s.row.sourcedId, batch: siblings.map(\.sourcedId)) ?? []
                // The siblings' teachers are cached by now; their visibility is asked in one batch.
                var everyone: [String] = []
                for sibling in siblings { everyone += (try await ctx.teachers.load(sibling.sourcedId) ?? []).map(\.sourcedId) }
                let users = try await ctx.users(teachers, batch: everyone)
                return try PageValue.list(users, args, ordering: "teachers", key: { ListKey($0.row.familyName + "\u{0}" + $0.row.givenName, $0.row.sourcedId) })
                { $0 }
            }
            f.resolve("lmsCourse") { s, _, ctx in
                try await ctx.courseOfSection.load(s.row.id, batch: s.batch).map { LMSCourseValue(row: $0, batch: [$0.id]) }
            }
            f.resolve("linkedSections") { s, args, ctx in
                guard let course = try await ctx.courseOfSection.load(s.row.id, batch: s.batch) else { return try sectionPage([], args) }
                var courseIDs: [Int64] = []
                for id in s.batch { if let c = try await ctx.courseOfSection.load(id, batch: s.batch) { courseIDs.append(c.id) } }
                let linked = try await ctx.visible((try await ctx.linkedSections.load(course.id, batch: courseIDs) ?? []).filter { $0 != s.row.id })
                var rows: [SectionSummary] = []
                for id in linked { if let r = try await ctx.sections.load(id, batch: linked) { rows.append(r) } }
                return try sectionPage(rows, args)
            }
            f.resolve("timeZone") { s, _, ctx in
                try await ctx.sectionCalendars.load(s.row.id, batch: s.batch)?.timeZone ?? SchoolCalendar.defaultZoneName
            }
            f.resolve("gradingPeriods") { s, args, ctx in
                try PageValue.list(
                    try await ctx.gradingPeriods.load(s.row.id, batch: s.batch) ?? [], args, ordering: "gradingPeriods",
                    key: { ListKey($0.startDate, $0.sourcedId) }
                ) { $0.map(SessionValue.init) }
            }
            f.resolve("sisCategories") { s, args, ctx in
                try PageValue.list(
                    try await ctx.sisCategories.load(s.row.connectionID) ?? [], args, ordering: "sisCategories",
                    key: { ListKey($0.title, $0.sourcedId) }
                ) { $0.map(SISCategoryValue.init) }
            }
            f.resolve("lmsCategories") { s, args, ctx in
                var categories: [LMSCategoryRecord] = []
                if let course = try await ctx.courseOfSection.load(s.row.id, batch: s.batch) {
                    categories = try await ctx.categoriesOfCourse.load(course.id) ?? []
                }
                return try PageValue.list(categories, args, ordering: "lmsCategories", key: { ListKey($0.title, ListKey.number($0.id)) }) {
                    $0.map(LMSCategoryValue.init)
                }
            }
            f.resolve("configured") { s, _, ctx in
                if let known = s.configured { return known }
                return try await ctx.categoryMaps.load(s.row.id, batch: s.batch) != nil
            }
            f.resolve("categoryMap") { s, args, ctx in
                let entries = try await ctx.categoryMaps.load(s.row.id, batch: s.batch) ?? []
                let ids = entries.map(\.lmsCategoryID)
                var rows: [(lms: LMSCategoryRecord, sis: SISCategoryRecord)] = []
                for e in entries {
                    guard let lms = try await ctx.lmsCategories.load(e.lmsCategoryID, batch: ids) else { continue }
                    rows.append((lms, e.sis))
                }
                return try PageValue.list(rows, args, ordering: "categoryMap", key: { ListKey($0.lms.title, ListKey.number($0.lms.id)) }) { page in
                    page.map { ["lmsCategory": LMSCategoryValue(row: $0.lms), "sisCategory": SISCategoryValue(row: $0.sis)] as [String: any Sendable] }
                }
            }
            f.resolve("schedule") { s, _, ctx in
                guard let scheduled = try await ctx.schedules.load(s.row.id, batch: s.batch), let last = scheduled.versions.last else { return nil }
                return scheduleValue(last, isDefault: scheduled.usesDefault)
            }
            f.resolve("materials") { s, args, ctx in try await materialsPage(of: s.row.id, args, ctx) }
            f.resolve("syncRuns") { s, args, ctx in
                let first = try pageSize(args, default: 20)
                let after = args["after"].nonNullString
                let result = try ctx.reads.syncRuns(connection: ctx.connection, scope: nil, classID: s.row.id, states: nil, first: first, after: after)
                return PageValue(result.page, total: result.total, after: after) { runValues($0) }
            }
        }
    }

    /// Sections as a connection, by title (the order their loaders read them in).
    static func sectionPage(_ rows: [SectionSummary], _ args: Map) throws -> PageValue {
        try PageValue.list(rows, args, ordering: "sectionsByTitle", key: { ListKey($0.title, ListKey.number($0.id)) }) { sectionValues($0) }
    }

    static func siblingRows(_ s: SectionValue, _ ctx: APIContext) async throws -> [SectionSummary] {
        guard s.batch.count > 1 else { return [s.row] }
        var rows: [SectionSummary] = []
        for id in s.batch { if let r = try await ctx.sections.load(id, batch: s.batch) { rows.append(r) } }
        return rows
    }

    static func scheduleValue(_ v: ScheduleVersion, isDefault: Bool) -> [String: any Sendable] {
        let s = v.schedule
        return [
            "enabled": s != nil, "weekday": s?.weekday, "startTime": s.map { String(format: "%02d:%02d", $0.startMinute / 60, $0.startMinute % 60) },
            "timeZone": s?.timeZone, "windowHours": Int(ScheduleRules.window / 3600), "savedAt": v.savedAt,
            "effectiveAt": v.savedAt.addingTimeInterval(ScheduleRules.changeDelay), "isDefault": isDefault
        ]
    }
}
