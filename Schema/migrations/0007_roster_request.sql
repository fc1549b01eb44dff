-- 0007: a roster pull asked for through the API is queued, not run inside the request.
--
-- `refreshRoster` used to pull the whole SIS while its HTTP request waited. Now it writes a
-- row here and returns; the serve process's roster runner takes queued rows in order, starts a
-- roster_run for each (linking it here in the same transaction), and the caller follows the
-- request with `node(id:)`. A request with no run and no error is queued; one with an error and
-- no run was refused before it started (its connection was no longer configured).
CREATE TABLE roster_request (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    full INTEGER NOT NULL CHECK (full IN (0, 1)),
    -- The admin's user sourcedId.
    requested_by TEXT,
    requested_at TEXT NOT NULL,
    run_id INTEGER UNIQUE REFERENCES roster_run(id) ON DELETE SET NULL,
    error TEXT,
    refused_at TEXT,
    CHECK ((error IS NULL) = (refused_at IS NULL))
);
CREATE INDEX roster_request_queued ON roster_request(id) WHERE run_id IS NULL AND error IS NULL;
