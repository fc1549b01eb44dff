-- 0004: API tokens. A token is random, shown once when created, and stored only as its
-- SHA-256; it can expire and be revoked. Teachers act as a rostered user; admins are scoped to
-- an org and its descendants; the integration role is the LMS feed.

CREATE TABLE api_token (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    -- The first characters of the token, to recognise it in lists; not enough to use it.
    prefix TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    user_sourced_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('teacher', 'admin', 'integration')),
    org_sourced_id TEXT,
    label TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    CHECK ((role = 'admin') = (org_sourced_id IS NOT NULL))
);
CREATE INDEX api_token_by_user ON api_token(connection_id, user_sourced_id);
