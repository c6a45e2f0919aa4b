//! Conversations and their messages: records, the [`ConversationStore`] trait, and its SQL for both backends.

use async_trait::async_trait;
use serde_json::Value;

use super::Timestamp;
use crate::error::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRecord {
    pub id: String,
    pub user_id: i64,
    pub agent_id: Option<i64>,
    pub agent_name: String,
    pub title: String,
    pub pinned: bool,
    pub chat_id: Option<String>,
    pub variables: sqlx::types::Json<Value>,
    pub source: String,
    pub message_count: i32,
    pub preview: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewConversation {
    pub id: String,
    pub user_id: i64,
    pub agent_id: i64,
    pub agent_name: String,
    pub title: String,
    pub chat_id: Option<String>,
    pub variables: Value,
    pub source: String,
    pub now: Timestamp,
}

/// Where a page of the conversation list continues: after this row in (pinned, updated_at, id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationCursor {
    pub pinned: bool,
    pub updated_at: Timestamp,
    pub id: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: String,
    pub conversation_id: String,
    pub seq: i32,
    pub role: String,
    pub text: String,
    pub status: String,
    pub error: Option<sqlx::types::Json<Value>>,
    pub attachments: sqlx::types::Json<Value>,
    pub detail: sqlx::types::Json<Value>,
    pub interactive_reply: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub first_token_ms: Option<i64>,
    pub total_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub conversation_id: String,
    pub role: String,
    pub text: String,
    pub status: String,
    pub attachments: Value,
    pub detail: Value,
    pub interactive_reply: bool,
    pub now: Timestamp,
}

/// The state of a message as its run has it; written as the answer streams in and when it ends.
#[derive(Debug, Clone)]
pub struct MessageUpdate {
    pub id: String,
    pub text: String,
    pub status: String,
    pub error: Option<Value>,
    pub detail: Value,
    pub first_token_ms: Option<i64>,
    pub total_ms: Option<i64>,
    pub now: Timestamp,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageHitRecord {
    pub conversation_id: String,
    pub title: String,
    pub agent_name: String,
    pub message_id: String,
    pub text: String,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    async fn create_conversation(&self, conversation: &NewConversation) -> StoreResult<ConversationRecord>;
    async fn conversation(&self, id: &str) -> StoreResult<Option<ConversationRecord>>;
    async fn conversation_by_chat_id(
        &self,
        user_id: i64,
        agent_id: i64,
        chat_id: &str,
    ) -> StoreResult<Option<ConversationRecord>>;
    /// A user's conversations, pinned first, then most recently updated.
    async fn list_conversations(
        &self,
        user_id: i64,
        agent_id: Option<i64>,
        after: Option<&ConversationCursor>,
        limit: i64,
    ) -> StoreResult<Vec<ConversationRecord>>;
    async fn rename_conversation(&self, id: &str, title: &str, now: Timestamp) -> StoreResult<bool>;
    async fn pin_conversation(&self, id: &str, pinned: bool, now: Timestamp) -> StoreResult<bool>;
    async fn set_conversation_variables(&self, id: &str, variables: &Value) -> StoreResult<()>;
    async fn delete_conversation(&self, id: &str) -> StoreResult<bool>;

    /// The conversation's messages in order.
    async fn messages(&self, conversation_id: &str) -> StoreResult<Vec<MessageRecord>>;
    async fn message(&self, id: &str) -> StoreResult<Option<MessageRecord>>;
    /// Appends a message at the end of its conversation (the next `seq`).
    async fn append_message(&self, message: &NewMessage) -> StoreResult<MessageRecord>;
    /// Writes a message's current state; false when the message is gone (its conversation was deleted).
    async fn update_message(&self, update: &MessageUpdate) -> StoreResult<bool>;
    /// Marks the conversation changed, with a preview line for the list.
    async fn touch_conversation(&self, id: &str, preview: &str, now: Timestamp) -> StoreResult<()>;
    /// Deletes the messages at `seq` and after (edit-and-resend, regenerate); returns how many.
    async fn truncate_messages(&self, conversation_id: &str, from_seq: i32) -> StoreResult<u64>;
    /// Messages still `streaming` but not written since `stale_before` lost their run (a crash):
    /// they become `interrupted`, keeping their text. Returns how many.
    async fn interrupt_stale_messages(&self, stale_before: Timestamp, error: &Value) -> StoreResult<u64>;
    /// Messages of a user whose folded text contains `needle` (already folded), newest first.
    async fn search_messages(&self, user_id: i64, needle: &str, limit: i64) -> StoreResult<Vec<MessageHitRecord>>;
    /// Conversations of a user whose folded title contains `needle`, most recent first.
    async fn search_titles(&self, user_id: i64, needle: &str, limit: i64) -> StoreResult<Vec<ConversationRecord>>;
}

/// Text folded for search: lower case, Unicode-aware (SQLite's `lower()` folds ASCII only).
pub fn search_key(text: &str) -> String {
    text.to_lowercase()
}

/// A `LIKE` pattern matching `needle` anywhere, with `\` escaping the wildcards.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Implements [`ConversationStore`] for `$store` over a `sqlx::Pool<$db>` in its `pool` field.
macro_rules! impl_conversation_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::ConversationStore for $store {
            async fn create_conversation(&self, c: &NewConversation) -> StoreResult<ConversationRecord> {
                Ok(sqlx::query_as::<$db, ConversationRecord>(
                    "INSERT INTO conversations (id, user_id, agent_id, agent_name, title, pinned, chat_id, variables, source, \
                     message_count, preview, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7, $8, 0, '', $9, $9) RETURNING *",
                )
                .bind(&c.id)
                .bind(c.user_id)
                .bind(c.agent_id)
                .bind(&c.agent_name)
                .bind(&c.title)
                .bind(&c.chat_id)
                .bind(sqlx::types::Json(&c.variables))
                .bind(&c.source)
                .bind(c.now)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn conversation(&self, id: &str) -> StoreResult<Option<ConversationRecord>> {
                Ok(sqlx::query_as::<$db, ConversationRecord>("SELECT * FROM conversations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn conversation_by_chat_id(&self, user_id: i64, agent_id: i64, chat_id: &str) -> StoreResult<Option<ConversationRecord>> {
                Ok(sqlx::query_as::<$db, ConversationRecord>(
                    "SELECT * FROM conversations WHERE user_id = $1 AND agent_id = $2 AND chat_id = $3",
                )
                .bind(user_id)
                .bind(agent_id)
                .bind(chat_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn list_conversations(
                &self,
                user_id: i64,
                agent_id: Option<i64>,
                after: Option<&ConversationCursor>,
                limit: i64,
            ) -> StoreResult<Vec<ConversationRecord>> {
                // Row-value comparison continues after the cursor in the same order the index serves.
                Ok(sqlx::query_as::<$db, ConversationRecord>(
                    "SELECT * FROM conversations WHERE user_id = $1 AND ($2 IS NULL OR agent_id = $2) \
                     AND ($3 IS NULL OR (pinned, updated_at, id) < ($3, $4, $5)) \
                     ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT $6",
                )
                .bind(user_id)
                .bind(agent_id)
                .bind(after.map(|c| c.pinned))
                .bind(after.map(|c| c.updated_at))
                .bind(after.map(|c| c.id.as_str()))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn rename_conversation(&self, id: &str, title: &str, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE conversations SET title = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(title)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn pin_conversation(&self, id: &str, pinned: bool, _now: Timestamp) -> StoreResult<bool> {
                // Pinning reorders the list by itself; it is not news, so `updated_at` stays.
                let done = sqlx::query("UPDATE conversations SET pinned = $2 WHERE id = $1").bind(id).bind(pinned).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_conversation_variables(&self, id: &str, variables: &Value) -> StoreResult<()> {
                sqlx::query("UPDATE conversations SET variables = $2 WHERE id = $1")
                    .bind(id)
                    .bind(sqlx::types::Json(variables))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_conversation(&self, id: &str) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM conversations WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn messages(&self, conversation_id: &str) -> StoreResult<Vec<MessageRecord>> {
                Ok(sqlx::query_as::<$db, MessageRecord>("SELECT * FROM messages WHERE conversation_id = $1 ORDER BY seq")
                    .bind(conversation_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn message(&self, id: &str) -> StoreResult<Option<MessageRecord>> {
                Ok(sqlx::query_as::<$db, MessageRecord>("SELECT * FROM messages WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn append_message(&self, m: &NewMessage) -> StoreResult<MessageRecord> {
                let mut tx = self.pool.begin().await?;
                let record = sqlx::query_as::<$db, MessageRecord>(
                    "INSERT INTO messages (id, conversation_id, seq, role, text, search_text, status, error, attachments, detail, \
                     interactive_reply, created_at, updated_at) \
                     VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = $2), \
                     $3, $4, $5, $6, NULL, $7, $8, $9, $10, $10) RETURNING *",
                )
                .bind(&m.id)
                .bind(&m.conversation_id)
                .bind(&m.role)
                .bind(&m.text)
                .bind($crate::conversations::search_key(&m.text))
                .bind(&m.status)
                .bind(sqlx::types::Json(&m.attachments))
                .bind(sqlx::types::Json(&m.detail))
                .bind(m.interactive_reply)
                .bind(m.now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("UPDATE conversations SET message_count = message_count + 1, updated_at = $2 WHERE id = $1")
                    .bind(&m.conversation_id)
                    .bind(m.now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn update_message(&self, u: &MessageUpdate) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE messages SET text = $2, search_text = $3, status = $4, error = $5, detail = $6, \
                     first_token_ms = $7, total_ms = $8, updated_at = $9 WHERE id = $1",
                )
                .bind(&u.id)
                .bind(&u.text)
                .bind($crate::conversations::search_key(&u.text))
                .bind(&u.status)
                .bind(u.error.as_ref().map(sqlx::types::Json))
                .bind(sqlx::types::Json(&u.detail))
                .bind(u.first_token_ms)
                .bind(u.total_ms)
                .bind(u.now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn touch_conversation(&self, id: &str, preview: &str, now: Timestamp) -> StoreResult<()> {
                sqlx::query("UPDATE conversations SET preview = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(preview)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn truncate_messages(&self, conversation_id: &str, from_seq: i32) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("DELETE FROM messages WHERE conversation_id = $1 AND seq >= $2")
                    .bind(conversation_id)
                    .bind(from_seq)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE conversations SET message_count = (SELECT COUNT(*) FROM messages WHERE conversation_id = $1) WHERE id = $1",
                )
                .bind(conversation_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }

            async fn interrupt_stale_messages(&self, stale_before: Timestamp, error: &Value) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE messages SET status = 'interrupted', error = $2 WHERE status = 'streaming' AND updated_at < $1",
                )
                .bind(stale_before)
                .bind(sqlx::types::Json(error))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn search_messages(&self, user_id: i64, needle: &str, limit: i64) -> StoreResult<Vec<MessageHitRecord>> {
                Ok(sqlx::query_as::<$db, MessageHitRecord>(
                    "SELECT m.conversation_id, c.title, c.agent_name, m.id AS message_id, m.text, m.created_at \
                     FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                     WHERE c.user_id = $1 AND m.search_text LIKE $2 ESCAPE '\\' \
                     ORDER BY m.created_at DESC, m.id LIMIT $3",
                )
                .bind(user_id)
                .bind($crate::conversations::contains_pattern(needle))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn search_titles(&self, user_id: i64, needle: &str, limit: i64) -> StoreResult<Vec<ConversationRecord>> {
                // Titles are short and few per user: folding them in the query is cheap enough.
                Ok(sqlx::query_as::<$db, ConversationRecord>(
                    "SELECT * FROM conversations WHERE user_id = $1 AND lower(title) LIKE $2 ESCAPE '\\' \
                     ORDER BY updated_at DESC, id LIMIT $3",
                )
                .bind(user_id)
                .bind($crate::conversations::contains_pattern(needle))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

pub(crate) use impl_conversation_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("图纸"), "%图纸%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%", "wildcards in the query match themselves");
    }
}
