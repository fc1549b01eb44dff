import Foundation
import GRDB
import PassbackCore

/// The engine's side of the store: sync runs, the outbox and its audit log, and the sync
/// state of each material in each section. Every method is one transaction, and every change
/// to an item's status happens in the same transaction as the job change that caused it.
/// This file records a planned run; `+Worker` is the outbox as the worker drives it (claim,
/// complete, retry, fail, discard); `+Status` stores the statuses `PassbackCore`'s `StatusRules`
/// decide, and holds a blocked connection's writes; `+Health` waits out an SIS that does not
/// answer; `+Verify` keeps what a read-back found; `+Snapshot` reads what the planner decides from.
public struct EngineStore: Sendable {
    let database: PassbackDatabase
    var pool: DatabasePool { database.pool }
    /// `JobState.pending` and `.unfinished` as SQL lists, for statements' text.
    static let pending = JobState.sql(JobState.pending)
    static let unfinished = JobState.sql(JobState.unfinished)

    public init(_ database: PassbackDatabase) { self.database = database }

    /// Records a run and everything it decided: jobs enqueued (coalesced with queued writes to
    /// the same SIS objects), items blocked by a rule, items skipped. One transaction. A change
    /// the LMS made after the plan was read needs no bookkeeping here: statuses compare what the
    /// SIS accepted with the content there is now, so it shows as an update once the run ends.
    public func enqueueRun(
        connection: String, classID: Int64?, trigger: SyncTrigger, startedBy: String, items: [PlannedItem],
        maxAttempts: Int, at now: Date
    ) throws -> Int64 {
        let t = Timestamp.text(now)
        return try pool.write { db in
            var formerRuns: Set<Int64> = []
            try db.execute(
                sql: "INSERT INTO sync_run (connection_id, class_id, trigger, started_by, state, started_at) VALUES (?, ?, ?, ?, 'running', ?)",
                arguments: [connection, classID, trigger.rawValue, startedBy, t])
            let runID = db.lastInsertedRowID
            var sent = 0, failed = 0, skipped = 0, jobs = 0
            var looked: Set<Int64> = []
            for d in items {
                switch d.decision {
                case .skip, .unchanged:
                    skipped += 1
                case .blocked:
                    failed += 1
                    looked.insert(d.materialID)
                    for p in d.problems where p.severity == .error {
                        try Self.audit(
                            db, runID: runID, jobID: nil, materialID: d.materialID, classID: classID, at: t, action: "rule \(p.code.rawValue)",
                            attempt: nil, outcome: .ruleFailed, httpStatus: nil, code: p.code.rawValue, message: p.message)
                    }
                case .send:
                    sent += 1
                    looked.insert(d.materialID)
                    // A category, then the lineItem, then results (the planner's order, enforced
                    // here): each waits for the last write before it that is not a result (results
                    // wait on the lineItem when it is sent too, else on the category).
                    precondition(!d.writes.contains { $0.kind == .deleteLineItem }, "a planned item never deletes its lineItem")
                    var parent: Int64?
                    let ordered = (0...2).flatMap { rank in d.writes.filter { Self.sendOrder($0.kind) == rank } }
                    for write in ordered {
                        // A generic category is shared by every uncategorized item of the
                        // connection: it belongs to no one item, so no item's status hangs on it.
                        let mine = write.kind != .putCategory
                        let id = try Self.enqueue(
                            db, write, connection: connection, materialID: mine ? d.materialID : nil, classID: mine ? classID : nil, runID: runID,
                            dependsOn: parent, maxAttempts: maxAttempts, at: t, formerRuns: &formerRuns)
                        if write.kind != .putResult { parent = id }
                        jobs += 1
                    }
                    for p in d.problems {
                        try Self.audit(
                            db, runID: runID, jobID: nil, materialID: d.materialID, classID: classID, at: t, action: "rule \(p.code.rawValue)",
                            attempt: nil, outcome: p.severity == .warning ? .warning : .ruleFailed, httpStatus: nil, code: p.code.rawValue, message: p.message)
                    }
                }
            }
            if let classID {
                // The items this run sent or stopped are its own now: its counts and history read them.
                for m in looked.sorted() {
                    try db.execute(
                        sql: """
                            INSERT INTO sync_item (material_id, class_id, status, updated_at, attempted, sync_run_id) VALUES (?, ?, 'NOT_SYNCED', ?, 1, ?)
                            ON CONFLICT (material_id, class_id) DO UPDATE SET attempted = 1, sync_run_id = excluded.sync_run_id
                            """, arguments: [m, classID, t, runID])
                }
                try Self.refresh(db, classID: classID, materialIDs: looked, at: t)
            }
            try db.execute(
                sql: "UPDATE sync_run SET items_sent = ?, items_failed = ?, items_skipped = ?, jobs_total = ? WHERE id = ?",
                arguments: [sent, failed, skipped, jobs, runID])
            try Self.finishRunIfDone(db, runID: runID, at: t)
            // Runs whose queued writes this one took over may have nothing left to wait for.
            for former in formerRuns where former != runID { try Self.finishRunIfDone(db, runID: former, at: t) }
            return runID
        }
    }

    /// Where a planned write goes among an item's writes: what it refers to goes first.
    static func sendOrder(_ kind: JobKind) -> Int {
        switch kind {
        case .putCategory: 0
        case .putLineItem: 1
        case .putResult, .deleteLineItem: 2
        }
    }

    /// Inserts a job, or replaces the payload of the queued job for the same SIS object.
    static func enqueue(
        _ db: Database, _ job: JobSpec, connection: String, materialID: Int64?, classID: Int64?, runID: Int64, dependsOn: Int64?,
        maxAttempts: Int, at t: String, formerRuns: inout Set<Int64>
    ) throws -> Int64 {
        if let former = try Int64.fetchOne(
            db,
            sql: """
                SELECT sync_run_id FROM outbox_job WHERE connection_id = ? AND kind = ? AND target_sourced_id = ? AND state IN \(pending)
                """, arguments: [connection, job.kind.rawValue, job.targetSourcedId])
        {
            formerRuns.insert(former)
        }
        let sql = """
            INSERT INTO outbox_job (connection_id, kind, target_sourced_id, payload, fingerprint, material_id, class_id, sync_run_id, depends_on_job_id,
                                    state, attempt, max_attempts, created_at, scheduled_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'available', 0, ?, ?, ?)
            ON CONFLICT (connection_id, kind, target_sourced_id) WHERE state IN \(pending)
            DO UPDATE SET payload = excluded.payload, fingerprint = excluded.fingerprint, material_id = excluded.material_id,
                class_id = excluded.class_id, sync_run_id = excluded.sync_run_id, depends_on_job_id = excluded.depends_on_job_id, attempt = 0
            RETURNING id
            """
        return try Int64.fetchOne(
            db, sql: sql,
            arguments: [
                connection, job.kind.rawValue, job.targetSourcedId, job.payload, job.fingerprint, materialID,
                classID, runID, dependsOn, maxAttempts, t, t
            ])!
    }

    static func audit(
        _ db: Database, runID: Int64?, jobID: Int64?, materialID: Int64?, classID: Int64?, at t: String, action: String, attempt: Int?,
        outcome: AuditOutcome, httpStatus: Int?, code: String?, message: String?
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_entry (sync_run_id, job_id, material_id, class_id, at, action, attempt, outcome, http_status, code, message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [runID, jobID, materialID, classID, t, action, attempt, outcome, httpStatus, code, message])
    }
}
