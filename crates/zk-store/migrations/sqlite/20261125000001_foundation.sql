-- Foundation schema: accounts, sessions, configuration, logs, files, tasks.
-- Timestamps are epoch milliseconds (INTEGER) here and TIMESTAMPTZ in PostgreSQL (see zk-core store::Timestamp).
-- Add-only: later changes get their own timestamped file, with the same number in migrations/postgres.

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    username              TEXT NOT NULL,
    -- The name folded to lower case by the application (Unicode-aware, unlike SQLite's lower()).
    username_key          TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    password_hash         TEXT,
    role                  TEXT NOT NULL CHECK (role IN ('admin', 'designer', 'viewer')),
    disabled              INTEGER NOT NULL DEFAULT 0,
    failed_logins         INTEGER NOT NULL DEFAULT 0,
    last_failed_login_at  INTEGER,
    tokens_valid_after    INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username_key);

-- A session is one sign-in; its refresh tokens form one rotation family.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoke_reason  TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE system_config (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor_id    BIGINT,
    actor_name  TEXT,
    action      TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL,
    ip          TEXT,
    request_id  TEXT,
    details     TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, id);

CREATE TABLE error_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    level       TEXT NOT NULL,
    source      TEXT NOT NULL,
    message     TEXT NOT NULL,
    request_id  TEXT,
    user_id     BIGINT,
    context     TEXT NOT NULL
);
CREATE INDEX error_log_level ON error_log (level, id);

CREATE TABLE files (
    id             TEXT PRIMARY KEY,
    sha256         TEXT NOT NULL,
    size           BIGINT NOT NULL,
    media_type     TEXT NOT NULL,
    original_name  TEXT NOT NULL,
    uploaded_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX files_sha256 ON files (sha256);

CREATE TABLE tasks (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT NOT NULL,
    payload           TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress          INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    message           TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    timeout_ms        BIGINT NOT NULL,
    run_after         INTEGER NOT NULL,
    lease_token       TEXT,
    lease_until       INTEGER,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    result            TEXT,
    error             TEXT,
    created_by        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- A client's key for a retried enqueue: the same key from the same user is the same task.
    idempotency_key   TEXT,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX tasks_claim ON tasks (state, run_after, id);
CREATE INDEX tasks_created_by ON tasks (created_by, id);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
