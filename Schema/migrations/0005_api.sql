-- The API's memory of mutations sent with an idempotency key: a repeat of the same key by the
-- same user returns the first answer (`outcome`) instead of acting again. A row with no outcome
-- yet is a request still running. Keys are kept 24 hours.
CREATE TABLE idempotency_key (
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    user_sourced_id TEXT NOT NULL,
    key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    operation TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    outcome TEXT CHECK (outcome IS NULL OR json_valid(outcome)),
    created_at TEXT NOT NULL,
    PRIMARY KEY (connection_id, user_sourced_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_key_by_age ON idempotency_key(created_at);
