import Foundation

/// A write of one SIS object that did not land, as the store records it.
public struct FailedWrite: Sendable, Hashable, Codable {
    /// The content that failed (`LineItemContent.fingerprint`, …).
    public var fingerprint: String
    /// `SIS_REJECTED`, `SIS_AUTH_FAILED`, `SIS_UNAVAILABLE`.
    public var code: ProblemCode
    /// The SIS's words (or why it was not sent), as the item shows them.
    public var message: String
    /// Whether Sync Changes may send this content again. `false` when the SIS refused the
    /// content itself (400/409/422): the same content would be refused again, so it waits for
    /// a change or a sync of that item on purpose. `true` when the write failed for another
    /// reason (credentials, an outage, a write it waited on).
    public var resend: Bool

    public init(fingerprint: String, code: ProblemCode, message: String, resend: Bool) {
        self.fingerprint = fingerprint
        self.code = code
        self.message = message
        self.resend = resend
    }
}

/// What Passback knows of one SIS object of an item: its content now, what the SIS last
/// accepted, and the last write of it that failed.
public struct SISObjectFacts: Sendable, Hashable {
    /// The fingerprint of the content that would be sent now.
    public var current: String
    /// The fingerprint the SIS last accepted; `nil` if it never accepted one.
    public var accepted: String?
    /// The last failed write, if none was accepted since.
    public var failure: FailedWrite?

    public init(current: String, accepted: String? = nil, failure: FailedWrite? = nil) {
        self.current = current
        self.accepted = accepted
        self.failure = failure
    }

    /// The SIS holds exactly the content there is now.
    public var inStep: Bool { accepted == current }

    /// The SIS refused exactly this content: sending it again unchanged would be refused again.
    public var refusedAsIs: Bool { failure.map { $0.fingerprint == current && !$0.resend } ?? false }

    /// The last failure concerns the content there is now (a change since makes it history).
    public var failedAsIs: Bool { failure?.fingerprint == current && !inStep }

    /// Whether Sync Changes sends it: its content differs from what the SIS accepted, and the
    /// SIS did not refuse this very content.
    public var sendsOnChanges: Bool { !inStep && !refusedAsIs }
}

/// Every fact a material × section's status depends on.
public struct StatusFacts: Sendable, Hashable {
    /// `syncToSIS` in this section (the LMS's and every teacher's say).
    public var syncToSIS: Bool
    /// Deleted in the LMS: no longer updated, so its rules no longer apply.
    public var deleted: Bool
    /// A run has looked at this item (sent it or stopped it on a rule); before that, a failing
    /// rule is the dry run's news, and the item is simply not synced.
    public var attempted: Bool
    /// Writes of the item queued or being sent.
    public var pendingWrites: Int
    /// The rules' errors now (item-level first, then per result).
    public var ruleErrors: [Problem]
    /// The item's own SIS objects as they would be sent now: its lineItem first, then its results.
    public var objects: [SISObjectFacts]
    /// Why the connection is blocked (`SIS_CONNECTION_BLOCKED`), if it is: its writes are held.
    public var connectionBlocked: Problem?

    public init(
        syncToSIS: Bool, deleted: Bool = false, attempted: Bool, pendingWrites: Int = 0, ruleErrors: [Problem] = [], objects: [SISObjectFacts],
        connectionBlocked: Problem? = nil
    ) {
        self.connectionBlocked = connectionBlocked
        self.syncToSIS = syncToSIS
        self.deleted = deleted
        self.attempted = attempted
        self.pendingWrites = pendingWrites
        self.ruleErrors = ruleErrors
        self.objects = objects
    }
}

/// A status and, for `ERROR`, the problem it shows.
public struct StatusDecision: Sendable, Hashable {
    public var status: SyncStatus
    /// The error shown on the badge (`nil` unless `status` is `ERROR`).
    public var error: Problem?

    public init(_ status: SyncStatus, error: Problem? = nil) {
        self.status = status
        self.error = error
    }
}

/// The sync status of a material in one section (PRODUCT.md's table), decided in this one
/// place from facts the store holds. The store recomputes it in the transaction that changes
/// any of them, so what a teacher sees follows its cause at once, without a sync.
public enum StatusRules {
    /// The status, by precedence:
    /// 1. `OPT_OUT` if `syncToSIS` is off here (someone said never: it overrides everything);
    /// 2. `ERROR` (`SIS_CONNECTION_BLOCKED`) while writes of the item are held on a blocked
    ///    connection: nothing will move until the configuration is fixed, so it is not "in progress";
    ///    else `IN_PROGRESS` while any write of the item is queued or being sent (what is shown must
    ///    not claim an answer the SIS has not given yet);
    /// 3. `ERROR` if a rule fails now, on an item a run has looked at (not for a deleted one);
    /// 4. `ERROR` if the SIS refused, or Passback could not deliver, the content there is now
    ///    (its lineItem first, so the SIS's own words about the item come before its results');
    /// 5. `NOT_SYNCED` if the SIS never accepted any object of the item;
    /// 6. `SUCCESSFUL` if it holds exactly the content there is now, else `UPDATES_AVAILABLE`.
    public static func decide(_ f: StatusFacts) -> StatusDecision {
        if !f.syncToSIS { return StatusDecision(.optOut) }
        if f.pendingWrites > 0, let blocked = f.connectionBlocked { return StatusDecision(.error, error: blocked) }
        if f.pendingWrites > 0 { return StatusDecision(.inProgress) }
        if !f.deleted {
            if f.attempted, let first = f.ruleErrors.first {
                let more = f.ruleErrors.count - 1
                var shown = first
                if more > 0 { shown.message += " (and \(more) more problem\(more > 1 ? "s" : ""))" }
                return StatusDecision(.error, error: shown)
            }
            if let failed = f.objects.first(where: \.failedAsIs)?.failure {
                return StatusDecision(.error, error: Problem(code: failed.code, message: failed.message))
            }
        }
        if !f.objects.contains(where: { $0.accepted != nil }) { return StatusDecision(.notSynced) }
        return StatusDecision(f.objects.allSatisfy(\.inStep) ? .successful : .updatesAvailable)
    }
}
