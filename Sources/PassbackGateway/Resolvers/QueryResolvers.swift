import Foundation
import GraphQL
import PassbackCore
import PassbackStore

/// The root value of every operation.
struct Root: Sendable {}

/// `Query`: entry points check who may read what; the object resolvers below them do not
/// check again (everything under a readable section is readable), except that every `User`
/// passes through `APIContext.users`.
enum QueryResolvers {
    static func register(_ t: inout ResolverTable) {
        t.object("Query", Root.self) { f in
            f.resolve("node") { _, args, ctx in try await node(args["id"].nonNullString ?? "", ctx) }
            f.resolve("nodes") { _, args, ctx in
                let ids = (args["ids"].list ?? []).compactMap(\.nonNullString)
                guard ids.count <= 100 else { throw APIError.badInput("nodes: at most 100 ids (got \(ids.count))") }
                // GraphQLSwift 4.3 drops null items of a list (Execute.swift, completeListValue), so
                // the contract says what happens: ids that resolve to nothing are left out.
                var out: [any Sendable] = []
                // The people among the ids load, with what the viewer may see of them, in one batch.
                let people = ids.compactMap(GlobalID.parse).filter { $0.type == "User" }.map(\.key)
                for id in ids { if let n = try await node(id, ctx, people: people) { out.append(n) } }
                return out
            }
            f.value("viewer") { _ in ViewerValue() }
            f.resolve("section") { _, args, ctx in
                let id = try GlobalID.rowID(args["id"].nonNullString ?? "", of: "Section", argument: "id")
                return try await section(id, ctx)
            }
            f.resolve("sectionBySourcedId") { _, args, ctx in
                guard let id = try LMSStore(ctx.services.database).classID(connection: ctx.connection, sourcedId: args["sourcedId"].nonNullString ?? "") else {
                    return nil
                }
                return try await section(id, ctx)
            }
            f.resolve("orgBySourcedId") { _, args, ctx in
                _ = try ctx.readScope()
                return try await ctx.orgs.load(args["sourcedId"].nonNullString ?? "").map(OrgValue.init)
            }
            f.resolve("sections") { _, args, ctx in try await sections(args, ctx) }
            f.resolve("syncErrors") { _, args, ctx in
                let org = try ctx.requireAdmin()
                let first = try pageSize(args)
                let after = args["after"].nonNullString
                let filter = try await errorFilter(args["filter"], ctx)
                let page: KeysetPage<SyncErrorRow>
                do {
                    page = try CacheQueries(ctx.services.database).syncErrors(
                        connection: ctx.connection, rootOrg: org, filter: filter, first: first, after: after)
                } catch let e as StoreError where e.code == .badCursor {
                    throw APIError.badInput(e.message)
                }
                let total = try ctx.reads.countSyncErrors(connection: ctx.connection, rootOrg: org, filter: filter)
                return PageValue(page, total: total, after: after) { rows in
                    let keys = rows.map { MaterialKey(materialID: $0.materialID, classID: $0.classID) }
                    let schools = Array(Set(rows.map(\.schoolSourcedId)))
                    return rows.map { SyncErrorValue(row: $0, batch: keys, schoolBatch: schools) }
                }
            }
            f.resolve("syncErrorSummary") { _, args, ctx in
                let org = try ctx.requireAdmin()
                let filter = try await errorFilter(args["filter"], ctx)
                let grouping: SyncErrorGrouping
                switch args["groupBy"].nonNullString {
                case "SCHOOL": grouping = .school
                case "TEACHER": grouping = .teacher
                default: grouping = .code
                }
                let groups = try CacheQueries(ctx.services.database).syncErrorSummary(
                    connection: ctx.connection, rootOrg: org, filter: filter, groupBy: grouping)
                // Largest first, then by key: the count, inverted, sorts first.
                return try PageValue.list(groups, args, ordering: "syncErrorSummary", key: { ListKey(ListKey.number(Int64.max - Int64($0.count)), $0.key) }) {
                    page in
                    page.map { group in
                        // Orgs and people are keyed by sourcedId: the group's id narrows `syncErrors` to it.
                        let id: String? =
                            switch grouping {
                            case .code: nil
                            case .school: GlobalID.make("Org", group.key)
                            case .teacher: GlobalID.make("User", group.key)
                            }
                        return ["key": group.key, "label": group.label, "count": group.count, "id": id] as [String: any Sendable]
                    }
                }
            }
            f.resolve("rosterRuns") { _, args, ctx in
                // Roster pulls are the connection's, as `refreshRoster` and `node(RosterRun)` hold them.
                _ = try ctx.requireAdmin()
                let first = try pageSize(args)
                let after = args["after"].nonNullString
                let states = Set(args["filter"]["state"].list?.compactMap { $0.nonNullString.flatMap { RosterRequest.State(rawValue: $0.lowercased()) } } ?? [])
                let origins = Set(
                    args["filter"]["trigger"].list?.compactMap { $0.nonNullString.flatMap { RosterRequest.Origin(rawValue: $0.lowercased()) } } ?? [])
                do {
                    let result = try RosterStore(ctx.services.database).requests(
                        connection: ctx.connection, states: states, origins: origins,
                        first: first, after: after)
                    return PageValue(result.page, total: result.total, after: after) { $0.map(RosterRunValue.init) }
                } catch let e as StoreError where e.code == .badCursor {
                    throw APIError.badInput(e.message)
                }
            }
            f.resolve("connectionHealth") { _, _, ctx in
                _ = try ctx.requireAdmin()
                let engine = EngineStore(ctx.services.database)
                let health = try engine.health(connection: ctx.connection)
                let block = try engine.connectionBlock(ctx.connection)
                return [
                    "unreachableSince": health?.unreachableSince.map(Timestamp.text), "lastProbeAt": health?.lastProbeAt.map(Timestamp.text),
                    "lastError": health?.lastError, "blockedCause": block?.cause, "blockedSince": block.map { Timestamp.text($0.since) },
                    "pendingWrites": try engine.pendingWrites(connection: ctx.connection)
                ] as [String: any Sendable]
            }
            f.resolve("syncRuns") { _, args, ctx in
                let scope = try ctx.readScope()
                let first = try pageSize(args)
                let after = args["after"].nonNullString
                var classID: Int64?
                if let s = args["filter"]["sectionId"].nonNullString {
                    let id = try GlobalID.rowID(s, of: "Section", argument: "filter.sectionId")
                    try await ctx.requireReadable([id])
                    classID = id
                }
                let states = args["filter"]["state"].list?.compactMap { $0.nonNullString.flatMap { RunState(rawValue: $0.lowercased()) } }
                do {
                    let result = try ctx.reads.syncRuns(
                        connection: ctx.connection, scope: classID == nil ? scope : nil, classID: classID, states: states,
                        first: first, after: after)
                    return PageValue(result.page, total: result.total, after: after) { TypeResolvers.runValues($0) }
                } catch let e as StoreError where e.code == .badCursor {
                    throw APIError.badInput(e.message)
                }
            }
        }
        t.object("Viewer", ViewerValue.self) { f in
            f.resolve("role") { _, _, ctx in ctx.principal.role.rawValue.uppercased() }
            f.resolve("connectionId") { _, _, ctx in ctx.connection }
            f.resolve("userSourcedId") { _, _, ctx in ctx.principal.userSourcedId }
            f.resolve("user") { _, _, ctx in try await ctx.user(ctx.principal.userSourcedId) }
            f.resolve("org") { _, _, ctx in
                guard let org = ctx.principal.orgSourcedId else { return nil }
                return try await ctx.orgs.load(org).map(OrgValue.init)
            }
            f.resolve("sections") { _, args, ctx in try await sections(args, ctx) }
        }
    }

    static func sections(_ args: Map, _ ctx: APIContext) async throws -> PageValue {
        let scope = try ctx.readScope()
        let first = try pageSize(args)
        let after = args["after"].nonNullString
        var school: String?
        if let s = args["filter"]["schoolId"].nonNullString { school = try GlobalID.key(s, of: "Org", argument: "filter.schoolId") }
        do {
            let result = try ctx.reads.sections(
                connection: ctx.connection, scope: scope, search: args["filter"]["search"].nonNullString, school: school,
                first: first, after: after)
            return PageValue(result.page, total: result.total, after: after) { TypeResolvers.sectionValues($0) }
        } catch let e as StoreError where e.code == .badCursor {
            throw APIError.badInput(e.message)
        }
    }

    static func section(_ id: Int64, _ ctx: APIContext) async throws -> SectionValue? {
        try await ctx.readableSection(id).map { SectionValue(row: $0.row, batch: [id], configured: $0.configured) }
    }

    static func errorFilter(_ arg: Map, _ ctx: APIContext) async throws -> SyncErrorFilter {
        var filter = SyncErrorFilter()
        if let s = arg["schoolId"].nonNullString { filter.schoolSourcedId = try GlobalID.key(s, of: "Org", argument: "filter.schoolId") }
        if let s = arg["teacherId"].nonNullString { filter.teacherSourcedId = try GlobalID.key(s, of: "User", argument: "filter.teacherId") }
        if let s = arg["sectionId"].nonNullString {
            let id = try GlobalID.rowID(s, of: "Section", argument: "filter.sectionId")
            filter.sectionSourcedId = try await ctx.sections.load(id)?.sourcedId ?? "-"
        }
        if let codes = arg["codes"].list { filter.codes = codes.compactMap(\.nonNullString) }
        if let since = arg["since"].nonNullString { filter.since = Scalars.instant(since) }
        return filter
    }

    /// Any node by global id, after the same permission check as its entry point. Orgs, sessions
    /// and SIS categories are readable by any reader of the connection; people only as
    /// `APIContext.users` allows (PRODUCT.md: a teacher reads the people of their sections).
    static func node(_ id: String, _ ctx: APIContext, people: [String] = []) async throws -> (any Sendable)? {
        guard let (type, key) = GlobalID.parse(id) else { throw APIError.badInput("'\(id.prefix(60))' is not an id this server made") }
        _ = try ctx.readScope()
        switch type {
        case "Section":
            guard let n = Int64(key) else { return nil }
            return try await section(n, ctx)
        case "Material":
            let (m, c) = try GlobalID.materialKey(id, argument: "id")
            guard try await section(c, ctx) != nil, let row = try await ctx.materials.load(MaterialKey(materialID: m, classID: c)) else { return nil }
            return MaterialValue(row: row, classID: c, batch: [])
        case "Org": return try await ctx.orgs.load(key).map(OrgValue.init)
        case "User":
            guard try await ctx.people.load(key, batch: people) != nil else { return nil }
            guard let user = try await ctx.user(key, batch: people) else {
                throw APIError.forbidden(
                    ctx.principal.role == .admin
                        ? "this person is outside your organization and your sections"
                        : "this person is not enrolled in a section you teach")
            }
            return user
        case "AcademicSession": return try await ctx.sessions.load(key).map(SessionValue.init)
        case "SisCategory":
            return try ctx.reads.sisCategories(connection: ctx.connection, sourcedIds: [key])[key].map(SISCategoryValue.init)
        case "LmsCourse":
            guard let n = Int64(key), let course = try await ctx.courses.load(n) else { return nil }
            let linked = try await ctx.linkedSections.load(n) ?? []
            guard try ctx.reads.sections(ids: linked).values.allSatisfy({ $0.connectionID == ctx.connection }) else { return nil }
            try await requireAnyReadable(linked, ctx)
            return LMSCourseValue(row: course, batch: [n])
        case "LmsCategory":
            guard let n = Int64(key), let category = try await ctx.lmsCategories.load(n) else { return nil }
            try await requireAnyReadable(try await ctx.linkedSections.load(category.courseID) ?? [], ctx)
            return LMSCategoryValue(row: category)
        case "Grade":
            let parts = key.split(separator: "|", maxSplits: 1)
            guard parts.count == 2, let m = Int64(parts[0]), let grade = try ctx.reads.grade(materialID: m, student: String(parts[1])) else { return nil }
            guard let course = try ctx.reads.courseOfMaterial(m) else { return nil }
            // As `Material.grades`: only the students of a linked section the viewer may read, not
            // every student of the LMS course (its other sections can be another teacher's or school's).
            let readable = try await ctx.visible(try await ctx.linkedSections.load(course) ?? [])
            guard !readable.isEmpty else { throw APIError.forbidden("none of the sections linked to this LMS course is yours to read") }
            guard try ctx.reads.isStudent(grade.studentSourcedId, inAnyOf: readable) else {
                throw APIError.forbidden("this student is not enrolled in a section you may read")
            }
            return GradeValue(row: grade, batch: [])
        case "SyncRun":
            guard let n = Int64(key), let run = try await ctx.runs.load(n), run.connectionID == ctx.connection, let c = run.classID else { return nil }
            try await ctx.requireReadable([c])
            return SyncRunValue(row: run, batch: [n])
        case "RosterRun":
            // Roster pulls are the connection's, asked for and followed by its admins.
            _ = try ctx.requireAdmin()
            guard let n = Int64(key), let request = try RosterStore(ctx.services.database).request(n), request.connectionID == ctx.connection else {
                return nil
            }
            return RosterRunValue(row: request)
        case "SyncJob":
            // A job is reached through its section (whose check includes the connection); one whose section is gone is not shown.
            guard let n = Int64(key), let job = try await ctx.jobs.load(n), let c = job.classID else { return nil }
            try await ctx.requireReadable([c])
            return SyncJobValue(row: job)
        default:
            return nil
        }
    }

    /// LMS objects are readable by a reader of any section linked to them.
    static func requireAnyReadable(_ classIDs: [Int64], _ ctx: APIContext) async throws {
        for id in classIDs {
            if (try? await ctx.requireReadable([id])) != nil { return }
        }
        throw APIError.forbidden("none of the sections linked to this LMS course is yours to read")
    }
}
