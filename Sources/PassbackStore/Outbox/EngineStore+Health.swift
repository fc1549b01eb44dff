import Foundation
import GRDB
import PassbackCore

/// Whether a connection's SIS answers, as the worker last found it.
public struct ConnectionHealthRecord: Sendable, Hashable {
    public var connectionID: String
    /// Since when the SIS has not answered; nil while it answers.
    public var unreachableSince: Date?
    public var lastProbeAt: Date?
    public var lastError: String?
}

extension EngineStore {
    /// The SIS did not answer a write nor the probe after it: the write goes back to the queue
    /// without spending its attempt, to be sent once the SIS answers again.
    public func waitOnConnection(_ job: ClaimedJob, error: String, httpStatus: Int?, at now: Date) throws {
        try reschedule(
            job, state: .scheduled, error: error, httpStatus: httpStatus, after: 0, countAttempt: false,
            outcome: .snoozed, at: now, note: "the SIS cannot be reached; waiting for it to answer")
    }

    /// Records that the SIS does not answer (keeping the first time it was found so).
    public func markUnreachable(connection: String, error: String, at now: Date) throws {
        let t = Timestamp.text(now)
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO connection_health (connection_id, unreachable_since, last_probe_at, last_error) VALUES (?, ?, ?, ?)
                    ON CONFLICT(connection_id) DO UPDATE SET unreachable_since = COALESCE(connection_health.unreachable_since, excluded.unreachable_since),
                        last_probe_at = excluded.last_probe_at, last_error = excluded.last_error
                    """, arguments: [connection, t, t, error])
        }
    }

    /// Records that the SIS answers again.
    public func markReachable(connection: String, at now: Date) throws {
        let t = Timestamp.text(now)
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO connection_health (connection_id, unreachable_since, last_probe_at, last_error) VALUES (?, NULL, ?, NULL)
                    ON CONFLICT(connection_id) DO UPDATE SET unreachable_since = NULL, last_probe_at = excluded.last_probe_at, last_error = NULL
                    """, arguments: [connection, t])
        }
    }

    public func health(connection: String) throws -> ConnectionHealthRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM connection_health WHERE connection_id = ?", arguments: [connection]).map {
                ConnectionHealthRecord(
                    connectionID: $0["connection_id"], unreachableSince: ($0["unreachable_since"] as String?).flatMap(Timestamp.date),
                    lastProbeAt: ($0["last_probe_at"] as String?).flatMap(Timestamp.date), lastError: $0["last_error"])
            }
        }
    }

    /// How many of a connection's writes wait to be sent: queued, retrying, or held while the SIS
    /// does not answer or the connection is blocked.
    public func pendingWrites(connection: String) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_job WHERE connection_id = ? AND state IN \(Self.pending)", arguments: [connection]) ?? 0
        }
    }

    /// Writes of an unreachable connection queued before `cutoff` stop waiting: they end
    /// `discarded` with `SIS_UNAVAILABLE` and `message`, what waits on them is cancelled, and
    /// their items show ERROR. Returns how many.
    public func giveUpWaiting(connection: String, queuedBefore cutoff: Date, message: String, at now: Date) throws -> Int {
        let t = Timestamp.text(now)
        return try pool.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM outbox_job WHERE connection_id = ? AND state IN \(Self.pending) AND created_at < ? ORDER BY id DESC",
                arguments: [connection, Timestamp.text(cutoff)])
            var after = Aftermath()
            var n = 0
            // Newest first: a result before the lineItem it waits on, so each says its own cause.
            for j in rows {
                let job = Self.job(j)
                // A dependent may have been cancelled with an earlier one in this loop.
                try db.execute(
                    sql: """
                        UPDATE outbox_job SET state = 'discarded', finalized_at = ?,
                            errors = json_insert(errors, '$[#]', json_object('at', ?, 'attempt', attempt, 'error', ?))
                        WHERE id = ? AND state IN \(Self.pending)
                        """, arguments: [t, t, message, job.id])
                guard db.changesCount == 1 else { continue }
                n += 1
                try Self.audit(
                    db, runID: job.syncRunID, jobID: job.id, materialID: job.materialID, classID: job.classID, at: t,
                    action: Self.action(kind: job.kind, target: job.targetSourcedId),
                    attempt: nil, outcome: .discarded, httpStatus: nil, code: ProblemCode.sisUnavailable.rawValue, message: message)
                try Self.recordFailure(
                    db, connection: connection, kind: job.kind, sourcedId: job.targetSourcedId, fingerprint: j["fingerprint"],
                    materialID: job.materialID, classID: job.classID, code: .sisUnavailable, message: message, resend: true, at: t)
                if let m = job.materialID, let c = job.classID { after.items.insert(ItemKey(materialID: m, classID: c)) }
                if let run = job.syncRunID { after.runs.insert(run) }
                try Self.cancelDependents(
                    db, of: job.id, because: Self.action(kind: job.kind, target: job.targetSourcedId),
                    failure: (.sisUnavailable, message), at: t, after: &after)
            }
            try Self.settle(db, after, at: t)
            return n
        }
    }
}
