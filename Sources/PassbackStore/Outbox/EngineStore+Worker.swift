import Foundation
import GRDB
import PassbackCore

/// The outbox as the worker drives it: claim due jobs, then complete, retry, snooze, fail or
/// discard each; a run closes when none of its writes is left.
extension EngineStore {
    /// Claims up to `limit` due jobs of a connection: oldest first, never a result whose
    /// lineItem is not yet accepted, never a second write to an object already being written.
    /// One `UPDATE … RETURNING`, so it ports as is to PostgreSQL (with `FOR UPDATE SKIP LOCKED`).
    public func claim(connection: String, limit: Int, at now: Date) throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        let t = Timestamp.text(now)
        return try pool.write { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE outbox_job SET state = 'running', attempt = attempt + 1, attempted_at = ?
                        WHERE id IN (
                            SELECT j.id FROM outbox_job j
                            WHERE j.connection_id = ? AND j.state IN \(Self.pending) AND j.scheduled_at <= ?
                              AND NOT EXISTS (SELECT 1 FROM connection_block b WHERE b.connection_id = j.connection_id)
                              AND (j.depends_on_job_id IS NULL OR (SELECT d.state FROM outbox_job d WHERE d.id = j.depends_on_job_id) = 'completed')
                              AND NOT EXISTS (SELECT 1 FROM outbox_job r WHERE r.connection_id = j.connection_id AND r.kind = j.kind
                                              AND r.target_sourced_id = j.target_sourced_id AND r.state = 'running')
                            ORDER BY j.scheduled_at, j.id LIMIT ?)
                        RETURNING id, connection_id, kind, target_sourced_id, payload, fingerprint, attempt, max_attempts, material_id, class_id, sync_run_id
                        """), arguments: [t, connection, t, limit]
            ).map {
                ClaimedJob(
                    id: $0["id"], connectionID: $0["connection_id"], kind: JobKind(rawValue: $0["kind"])!, targetSourcedId: $0["target_sourced_id"],
                    payload: $0["payload"], fingerprint: $0["fingerprint"], attempt: $0["attempt"], maxAttempts: $0["max_attempts"],
                    materialID: $0["material_id"],
                    classID: $0["class_id"], syncRunID: $0["sync_run_id"])
            }.sorted { $0.id < $1.id }
        }
    }

    /// When the next pending job of a connection comes due, if any.
    public func nextDue(connection: String) throws -> Date? {
        try database.read { db in
            try String.fetchOne(
                db, sql: "SELECT min(scheduled_at) FROM outbox_job WHERE connection_id = ? AND state IN \(Self.pending)", arguments: [connection]
            )
            .flatMap(Timestamp.date)
        }
    }

    /// The SIS accepted the write. `differs`: read back, it holds other values than were sent
    /// (`verifyWrites`): that is recorded as what it holds, so the item shows `SIS_DIFFERS`.
    public func complete(_ job: ClaimedJob, httpStatus: Int?, differs: SISDifference? = nil, at now: Date) throws {
        let t = Timestamp.text(now)
        try pool.write { db in
            try db.cachedStatement(sql: "UPDATE outbox_job SET state = 'completed', finalized_at = ? WHERE id = ? AND state = 'running'").execute(arguments: [
                t, job.id
            ])
            guard db.changesCount == 1 else { return } // released or rescued meanwhile: its new owner reports
            try Self.audit(
                db, runID: job.syncRunID, jobID: job.id, materialID: job.materialID, classID: job.classID, at: t, action: Self.action(job),
                attempt: job.attempt, outcome: .succeeded, httpStatus: httpStatus, code: nil, message: nil)
            try Self.recordAccepted(
                db, connection: job.connectionID, kind: job.kind, sourcedId: job.targetSourcedId,
                fingerprint: differs?.heldFingerprint ?? job.fingerprint, materialID: job.materialID, classID: job.classID,
                differs: differs?.problem, at: t)
            if let materialID = job.materialID, let classID = job.classID {
                let open =
                    try Int.fetchOne(
                        db.cachedStatement(sql: "SELECT count(*) FROM outbox_job WHERE material_id = ? AND class_id = ? AND state IN \(Self.unfinished)"),
                        arguments: [materialID, classID]) ?? 0
                // While writes of the item are out its status is IN_PROGRESS whatever else is true;
                // the last one to land decides it.
                if open == 0 {
                    try db.execute(sql: "UPDATE sync_item SET last_synced_at = ? WHERE material_id = ? AND class_id = ?", arguments: [t, materialID, classID])
                    try Self.refresh(db, classID: classID, materialIDs: [materialID], at: t)
                }
            }
            if let run = job.syncRunID { try Self.finishRunIfDone(db, runID: run, at: t) }
        }
    }

    /// Try again after `delay` (a retryable failure).
    public func retry(_ job: ClaimedJob, error: String, httpStatus: Int?, after delay: TimeInterval, at now: Date) throws {
        try reschedule(job, state: .retryable, error: error, httpStatus: httpStatus, after: delay, countAttempt: true, outcome: .retry, at: now)
    }

    /// Wait `delay` before trying again, without spending an attempt (the SIS asked to slow down).
    public func snooze(_ job: ClaimedJob, error: String, httpStatus: Int?, after delay: TimeInterval, at now: Date) throws {
        try reschedule(job, state: .scheduled, error: error, httpStatus: httpStatus, after: delay, countAttempt: false, outcome: .snoozed, at: now)
    }

    func reschedule(
        _ job: ClaimedJob, state: JobState, error: String, httpStatus: Int?, after delay: TimeInterval, countAttempt: Bool, outcome: AuditOutcome,
        at now: Date, note: String? = nil
    ) throws {
        let t = Timestamp.text(now)
        try pool.write { db in
            if try Self.supersedeIfNewerQueued(db, jobID: job.id, at: t) { return }
            try db.execute(
                sql: """
                    UPDATE outbox_job SET state = ?, scheduled_at = ?, attempt = attempt - ?,
                        errors = json_insert(errors, '$[#]', json_object('at', ?, 'attempt', ?, 'error', ?, 'status', ?))
                    WHERE id = ? AND state = 'running'
                    """, arguments: [state, Timestamp.text(now.addingTimeInterval(delay)), countAttempt ? 0 : 1, t, job.attempt, error, httpStatus, job.id])
            guard db.changesCount == 1 else { return }
            try Self.audit(
                db, runID: job.syncRunID, jobID: job.id, materialID: job.materialID, classID: job.classID, at: t, action: Self.action(job),
                attempt: job.attempt, outcome: outcome, httpStatus: httpStatus, code: nil,
                message: "\(error) — " + (note ?? "next try in \(Int(delay.rounded(.up))) s"))
        }
    }

    /// A newer write to the same SIS object was queued while this one was out: going back to
    /// the queue would make two (and could land the older content last). This one is cancelled
    /// as superseded, and what waited on it waits on the newer write. Returns whether it was.
    static func supersedeIfNewerQueued(_ db: Database, jobID: Int64, at t: String) throws -> Bool {
        guard let j = try Row.fetchOne(db, sql: "SELECT * FROM outbox_job WHERE id = ?", arguments: [jobID]),
            let newer = try Int64.fetchOne(
                db,
                sql: """
                    SELECT id FROM outbox_job WHERE connection_id = ? AND kind = ? AND target_sourced_id = ? AND state IN \(pending) AND id != ?
                    """, arguments: [j["connection_id"], j["kind"], j["target_sourced_id"], jobID])
        else { return false }
        try db.execute(sql: "UPDATE outbox_job SET state = 'cancelled', finalized_at = ? WHERE id = ?", arguments: [t, jobID])
        try db.execute(sql: "UPDATE outbox_job SET depends_on_job_id = ? WHERE depends_on_job_id = ? AND state IN \(pending)", arguments: [newer, jobID])
        try audit(
            db, runID: j["sync_run_id"], jobID: jobID, materialID: j["material_id"], classID: j["class_id"], at: t, action: "superseded",
            attempt: j["attempt"], outcome: .cancelled, httpStatus: nil, code: nil, message: "replaced by a newer write to the same SIS object (job \(newer))")
        if let run: Int64 = j["sync_run_id"] { try finishRunIfDone(db, runID: run, at: t) }
        return true
    }

    /// Give up on a write: the SIS refused it (`cancelled`) or it ran out of attempts
    /// (`discarded`). Writes waiting on it are cancelled too; the item's status says why.
    /// `resend`: whether Sync Changes may send the same content again (`FailedWrite.resend`;
    /// `false` when the SIS refused the content itself).
    public func fail(_ job: ClaimedJob, code: ProblemCode, message: String, httpStatus: Int?, discarded: Bool, resend: Bool = true, at now: Date) throws {
        let t = Timestamp.text(now)
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox_job SET state = ?, finalized_at = ?,
                        errors = json_insert(errors, '$[#]', json_object('at', ?, 'attempt', ?, 'error', ?, 'status', ?))
                    WHERE id = ? AND state = 'running'
                    """, arguments: [discarded ? "discarded" : "cancelled", t, t, job.attempt, message, httpStatus, job.id])
            guard db.changesCount == 1 else { return }
            try Self.audit(
                db, runID: job.syncRunID, jobID: job.id, materialID: job.materialID, classID: job.classID, at: t, action: Self.action(job),
                attempt: job.attempt, outcome: discarded ? .discarded : .cancelled, httpStatus: httpStatus, code: code.rawValue, message: message)
            let itemMessage = job.kind == .putResult ? Self.resultMessage(db, job: job, message: message) : message
            try Self.recordFailure(
                db, connection: job.connectionID, kind: job.kind, sourcedId: job.targetSourcedId, fingerprint: job.fingerprint,
                materialID: job.materialID, classID: job.classID, code: code, message: itemMessage, resend: resend, at: t)
            var after = Aftermath()
            if let m = job.materialID, let c = job.classID { after.items.insert(ItemKey(materialID: m, classID: c)) }
            if let run = job.syncRunID { after.runs.insert(run) }
            try Self.cancelDependents(db, of: job.id, because: Self.action(job), failure: (code, itemMessage), at: t, after: &after)
            try Self.settle(db, after, at: t)
        }
    }

    /// An admin stops writes still waiting to go (queued, scheduled or retrying): they end
    /// `discarded`, what waits on them is cancelled, and their items show ERROR naming who
    /// stopped them. Returns the jobs discarded (others were no longer waiting).
    public func discard(jobIDs: [Int64], by admin: String, at now: Date) throws -> [Int64] {
        let t = Timestamp.text(now)
        let message = "discarded by an administrator (\(admin)) before it was sent"
        return try pool.write { db in
            var done: [Int64] = []
            var after = Aftermath()
            for id in jobIDs {
                guard let j = try Row.fetchOne(db, sql: "SELECT * FROM outbox_job WHERE id = ? AND state IN \(Self.pending)", arguments: [id]) else { continue }
                try db.execute(
                    sql: """
                        UPDATE outbox_job SET state = 'discarded', finalized_at = ?,
                            errors = json_insert(errors, '$[#]', json_object('at', ?, 'attempt', attempt, 'error', ?))
                        WHERE id = ?
                        """, arguments: [t, t, message, id])
                let job = Self.job(j)
                try Self.audit(
                    db, runID: job.syncRunID, jobID: id, materialID: job.materialID, classID: job.classID, at: t, action: "not sent",
                    attempt: nil, outcome: .discarded, httpStatus: nil, code: ProblemCode.sisRejected.rawValue, message: message)
                try Self.recordFailure(
                    db, connection: j["connection_id"], kind: job.kind, sourcedId: job.targetSourcedId, fingerprint: j["fingerprint"],
                    materialID: job.materialID, classID: job.classID, code: .sisRejected, message: message, resend: true, at: t)
                if let m = job.materialID, let c = job.classID { after.items.insert(ItemKey(materialID: m, classID: c)) }
                if let run = job.syncRunID { after.runs.insert(run) }
                try Self.cancelDependents(
                    db, of: id, because: Self.action(kind: job.kind, target: job.targetSourcedId), failure: (.sisRejected, message),
                    at: t, after: &after)
                done.append(id)
            }
            try Self.settle(db, after, at: t)
            return done
        }
    }

    static func resultMessage(_ db: Database, job: ClaimedJob, message: String) -> String {
        let object = (try? JSONSerialization.jsonObject(with: Data(job.payload.utf8))) as? [String: Any]
        let student = (object?["student"] as? [String: Any])?["sourcedId"] as? String
        return student.map { "student \($0): \(message)" } ?? message
    }

    /// A material × section, as the status refresh takes it.
    struct ItemKey: Hashable {
        var materialID: Int64
        var classID: Int64
    }

    /// What a failure touched: items whose status to recompute, then runs that may be done
    /// (in that order: a run's counts read its items' statuses).
    struct Aftermath {
        var items: Set<ItemKey> = []
        var runs: Set<Int64> = []
    }

    /// Recomputes the statuses of the touched items, then closes the runs left with nothing to send.
    static func settle(_ db: Database, _ after: Aftermath, at t: String) throws {
        for (classID, keys) in Dictionary(grouping: after.items, by: \.classID).sorted(by: { $0.key < $1.key }) {
            try refresh(db, classID: classID, materialIDs: Set(keys.map(\.materialID)), at: t)
        }
        for run in after.runs.sorted() { try finishRunIfDone(db, runID: run, at: t) }
    }

    /// Writes that wait on one that will not land can never go: cancel them (and theirs) now.
    /// With `failure`, each is recorded as not delivered (code, and which write it waited on),
    /// so its item says so; without (the material was deleted or opted out), nothing is.
    static func cancelDependents(
        _ db: Database, of jobID: Int64, because what: String, failure: (code: ProblemCode, reason: String)?, at t: String,
        after: inout Aftermath
    ) throws {
        let dependents = try Row.fetchAll(
            db,
            sql: """
                SELECT id, sync_run_id, material_id, class_id, connection_id, kind, target_sourced_id, fingerprint FROM outbox_job
                WHERE depends_on_job_id = ? AND state IN \(pending)
                """, arguments: [jobID])
        for d in dependents {
            let id: Int64 = d["id"]
            try db.execute(sql: "UPDATE outbox_job SET state = 'cancelled', finalized_at = ? WHERE id = ?", arguments: [t, id])
            let reason = failure?.reason ?? "not sent"
            let message = "not sent: it waits on \(what), which failed (\(reason))"
            try audit(
                db, runID: d["sync_run_id"], jobID: id, materialID: d["material_id"], classID: d["class_id"], at: t, action: "not sent",
                attempt: nil, outcome: .cancelled, httpStatus: nil, code: nil, message: failure == nil ? reason : message)
            let kind = JobKind(rawValue: d["kind"])!
            if let failure {
                try recordFailure(
                    db, connection: d["connection_id"], kind: kind, sourcedId: d["target_sourced_id"], fingerprint: d["fingerprint"],
                    materialID: d["material_id"], classID: d["class_id"], code: failure.code, message: message, resend: true, at: t)
            }
            if let m: Int64 = d["material_id"], let c: Int64 = d["class_id"] { after.items.insert(ItemKey(materialID: m, classID: c)) }
            if let run: Int64 = d["sync_run_id"] { after.runs.insert(run) }
            try cancelDependents(db, of: id, because: action(kind: kind, target: d["target_sourced_id"]), failure: failure, at: t, after: &after)
        }
    }

    /// Closes a run once none of its writes is left to send, with its counts.
    static func finishRunIfDone(_ db: Database, runID: Int64, at t: String) throws {
        guard let run = try Row.fetchOne(db.cachedStatement(sql: "SELECT state, items_sent, items_failed FROM sync_run WHERE id = ?"), arguments: [runID]),
            (run["state"] as RunState) == .running
        else { return }
        let open =
            try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM outbox_job WHERE sync_run_id = ? AND state IN \(unfinished)"), arguments: [runID])
            ?? 0
        guard open == 0 else { return }
        let succeeded = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_job WHERE sync_run_id = ? AND state = 'completed'", arguments: [runID]) ?? 0
        let failedJobs =
            try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_job WHERE sync_run_id = ? AND state IN ('cancelled', 'discarded')", arguments: [runID]) ?? 0
        // Items of this run that ended in ERROR: blocked by a rule, refused by the SIS, or sent
        // with a result a rule stopped.
        let blocked: Int = run["items_failed"]
        let sent: Int = run["items_sent"]
        let erroredItems = try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_item WHERE sync_run_id = ? AND status = 'ERROR'", arguments: [runID]) ?? 0
        let failedSent = max(0, erroredItems - blocked)
        let state: RunState = erroredItems > 0 || failedJobs > 0 ? .partial : .succeeded
        try db.execute(
            sql: """
                UPDATE sync_run SET state = ?, finished_at = ?, jobs_succeeded = ?, jobs_failed = ?, items_succeeded = ?, items_failed = ?
                WHERE id = ? AND state = 'running'
                """, arguments: [state, t, succeeded, failedJobs, max(0, sent - failedSent), max(blocked, erroredItems), runID])
    }

    /// At start: jobs left `running` by a process that died go back to the queue now.
    @discardableResult
    public func rescueStuckJobs(at now: Date) throws -> Int {
        let t = Timestamp.text(now)
        return try pool.write { db in
            var stuck = try Row.fetchAll(
                db, sql: "SELECT id, sync_run_id, material_id, class_id, attempt, kind, target_sourced_id FROM outbox_job WHERE state = 'running'")
            stuck = try stuck.filter { try !Self.supersedeIfNewerQueued(db, jobID: $0["id"], at: t) }
            for j in stuck {
                try Self.audit(
                    db, runID: j["sync_run_id"], jobID: j["id"], materialID: j["material_id"], classID: j["class_id"], at: t,
                    action: "rescue", attempt: j["attempt"], outcome: .retry, httpStatus: nil, code: nil,
                    message: "the worker stopped while sending this write; sending it again")
            }
            try db.execute(
                sql: """
                    UPDATE outbox_job SET state = 'retryable', scheduled_at = ?,
                        errors = json_insert(errors, '$[#]', json_object('at', ?, 'attempt', attempt, 'error', 'rescued: the worker stopped mid-send'))
                    WHERE state = 'running'
                    """, arguments: [t, t])
            return stuck.count
        }
    }

    /// On graceful shutdown: claimed jobs not sent go back to the queue without spending an attempt.
    public func release(_ jobs: [ClaimedJob], at now: Date) throws {
        let t = Timestamp.text(now)
        try pool.write { db in
            for job in jobs {
                if try Self.supersedeIfNewerQueued(db, jobID: job.id, at: t) { continue }
                try db.execute(
                    sql: "UPDATE outbox_job SET state = 'available', attempt = max(0, attempt - 1), attempted_at = NULL WHERE id = ? AND state = 'running'",
                    arguments: [job.id])
                if db.changesCount == 1 {
                    try Self.audit(
                        db, runID: job.syncRunID, jobID: job.id, materialID: job.materialID, classID: job.classID, at: t, action: Self.action(job),
                        attempt: job.attempt, outcome: .released, httpStatus: nil, code: nil, message: "released at shutdown")
                }
            }
        }
    }

    static func action(_ job: ClaimedJob) -> String { action(kind: job.kind, target: job.targetSourcedId) }

    static func action(kind: JobKind, target: String) -> String {
        switch kind {
        case .putCategory: "PUT categories/\(target)"
        case .putLineItem: "PUT lineItems/\(target)"
        case .putResult: "PUT results/\(target)"
        case .deleteLineItem: "DELETE lineItems/\(target)"
        }
    }
}
