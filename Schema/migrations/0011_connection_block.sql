-- 0011: a connection the SIS condemns is blocked, not its writes failed.
--
-- Refused credentials (after one token refresh) or a 404 on the OneRoster path itself mean no
-- write can go until an administrator fixes the connection's configuration. Until now such a
-- run failed and its queued writes were cancelled, so a fixed configuration sent nothing until a
-- teacher synced again. From here the connection is recorded as blocked, with the cause naming
-- the configuration key to fix; its writes stay queued (the claim skips the connection), and the
-- worker lifts the block as soon as a light read of the SIS works again.
CREATE TABLE connection_block (
    connection_id TEXT PRIMARY KEY REFERENCES connection(id) ON DELETE CASCADE,
    -- What the SIS answered: refused credentials, or no OneRoster service at the base URL.
    code TEXT NOT NULL CHECK (code IN ('SIS_AUTH_FAILED', 'SIS_NOT_FOUND')),
    -- Shown to teachers and admins: what is wrong and which configuration key fixes it.
    cause TEXT NOT NULL CHECK (length(cause) > 0),
    since TEXT NOT NULL
) WITHOUT ROWID;
