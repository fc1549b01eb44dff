import Foundation
import OneRoster
import PassbackCore
import PassbackStore

/// What a run would do with one material: the writes, and the rules that stop or warn.
public struct PlannedItem: Sendable {
    public enum Decision: String, Sendable {
        /// Writes go to the SIS.
        case send
        /// A rule failed: nothing is sent.
        case blocked
        /// The material is opted out or deleted.
        case skip
        /// The SIS already holds exactly this content (Sync Changes leaves it out).
        case unchanged
    }

    public var materialID: Int64
    public var lmsID: String
    public var title: String
    /// The deterministic sourcedId of its lineItem in this section.
    public var lineItemSourcedId: String
    public var decision: Decision
    public var problems: [Problem]
    /// The writes, in order: category (if the profile syncs uncategorized items under a generic one), lineItem, results.
    public var writes: [JobSpec]
}

/// A section's plan: what a run sends, item by item.
public struct SyncPlan: Sendable {
    public var classID: Int64
    public var connectionID: String
    public var items: [PlannedItem]
    /// When the cache was read for this plan.
    public var readAt: Date
    public var writeCount: Int { items.reduce(0) { $0 + $1.writes.count } }
}

/// Turns a section's materials and grades into OneRoster writes, through the rules of
/// PRODUCT.md, and enqueues them in one transaction with the run that caused them.
public struct SyncPlanner: Sendable {
    let engine: EngineStore
    let clock: any WallClock
    public var retryPolicy = RetryPolicy()

    public init(database: PassbackDatabase, clock: any WallClock = SystemWallClock()) {
        engine = EngineStore(database)
        self.clock = clock
    }

    /// A planning problem for the caller (not an item's rule).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The plan for a section: every material (`materialIDs` nil) or the ones named. With
    /// `onlyChanges`, items the SIS already holds unchanged are skipped (Sync Changes); a
    /// single-item sync sends the item whatever its state.
    public func plan(classID: Int64, materialIDs: Set<Int64>? = nil, onlyChanges: Bool) throws -> SyncPlan {
        let readAt = clock.now
        guard let s = try engine.sectionSnapshot(classID: classID) else {
            throw Failure(description: "the section is not linked to an LMS course, so it has nothing to sync")
        }
        let calendar = try engine.sectionCalendar(classID: classID)
        let profile = calendar.limits.applied(to: VendorProfile.named(s.profile) ?? .standard)
        var titleCounts: [String: Int] = [:]
        for m in s.materials where !m.deleted { titleCounts[Validation.titleKey(m.title), default: 0] += 1 }
        let section = SectionInfo(
            connectionID: s.connectionID, sectionSourcedId: s.sectionSourcedId, configured: s.configured,
            categoryMap: s.categoryMap.mapValues { SISCategoryRef(sourcedId: $0.sourcedId, title: $0.title) },
            gradingPeriods: s.gradingPeriods.map { GradingPeriodInfo(sourcedId: $0.sourcedId, title: $0.title, startDay: $0.startDate, endDay: $0.endDate) },
            enrolledStudents: s.enrolledStudents, otherLinkedSections: s.otherLinkedSections, otherLinkedStudents: s.otherLinkedStudents, formerStudents: s.formerStudents,
            courseTitleCounts: titleCounts, timeZone: calendar.zone)
        var items: [PlannedItem] = []
        for m in s.materials where materialIDs?.contains(m.id) ?? true {
            let lineItemID = SourcedIDs.lineItem(connection: s.connectionID, materialLmsID: m.lmsID, sectionSourcedId: s.sectionSourcedId)
            guard !m.deleted, m.syncToSIS else {
                items.append(PlannedItem(materialID: m.id, lmsID: m.lmsID, title: m.title, lineItemSourcedId: lineItemID, decision: .skip, problems: [], writes: []))
                continue
            }
            let grades = (s.grades[m.id] ?? []).map {
                GradeInfo(studentSourcedId: $0.studentSourcedId, score: $0.score, exception: $0.exception.flatMap(GradeException.init(rawValue:)), comment: $0.comment)
            }
            let info = MaterialInfo(lmsID: m.lmsID, title: m.title, dueAt: m.dueAt, lmsCategoryID: m.categoryLmsID, maxPoints: m.maxPoints,
                                    syncToSIS: m.syncToSIS, deleted: m.deleted, lmsCategoryTitle: m.categoryTitle)
            let rules = Validation.plan(material: info, grades: grades, section: section, profile: profile, reportsUnenrolled: s.reportsUnenrolled.contains(m.id))
            if rules.blocked {
                items.append(PlannedItem(materialID: m.id, lmsID: m.lmsID, title: m.title, lineItemSourcedId: lineItemID, decision: .blocked, problems: rules.problems, writes: []))
                continue
            }
            let writes = Self.writes(material: m, rules: rules, section: s, profile: profile, grades: s.grades[m.id] ?? [], zone: calendar.zone)
            let fingerprint = Fingerprint.of(writes.map(\.fingerprint).joined(separator: "\n"))
            let item = s.items[m.id]
            let unchanged = item?.acceptedFingerprint == fingerprint && item?.lastAttempt == "succeeded" && item?.status != .error
                && (s.pendingJobs[m.id] ?? 0) == 0
            items.append(PlannedItem(materialID: m.id, lmsID: m.lmsID, title: m.title, lineItemSourcedId: lineItemID, decision: onlyChanges && unchanged ? .unchanged : .send,
                                     problems: rules.problems, writes: writes))
        }
        return SyncPlan(classID: classID, connectionID: s.connectionID, items: items, readAt: readAt)
    }

    /// Plans and enqueues in one transaction; returns the run. The worker does the sending.
    public func start(classID: Int64, materialIDs: Set<Int64>? = nil, trigger: SyncTrigger, startedBy: String) throws -> (runID: Int64, plan: SyncPlan) {
        let plan = try plan(classID: classID, materialIDs: materialIDs, onlyChanges: trigger != .item)
        let decisions: [ItemDecision] = plan.items.map { item in
            switch item.decision {
            case .skip:
                return ItemDecision(materialID: item.materialID, lineItemSourcedId: item.lineItemSourcedId, action: .skipped, problems: [])
            case .unchanged:
                return ItemDecision(materialID: item.materialID, lineItemSourcedId: item.lineItemSourcedId, action: .unchanged, problems: [])
            case .blocked:
                return ItemDecision(materialID: item.materialID, lineItemSourcedId: item.lineItemSourcedId, action: .blocked, problems: item.problems)
            case .send:
                let category = item.writes.first { $0.kind == .putCategory }
                let lineItem = item.writes.first { $0.kind == .putLineItem }!
                let results = item.writes.filter { $0.kind == .putResult }
                let fingerprint = Fingerprint.of(item.writes.map(\.fingerprint).joined(separator: "\n"))
                return ItemDecision(materialID: item.materialID, lineItemSourcedId: lineItem.targetSourcedId,
                                    action: .send(category: category, lineItem: lineItem, results: results, fingerprint: fingerprint), problems: item.problems)
            }
        }
        let runID = try engine.enqueueRun(connection: plan.connectionID, classID: classID, trigger: trigger, startedBy: startedBy, decisions: decisions,
                                          maxAttempts: retryPolicy.maxAttempts, plannedAt: plan.readAt, at: clock.now)
        return (runID, plan)
    }

    /// The OneRoster writes of one item: exactly what the SIS will hold. A result's `scoreDate` is
    /// the school's local day (in `zone`) of the grade's last change.
    static func writes(material m: SectionSnapshot.Material, rules: ItemPlan, section s: SectionSnapshot, profile: VendorProfile,
                       grades: [SectionSnapshot.Grade], zone: TimeZone = TimeZone(identifier: SchoolCalendar.defaultZoneName)!) -> [JobSpec] {
        var writes: [JobSpec] = []
        if case .genericCategory = profile.uncategorized, m.categoryLmsID == nil, let generic = rules.sisCategory {
            let category = OneRoster.Category(sourcedId: generic.sourcedId, metadata: ["passback.generic": true], title: generic.title)
            writes.append(spec(.putCategory, category.sourcedId, category.json))
        }
        let lineItem = LineItem(
            sourcedId: rules.lineItemSourcedId, status: .active,
            metadata: ["passback.lmsMaterialId": .string(m.lmsID), "passback.section": .string(s.sectionSourcedId)],
            title: m.title, description: m.description, assignDate: m.dueAt, dueDate: m.dueAt,
            class: Reference(s.sectionSourcedId, type: .class), category: rules.sisCategory.map { Reference($0.sourcedId, type: .category) },
            gradingPeriod: rules.gradingPeriodSourcedId.map { Reference($0, type: .academicSession) },
            resultValueMin: 0, resultValueMax: m.maxPoints ?? 100)
        writes.append(spec(.putLineItem, lineItem.sourcedId, lineItem.json))
        let updatedAt = Dictionary(grades.map { ($0.studentSourcedId, $0.updatedAt) }, uniquingKeysWith: { a, _ in a })
        for r in rules.results {
            let result = GradebookResult(
                sourcedId: r.sourcedId, status: .active, lineItem: Reference(lineItem.sourcedId, type: .lineItem),
                student: Reference(r.studentSourcedId, type: .student), scoreStatus: ScoreStatus(rawValue: r.scoreStatus.rawValue) ?? .fullyGraded,
                score: r.score, scoreDate: updatedAt[r.studentSourcedId].flatMap { CalendarDate(SchoolCalendar.localDay($0, in: zone)) }, comment: r.comment)
            writes.append(spec(.putResult, result.sourcedId, result.json))
        }
        return writes
    }

    static func spec(_ kind: JobKind, _ target: String, _ object: JSONObject) -> JobSpec {
        let text = JSONValue.object(object).jsonText
        return JobSpec(kind: kind, targetSourcedId: target, payload: text, fingerprint: Fingerprint.of(text))
    }
}
