import Foundation
import OneRoster
import PassbackCore
import PassbackStore

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
    /// `onlyChanges` (Sync Changes), each SIS object goes only if its content differs from what
    /// the SIS last accepted, and never again as the very content the SIS refused; a sync of
    /// items on purpose sends each of them whole, whatever its state.
    public func plan(classID: Int64, materialIDs: Set<Int64>? = nil, onlyChanges: Bool) throws -> SyncPlan {
        let readAt = clock.now
        guard let s = try engine.sectionSnapshot(classID: classID, materialIDs: materialIDs) else {
            throw Failure(description: "the section is not linked to an LMS course, so it has nothing to sync")
        }
        let section = s.sectionInfo
        var items: [PlannedItem] = []
        for m in s.materials where materialIDs?.contains(m.id) ?? true {
            let e = s.evaluate(m, section: section)
            let lineItemID = e.lineItem.sourcedId
            guard !m.deleted, m.syncToSIS else {
                items.append(
                    PlannedItem(materialID: m.id, lmsID: m.lmsID, title: m.title, lineItemSourcedId: lineItemID, decision: .skip, problems: [], writes: []))
                continue
            }
            if e.rules.blocked {
                items.append(
                    PlannedItem(
                        materialID: m.id, lmsID: m.lmsID, title: m.title, lineItemSourcedId: lineItemID, decision: .blocked,
                        problems: e.rules.problems, writes: []))
                continue
            }
            let wanted = Set(onlyChanges ? e.changed : e.all)
            let writes = Self.writes(e, section: s, only: wanted)
            items.append(
                PlannedItem(
                    materialID: m.id, lmsID: m.lmsID, title: m.title, lineItemSourcedId: lineItemID,
                    decision: writes.isEmpty ? .unchanged : .send, problems: e.rules.problems, writes: writes))
        }
        return SyncPlan(classID: classID, connectionID: s.connectionID, items: items, readAt: readAt)
    }

    /// Plans and enqueues in one transaction; returns the run. The worker does the sending.
    public func start(classID: Int64, materialIDs: Set<Int64>? = nil, trigger: SyncTrigger, startedBy: String) throws -> (runID: Int64, plan: SyncPlan) {
        let plan = try plan(classID: classID, materialIDs: materialIDs, onlyChanges: trigger != .item)
        let runID = try engine.enqueueRun(
            connection: plan.connectionID, classID: classID, trigger: trigger, startedBy: startedBy, items: plan.items,
            maxAttempts: retryPolicy.maxAttempts, at: clock.now)
        return (runID, plan)
    }

    /// The OneRoster writes of one item, of the objects in `only`, in order (category, lineItem,
    /// results): each is its content's `model`, with the fingerprint the content took when made.
    static func writes(_ e: ItemEvaluation, section s: SectionSnapshot, only: Set<SISObjectKey>) -> [JobSpec] {
        var writes: [JobSpec] = []
        if let c = e.category, only.contains(c.key) { writes.append(spec(.putCategory, c.sourcedId, c.model.json, c.fingerprint)) }
        let l = e.lineItem
        if only.contains(l.key) { writes.append(spec(.putLineItem, l.sourcedId, l.model.json, l.fingerprint)) }
        for r in e.results where only.contains(r.key) { writes.append(spec(.putResult, r.sourcedId, r.model.json, r.fingerprint)) }
        return writes
    }

    static func spec(_ kind: JobKind, _ target: String, _ object: JSONObject, _ fingerprint: String) -> JobSpec {
        JobSpec(kind: kind, targetSourcedId: target, payload: JSONValue.object(object).jsonText, fingerprint: fingerprint)
    }
}
