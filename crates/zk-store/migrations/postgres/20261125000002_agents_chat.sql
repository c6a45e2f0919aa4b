-- Agents (versioned configurations of model endpoints) and conversations with their messages.

CREATE TABLE agents (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Stable identity that survives renames: names the agent's API key in the key store.
    uid          TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    -- The name folded by the application, for case-insensitive uniqueness.
    name_key     TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('chat', 'poster', 'cad')),
    provider     TEXT NOT NULL CHECK (provider IN ('fastgpt', 'openai')),
    enabled      BOOLEAN NOT NULL,
    version      INTEGER NOT NULL,
    -- The whole configuration (AgentSpec) as JSON; the columns above repeat what queries filter on.
    spec         JSONB NOT NULL,
    -- The watched-folder file this agent comes from, if any.
    source_file  TEXT,
    created_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX agents_name_key ON agents (name_key);

-- Every version an agent had, the current one included: history, diff and restore read these.
CREATE TABLE agent_versions (
    agent_id    BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    spec        JSONB NOT NULL,
    change      TEXT NOT NULL,
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agent_id, version)
);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    agent_id       BIGINT REFERENCES agents (id) ON DELETE SET NULL,
    -- Kept so a conversation still says whom it was with after the agent is deleted.
    agent_name     TEXT NOT NULL,
    title          TEXT NOT NULL,
    pinned         BOOLEAN NOT NULL DEFAULT FALSE,
    -- FastGPT's chatId: FastGPT keeps the context of this conversation under it.
    chat_id        TEXT,
    variables      JSONB NOT NULL,
    -- 'app' (started here) or 'fastgpt' (imported from a FastGPT app's history).
    source         TEXT NOT NULL,
    message_count  INTEGER NOT NULL DEFAULT 0,
    preview        TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX conversations_user ON conversations (user_id, pinned, updated_at);
CREATE UNIQUE INDEX conversations_chat_id ON conversations (user_id, agent_id, chat_id) WHERE chat_id IS NOT NULL;

CREATE TABLE messages (
    -- Also FastGPT's dataId (responseChatItemId) of the answer.
    id                 TEXT PRIMARY KEY,
    conversation_id    TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq                INTEGER NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text               TEXT NOT NULL,
    -- The text folded by the application; searched by substring, which works for Chinese.
    search_text        TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'stopped', 'interrupted', 'failed')),
    error              JSONB,
    attachments        JSONB NOT NULL,
    -- Reasoning, workflow steps, tool calls, quotes, interactive form: what the UI renders beside the text.
    detail             JSONB NOT NULL,
    interactive_reply  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMPTZ NOT NULL,
    -- A streaming answer is written at least every few seconds; one not written for long lost its run.
    updated_at         TIMESTAMPTZ NOT NULL,
    first_token_ms     BIGINT,
    total_ms           BIGINT,
    UNIQUE (conversation_id, seq)
);
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';
