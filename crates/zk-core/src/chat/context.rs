//! What an answer's request to the model holds: the new question (FastGPT keeps the rest under its
//! `chatId`) or the history trimmed to the agent's context budget (OpenAI-compatible), with attachments
//! in the form the provider accepts: images as data URLs, small text files inline, CAD drawings as
//! their extracted facts (read under the CAD guards), anything else mentioned by name.

use base64::Engine as _;
use zk_model_api::{ChatRequest, Content, ImageUrl, Message, Part, Role};

use super::model::{Attachment, MessageStatus};
use crate::agents::{AgentSpec, Exchange, ProviderKind};
use crate::cad::CadOptions;
use crate::error::{CoreError, CoreResult};
use crate::files::BlobStore;
use crate::store::{ConversationRecord, FileRecord, MessageRecord, Store};

/// Images are sent inline (a data URL); larger ones are mentioned instead.
const MAX_INLINE_IMAGE_BYTES: i64 = 8 * 1024 * 1024;
/// Text files are sent inline up to this size.
const MAX_INLINE_TEXT_BYTES: i64 = 64 * 1024;
/// A drawing's facts in a question are cut to about this many characters (a few thousand tokens;
/// an analysis task may send more).
const DRAWING_FACTS_CHARS: usize = 12_000;
/// The image types every vision model takes; other `image/…` files (DXF is `image/vnd.dxf`) are not
/// pictures to send.
const INLINE_IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/// Where attachments are read from.
pub(super) struct AttachmentSources<'a> {
    pub blobs: &'a BlobStore,
    pub store: &'a dyn Store,
    /// The CAD guards, for drawings.
    pub cad: &'a CadOptions,
}

pub(super) async fn build_request(
    spec: &AgentSpec,
    conversation: &ConversationRecord,
    history: &[MessageRecord],
    answer_id: &str,
    sources: &AttachmentSources<'_>,
) -> CoreResult<ChatRequest> {
    let question = history
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .ok_or_else(|| CoreError::invalid("message", "there is no question to answer"))?;
    let messages = if spec.provider == ProviderKind::Fastgpt && conversation.chat_id.is_some() {
        // FastGPT keeps the history under the chatId and reads only the new question.
        vec![user_message(question, sources, true).await?]
    } else {
        // OpenAI-compatible, or an imported FastGPT conversation without a chatId: the history.
        trimmed_history(spec, history, question, sources).await?
    };
    let exchange = Exchange {
        messages,
        chat_id: conversation.chat_id.clone(),
        answer_id: Some(answer_id.to_owned()),
        variables: conversation.variables.0.as_object().cloned().unwrap_or_default(),
        detail: None,
    };
    Ok(spec.model_request(exchange))
}

/// As much recent history as fits the budget (the system prompt counted in), always ending with the
/// question.
async fn trimmed_history(
    spec: &AgentSpec,
    history: &[MessageRecord],
    question: &MessageRecord,
    sources: &AttachmentSources<'_>,
) -> CoreResult<Vec<Message>> {
    let budget = spec.parameters.context_budget as usize;
    let last = user_message(question, sources, true).await?;
    let mut used = estimate_tokens(&spec.system_prompt) + estimate_tokens(&question.text);
    let mut earlier = Vec::new();
    for message in history.iter().rev().filter(|m| m.id != question.id) {
        // A failed answer has nothing worth sending; a stopped or interrupted one keeps its part.
        let usable = message.role == "user" || MessageStatus::parse(&message.status) != MessageStatus::Failed;
        if !usable || message.text.is_empty() {
            continue;
        }
        let cost = estimate_tokens(&message.text);
        if used + cost > budget {
            break;
        }
        used += cost;
        earlier.push(if message.role == "user" {
            user_message(message, sources, false).await?
        } else {
            Message { role: Role::Assistant, content: Content::Text(message.text.clone()) }
        });
    }
    let mut messages = Vec::with_capacity(earlier.len() + 1);
    messages.extend(earlier.into_iter().rev());
    messages.push(last);
    Ok(messages)
}

/// A question with its attachments. Only the newest question carries images and file contents;
/// earlier ones mention them, which keeps the request small.
async fn user_message(
    message: &MessageRecord,
    sources: &AttachmentSources<'_>,
    with_files: bool,
) -> CoreResult<Message> {
    let attachments: Vec<Attachment> = serde_json::from_value(message.attachments.0.clone()).unwrap_or_default();
    if attachments.is_empty() {
        return Ok(Message { role: Role::User, content: Content::Text(message.text.clone()) });
    }
    let mut parts = vec![Part::Text { text: message.text.clone() }];
    for attachment in &attachments {
        parts.push(if with_files { attachment_part(attachment, sources).await? } else { mention(attachment) });
    }
    Ok(Message { role: Role::User, content: Content::Parts(parts) })
}

async fn attachment_part(attachment: &Attachment, sources: &AttachmentSources<'_>) -> CoreResult<Part> {
    let Some(file) = sources.store.file(&attachment.file_id).await? else { return Ok(mention(attachment)) };
    if matches!(file.media_type.as_str(), "image/vnd.dxf" | "image/vnd.dwg") {
        return drawing_part(attachment, &file, sources).await;
    }
    let is_image = INLINE_IMAGE_TYPES.contains(&file.media_type.as_str());
    let is_text = file.media_type.starts_with("text/") || matches!(file.media_type.as_str(), "application/json");
    let fits = (is_image && file.size <= MAX_INLINE_IMAGE_BYTES) || (is_text && file.size <= MAX_INLINE_TEXT_BYTES);
    if !fits {
        return Ok(mention(attachment));
    }
    let path = sources.blobs.blob_path(&file.sha256)?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| CoreError::Storage(format!("cannot read the attachment {}: {e}", attachment.name)))?;
    if is_image {
        let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
        return Ok(Part::ImageUrl { image_url: ImageUrl { url: format!("data:{};base64,{data}", file.media_type) } });
    }
    let text = String::from_utf8_lossy(&bytes);
    Ok(Part::Text { text: format!("Attached file {}:\n```\n{text}\n```", attachment.name) })
}

/// A CAD drawing as the facts the agent can use (version, units, extents, layers, blocks, entity
/// counts, texts, dimensions), read under the CAD guards off the async runtime. A drawing that cannot
/// be read is mentioned with the reason, so the agent can say so instead of guessing.
async fn drawing_part(attachment: &Attachment, file: &FileRecord, sources: &AttachmentSources<'_>) -> CoreResult<Part> {
    let path = sources.blobs.blob_path(&file.sha256)?;
    let options = sources.cad.clone();
    let info = tokio::task::spawn_blocking(move || {
        crate::cad::read_file(&path, &options).and_then(|bytes| crate::cad::drawing_info(bytes, &options))
    })
    .await
    .map_err(|e| CoreError::Internal(anyhow::anyhow!("the CAD worker failed: {e}")))?;
    let text = match info {
        Ok(info) => {
            let context = crate::cad::analysis::context(&attachment.name, &info.facts, DRAWING_FACTS_CHARS);
            let facts = serde_json::to_string_pretty(&context.facts).unwrap_or_default();
            let mut text =
                format!("Attached drawing {} (its facts, read by ZK-Agent):\n```json\n{facts}\n```", attachment.name);
            if let Some(left_out) = context.trimmed {
                text.push_str(&format!("\nLeft out to keep this short: {left_out}."));
            }
            text
        }
        Err(error) => format!("[attached drawing {}: it could not be read: {error}]", attachment.name),
    };
    Ok(Part::Text { text })
}

fn mention(attachment: &Attachment) -> Part {
    Part::Text {
        text: format!("[attached file: {} ({}, {} bytes)]", attachment.name, attachment.media_type, attachment.size),
    }
}

/// A cautious token estimate without a tokenizer: about 4 ASCII characters per token, and one token
/// per other character (CJK text runs at roughly one to two characters per token).
pub(super) fn estimate_tokens(text: &str) -> usize {
    let (ascii, other) =
        text.chars().fold((0usize, 0usize), |(a, o), c| if c.is_ascii() { (a + 1, o) } else { (a, o + 1) });
    ascii.div_ceil(4) + other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_costs_more_tokens_per_character_than_ascii() {
        assert_eq!(estimate_tokens("abcdefgh"), 2);
        assert_eq!(estimate_tokens("图纸标注"), 4);
        assert_eq!(estimate_tokens(""), 0);
    }
}
