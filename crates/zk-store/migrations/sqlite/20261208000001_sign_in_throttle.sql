-- Sign-in throttling: failed attempts counted per key (an account name with a client address, an
-- account name from any client without a device cookie, a device cookie, a password change), so that
-- every instance on this database sees the same counts. A key is the SHA-256 of its parts: unknown
-- names cost one short row like known ones, and no typed name is kept. Timestamps are epoch
-- milliseconds here and TIMESTAMPTZ in migrations/postgres.

CREATE TABLE sign_in_throttles (
    key              TEXT PRIMARY KEY,
    -- Failures since the count last started (a success, or a quiet hour, starts it again).
    failures         INTEGER NOT NULL,
    last_failure_at  BIGINT NOT NULL
);
CREATE INDEX sign_in_throttles_last_failure ON sign_in_throttles (last_failure_at);
