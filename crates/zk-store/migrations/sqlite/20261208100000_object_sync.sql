-- Object-storage sync: the durable outbox. One row per stored content (SHA-256), written in the same
-- transaction as the file row that brings it; the sync service uploads it to the bucket under its
-- content address and, once no file references the content any more, deletes it there (a tombstone:
-- op = 'delete'). Timestamps are epoch milliseconds (see zk-store's Timestamp).
CREATE TABLE object_sync (
    sha256           TEXT PRIMARY KEY,
    size             BIGINT NOT NULL,
    -- What the bucket must end up with: the object ('upload') or no object ('delete').
    op               TEXT NOT NULL CHECK (op IN ('upload', 'delete')),
    -- pending: due at next_attempt_at; uploading: claimed under a lease (claimed_by, lease_until);
    -- synced: the bucket agrees with op; failed: given up until someone asks again (`sync run`).
    state            TEXT NOT NULL CHECK (state IN ('pending', 'uploading', 'synced', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    -- A multipart upload in progress: its id and the ETags of its completed parts (JSON array), so a
    -- restarted upload goes on from the next part.
    upload_id        TEXT,
    parts            TEXT NOT NULL DEFAULT '[]',
    claimed_by       TEXT,
    lease_until      INTEGER,
    synced_at        INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX object_sync_due ON object_sync (state, next_attempt_at);

-- Files stored before this migration are queued too.
INSERT INTO object_sync (sha256, size, op, state, next_attempt_at, created_at, updated_at)
SELECT sha256, MAX(size), 'upload', 'pending', MIN(created_at), MIN(created_at), MIN(created_at)
FROM files GROUP BY sha256;
