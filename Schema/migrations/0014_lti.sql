-- 0014: LTI 1.3 launches.
--
-- An LMS (the platform) is registered by an admin: its issuer and the client id it gave
-- Passback, where its users sign in (`auth_url`) and where its keys are (`jwks_url`), and the
-- deployments of the tool it may launch. A registration belongs to one connection (the SIS
-- whose roster names the launching users) and may name the org an Administrator's launch
-- acts on.
CREATE TABLE lti_platform (
    id INTEGER PRIMARY KEY,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    auth_url TEXT NOT NULL,
    jwks_url TEXT NOT NULL,
    token_url TEXT,
    connection_id TEXT NOT NULL,
    org_sourced_id TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (issuer, client_id)
);

CREATE TABLE lti_deployment (
    platform_id INTEGER NOT NULL REFERENCES lti_platform(id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    PRIMARY KEY (platform_id, deployment_id)
);

-- A login started (the OIDC third-party-initiated login): its `state` comes back with the
-- launch and is taken once, with the `nonce` the launch's id_token must carry. Rows older than
-- the launch window are removed as new logins start.
CREATE TABLE lti_login (
    state TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    platform_id INTEGER NOT NULL REFERENCES lti_platform(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX lti_login_created ON lti_login(created_at);

-- A token made by a launch (`origin` 'lti') is the launched page's session: short-lived, and
-- renewed by the page while it is open, never beyond `renew_until`.
ALTER TABLE api_token ADD COLUMN origin TEXT NOT NULL DEFAULT 'issued' CHECK (origin IN ('issued', 'lti'));
ALTER TABLE api_token ADD COLUMN renew_until TEXT;

-- A user's approval, given at their first launch: what Passback will send, and to which SIS.
CREATE TABLE lti_approval (
    connection_id TEXT NOT NULL,
    user_sourced_id TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (connection_id, user_sourced_id)
) WITHOUT ROWID;

-- A verified launch waiting for its user's approval, under the SHA-256 of a one-use ticket the
-- approval page carries; taken once, within the launch window.
CREATE TABLE lti_pending (
    ticket_hash TEXT PRIMARY KEY,
    launch TEXT NOT NULL CHECK (json_valid(launch)),
    created_at TEXT NOT NULL
) WITHOUT ROWID;

-- The origins a platform's launches came from (the page that posted the launch: the LMS as the
-- teacher sees it, which may differ from its issuer). The widget's pages may be framed by
-- these, by the registered platforms' issuer and authorization origins, and by no one else.
CREATE TABLE lti_frame_origin (
    platform_id INTEGER NOT NULL REFERENCES lti_platform(id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (platform_id, origin)
) WITHOUT ROWID;
