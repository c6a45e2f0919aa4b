-- Foundation schema: accounts, sessions, configuration, logs, files, tasks.
-- Timestamps are TIMESTAMPTZ here and epoch milliseconds in SQLite (see zk-core store::Timestamp).
-- Add-only: later changes get their own timestamped file, with the same number in migrations/sqlite.

CREATE TABLE users (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username              TEXT NOT NULL,
    -- The name folded to lower case by the application (Unicode-aware, unlike SQLite's lower()).
    username_key          TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    password_hash         TEXT,
    role                  TEXT NOT NULL CHECK (role IN ('admin', 'designer', 'viewer')),
    disabled              BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins         INTEGER NOT NULL DEFAULT 0,
    last_failed_login_at  TIMESTAMPTZ,
    tokens_valid_after    TIMESTAMPTZ NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username_key);

-- A session is one sign-in; its refresh tokens form one rotation family.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_used_at   TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoke_reason  TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE system_config (
    key         TEXT PRIMARY KEY,
    value       JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    BIGINT,
    actor_name  TEXT,
    action      TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL,
    ip          TEXT,
    request_id  TEXT,
    details     JSONB NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, id);

CREATE TABLE error_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    level       TEXT NOT NULL,
    source      TEXT NOT NULL,
    message     TEXT NOT NULL,
    request_id  TEXT,
    user_id     BIGINT,
    context     JSONB NOT NULL
);
CREATE INDEX error_log_level ON error_log (level, id);

CREATE TABLE files (
    id             TEXT PRIMARY KEY,
    sha256         TEXT NOT NULL,
    size           BIGINT NOT NULL,
    media_type     TEXT NOT NULL,
    original_name  TEXT NOT NULL,
    uploaded_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX files_sha256 ON files (sha256);

CREATE TABLE tasks (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              TEXT NOT NULL,
    payload           JSONB NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress          INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    message           TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    timeout_ms        BIGINT NOT NULL,
    run_after         TIMESTAMPTZ NOT NULL,
    lease_token       TEXT,
    lease_until       TIMESTAMPTZ,
    cancel_requested  BOOLEAN NOT NULL DEFAULT FALSE,
    result            JSONB,
    error             TEXT,
    created_by        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- A client's key for a retried enqueue: the same key from the same user is the same task.
    idempotency_key   TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    started_at        TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_claim ON tasks (state, run_after, id);
CREATE INDEX tasks_created_by ON tasks (created_by, id);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
