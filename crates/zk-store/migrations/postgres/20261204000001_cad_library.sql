-- The CAD library: drawings uploaded through the file store or found in the watched folder (CAD_DIR),
-- their thumbnails, and the analyses run on them. Timestamps are TIMESTAMPTZ here and epoch
-- milliseconds in migrations/sqlite (see zk-core store::Timestamp).

CREATE TABLE cad_drawings (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    -- The name folded by the application; searched by substring, which works for Chinese.
    name_key          TEXT NOT NULL,
    format            TEXT NOT NULL CHECK (format IN ('dxf', 'dwg')),
    -- The content as imported: an upload's blob in the file store, or the folder file's hash.
    sha256            TEXT NOT NULL,
    size_bytes        BIGINT NOT NULL,
    acad_version      TEXT,
    release           TEXT,
    units             TEXT,
    -- Top-level entities over all layouts.
    entity_count      BIGINT NOT NULL DEFAULT 0,
    -- JSON array of layout names, model space first.
    layouts           JSONB NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('ready', 'failed')),
    -- Why the reader refused the drawing (status failed).
    error             TEXT,
    -- zk-cad's Facts as JSON (texts and dimensions capped), for the detail view; NULL when failed.
    facts             JSONB,
    -- The reader's first diagnostics, JSON.
    diagnostics       JSONB NOT NULL,
    -- SHA-256 of the thumbnail in cad_thumbnails (its ETag); NULL when there is none.
    thumbnail_sha256  TEXT,
    source            TEXT NOT NULL CHECK (source IN ('upload', 'folder')),
    -- An upload's row in files (its blob, its uploader's right to delete it).
    file_id           TEXT REFERENCES files (id) ON DELETE CASCADE,
    -- A folder drawing's watched folder: the host and CAD_DIR of the server that watches it (several
    -- servers may share this database, each with a folder of its own).
    folder_root       TEXT,
    -- A folder drawing's path relative to its folder, with '/' separators.
    folder_path       TEXT,
    uploaded_by       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CHECK ((source = 'upload' AND file_id IS NOT NULL AND folder_root IS NULL AND folder_path IS NULL)
        OR (source = 'folder' AND file_id IS NULL AND folder_root IS NOT NULL AND folder_path IS NOT NULL))
);
CREATE UNIQUE INDEX cad_drawings_folder_path ON cad_drawings (folder_root, folder_path) WHERE folder_path IS NOT NULL;
CREATE INDEX cad_drawings_file ON cad_drawings (file_id);

-- Thumbnails (PNG, a few kilobytes each) apart from the rows that lists read.
CREATE TABLE cad_thumbnails (
    drawing_id  TEXT PRIMARY KEY REFERENCES cad_drawings (id) ON DELETE CASCADE,
    png         BYTEA NOT NULL
);

-- One analysis per cad.analyse task; its state follows the task until the handler records an outcome.
CREATE TABLE cad_analyses (
    id             TEXT PRIMARY KEY,
    drawing_id     TEXT NOT NULL REFERENCES cad_drawings (id) ON DELETE CASCADE,
    task_id        BIGINT NOT NULL UNIQUE REFERENCES tasks (id) ON DELETE CASCADE,
    state          TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    agent_id       BIGINT REFERENCES agents (id) ON DELETE SET NULL,
    -- Kept so an analysis still says who answered after the agent is renamed or deleted.
    agent_name     TEXT,
    agent_version  INTEGER,
    answer         TEXT,
    note           TEXT,
    -- {code, message} of the last failure (also of a failed attempt that will be retried).
    error          JSONB,
    -- The facts as sent to the agent (trimmed to the budget), JSON.
    facts_sent     JSONB,
    -- {factsMs, modelMs, totalMs}, JSON.
    timings        JSONB,
    created_by     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    started_at     TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ
);
CREATE INDEX cad_analyses_drawing ON cad_analyses (drawing_id, created_at);
