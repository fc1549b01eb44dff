-- 0008: whether each SIS answers, as the outbox worker last found it.
--
-- When a write fails for connectivity or a 5xx and a light probe of the SIS (GET orgs?limit=1)
-- fails too, the connection is unreachable: its writes wait on it instead of each backing off
-- and spending its attempts, and the worker probes it until it answers. The widget reads
-- `unreachable_since` to say "the SIS cannot be reached since …" instead of a silent IN_PROGRESS.
CREATE TABLE connection_health (
    connection_id TEXT PRIMARY KEY,
    -- Null while the SIS answers.
    unreachable_since TEXT,
    last_probe_at TEXT,
    -- What the last failed probe got.
    last_error TEXT
) WITHOUT ROWID;
