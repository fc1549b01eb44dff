import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// Resolvers of the object types: each child field loads through the request's batch loaders.
enum TypeResolvers {
    static func register(_ t: inout ResolverTable) {
        t.plain("PageInfo", "CategoryMapping", "SyncSchedule", "SyncErrorGroup", "UserError", "PlannedWrite", "FedMaterial", "PlannedItem")
        connections(&t)
        section(&t)
        material(&t)
        roster(&t)
        lms(&t)
        runs(&t)
    }

    static func sectionValues(_ rows: [SectionSummary]) -> [SectionValue] {
        let ids = rows.map(\.id)
        return rows.map { SectionValue(row: $0, batch: ids) }
    }

    static func materialValues(_ rows: [SectionMaterial], classID: Int64) -> [MaterialValue] {
        let keys = rows.map { MaterialKey(materialID: $0.id, classID: classID) }
        let categories = Array(Set(rows.compactMap(\.lmsCategoryID)))
        return rows.map { MaterialValue(row: $0, classID: classID, batch: keys, categoryBatch: categories) }
    }

    static func runValues(_ rows: [SyncRunRecord]) -> [SyncRunValue] {
        let ids = rows.map(\.id)
        let sections = Array(Set(rows.compactMap(\.classID)))
        let starters = Array(Set(rows.map(\.startedBy).filter { $0 != "scheduler" }))
        return rows.map { SyncRunValue(row: $0, batch: ids, sectionBatch: sections, startedByBatch: starters) }
    }

    /// Every `…Connection` and `…Edge` type reads a `PageValue` / `EdgeValue`.
    static func connections(_ t: inout ResolverTable) {
        for name in [
            "Section", "Material", "Grade", "SyncAttempt", "SyncRun", "SyncJob", "SyncError", "RosterRun", "User", "AcademicSession",
            "SisCategory", "LmsCategory", "CategoryMapping", "SyncProblem", "PlannedItem", "PlannedWrite", "SyncErrorGroup", "FedMaterial"
        ] {
            t.object(name + "Connection", PageValue.self) { f in
                f.value("edges") { p in zip(p.cursors, p.nodes).map { EdgeValue(cursor: $0.0, node: $0.1) } }
                f.value("nodes") { $0.nodes }
                f.value("pageInfo") { p in
                    ["hasNextPage": p.hasNextPage, "hasPreviousPage": p.hasPreviousPage, "startCursor": p.cursors.first, "endCursor": p.cursors.last]
                        as [String: any Sendable]
                }
                f.value("totalCount") { $0.totalCount }
            }
            t.object(name + "Edge", EdgeValue.self) { f in
                f.value("cursor") { $0.cursor }
                f.value("node") { $0.node }
            }
        }
    }

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
            f.resolve("configured") { s, _, ctx in try await ctx.categoryMaps.load(s.row.id, batch: s.batch) != nil }
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

    /// A section's materials with the filter, order and page of the arguments.
    static func materialsPage(of classID: Int64, _ args: Map, _ ctx: APIContext) async throws -> PageValue {
        let first = try pageSize(args)
        let after = args["after"].nonNullString
        let filterArg = args["filter"]
        var filter = MaterialFilter(search: filterArg["search"].nonNullString, includeDeleted: filterArg["includeDeleted"].nonNullBool ?? false)
        if let gp = filterArg["gradingPeriodId"].nonNullString {
            filter.gradingPeriodSourcedId = try GlobalID.key(gp, of: "AcademicSession", argument: "filter.gradingPeriodId")
        }
        if let statuses = filterArg["status"].list {
            filter.statuses = statuses.compactMap { $0.nonNullString.flatMap(SyncStatus.init(rawValue:)) }
        }
        var order = MaterialOrder()
        let orderArg = args["orderBy"]
        if let field = orderArg["field"].nonNullString {
            switch field {
            case "DUE_DATE": order.field = .dueDate
            case "LAST_SYNCED_AT": order.field = .lastSyncedAt
            default: order.field = .title
            }
            order.descending = orderArg["direction"].nonNullString == "DESC"
        }
        let page: KeysetPage<SectionMaterial>
        do {
            page = try CacheQueries(ctx.services.database).materials(
                ofSection: classID, filter: filter, order: order, first: first, after: after, withTotal: true)
        } catch let e as StoreError where e.code == .badCursor || e.code == .notFound {
            throw APIError.badInput(e.message)
        }
        return PageValue(page, total: page.total ?? 0, after: after) { materialValues($0, classID: classID) }
    }

    static func material(_ t: inout ResolverTable) {
        t.object("Material", MaterialValue.self) { f in
            f.value("id") { GlobalID.material($0.row.id, section: $0.classID) }
            f.value("lmsId") { $0.row.lmsID }
            f.value("title") { $0.row.title }
            f.value("dueDate") { $0.row.dueAt }
            f.value("maxPoints") { $0.row.maxPoints }
            f.value("syncToSIS") { $0.row.syncToSIS }
            f.value("published") { $0.row.published }
            f.value("deleted") { $0.row.deleted }
            f.value("syncStatus") { $0.row.status.rawValue }
            f.value("lastSyncedAt") { $0.row.lastSyncedAt }
            f.resolve("lmsCategory") { m, _, ctx in
                guard let id = m.row.lmsCategoryID else { return nil }
                return try await ctx.lmsCategories.load(id, batch: m.categoryBatch).map(LMSCategoryValue.init)
            }
            f.resolve("section") { m, _, ctx in
                try await ctx.sections.load(m.classID, batch: Array(Set(m.batch.map(\.classID)))).map { SectionValue(row: $0, batch: [$0.id]) }
            }
            f.resolve("problems") { m, args, ctx in try PageValue.problems(try await ctx.problems.load(m.key, batch: m.batch) ?? [], args, ordering: "problems")
            }
            f.resolve("grades") { m, args, ctx in
                let first = try pageSize(args)
                let after = args["after"].nonNullString
                guard let result = try await ctx.grades(section: m.classID, first: first, after: after).load(m.row.id, batch: m.batch.map(\.materialID)) else {
                    return PageValue(KeysetPage<GradeRecord>(items: [], cursors: [], hasNextPage: false), total: 0, after: after) { _ in [] }
                }
                return PageValue(result.page, total: result.total, after: after) { rows in
                    let students = rows.map(\.studentSourcedId)
                    return rows.map { GradeValue(row: $0, batch: students) }
                }
            }
            f.resolve("history") { m, args, ctx in
                let first = try pageSize(args, default: 20)
                let after = args["after"].nonNullString
                guard let result = try await ctx.history(first: first, after: after).load(m.key, batch: m.batch) else {
                    return PageValue(KeysetPage<AuditRecord>(items: [], cursors: [], hasNextPage: false), total: 0, after: after) { _ in [] }
                }
                return PageValue(result.page, total: result.total, after: after) { $0.map(AttemptValue.init) }
            }
        }
        t.object("Grade", GradeValue.self) { f in
            f.value("id") { GlobalID.make("Grade", "\($0.row.materialID)|\($0.row.studentSourcedId)") }
            f.value("studentSourcedId") { $0.row.studentSourcedId }
            f.resolve("student") { g, _, ctx in try await ctx.user(g.row.studentSourcedId, batch: g.batch) }
            f.value("score") { $0.row.score }
            f.value("exception") { $0.row.exception?.uppercased() }
            f.value("comment") { $0.row.comment }
            f.value("updatedAt") { $0.row.updatedAt }
        }
        t.object("SyncAttempt", AttemptValue.self) { f in
            f.value("at") { $0.row.at }
            f.value("action") { $0.row.action }
            f.value("attempt") { $0.row.attempt }
            f.value("outcome") { $0.row.outcome.rawValue }
            f.value("httpStatus") { $0.row.httpStatus }
            f.value("code") { $0.row.code.flatMap(ProblemCode.init(rawValue:))?.rawValue }
            f.value("message") { $0.row.message }
            f.resolve("run") { a, _, ctx in
                guard let id = a.row.syncRunID else { return nil }
                return try await ctx.runs.load(id).map { SyncRunValue(row: $0, batch: [$0.id]) }
            }
        }
    }

    static func roster(_ t: inout ResolverTable) {
        t.object("Org", OrgValue.self) { f in
            f.value("id") { GlobalID.make("Org", $0.row.sourcedId) }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("name") { $0.row.name }
            f.value("type") { $0.row.type }
            f.resolve("parent") { o, _, ctx in
                guard let p = o.row.parentSourcedId else { return nil }
                return try await ctx.orgs.load(p).map(OrgValue.init)
            }
        }
        // A problem names its student by name where the viewer may see them (a teacher the students
        // of their sections), and by sourcedId only otherwise.
        t.object("SyncProblem", [String: any Sendable].self) { f in
            for key in ["code", "severity", "field", "studentSourcedId"] { f.value(key) { $0[key] } }
            f.resolve("student") { p, _, ctx in
                guard let id = p["studentSourcedId"] as? String else { return nil }
                return try await ctx.user(id, batch: p["batch"] as? [String] ?? [])
            }
            f.resolve("message") { p, _, ctx in
                let message = p["message"] as? String ?? ""
                // The messages write "student <sourcedId> " (a space after): a sourcedId that begins another is left alone.
                guard let id = p["studentSourcedId"] as? String, message.contains("student \(id) "),
                    let user = try await ctx.user(id, batch: p["batch"] as? [String] ?? [])
                else { return message }
                return message.replacingOccurrences(of: "student \(id) ", with: "\(user.row.givenName) \(user.row.familyName) (\(id)) ")
            }
        }
        t.object("User", UserValue.self) { f in
            f.value("id") { GlobalID.make("User", $0.row.sourcedId) }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("givenName") { $0.row.givenName }
            f.value("familyName") { $0.row.familyName }
            f.value("email") { $0.showsEmail ? $0.row.email : nil }
            f.value("role") { $0.row.role }
        }
        t.object("AcademicSession", SessionValue.self) { f in
            f.value("id") { GlobalID.make("AcademicSession", $0.row.sourcedId) }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("title") { $0.row.title }
            f.value("type") { $0.row.type }
            f.value("startDate") { $0.row.startDate }
            f.value("endDate") { $0.row.endDate }
        }
        t.object("SisCategory", SISCategoryValue.self) { f in
            f.value("id") { GlobalID.make("SisCategory", $0.row.sourcedId) }
            f.value("sourcedId") { $0.row.sourcedId }
            f.value("title") { $0.row.title }
        }
    }

    static func lms(_ t: inout ResolverTable) {
        t.object("LmsCourse", LMSCourseValue.self) { f in
            f.value("id") { GlobalID.make("LmsCourse", $0.row.id) }
            f.value("lmsId") { $0.row.lmsID }
            f.value("title") { $0.row.title }
            f.resolve("sections") { c, args, ctx in
                let ids = try await ctx.visible(try await ctx.linkedSections.load(c.row.id, batch: c.batch) ?? [])
                var rows: [SectionSummary] = []
                for id in ids { if let r = try await ctx.sections.load(id, batch: ids) { rows.append(r) } }
                return try sectionPage(rows, args)
            }
        }
        t.object("LmsCategory", LMSCategoryValue.self) { f in
            f.value("id") { GlobalID.make("LmsCategory", $0.row.id) }
            f.value("lmsId") { $0.row.lmsID }
            f.value("title") { $0.row.title }
            f.value("createdByTeacher") { $0.row.createdByTeacher }
        }
    }

    static func runs(_ t: inout ResolverTable) {
        t.object("SyncRun", SyncRunValue.self) { f in
            f.value("id") { GlobalID.make("SyncRun", $0.row.id) }
            f.resolve("section") { r, _, ctx in
                guard let id = r.row.classID else { return nil }
                return try await ctx.sections.load(id, batch: r.sectionBatch).map { SectionValue(row: $0, batch: [$0.id]) }
            }
            f.value("trigger") { $0.row.trigger.rawValue.uppercased() }
            f.value("startedBy") { $0.row.startedBy }
            // A teacher may read the name of whoever started a run of their sections (PRODUCT.md, via `ctx.user`).
            f.resolve("startedByUser") { r, _, ctx in r.row.startedBy == "scheduler" ? nil : try await ctx.user(r.row.startedBy, batch: r.startedByBatch) }
            f.value("state") { $0.row.state.rawValue.uppercased() }
            f.value("itemsSent") { $0.row.itemsSent }
            f.value("itemsSucceeded") { $0.row.itemsSucceeded }
            f.value("itemsFailed") { $0.row.itemsFailed }
            f.value("itemsSkipped") { $0.row.itemsSkipped }
            f.value("jobsTotal") { $0.row.jobsTotal }
            f.value("jobsSucceeded") { $0.row.jobsSucceeded }
            f.value("jobsFailed") { $0.row.jobsFailed }
            f.value("cause") { $0.row.cause }
            f.value("startedAt") { $0.row.startedAt }
            f.value("finishedAt") { $0.row.finishedAt }
            f.resolve("jobs") { r, args, ctx in
                let first = try pageSize(args)
                let after = args["after"].nonNullString
                let states = Array(Set(args["state"].list?.compactMap { $0.nonNullString.flatMap { JobState(rawValue: $0.lowercased()) } } ?? [])).sorted {
                    $0.rawValue < $1.rawValue
                }
                guard let result = try await ctx.jobsOfRun(first: first, after: after, states: states).load(r.row.id, batch: r.batch) else {
                    return PageValue(KeysetPage<JobRecord>(items: [], cursors: [], hasNextPage: false), total: 0, after: after) { _ in [] }
                }
                return PageValue(result.page, total: result.total, after: after) { $0.map(SyncJobValue.init) }
            }
        }
        t.object("RosterRun", RosterRunValue.self) { f in
            f.value("id") { GlobalID.make("RosterRun", $0.row.id) }
            f.value("mode") { r in r.row.run?.mode ?? (r.row.full ? "full" : "delta") }
            f.value("state") { $0.row.state.rawValue.uppercased() }
            for (field, count) in [
                ("created", \RosterCounts.created), ("updated", \.updated), ("unchanged", \.unchanged), ("deleted", \.deleted), ("rejected", \.rejected)
            ] {
                f.value(field) { r in r.row.run?.counts.values.reduce(0) { $0 + $1[keyPath: count] } ?? 0 }
            }
            f.value("requestedAt") { Timestamp.text($0.row.requestedAt) }
            f.value("requestedBy") { $0.row.requestedBy }
            f.value("trigger") { $0.row.origin.rawValue.uppercased() }
            f.value("startedAt") { $0.row.run.map { Timestamp.text($0.startedAt) } }
            f.value("finishedAt") { $0.row.run?.finishedAt.map(Timestamp.text) }
            f.value("error") { $0.row.error }
        }
        t.object("SyncJob", SyncJobValue.self) { f in
            f.value("id") { GlobalID.make("SyncJob", $0.row.id) }
            f.value("kind") { $0.row.kind.rawValue.uppercased() }
            f.value("targetSourcedId") { $0.row.targetSourcedId }
            f.value("state") { $0.row.state.rawValue.uppercased() }
            f.value("attempt") { $0.row.attempt }
            f.value("lastError") { lastError($0.row.errors) }
            f.resolve("material") { j, _, ctx in
                guard let m = j.row.materialID, let c = j.row.classID else { return nil }
                return try await ctx.materials.load(MaterialKey(materialID: m, classID: c)).map { MaterialValue(row: $0, classID: c, batch: []) }
            }
        }
        t.object("SyncError", SyncErrorValue.self) { f in
            f.resolve("material") { e, _, ctx in
                let key = MaterialKey(materialID: e.row.materialID, classID: e.row.classID)
                return try await ctx.materials.load(key, batch: e.batch).map { MaterialValue(row: $0, classID: e.row.classID, batch: e.batch) }
            }
            f.resolve("section") { e, _, ctx in
                try await ctx.sections.load(e.row.classID, batch: Array(Set(e.batch.map(\.classID)))).map { SectionValue(row: $0, batch: [$0.id]) }
            }
            f.resolve("school") { e, _, ctx in try await ctx.orgs.load(e.row.schoolSourcedId, batch: e.schoolBatch).map(OrgValue.init) }
            f.value("code") { ProblemCode(rawValue: $0.row.code)?.rawValue ?? ProblemCode.sisRejected.rawValue }
            f.value("message") { $0.row.message }
            f.value("field") { $0.row.field }
            f.value("at") { $0.row.at }
        }
    }

    /// The last error message of a job's error history (a JSON array).
    static func lastError(_ errors: String) -> String? {
        guard let list = (try? JSONSerialization.jsonObject(with: Data(errors.utf8))) as? [[String: Any]], let last = list.last else { return nil }
        return last["error"] as? String
    }
}
