//! Importing a FastGPT app's existing conversations through its history APIs, as a background task.
//!
//! Each FastGPT conversation becomes one of ours with the same `chatId`, so chatting on continues the
//! same FastGPT context; one already imported is skipped, so the import can be run again safely.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ChatService;
use super::model::{MessageRole, MessageStatus};
use crate::agents::ProviderKind;
use crate::error::{CoreError, CoreResult};
use crate::store::{NewConversation, NewMessage, Timestamp};
use crate::tasks::{TaskContext, TaskFailure, TaskHandler};

pub const IMPORT_TASK: &str = "chat.import_fastgpt";
const HISTORY_PAGE: u64 = 50;
const RECORD_PAGE: u64 = 100;
/// A safety stop against a server that reports an endless history.
const MAX_CONVERSATIONS: u64 = 10_000;
const MAX_RECORDS: u64 = 5_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportPayload {
    agent_id: i64,
}

#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct ImportSummary {
    pub imported: u64,
    pub skipped: u64,
    pub messages: u64,
}

impl ChatService {
    /// Imports the conversations of the agent's FastGPT app for a user; `progress` gets 0–100.
    pub async fn import_fastgpt(
        &self,
        user_id: i64,
        agent_id: i64,
        progress: &TaskContext,
    ) -> CoreResult<ImportSummary> {
        let agent = self.agents.resolve(agent_id).await?;
        if agent.spec.provider != ProviderKind::Fastgpt {
            return Err(CoreError::invalid("agent_id", "only a FastGPT agent has a history to import"));
        }
        let app_id = agent.spec.app_id.clone().ok_or_else(|| {
            CoreError::invalid(
                "app_id",
                format!("set the app id of the agent {:?} to import its history", agent.spec.name),
            )
        })?;
        let mut summary = ImportSummary::default();
        let mut offset = 0;
        loop {
            let page = agent.client.histories(&app_id, offset, HISTORY_PAGE).await.map_err(upstream)?;
            let total = page.total.min(MAX_CONVERSATIONS);
            if page.items.is_empty() {
                break;
            }
            for history in &page.items {
                if self.store.conversation_by_chat_id(user_id, agent_id, &history.chat_id).await?.is_some() {
                    summary.skipped += 1;
                } else {
                    summary.messages +=
                        self.import_one(user_id, &agent.spec.name, agent_id, &app_id, history, &agent.client).await?;
                    summary.imported += 1;
                }
            }
            offset += page.items.len() as u64;
            let done = offset.saturating_mul(100) / total.max(1);
            let message = format!("{offset} of {total} conversations");
            progress.progress(i32::try_from(done.min(99)).unwrap_or(99), Some(&message)).await;
            if offset >= total {
                break;
            }
        }
        Ok(summary)
    }

    async fn import_one(
        &self,
        user_id: i64,
        agent_name: &str,
        agent_id: i64,
        app_id: &str,
        history: &zk_model_api::HistoryItem,
        client: &zk_model_api::ModelClient,
    ) -> CoreResult<u64> {
        // All records first, so a failure halfway leaves no half-imported conversation behind.
        let mut records = Vec::new();
        let mut offset = 0;
        loop {
            let page = client.records(app_id, &history.chat_id, offset, RECORD_PAGE).await.map_err(upstream)?;
            if page.items.is_empty() {
                break;
            }
            offset += page.items.len() as u64;
            records.extend(page.items);
            if offset >= page.total.min(MAX_RECORDS) {
                break;
            }
        }
        let now = Timestamp::from(self.clock.now());
        let id = uuid::Uuid::now_v7().to_string();
        let title: String =
            if history.title.trim().is_empty() { "FastGPT".into() } else { history.title.chars().take(200).collect() };
        self.store
            .create_conversation(&NewConversation {
                id: id.clone(),
                user_id,
                agent_id,
                agent_name: agent_name.to_owned(),
                title,
                chat_id: Some(history.chat_id.clone()),
                variables: json!({}),
                source: "fastgpt".into(),
                now,
            })
            .await?;
        let written = async {
            let mut last_text = String::new();
            for record in &records {
                let role = if record.human { MessageRole::User } else { MessageRole::Assistant };
                self.store
                    .append_message(&NewMessage {
                        id: uuid::Uuid::now_v7().to_string(),
                        conversation_id: id.clone(),
                        role: role.as_str().into(),
                        text: record.text.clone(),
                        status: MessageStatus::Complete.as_str().into(),
                        attachments: json!([]),
                        detail: json!({ "fastgpt_data_id": record.data_id }),
                        interactive_reply: false,
                        now,
                    })
                    .await?;
                last_text.clone_from(&record.text);
            }
            let preview: String =
                last_text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(120).collect();
            self.store.touch_conversation(&id, &preview, now).await?;
            if history.top {
                self.store.pin_conversation(&id, true, now).await?;
            }
            CoreResult::Ok(records.len() as u64)
        }
        .await;
        if written.is_err() {
            let _ = self.store.delete_conversation(&id).await;
        }
        written
    }
}

/// A FastGPT failure: worth retrying (network, busy) or not (a refused key, a bad app id).
fn upstream(error: zk_model_api::ModelApiError) -> CoreError {
    if error.is_retryable() {
        CoreError::Internal(anyhow::anyhow!("FastGPT: {error}"))
    } else {
        CoreError::Invalid { message: format!("FastGPT: {error}"), field: None }
    }
}

/// Runs imports as durable tasks: progress in the Tasks view, survives a restart.
pub struct ImportHandler {
    chat: std::sync::OnceLock<Arc<ChatService>>,
}

impl ImportHandler {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { chat: std::sync::OnceLock::new() })
    }

    /// The chat service is built after the task service; it is handed over once both exist.
    pub fn attach(&self, chat: Arc<ChatService>) {
        let _ = self.chat.set(chat);
    }

    pub fn payload(agent_id: i64) -> Value {
        json!({ "agent_id": agent_id })
    }
}

#[async_trait]
impl TaskHandler for ImportHandler {
    fn kind(&self) -> &'static str {
        IMPORT_TASK
    }

    fn validate(&self, payload: &Value) -> CoreResult<()> {
        serde_json::from_value::<ImportPayload>(payload.clone())
            .map(|_| ())
            .map_err(|e| CoreError::invalid("payload", format!("an import names the agent_id: {e}")))
    }

    async fn run(&self, ctx: TaskContext) -> Result<Value, TaskFailure> {
        let payload: ImportPayload =
            serde_json::from_value(ctx.payload.clone()).map_err(|e| TaskFailure::Permanent(e.to_string()))?;
        let chat = self.chat.get().ok_or_else(|| TaskFailure::Retryable("the chat service is starting".into()))?;
        // The conversations belong to whoever asked for the import.
        let user_id =
            ctx.created_by.ok_or_else(|| TaskFailure::Permanent("an import needs the user who asked".into()))?;
        match chat.import_fastgpt(user_id, payload.agent_id, &ctx).await {
            Ok(summary) => Ok(serde_json::to_value(summary).unwrap_or_default()),
            Err(CoreError::Invalid { message, .. }) | Err(CoreError::NotFound(message)) => {
                Err(TaskFailure::Permanent(message))
            }
            Err(other) => Err(TaskFailure::Retryable(other.to_string())),
        }
    }
}
