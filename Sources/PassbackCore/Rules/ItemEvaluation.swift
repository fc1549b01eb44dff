import Foundation
import OneRosterModels

/// One material × section, evaluated: what the rules say, the SIS objects it stands for now,
/// which of them Sync Changes would send, and the status. The planner sends from it and the
/// store stores its status, so the dry run, the sync and the badge cannot disagree.
public struct ItemEvaluation: Sendable {
    /// The rules' plan (problems, blocked, results).
    public var rules: ItemPlan
    /// The generic category the item is filed under, if the profile uses one (shared by the
    /// connection: it is sent when the SIS lacks it, but no item's status hangs on it).
    public var category: CategoryContent?
    public var lineItem: LineItemContent
    /// Results to send, by student (those a rule stopped are left out).
    public var results: [ResultContent]
    /// The item's status and the error it shows.
    public var decision: StatusDecision
    /// The lineItem's content as it is now was refused by the SIS: nothing of the item goes on
    /// Sync Changes (its results would wait on it) until it changes or is synced on purpose.
    public var held: Bool
    /// What Sync Changes sends, in order (category, lineItem, results); empty when the SIS
    /// already holds everything, when the item is held, or when a rule blocks it.
    public var changed: [SISObjectKey]
    /// What the SIS was found to hold instead of what was sent (`SIS_DIFFERS`), for the objects
    /// not rewritten since (lineItem first, then results).
    public var sisDiffers: [Problem] = []

    /// Everything the item would send on purpose (a sync of this one item), in order.
    public var all: [SISObjectKey] { (category.map { [$0.key] } ?? []) + [lineItem.key] + results.map(\.key) }

    /// Evaluates one material in one section.
    /// - Parameters:
    ///   - scoreDays: the school's local day each student's grade last changed (`scoreDate`).
    ///   - sis: what the store knows of each SIS object (accepted and failed writes).
    ///   - pendingWrites: the item's writes queued or being sent.
    ///   - attempted: a run has looked at the item before.
    ///   - connectionBlocked: why the connection is blocked, if it is (`SIS_CONNECTION_BLOCKED`).
    public static func evaluate(
        material: MaterialInfo, description: String?, grades: [GradeInfo], scoreDays: [String: CalendarDate], section: SectionInfo, profile: VendorProfile,
        reportsUnenrolled: Bool, sis: (SISObjectKey) -> (accepted: String?, failure: FailedWrite?),
        differs: (SISObjectKey) -> Problem? = { _ in nil }, pendingWrites: Int, attempted: Bool,
        connectionBlocked: Problem? = nil
    ) -> ItemEvaluation {
        // What the item stands for in the SIS, whatever its flags: a deleted or opted-out
        // material still has the content its SIS item would have, to compare with.
        var live = material
        live.syncToSIS = true
        live.deleted = false
        let rules = Validation.plan(material: live, grades: grades, section: section, profile: profile, reportsUnenrolled: reportsUnenrolled)
        var category: CategoryContent?
        if case .genericCategory = profile.uncategorized, material.lmsCategoryID?.isEmpty ?? true, let generic = rules.sisCategory {
            category = CategoryContent(sourcedId: generic.sourcedId, title: generic.title)
        }
        let lineItem = LineItemContent(
            sourcedId: rules.lineItemSourcedId, lmsMaterialID: material.lmsID, sectionSourcedId: section.sectionSourcedId, title: material.title,
            description: description, dueAt: material.dueAt, categorySourcedId: rules.sisCategory?.sourcedId,
            gradingPeriodSourcedId: rules.gradingPeriodSourcedId, resultValueMax: material.maxPoints ?? 100)
        let results = rules.results.map {
            ResultContent(
                sourcedId: $0.sourcedId, lineItemSourcedId: lineItem.sourcedId, studentSourcedId: $0.studentSourcedId, scoreStatus: $0.scoreStatus,
                score: $0.score, scoreDay: scoreDays[$0.studentSourcedId], comment: $0.comment)
        }
        func facts(_ key: SISObjectKey, _ fingerprint: String) -> SISObjectFacts {
            let known = sis(key)
            return SISObjectFacts(current: fingerprint, accepted: known.accepted, failure: known.failure)
        }
        let lineItemFacts = facts(lineItem.key, lineItem.fingerprint)
        let resultFacts = results.map { facts($0.key, $0.fingerprint) }
        let statusFacts = StatusFacts(
            syncToSIS: material.syncToSIS, deleted: material.deleted, attempted: attempted, pendingWrites: pendingWrites, ruleErrors: rules.errors,
            objects: [lineItemFacts] + resultFacts, connectionBlocked: connectionBlocked)
        let held = lineItemFacts.refusedAsIs
        var changed: [SISObjectKey] = []
        if !rules.blocked, !held {
            if let category, facts(category.key, category.fingerprint).sendsOnChanges { changed.append(category.key) }
            if lineItemFacts.sendsOnChanges { changed.append(lineItem.key) }
            for (r, f) in zip(results, resultFacts) where f.sendsOnChanges { changed.append(r.key) }
        }
        var evaluation = ItemEvaluation(
            rules: rules, category: category, lineItem: lineItem, results: results, decision: StatusRules.decide(statusFacts),
            held: held, changed: changed)
        // A difference found is news until the object is rewritten, or its content becomes what the SIS holds.
        for (key, f) in zip([lineItem.key] + results.map(\.key), [lineItemFacts] + resultFacts) where !f.inStep {
            if let problem = differs(key) { evaluation.sisDiffers.append(problem) }
        }
        return evaluation
    }
}
