import Crypto
import Foundation
import GraphQL
import OneRoster
import PassbackCore
import PassbackStore
import PassbackSync
import OrderedCollections

/// `Mutation`: one `input`, a payload with `userErrors` (API.md, convention 5), and an
/// optional `idempotencyKey` (convention 6). Each mutation first decides an `Outcome` (what it
/// changed, by id, and its user errors); the outcome is what an idempotency key keeps, and the
/// payload is read from it, showing only what the viewer may read now. Every request, a replay
/// too, is authorized first (`authorize`).
enum MutationResolvers {
    /// Input list caps.
    static let maxMaterials = 500
    static let maxGrades = 1000
    static let maxJobs = 500
    static let maxMappings = 200

    struct Outcome: Codable, Sendable {
        var ids: [Int64] = []
        var strings: [String] = []
        var count = 0
        var userErrors: [UserError] = []

        static func failed(_ errors: UserError...) -> Outcome { Outcome(userErrors: errors) }
    }

    static func register(_ t: inout ResolverTable) {
        payloadLists(&t)
        t.object("Mutation", Root.self) { f in
            mutation(&f, "saveCategoryMap", run: saveCategoryMap) { o, ctx in
                ["section": try await sectionValue(o.ids.first, ctx), "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "createLmsCategory", run: createLmsCategory) { o, ctx in
                ["lmsCategory": try await o.ids.first.asyncFlatMap { try await ctx.lmsCategories.load($0) }.map(LMSCategoryValue.init),
                 "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "setMaterialSyncToSIS", run: setSyncToSIS) { o, ctx in
                ["material": try await materialValue(o.ids, ctx), "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "syncMaterial", run: syncMaterial, payload: runPayload)
            mutation(&f, "syncChanges", run: syncChanges, payload: runPayload)
            f.resolve("planSync") { _, args, ctx in try await planSync(args["input"], ctx) }
            mutation(&f, "verifySection", run: verifySection) { o, ctx in
                ["section": try await sectionValue(o.ids.first, ctx), "objectsToCheck": o.count, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "saveSyncSchedule", run: saveSchedule) { o, ctx in
                var sections: [Keyed] = []
                let readable = try await ctx.visible(o.ids)
                for id in readable { if let s = try await sectionValue(id, ctx) { sections.append(Keyed(ListKey(s.row.title, ListKey.number(s.row.id)), s)) } }
                return ["sections": sections, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "saveDefaultSyncSchedule", run: saveDefaultSchedule) { o, ctx in
                ["org": try await o.strings.first.asyncFlatMap { try await ctx.orgs.load($0) }.map(OrgValue.init), "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "retrySyncJobs", run: retryJobs) { o, ctx in
                var rows: [SyncRunRecord] = []
                for id in o.ids { if let r = try await ctx.runs.load(id, batch: o.ids) { rows.append(r) } }
                let readable = Set(try await ctx.visible(rows.compactMap(\.classID)))
                let runs = rows.filter { $0.classID.map(readable.contains) == true }
                    .map { Keyed(ListKey(ListKey.number($0.id), ""), SyncRunValue(row: $0, batch: o.ids)) }
                return ["runs": runs, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "discardSyncJobs", run: discardJobs) { o, ctx in
                var rows: [JobRecord] = []
                for id in o.ids { if let j = try await ctx.jobs.load(id, batch: o.ids) { rows.append(j) } }
                let readable = Set(try await ctx.visible(rows.compactMap(\.classID)))
                let jobs = rows.filter { $0.classID.map(readable.contains) == true }.map { Keyed(ListKey(ListKey.number($0.id), ""), SyncJobValue(row: $0)) }
                return ["jobs": jobs, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "refreshRoster", run: refreshRoster) { o, ctx in
                ["rosterRun": try o.ids.first.flatMap { try RosterStore(ctx.services.database).request($0) }.map(RosterRunValue.init),
                 "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "upsertLmsCourse", run: LMSFeed.upsertCourse) { o, ctx in
                ["lmsCourse": try await o.ids.first.asyncFlatMap { try await ctx.courses.load($0) }.map { LMSCourseValue(row: $0, batch: [$0.id]) },
                 "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "upsertMaterials", run: LMSFeed.upsertMaterials) { o, ctx in
                ["materials": try LMSFeed.fedMaterials(o, ctx), "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "recordGrades", run: LMSFeed.recordGrades) { o, _ in
                ["recorded": o.count, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "deleteMaterial", run: LMSFeed.deleteMaterial) { o, ctx in
                ["material": try LMSFeed.fedMaterials(o, ctx).first?.value, "userErrors": o.userErrors.map(userErrorValue)]
            }
            mutation(&f, "restoreMaterial", run: LMSFeed.restoreMaterial) { o, ctx in
                ["material": try LMSFeed.fedMaterials(o, ctx).first?.value, "userErrors": o.userErrors.map(userErrorValue)]
            }
        }
    }

    /// Registers a mutation: authorizes it, runs it once per idempotency key, then builds its payload.
    static func mutation(_ f: inout FieldSet<Root>, _ name: String, run: @escaping @Sendable (Map, APIContext) async throws -> Outcome,
                         payload: @escaping @Sendable (Outcome, APIContext) async throws -> [String: any Sendable]) {
        f.resolve(name, withInfo: { _, args, ctx, info in
            let input = args["input"]
            // Before the key is looked at: a replay is a new request, and a key does not outlive the right to act.
            try await authorize(name, input, ctx)
            try checkPayloadPaging(info)
            let outcome = try await idempotent(name, input, selection: SelectionFingerprint.text(of: info), ctx) { try await run(input, ctx) }
            // The payload reads the state after the change, not what the loaders saw before it.
            return try await payload(outcome, ctx.afterWrite())
        })
    }

    /// Runs `body` once per idempotency key. A key belongs to one principal (role, user and, for an
    /// admin, org) and answers only the same operation with the same input and the same selection
    /// (`selection`, from `SelectionFingerprint`); anything else with that key is a `CONFLICT`.
    static func idempotent(_ operation: String, _ input: Map, selection: String, _ ctx: APIContext, _ body: () async throws -> Outcome) async throws -> Outcome {
        guard let key = input["idempotencyKey"].nonNullString else { return try await body() }
        guard (1...200).contains(key.count) else { throw APIError.badInput("idempotencyKey must be 1 to 200 characters") }
        var fields = input.dictionary ?? [:]
        fields["idempotencyKey"] = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var request = try encoder.encode(Map.dictionary(fields))
        request.append(contentsOf: Array("\n".utf8) + Array(selection.utf8))
        let hash = SHA256.hash(data: request).map { String(format: "%02x", $0) }.joined()
        let store = IdempotencyStore(ctx.services.database)
        let p = ctx.principal
        // Keys belong to a principal: an integration token named like a teacher, or the same person's admin token for
        // another org, cannot replay another's answers (JSON, so no sourcedId can forge the separator).
        let owner = String(decoding: try JSONEncoder().encode([p.role.rawValue, p.userSourcedId, p.orgSourcedId ?? ""]), as: UTF8.self)
        switch try store.claim(connection: p.connectionID, user: owner, key: key, operation: operation, inputHash: hash, at: ctx.now) {
        case .answered(let text):
            return try JSONDecoder().decode(Outcome.self, from: Data(text.utf8))
        case .inProgress:
            return .failed(UserError(.conflict, "a request with this idempotencyKey is still running; ask again in a moment", field: ["input", "idempotencyKey"]))
        case .mismatch:
            return .failed(UserError(.conflict, "this idempotencyKey was already used for a different request (another operation, input or selection); use a new key",
                                     field: ["input", "idempotencyKey"]))
        case .claimed:
            do {
                let outcome = try await body()
                try store.finish(connection: p.connectionID, user: owner, key: key,
                                 outcome: String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self))
                return outcome
            } catch {
                try? store.release(connection: p.connectionID, user: owner, key: key)
                throw error
            }
        }
    }

    // Payloads show a section (and what hangs under it) only if the viewer may read it now.

    static func sectionValue(_ id: Int64?, _ ctx: APIContext) async throws -> SectionValue? {
        guard let id, let row = try await ctx.sections.load(id), try await !ctx.visible([id]).isEmpty else { return nil }
        return SectionValue(row: row, batch: [id])
    }

    static func materialValue(_ ids: [Int64], _ ctx: APIContext) async throws -> MaterialValue? {
        guard ids.count == 2, try await !ctx.visible([ids[1]]).isEmpty,
            let row = try await ctx.materials.load(MaterialKey(materialID: ids[0], classID: ids[1]))
        else { return nil }
        return MaterialValue(row: row, classID: ids[1], batch: [])
    }

    static func runPayload(_ o: Outcome, _ ctx: APIContext) async throws -> [String: any Sendable] {
        var run: SyncRunValue?
        if let id = o.ids.first, let row = try await ctx.runs.load(id), let c = row.classID, try await !ctx.visible([c]).isEmpty {
            run = SyncRunValue(row: row, batch: [row.id])
        }
        return ["run": run, "userErrors": o.userErrors.map(userErrorValue)]
    }

    // MARK: Teachers

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
            return .failed(UserError(.conflict, "this section is not linked to an LMS course yet, so it has no LMS categories to map", field: ["input", "sectionId"]))
        }
        var errors: [UserError] = []
        var map: [String: String] = [:]
        var seen: [Int64: Int] = [:]
        for (i, e) in entries.enumerated() {
            let path = ["input", "map", String(i)]
            guard let lmsID = try? GlobalID.rowID(e["lmsCategoryId"].nonNullString ?? "", of: "LmsCategory", argument: "lmsCategoryId"),
                let category = try await ctx.lmsCategories.load(lmsID), category.courseID == course.id
            else {
                errors.append(UserError(.notFound, "row \(i + 1): this LMS category is not a category of the section's course", field: path + ["lmsCategoryId"]))
                continue
            }
            guard let sis = try? GlobalID.key(e["sisCategoryId"].nonNullString ?? "", of: "SisCategory", argument: "sisCategoryId") else {
                errors.append(UserError(.notFound, "row \(i + 1): not the id of a SIS category", field: path + ["sisCategoryId"]))
                continue
            }
            if let first = seen[lmsID] {
                errors.append(UserError(.conflict, "row \(i + 1): LMS category '\(category.title)' is already mapped in row \(first + 1); an LMS category maps to one SIS category",
                                        field: path + ["lmsCategoryId"]))
                continue
            }
            seen[lmsID] = i
            map[category.lmsID] = sis
        }
        guard errors.isEmpty else { return Outcome(userErrors: errors) }
        let problems = try LMSStore(ctx.services.database).saveCategoryMap(classID: section.id, map: map, savedBy: ctx.principal.userSourcedId, at: ctx.now)
        guard problems.isEmpty else { return Outcome(userErrors: problems.map { UserError(.notFound, $0.message, field: ["input", "map"]) }) }
        return Outcome(ids: [section.id])
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
        let id = try LMSStore(ctx.services.database).upsertCategory(courseID: course.id, lmsID: "passback-" + UUID().uuidString.lowercased(), title: title,
                                                                    createdByTeacher: true)
        return Outcome(ids: [id])
    }

    /// The material of `materialId` in a section the viewer teaches.
    static func taughtMaterial(_ input: Map, _ ctx: APIContext) async throws -> MaterialKey {
        let (m, c) = try GlobalID.materialKey(input["materialId"].nonNullString ?? "", argument: "input.materialId")
        guard let section = try await ctx.sections.load(c), section.connectionID == ctx.connection,
            try await ctx.materials.load(MaterialKey(materialID: m, classID: c)) != nil
        else { throw APIError(.notFound, "input.materialId: no such material") }
        try ctx.requireTeacher(of: c)
        return MaterialKey(materialID: m, classID: c)
    }

    static func setSyncToSIS(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let key = try await taughtMaterial(input, ctx)
        guard let value = input["syncToSIS"].nonNullBool else { throw APIError.badInput("input.syncToSIS is required") }
        // The toggle is the teacher's: it covers the course's linked sections they teach, never another teacher's.
        guard let course = try ctx.reads.courseOfMaterial(key.materialID) else { throw APIError(.notFound, "input.materialId: no such material") }
        let linked = try ctx.reads.linkedSections(courseIDs: [course])[course] ?? []
        let mine = try ctx.reads.readable(linked, connection: ctx.connection, scope: .teacher(ctx.principal.userSourcedId))
        let sections = linked.filter(mine.contains)
        switch try LMSStore(ctx.services.database).setSyncToSIS(materialID: key.materialID, classIDs: sections, value, by: ctx.principal.userSourcedId, at: ctx.now) {
        case .saved:
            return Outcome(ids: [key.materialID, key.classID])
        case .noMaterial:
            throw APIError(.notFound, "input.materialId: no such material")
        case .offInLMS:
            return Outcome(ids: [key.materialID, key.classID], userErrors: [UserError(
                .ruleFailed, "sync to SIS is off for this material in the LMS, and the LMS's off holds in every section: turn it on in the LMS",
                field: ["input", "syncToSIS"])])
        }
    }

    static func syncMaterial(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let key = try await taughtMaterial(input, ctx)
        return try start(classID: key.classID, materials: [key.materialID], trigger: .item, ctx)
    }

    static func syncChanges(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let section = try await taughtSection(input, ctx)
        return try start(classID: section.id, materials: nil, trigger: .syncChanges, ctx)
    }

    static func start(classID: Int64, materials: Set<Int64>?, trigger: SyncTrigger, _ ctx: APIContext) throws -> Outcome {
        do {
            let (runID, _) = try ctx.services.planner.start(classID: classID, materialIDs: materials, trigger: trigger, startedBy: ctx.principal.userSourcedId)
            return Outcome(ids: [runID])
        } catch let failure as SyncPlanner.Failure {
            return .failed(UserError(.conflict, failure.description))
        }
    }

    static func planSync(_ input: Map, _ ctx: APIContext) async throws -> [String: any Sendable] {
        let section = try await taughtSection(input, ctx)
        var materials: Set<Int64>?
        if let ids = input["materialIds"].list {
            guard ids.count <= maxMaterials else { throw APIError.badInput("input.materialIds: at most \(maxMaterials) ids") }
            materials = Set(try ids.map { try GlobalID.materialKey($0.nonNullString ?? "", argument: "input.materialIds").materialID })
        }
        let plan: SyncPlan
        do {
            plan = try ctx.services.planner.plan(classID: section.id, materialIDs: materials, onlyChanges: materials == nil)
        } catch let failure as SyncPlanner.Failure {
            return ["items": [] as [Keyed], "writeCount": 0, "userErrors": [userErrorValue(UserError(.conflict, failure.description))]]
        }
        let keys = plan.items.map { MaterialKey(materialID: $0.materialID, classID: section.id) }
        let rows = try ctx.reads.materials(keys.map { ($0.materialID, $0.classID) })
        let items: [Keyed] = plan.items.compactMap { item in
            guard let row = rows[MaterialKey(materialID: item.materialID, classID: section.id)] else { return nil }
            let writes = item.writes.map { write in
                Keyed(ListKey(String(JobKind.allCases.firstIndex(of: write.kind) ?? 0), write.targetSourcedId),
                      ["kind": write.kind.rawValue.uppercased(), "targetSourcedId": write.targetSourcedId, "payload": write.payload] as [String: any Sendable])
            }
            let value: [String: any Sendable] = ["material": MaterialValue(row: row, classID: section.id, batch: keys), "decision": item.decision.rawValue.uppercased(),
                                                 "problems": item.problems, "writes": writes]
            return Keyed(ListKey(row.title, ListKey.number(row.id)), value)
        }
        return ["items": items, "writeCount": plan.writeCount, "userErrors": [] as [any Sendable]]
    }

    /// The lists of mutation payloads, by the payload type.
    static let payloadListFields = [("SaveSyncSchedulePayload", "sections"), ("RetrySyncJobsPayload", "runs"), ("DiscardSyncJobsPayload", "jobs"),
                                    ("SyncPlanPayload", "items"), ("PlannedItem", "writes"), ("UpsertMaterialsPayload", "materials")]

    /// The lists of payloads are connections: each payload holds its whole list (short: bounded by
    /// the input, or a plan's items), keyed, and a page of it is answered. A payload is answered
    /// once, so only its first page can be read with an idempotency key (a key answers only the
    /// same selection); what lies past it is read with queries (a run's jobs, a section's materials).
    static func payloadLists(_ t: inout ResolverTable) {
        for (type, field) in payloadListFields {
            t.object(type, [String: any Sendable].self) { f in
                f.resolve(field) { p, args, _ in try PageValue.list(p[field] as? [Keyed] ?? [], args, ordering: field, key: \.key) { $0.map(\.value) } }
            }
        }
        t.object("PlannedItem", [String: any Sendable].self) { f in
            f.resolve("problems") { p, args, _ in try PageValue.problems(p["problems"] as? [Problem] ?? [], args, ordering: "problems") }
        }
    }

    /// Refuses a mutation's payload-list `first` or `after` that its page would refuse, before the
    /// mutation runs: refused after it, the error would take the whole answer, `userErrors`
    /// included, although the change was made.
    static func checkPayloadPaging(_ info: GraphQLResolveInfo) throws {
        let fields = Set(payloadListFields.map(\.1))
        func value(_ v: any Value) -> Map {
            switch v {
            case let i as IntValue: Int(i.value).map { .number(Number($0)) } ?? .undefined
            case let s as StringValue: .string(s.value)
            case let variable as Variable: (info.variableValues[variable.name.value] as? Map) ?? .undefined
            default: .undefined
            }
        }
        var seen = Set<String>()
        func visit(_ set: SelectionSet) throws {
            for selection in set.selections {
                switch selection {
                case let field as Field where fields.contains(field.name.value):
                    var args = OrderedDictionary<String, Map>()
                    for a in field.arguments { args[a.name.value] = value(a.value) }
                    _ = try PageValue.list([] as [Int], .dictionary(args), ordering: field.name.value, key: { _ in ListKey("", "") }) { _ in [] }
                case let inline as InlineFragment:
                    try visit(inline.selectionSet)
                case let spread as FragmentSpread:
                    if seen.insert(spread.name.value).inserted, let fragment = info.fragments[spread.name.value] { try visit(fragment.selectionSet) }
                default:
                    continue
                }
            }
        }
        for field in info.fieldASTs { if let set = field.selectionSet { try visit(set) } }
    }

    /// A weekly schedule from input, or a user error saying what to fix.
    static func schedule(_ arg: Map) -> Result<WeeklySchedule?, UserError> {
        guard !arg.isAbsent else { return .success(nil) }
        let path = ["input", "schedule"]
        guard let weekday = arg["weekday"].nonNullInt, (1...7).contains(weekday) else {
            return .failure(UserError(.invalid, "weekday must be 1 (Monday) to 7 (Sunday)", field: path + ["weekday"]))
        }
        let time = arg["startTime"].nonNullString ?? ""
        let parts = time.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else {
            return .failure(UserError(.invalid, "startTime must be HH:MM on a 24-hour clock (got '\(time)')", field: path + ["startTime"]))
        }
        // No zone: the school's, resolved by the store when it saves (WeeklySchedule.schoolZone).
        let zone = arg["timeZone"].nonNullString ?? WeeklySchedule.schoolZone
        guard zone == WeeklySchedule.schoolZone || SchoolCalendar.isIANAName(zone) else {
            return .failure(UserError(.invalid, "timeZone must be an IANA zone such as America/Chicago, or left out for the school's zone (got '\(zone)')",
                                      field: path + ["timeZone"]))
        }
        return .success(WeeklySchedule(weekday: weekday, startMinute: h * 60 + m, timeZone: zone))
    }

    static func saveSchedule(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let weekly: WeeklySchedule?
        switch schedule(input["schedule"]) {
        case .success(let s): weekly = s
        case .failure(let e): return .failed(e)
        }
        let store = ScheduleStore(ctx.services.database)
        if input["allMyCourses"].nonNullBool == true {
            guard ctx.principal.role != .integration else { throw APIError.forbidden("the integration role cannot schedule syncs") }
            let ids = try store.saveTeacherScheduleForAllCourses(weekly, connection: ctx.connection, teacher: ctx.principal.userSourcedId, at: ctx.now)
            return Outcome(ids: ids)
        }
        guard !input["sectionId"].isAbsent else {
            return .failed(UserError(.invalid, "give a sectionId, or allMyCourses: true", field: ["input", "sectionId"]))
        }
        let section = try await taughtSection(input, ctx)
        try store.saveTeacherSchedule(weekly, classIDs: [section.id], teacher: ctx.principal.userSourcedId, at: ctx.now)
        return Outcome(ids: [section.id])
    }

    // MARK: Admins

    static func saveDefaultSchedule(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let org = try ctx.requireAdmin()
        switch schedule(input["schedule"]) {
        case .success(let weekly):
            try ScheduleStore(ctx.services.database).saveDefaultSchedule(weekly, connection: ctx.connection, org: org, savedBy: ctx.principal.userSourcedId,
                                                                         at: ctx.now)
            return Outcome(strings: [org])
        case .failure(let e):
            return .failed(e)
        }
    }

    /// Jobs by id, each in the admin's org subtree; user errors name the ones that are not.
    static func scopedJobs(_ input: Map, _ ctx: APIContext, states: Set<String>, verb: String) async throws -> ([JobRecord], [UserError]) {
        let org = try ctx.requireAdmin()
        let ids = input["jobIds"].list ?? []
        guard ids.count <= maxJobs else { throw APIError.badInput("input.jobIds: at most \(maxJobs) ids (got \(ids.count))") }
        let rowIDs = try ids.map { try GlobalID.rowID($0.nonNullString ?? "", of: "SyncJob", argument: "input.jobIds") }
        let jobs = try ctx.reads.jobs(ids: rowIDs)
        let inScope = try ctx.reads.readable(jobs.values.compactMap(\.classID), connection: ctx.connection, scope: .org(org))
        var found: [JobRecord] = []
        var errors: [UserError] = []
        for (i, id) in rowIDs.enumerated() {
            let path = ["input", "jobIds", String(i)]
            guard let job = jobs[id], let c = job.classID, inScope.contains(c) else {
                errors.append(UserError(.notFound, "job \(i + 1): no such job in your organization", field: path))
                continue
            }
            guard states.contains(job.state) else {
                errors.append(UserError(.conflict, "job \(i + 1) is \(job.state); only \(states.sorted().joined(separator: " or ")) jobs can be \(verb)", field: path))
                continue
            }
            found.append(job)
        }
        return (found, errors)
    }

    static func retryJobs(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let (jobs, errors) = try await scopedJobs(input, ctx, states: ["cancelled", "discarded"], verb: "retried")
        guard errors.isEmpty else { return Outcome(userErrors: errors) }
        var bySection: [Int64: Set<Int64>] = [:]
        for j in jobs { if let c = j.classID, let m = j.materialID { bySection[c, default: []].insert(m) } }
        var runs: [Int64] = []
        var userErrors: [UserError] = []
        for (classID, materials) in bySection.sorted(by: { $0.key < $1.key }) {
            do {
                let (runID, _) = try ctx.services.planner.start(classID: classID, materialIDs: materials, trigger: .item, startedBy: ctx.principal.userSourcedId)
                runs.append(runID)
            } catch let failure as SyncPlanner.Failure {
                userErrors.append(UserError(.conflict, failure.description))
            }
        }
        return Outcome(ids: runs, userErrors: userErrors)
    }

    static func discardJobs(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        let (jobs, errors) = try await scopedJobs(input, ctx, states: ["available", "scheduled", "retryable"], verb: "discarded")
        guard errors.isEmpty else { return Outcome(userErrors: errors) }
        let done = try EngineStore(ctx.services.database).discard(jobIDs: jobs.map(\.id), by: ctx.principal.userSourcedId, at: ctx.now)
        return Outcome(ids: done)
    }

    /// Queues a pull for the serve process's roster runner and returns at once (a mutation never
    /// waits on the SIS); the caller follows the run with `node(id:)`.
    static func refreshRoster(_ input: Map, _ ctx: APIContext) async throws -> Outcome {
        _ = try ctx.requireAdmin()
        guard let connection = ctx.services.connections[ctx.connection] else {
            return .failed(UserError(.notFound, "this gateway has no SIS credentials for connection '\(ctx.connection)'; add it to the configuration file"))
        }
        let store = RosterStore(ctx.services.database)
        try store.saveConnection(connection.settings, at: ctx.now)
        let id = try store.queueRequest(connection: ctx.connection, full: input["full"].nonNullBool ?? false, by: ctx.principal.userSourcedId, at: ctx.now)
        ctx.services.rosterRunner.nudge()
        return Outcome(ids: [id])
    }
}

extension Optional where Wrapped: Sendable {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
