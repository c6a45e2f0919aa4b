//! Clients of the model APIs ZK-Agent talks to: FastGPT's OpenAPI (streaming, detail events,
//! interactive nodes, chat history) and OpenAI-compatible servers (a local model can serve offline).
//!
//! Architecture invariant: this crate knows no HTTP server, no Tauri, no database and no agent
//! configuration. It turns a request into typed events or a typed error, whatever the server sends:
//! heartbeats, unknown events, old and new chunk shapes, errors inside HTTP 200, cut or stalled
//! streams, malformed frames.

mod client;
mod error;
mod events;
mod sse;

pub use client::{
    ApiKey, ChatRequest, ChatResponse, Content, HistoryItem, ImageUrl, Message, ModelClient, Page, Part, Provider,
    RecordItem, Role,
};
pub use error::ModelApiError;
pub use events::{ChatEvent, InputField, Interactive, NodeResponse, Quote, SelectOption, ToolCall};
pub use sse::{Frame, SseDecoder, SseError};
