-- 0003: the passback engine. Sync runs, the outbox (a River/Oban-style job table), the audit
-- log of every attempt, weekly schedules, and what sync_item needs to compute statuses.

CREATE TABLE sync_run (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    class_id INTEGER REFERENCES class(id) ON DELETE SET NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('item', 'sync_changes', 'scheduled', 'gradebook')),
    -- A user's sourcedId, or "scheduler".
    started_by TEXT NOT NULL,
    -- succeeded: every item sent was accepted; partial: some items ended in error; failed: the
    -- run could not go on (credentials refused).
    state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'partial', 'failed')),
    -- Items the run looked at and sent, items it skipped (unchanged or opted out), items that
    -- ended in error (a rule or the SIS); writes sent and writes accepted.
    items_sent INTEGER NOT NULL DEFAULT 0 CHECK (items_sent >= 0),
    items_succeeded INTEGER NOT NULL DEFAULT 0 CHECK (items_succeeded >= 0),
    items_failed INTEGER NOT NULL DEFAULT 0 CHECK (items_failed >= 0),
    items_skipped INTEGER NOT NULL DEFAULT 0 CHECK (items_skipped >= 0),
    jobs_total INTEGER NOT NULL DEFAULT 0 CHECK (jobs_total >= 0),
    jobs_succeeded INTEGER NOT NULL DEFAULT 0 CHECK (jobs_succeeded >= 0),
    jobs_failed INTEGER NOT NULL DEFAULT 0 CHECK (jobs_failed >= 0),
    cause TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    CHECK ((state = 'running') = (finished_at IS NULL))
);
CREATE INDEX sync_run_by_class ON sync_run(class_id, id);
CREATE INDEX sync_run_running ON sync_run(connection_id) WHERE state = 'running';

-- One queued OneRoster write. `state` moves available/scheduled/retryable -> running ->
-- completed | retryable | scheduled (snoozed) | cancelled | discarded; finalized_at is set
-- exactly when the state is terminal. Jobs are enqueued in the transaction that planned them.
CREATE TABLE outbox_job (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('put_category', 'put_line_item', 'put_result', 'delete_line_item')),
    target_sourced_id TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    -- Digest of the payload: what the SIS holds once this job completes.
    fingerprint TEXT NOT NULL,
    material_id INTEGER REFERENCES material(id) ON DELETE SET NULL,
    class_id INTEGER REFERENCES class(id) ON DELETE SET NULL,
    sync_run_id INTEGER REFERENCES sync_run(id) ON DELETE SET NULL,
    -- A result waits for its lineItem's job.
    depends_on_job_id INTEGER REFERENCES outbox_job(id) ON DELETE SET NULL,
    state TEXT NOT NULL CHECK (state IN ('available', 'scheduled', 'running', 'retryable', 'completed', 'discarded', 'cancelled')),
    attempt INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
    errors TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(errors)),
    created_at TEXT NOT NULL,
    scheduled_at TEXT NOT NULL,
    attempted_at TEXT,
    finalized_at TEXT,
    CHECK ((state IN ('completed', 'discarded', 'cancelled')) = (finalized_at IS NOT NULL))
);
-- The same SIS object is never queued twice: a newer write replaces a queued one.
CREATE UNIQUE INDEX outbox_job_pending_target ON outbox_job(connection_id, kind, target_sourced_id)
    WHERE state IN ('available', 'scheduled', 'retryable');
-- The claim query: due pending jobs of a connection, oldest first.
CREATE INDEX outbox_job_claim ON outbox_job(connection_id, scheduled_at, id) WHERE state IN ('available', 'scheduled', 'retryable');
CREATE INDEX outbox_job_running ON outbox_job(connection_id, kind, target_sourced_id) WHERE state = 'running';
CREATE INDEX outbox_job_by_item ON outbox_job(material_id, class_id, state);
CREATE INDEX outbox_job_by_run ON outbox_job(sync_run_id, state);
CREATE INDEX outbox_job_dependents ON outbox_job(depends_on_job_id) WHERE depends_on_job_id IS NOT NULL;

-- Every attempt and the SIS's answer, and every rule that stopped an item.
CREATE TABLE audit_entry (
    id INTEGER PRIMARY KEY,
    sync_run_id INTEGER REFERENCES sync_run(id) ON DELETE CASCADE,
    job_id INTEGER REFERENCES outbox_job(id) ON DELETE SET NULL,
    material_id INTEGER REFERENCES material(id) ON DELETE SET NULL,
    class_id INTEGER REFERENCES class(id) ON DELETE SET NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    attempt INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'retry', 'snoozed', 'cancelled', 'discarded', 'released', 'rule_failed', 'warning')),
    http_status INTEGER,
    code TEXT,
    message TEXT
);
CREATE INDEX audit_entry_by_item ON audit_entry(material_id, class_id, id);
CREATE INDEX audit_entry_by_run ON audit_entry(sync_run_id, id);

-- Weekly schedules, one row per saved version (a change takes effect 24 hours after it is
-- saved, so earlier versions stay in force until then). A teacher's schedule is per section
-- ("all my existing courses" saves one version per active section); an org default
-- (class_id NULL) applies to sections in its subtree that have none.
CREATE TABLE sync_schedule (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('teacher', 'org_default')),
    owner_sourced_id TEXT NOT NULL,
    class_id INTEGER REFERENCES class(id) ON DELETE CASCADE,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    weekday INTEGER CHECK (weekday IS NULL OR weekday BETWEEN 1 AND 7),
    start_minute INTEGER CHECK (start_minute IS NULL OR start_minute BETWEEN 0 AND 1439),
    time_zone TEXT,
    saved_at TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    CHECK (enabled = 0 OR (weekday IS NOT NULL AND start_minute IS NOT NULL AND time_zone IS NOT NULL)),
    CHECK ((owner_kind = 'teacher') = (class_id IS NOT NULL))
);
CREATE INDEX sync_schedule_by_class ON sync_schedule(class_id, saved_at);
CREATE INDEX sync_schedule_defaults ON sync_schedule(connection_id, owner_sourced_id, saved_at) WHERE owner_kind = 'org_default';

-- One scheduled run per section per window, even across restarts. A claim whose run was
-- never recorded (the process died in between) can be taken again after a few minutes.
CREATE TABLE scheduled_run (
    class_id INTEGER NOT NULL REFERENCES class(id) ON DELETE CASCADE,
    window_start TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    sync_run_id INTEGER REFERENCES sync_run(id) ON DELETE SET NULL,
    PRIMARY KEY (class_id, window_start)
) WITHOUT ROWID;

-- What status computation needs per material × section.
ALTER TABLE sync_item ADD COLUMN planned_fingerprint TEXT;
ALTER TABLE sync_item ADD COLUMN last_attempt TEXT CHECK (last_attempt IS NULL OR last_attempt IN ('succeeded', 'failed'));
ALTER TABLE sync_item ADD COLUMN problems TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(problems));
ALTER TABLE sync_item ADD COLUMN line_item_sourced_id TEXT;
ALTER TABLE sync_item ADD COLUMN sync_run_id INTEGER REFERENCES sync_run(id) ON DELETE SET NULL;
-- Set by the LMS feed when the material or a grade changes, so a run that was planned before
-- the change ends in UPDATES_AVAILABLE rather than SUCCESSFUL.
ALTER TABLE sync_item ADD COLUMN content_changed_at TEXT;
