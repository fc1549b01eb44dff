import Foundation
import GRDB
import PassbackCore

/// What a sync run was started by.
public enum SyncTrigger: String, Sendable, Codable, CaseIterable {
    case item, syncChanges = "sync_changes", scheduled, gradebook
}

/// The kinds of OneRoster writes the outbox sends.
public enum JobKind: String, Sendable, Codable, CaseIterable {
    case putCategory = "put_category", putLineItem = "put_line_item", putResult = "put_result", deleteLineItem = "delete_line_item"
}

/// One write to queue.
public struct JobSpec: Sendable, Hashable {
    public var kind: JobKind
    public var targetSourcedId: String
    /// The OneRoster object as JSON text (unwrapped).
    public var payload: String
    public var fingerprint: String

    public init(kind: JobKind, targetSourcedId: String, payload: String, fingerprint: String) {
        self.kind = kind
        self.targetSourcedId = targetSourcedId
        self.payload = payload
        self.fingerprint = fingerprint
    }
}

/// What a run would do with one material: the writes, and the rules that stop or warn. The
/// planner makes it; a dry run shows it; ``EngineStore/enqueueRun`` queues it as it is.
public struct PlannedItem: Sendable {
    public enum Decision: String, Sendable {
        /// Writes go to the SIS.
        case send
        /// A rule failed: nothing is sent.
        case blocked
        /// The material is opted out or deleted.
        case skip
        /// Nothing to send: the SIS holds exactly this content, or refused this very content
        /// (Sync Changes leaves it out; it goes again once it changes, or on purpose).
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

    public init(
        materialID: Int64, lmsID: String, title: String, lineItemSourcedId: String, decision: Decision, problems: [Problem], writes: [JobSpec]
    ) {
        self.materialID = materialID
        self.lmsID = lmsID
        self.title = title
        self.lineItemSourcedId = lineItemSourcedId
        self.decision = decision
        self.problems = problems
        self.writes = writes
    }
}

/// A claimed job, ready to send.
public struct ClaimedJob: Sendable, Hashable {
    public var id: Int64
    public var connectionID: String
    public var kind: JobKind
    public var targetSourcedId: String
    public var payload: String
    /// The content's fingerprint: what the SIS holds once this write is accepted.
    public var fingerprint: String
    public var attempt: Int
    public var maxAttempts: Int
    public var materialID: Int64?
    public var classID: Int64?
    public var syncRunID: Int64?
}

/// Where an outbox job is in its life (`outbox_job.state`): pending (`available`, `scheduled`,
/// `retryable`), `running` while the worker sends it, then final (`completed`, `discarded`,
/// `cancelled`).
public enum JobState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case available, scheduled, running, retryable, completed, discarded, cancelled

    /// States of a job waiting to be sent.
    public static let pending: [JobState] = [.available, .scheduled, .retryable]
    /// States of a job not final yet.
    public static let unfinished: [JobState] = pending + [.running]

    /// The states as an SQL list, `('available', 'scheduled')`, for a statement's text.
    static func sql(_ states: [JobState]) -> String { "(" + states.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")" }
}

/// Where a sync run is (`sync_run.state`): `running` until none of its writes is left, then
/// `succeeded`, `partial` (some items or writes failed) or `failed`.
public enum RunState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case running, succeeded, partial, failed
}

/// What happened to a job at one line of the audit log (`audit_entry.outcome`).
public enum AuditOutcome: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case succeeded, retry, snoozed, cancelled, discarded, released
    case ruleFailed = "rule_failed"
    case warning
}

/// A sync run as recorded.
public struct SyncRunRecord: Sendable, Hashable {
    public var id: Int64
    public var connectionID: String
    public var classID: Int64?
    public var trigger: SyncTrigger
    public var startedBy: String
    public var state: RunState
    public var itemsSent: Int
    public var itemsSucceeded: Int
    public var itemsFailed: Int
    public var itemsSkipped: Int
    public var jobsTotal: Int
    public var jobsSucceeded: Int
    public var jobsFailed: Int
    public var cause: String?
    public var startedAt: Date
    public var finishedAt: Date?
}

/// An outbox job as recorded (for run details and tests).
public struct JobRecord: Sendable, Hashable {
    public var id: Int64
    public var kind: JobKind
    public var targetSourcedId: String
    public var state: JobState
    public var attempt: Int
    public var errors: String
    public var materialID: Int64?
    public var classID: Int64?
    public var syncRunID: Int64?
}

/// One line of the audit log.
public struct AuditRecord: Sendable, Hashable {
    public var id: Int64
    public var syncRunID: Int64?
    public var jobID: Int64?
    public var materialID: Int64?
    public var classID: Int64?
    public var at: Date
    public var action: String
    public var attempt: Int?
    public var outcome: AuditOutcome
    public var httpStatus: Int?
    public var code: String?
    public var message: String?
}

/// The sync state of one material in one section, as stored.
public struct SyncItemRecord: Sendable, Hashable {
    public var materialID: Int64
    public var classID: Int64
    public var status: SyncStatus
    public var lastSyncedAt: Date?
    /// A run has looked at the item (sent it or stopped it on a rule).
    public var attempted: Bool
    public var errorCode: String?
    public var errorMessage: String?
    public var errorField: String?
    public var problems: [Problem]
    public var lineItemSourcedId: String?
}
