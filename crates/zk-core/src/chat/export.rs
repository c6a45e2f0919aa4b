//! A conversation as a file: Markdown to read and share, JSON to keep everything.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{ConversationDetail, MessageRole, MessageStatus};
use crate::error::{CoreError, CoreResult};
use crate::store::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Markdown,
    Json,
}

pub struct Exported {
    pub file_name: String,
    pub media_type: &'static str,
    pub body: String,
}

pub fn render(detail: &ConversationDetail, format: ExportFormat, now: Timestamp) -> CoreResult<Exported> {
    let base = file_stem(&detail.conversation.title);
    match format {
        ExportFormat::Markdown => Ok(Exported {
            file_name: format!("{base}.md"),
            media_type: "text/markdown; charset=utf-8",
            body: markdown(detail, now),
        }),
        ExportFormat::Json => {
            let body = serde_json::to_string_pretty(&json!({
                "format": "zk-agent.conversation.v1",
                "exported_at": now,
                "conversation": detail.conversation,
                "messages": detail.messages,
            }))
            .map_err(|e| CoreError::Internal(e.into()))?;
            Ok(Exported { file_name: format!("{base}.json"), media_type: "application/json", body })
        }
    }
}

fn markdown(detail: &ConversationDetail, now: Timestamp) -> String {
    let c = &detail.conversation;
    let title = if c.title.is_empty() { "Conversation" } else { c.title.as_str() };
    let mut out = format!(
        "# {title}\n\nAgent: {} · {} messages · exported {}\n",
        c.agent_name,
        detail.messages.len(),
        now.datetime().format("%Y-%m-%d %H:%M UTC")
    );
    for message in &detail.messages {
        let who = match message.role {
            MessageRole::User => "You".to_owned(),
            MessageRole::Assistant => c.agent_name.clone(),
        };
        out.push_str(&format!("\n## {who}\n\n"));
        if !message.detail.reasoning.is_empty() {
            out.push_str("<details><summary>Reasoning</summary>\n\n");
            out.push_str(message.detail.reasoning.trim());
            out.push_str("\n\n</details>\n\n");
        }
        out.push_str(message.text.trim());
        out.push('\n');
        for attachment in &message.attachments {
            out.push_str(&format!(
                "\n- Attachment: {} ({}, {} bytes)",
                attachment.name, attachment.media_type, attachment.size
            ));
        }
        if !message.attachments.is_empty() {
            out.push('\n');
        }
        if !message.detail.quotes.is_empty() {
            out.push_str("\nSources:\n");
            for (n, quote) in message.detail.quotes.iter().enumerate() {
                let source = quote.source_name.as_deref().unwrap_or("knowledge base");
                let line = quote.question.lines().next().unwrap_or_default();
                out.push_str(&format!("{}. {source}: {line}\n", n + 1));
            }
        }
        match message.status {
            MessageStatus::Complete | MessageStatus::Streaming => {}
            MessageStatus::Stopped => out.push_str("\n*(stopped)*\n"),
            MessageStatus::Interrupted | MessageStatus::Failed => {
                let reason = message.error.as_ref().map_or("", |e| e.message.as_str());
                out.push_str(&format!("\n*({}: {reason})*\n", message.status.as_str()));
            }
        }
    }
    out
}

/// A file name from a title: no path separators or control characters, not empty.
fn file_stem(title: &str) -> String {
    let cleaned: String =
        title
            .chars()
            .map(|c| {
                if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                    '_'
                } else {
                    c
                }
            })
            .take(80)
            .collect();
    let cleaned = cleaned.trim().trim_matches('.').to_owned();
    if cleaned.is_empty() { "conversation".into() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_path_tricks() {
        assert_eq!(file_stem("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_stem("  "), "conversation");
        assert_eq!(file_stem("图纸 评审"), "图纸 评审");
    }
}
