//! What the chat API shows and takes: conversations, messages, stream events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
pub use zk_model_api::{Interactive, Quote, ToolCall};

use crate::store::{ConversationRecord, MessageRecord, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageRole {
    User,
    Assistant,
}

impl MessageRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Complete,
    /// The answer is arriving now.
    Streaming,
    /// The user stopped it; what arrived is kept.
    Stopped,
    /// The stream broke (cut, stalled, malformed) after it started; what arrived is kept, retry is offered.
    Interrupted,
    /// The upstream refused or failed before answering (auth, quota, server error, timeout).
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Streaming => "streaming",
            Self::Stopped => "stopped",
            Self::Interrupted => "interrupted",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Self {
        match value {
            "complete" => Self::Complete,
            "streaming" => Self::Streaming,
            "stopped" => Self::Stopped,
            "failed" => Self::Failed,
            _ => Self::Interrupted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct MessageError {
    /// `upstream_auth`, `upstream_quota`, `upstream_error`, `upstream_timeout`, `upstream_stalled`,
    /// `upstream_cut`, `upstream_malformed`, `upstream_unreachable`, `upstream_rejected`, `too_large`,
    /// `interrupted` (the server stopped mid-answer), `request_invalid` (an attachment is gone…).
    pub code: String,
    pub message: String,
    /// Whether trying again may help (regenerate offers it).
    pub retryable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Attachment {
    pub file_id: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
}

/// A FastGPT workflow node as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct WorkflowStep {
    pub name: String,
    pub status: String,
}

/// A node's summary after it ran (`flowResponses`): what it was, how long, what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct NodeSummary {
    pub name: Option<String>,
    pub module_type: Option<String>,
    pub running_time: Option<f64>,
    pub tokens: Option<u64>,
    pub total_points: Option<f64>,
}

/// Everything beside the answer text that the UI renders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct MessageDetail {
    pub reasoning: String,
    pub steps: Vec<WorkflowStep>,
    pub tools: Vec<ToolCall>,
    pub quotes: Vec<Quote>,
    pub nodes: Vec<NodeSummary>,
    pub interactive: Option<Interactive>,
    #[ts(type = "Record<string, unknown>")]
    pub variables: Map<String, Value>,
    pub duration_secs: Option<f64>,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct MessageView {
    pub id: String,
    pub conversation_id: String,
    pub seq: i32,
    pub role: MessageRole,
    pub text: String,
    pub status: MessageStatus,
    pub error: Option<MessageError>,
    pub attachments: Vec<Attachment>,
    pub detail: MessageDetail,
    /// The user answered an interactive form of the workflow with this message.
    pub interactive_reply: bool,
    pub created_at: Timestamp,
    /// From sending to the first token of the answer.
    pub first_token_ms: Option<i64>,
    pub total_ms: Option<i64>,
}

impl From<MessageRecord> for MessageView {
    fn from(record: MessageRecord) -> Self {
        Self {
            id: record.id,
            conversation_id: record.conversation_id,
            seq: record.seq,
            role: if record.role == "user" { MessageRole::User } else { MessageRole::Assistant },
            text: record.text,
            status: MessageStatus::parse(&record.status),
            error: record.error.and_then(|e| serde_json::from_value(e.0).ok()),
            attachments: serde_json::from_value(record.attachments.0).unwrap_or_default(),
            detail: serde_json::from_value(record.detail.0).unwrap_or_default(),
            interactive_reply: record.interactive_reply,
            created_at: record.created_at,
            first_token_ms: record.first_token_ms,
            total_ms: record.total_ms,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ConversationView {
    pub id: String,
    pub agent_id: Option<i64>,
    pub agent_name: String,
    pub title: String,
    pub pinned: bool,
    pub message_count: i32,
    pub preview: String,
    /// `app`, or `fastgpt` for one imported from a FastGPT app's history.
    pub source: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<ConversationRecord> for ConversationView {
    fn from(record: ConversationRecord) -> Self {
        Self {
            id: record.id,
            agent_id: record.agent_id,
            agent_name: record.agent_name,
            title: record.title,
            pinned: record.pinned,
            message_count: record.message_count,
            preview: record.preview,
            source: record.source,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ConversationPage {
    pub items: Vec<ConversationView>,
    /// Pass as `after` for the next page; absent on the last one.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ConversationDetail {
    pub conversation: ConversationView,
    pub messages: Vec<MessageView>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SearchHit {
    pub conversation_id: String,
    pub title: String,
    pub agent_name: String,
    /// The matching message; absent when the title matched.
    pub message_id: Option<String>,
    /// The text around the match.
    pub snippet: String,
    pub at: Timestamp,
}

/// The events of an answer's stream (SSE event name = `type`).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// First event: the answer as it stands (empty, or partial when attaching to a running answer),
    /// and the question when it was just sent.
    Started {
        user_message: Option<Box<MessageView>>,
        message: Box<MessageView>,
    },
    Answer {
        text: String,
    },
    Reasoning {
        text: String,
    },
    Step {
        step: WorkflowStep,
    },
    /// A tool call as known so far; replaces an earlier one with the same id.
    Tool {
        tool: ToolCall,
    },
    Quotes {
        quotes: Vec<Quote>,
    },
    Interactive {
        interactive: Interactive,
    },
    Title {
        title: String,
    },
    /// Last event: the answer as stored (status, error, timings).
    Finished {
        message: Box<MessageView>,
    },
}

impl StreamEvent {
    /// The SSE event name: the same as `type`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Started { .. } => "started",
            Self::Answer { .. } => "answer",
            Self::Reasoning { .. } => "reasoning",
            Self::Step { .. } => "step",
            Self::Tool { .. } => "tool",
            Self::Quotes { .. } => "quotes",
            Self::Interactive { .. } => "interactive",
            Self::Title { .. } => "title",
            Self::Finished { .. } => "finished",
        }
    }
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct NewConversationInput {
    pub agent_id: i64,
    #[serde(default)]
    #[ts(optional)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ConversationPatch {
    #[serde(default)]
    #[ts(optional)]
    pub title: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub pinned: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    pub text: String,
    /// Ids of files uploaded through `/api/files`.
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub attachments: Vec<String>,
    /// This message answers the workflow's interactive form (its text is the option or the JSON values).
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub interactive_reply: bool,
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct EditInput {
    pub text: String,
}
