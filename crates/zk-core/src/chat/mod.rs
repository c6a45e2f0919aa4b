//! Chat: conversations with an agent, answers streamed from its model and relayed as they arrive.
//!
//! Sending a message stores it and an empty answer, then starts a [`run::Run`] that owns the upstream
//! request; the caller watches the run's events (the HTTP layer relays them over SSE). Stop cancels
//! the run, which drops the upstream request. Regenerate and edit rewrite the conversation from a
//! message on and start a new run on the same answer row, so a retry never duplicates a message.

mod context;
pub mod export;
pub mod import;
pub mod model;
mod run;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use zk_model_api::{ChatEvent, ModelApiError};

pub use model::*;
use run::{Run, RunRegistry};

use crate::agents::{AgentService, ProviderKind, ResolvedAgent};
use crate::cad::CadOptions;
use crate::clock::SharedClock;
use crate::error::{CoreError, CoreResult};
use crate::files::FileService;
use crate::metrics::{Metrics, ModelCall};
use crate::request::Principal;
use crate::store::{
    ConversationCursor, ConversationRecord, MessageRecord, MessageUpdate, NewConversation, NewMessage, Store,
    Timestamp, search_key,
};

/// How often a streaming answer is written to the store (at most a second is lost in a crash).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// A streaming answer not written for this long lost its run (see `interrupt_stale_messages`).
const STALE_AFTER: Duration = Duration::from_secs(30);
const MAX_MESSAGE_CHARS: usize = 100_000;
const MAX_ATTACHMENTS: usize = 10;
const DEFAULT_TITLE_CHARS: usize = 40;

pub type EventStream = BoxStream<'static, StreamEvent>;

pub struct ChatService {
    store: Arc<dyn Store>,
    clock: SharedClock,
    agents: Arc<AgentService>,
    /// Attachments: who may attach a file, and where its content is.
    files: Arc<FileService>,
    /// The CAD guards, for reading attached drawings.
    cad: CadOptions,
    runs: Arc<RunRegistry>,
    /// Cancelled when the process shuts down: runs end as `interrupted`, written to the store.
    shutdown: CancellationToken,
    /// Every run's driver, so a shutdown can wait until each has written its final state.
    drivers: TaskTracker,
    metrics: Arc<Metrics>,
}

impl ChatService {
    pub fn new(
        store: Arc<dyn Store>,
        clock: SharedClock,
        agents: Arc<AgentService>,
        files: Arc<FileService>,
        cad: CadOptions,
        shutdown: CancellationToken,
        metrics: Arc<Metrics>,
    ) -> Self {
        let runs = Arc::new(RunRegistry::default());
        Self { store, clock, agents, files, cad, runs, shutdown, drivers: TaskTracker::new(), metrics }
    }

    /// Waits until every run has ended and written its final state (after the shutdown token is
    /// cancelled, each ends as `interrupted` with what arrived).
    pub async fn wait_for_runs(&self) {
        self.drivers.close();
        self.drivers.wait().await;
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    /// Answers left `streaming` by a process that died become `interrupted` (with their partial text).
    pub async fn recover(&self) -> CoreResult<u64> {
        let stale_before =
            Timestamp::from(self.clock.now() - chrono::Duration::from_std(STALE_AFTER).unwrap_or_default());
        let error = serde_json::to_value(MessageError {
            code: "interrupted".into(),
            message: "the answer stopped when the server did; regenerate it".into(),
            retryable: true,
        })
        .unwrap_or_default();
        Ok(self.store.interrupt_stale_messages(stale_before, &error).await?)
    }

    /// How many answers are streaming in this process now.
    pub fn running(&self) -> usize {
        self.runs.count()
    }

    pub async fn list(
        &self,
        user: &Principal,
        agent_id: Option<i64>,
        after: Option<&str>,
        limit: i64,
    ) -> CoreResult<ConversationPage> {
        let limit = limit.clamp(1, 200);
        let cursor = after.map(decode_cursor).transpose()?;
        let mut records = self.store.list_conversations(user.user_id, agent_id, cursor.as_ref(), limit + 1).await?;
        let next = if records.len() as i64 > limit {
            records.truncate(limit as usize);
            records.last().map(encode_cursor)
        } else {
            None
        };
        Ok(ConversationPage { items: records.into_iter().map(ConversationView::from).collect(), next })
    }

    pub async fn create(&self, user: &Principal, input: NewConversationInput) -> CoreResult<ConversationView> {
        let agent = self.agents.get(input.agent_id).await?;
        if !agent.spec.enabled {
            return Err(CoreError::Conflict(format!("the agent {:?} is disabled", agent.spec.name)));
        }
        let title = input.title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).unwrap_or_default();
        let record = self
            .store
            .create_conversation(&NewConversation {
                id: uuid::Uuid::now_v7().to_string(),
                user_id: user.user_id,
                agent_id: agent.id,
                agent_name: agent.spec.name.clone(),
                title: title.chars().take(200).collect(),
                // FastGPT keeps the history under this id; we choose it so it is known before the first answer.
                chat_id: (agent.spec.provider == ProviderKind::Fastgpt)
                    .then(|| uuid::Uuid::new_v4().simple().to_string()),
                variables: json!({}),
                source: "app".into(),
                now: self.now(),
            })
            .await?;
        Ok(record.into())
    }

    pub async fn get(&self, user: &Principal, id: &str) -> CoreResult<ConversationDetail> {
        let conversation = self.owned(user, id).await?;
        let mut messages = self.store.messages(id).await?;
        // A `streaming` answer with no run here may have lost its run: recover (a write) only then,
        // not on every read.
        let orphaned = messages.iter().any(|m| m.status == MessageStatus::Streaming.as_str());
        if orphaned && !self.runs.is_running(id) && self.recover().await? > 0 {
            messages = self.store.messages(id).await?;
        }
        let mut messages: Vec<MessageView> = messages.into_iter().map(MessageView::from).collect();
        // A running answer is fresher in memory than in the store.
        if let Some(run) = self.runs.get(id) {
            let live = run.snapshot();
            if let Some(slot) = messages.iter_mut().find(|m| m.id == live.id) {
                *slot = live;
            }
        }
        Ok(ConversationDetail { conversation: conversation.into(), messages })
    }

    pub async fn update(&self, user: &Principal, id: &str, patch: ConversationPatch) -> CoreResult<ConversationView> {
        self.owned(user, id).await?;
        let now = self.now();
        if let Some(title) = patch.title {
            let title = title.trim();
            if title.is_empty() || title.chars().count() > 200 {
                return Err(CoreError::invalid("title", "a title has 1 to 200 characters"));
            }
            self.store.rename_conversation(id, title, now).await?;
        }
        if let Some(pinned) = patch.pinned {
            self.store.pin_conversation(id, pinned, now).await?;
        }
        Ok(self.owned(user, id).await?.into())
    }

    pub async fn delete(&self, user: &Principal, id: &str) -> CoreResult<()> {
        self.owned(user, id).await?;
        if let Some(run) = self.runs.get(id) {
            run.cancel.cancel();
        }
        self.store.delete_conversation(id).await?;
        Ok(())
    }

    /// Sends a message and starts the answer; the stream carries the answer's events.
    pub async fn send(&self, user: &Principal, id: &str, input: SendInput) -> CoreResult<EventStream> {
        let conversation = self.owned(user, id).await?;
        let text = checked_text(&input.text)?;
        if input.attachments.len() > MAX_ATTACHMENTS {
            return Err(CoreError::invalid(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} attachments per message"),
            ));
        }
        let mut attachments = Vec::with_capacity(input.attachments.len());
        for file_id in &input.attachments {
            // Only a file the sender may read: attaching would otherwise hand another user's file to
            // the model and show its name in this conversation.
            let file = self.files.readable(user, file_id).await?;
            attachments.push(Attachment {
                file_id: file.id,
                name: file.original_name,
                media_type: file.media_type,
                size: file.size,
            });
        }
        let agent = self.agent_for(&conversation).await?;
        let slot = self.reserve(&conversation)?;
        let now = self.now();
        let stored = async {
            let question = self
                .store
                .append_message(&NewMessage {
                    id: uuid::Uuid::now_v7().to_string(),
                    conversation_id: id.to_owned(),
                    role: MessageRole::User.as_str().into(),
                    text: text.clone(),
                    status: MessageStatus::Complete.as_str().into(),
                    attachments: serde_json::to_value(&attachments).unwrap_or_default(),
                    detail: json!({}),
                    interactive_reply: input.interactive_reply,
                    now,
                })
                .await?;
            if conversation.title.is_empty() {
                self.store.rename_conversation(id, &default_title(&text), now).await?;
            }
            let answer = self.store.append_message(&self.new_answer(id, &slot.message_id, now)).await?;
            CoreResult::Ok((question, answer))
        }
        .await;
        let (question, answer) = match stored {
            Ok(pair) => pair,
            Err(error) => {
                self.runs.finish(id, &slot.message_id);
                return Err(error);
            }
        };
        self.start(conversation, agent, slot, answer, Some(question.into())).await
    }

    /// Answers the question before `message_id` (an answer) again, in place; later messages go.
    pub async fn regenerate(&self, user: &Principal, id: &str, message_id: &str) -> CoreResult<EventStream> {
        let conversation = self.owned(user, id).await?;
        let answer = self.message_in(id, message_id).await?;
        if answer.role != MessageRole::Assistant.as_str() {
            return Err(CoreError::invalid("message", "only an answer can be regenerated; edit a question instead"));
        }
        let agent = self.agent_for(&conversation).await?;
        let slot = self.reserve_for(&conversation, &answer.id)?;
        let reset = async {
            self.store.truncate_messages(id, answer.seq + 1).await?;
            self.reset_answer(&answer.id).await
        }
        .await;
        match reset {
            Ok(answer) => self.start(conversation, agent, slot, answer, None).await,
            Err(error) => {
                self.runs.finish(id, &slot.message_id);
                Err(error)
            }
        }
    }

    /// Replaces a question's text and answers it again; the messages after it go.
    pub async fn edit(
        &self,
        user: &Principal,
        id: &str,
        message_id: &str,
        input: EditInput,
    ) -> CoreResult<EventStream> {
        let conversation = self.owned(user, id).await?;
        let question = self.message_in(id, message_id).await?;
        if question.role != MessageRole::User.as_str() {
            return Err(CoreError::invalid("message", "only a question can be edited; regenerate an answer instead"));
        }
        let text = checked_text(&input.text)?;
        let agent = self.agent_for(&conversation).await?;
        let slot = self.reserve(&conversation)?;
        let now = self.now();
        let rewritten = async {
            self.store.truncate_messages(id, question.seq + 1).await?;
            self.store
                .update_message(&MessageUpdate {
                    id: question.id.clone(),
                    text: text.clone(),
                    status: MessageStatus::Complete.as_str().into(),
                    error: None,
                    detail: question.detail.0.clone(),
                    first_token_ms: None,
                    total_ms: None,
                    now,
                })
                .await?;
            let answer = self.store.append_message(&self.new_answer(id, &slot.message_id, now)).await?;
            let question = self.message_in(id, &question.id).await?;
            CoreResult::Ok((question, answer))
        }
        .await;
        match rewritten {
            Ok((question, answer)) => self.start(conversation, agent, slot, answer, Some(question.into())).await,
            Err(error) => {
                self.runs.finish(id, &slot.message_id);
                Err(error)
            }
        }
    }

    /// Stops the running answer; false when none runs.
    pub async fn stop(&self, user: &Principal, id: &str) -> CoreResult<bool> {
        self.owned(user, id).await?;
        match self.runs.get(id) {
            Some(run) => {
                run.cancel.cancel();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The running answer's events (a snapshot first), for a UI that reconnects; `None` when idle.
    pub async fn attach(&self, user: &Principal, id: &str) -> CoreResult<Option<EventStream>> {
        self.owned(user, id).await?;
        Ok(self.runs.get(id).map(|run| until_finished(run.watch(None))))
    }

    /// Conversations whose title or messages contain `query` (substring, case-insensitive): works for
    /// Chinese and other text without spaces between words.
    pub async fn search(&self, user: &Principal, query: &str, limit: i64) -> CoreResult<Vec<SearchHit>> {
        let needle = search_key(query.trim());
        let chars = needle.chars().count();
        if chars == 0 || chars > 200 {
            return Err(CoreError::invalid("q", "search for 1 to 200 characters"));
        }
        let limit = limit.clamp(1, 200);
        let mut hits: Vec<SearchHit> = self
            .store
            .search_titles(user.user_id, &needle, limit)
            .await?
            .into_iter()
            .map(|c| SearchHit {
                conversation_id: c.id,
                snippet: c.preview,
                title: c.title,
                agent_name: c.agent_name,
                message_id: None,
                at: c.updated_at,
            })
            .collect();
        for hit in self.store.search_messages(user.user_id, &needle, limit).await? {
            hits.push(SearchHit {
                snippet: snippet(&hit.text, &needle),
                conversation_id: hit.conversation_id,
                title: hit.title,
                agent_name: hit.agent_name,
                message_id: Some(hit.message_id),
                at: hit.created_at,
            });
        }
        hits.truncate(limit as usize);
        Ok(hits)
    }

    pub async fn export(
        &self,
        user: &Principal,
        id: &str,
        format: export::ExportFormat,
    ) -> CoreResult<export::Exported> {
        let detail = self.get(user, id).await?;
        export::render(&detail, format, self.now())
    }

    async fn owned(&self, user: &Principal, id: &str) -> CoreResult<ConversationRecord> {
        match self.store.conversation(id).await? {
            // Someone else's conversation does not exist, as far as this caller can tell.
            Some(record) if record.user_id == user.user_id => Ok(record),
            _ => Err(CoreError::NotFound(format!("conversation {id}"))),
        }
    }

    async fn message_in(&self, conversation_id: &str, message_id: &str) -> CoreResult<MessageRecord> {
        match self.store.message(message_id).await? {
            Some(m) if m.conversation_id == conversation_id => Ok(m),
            _ => Err(CoreError::NotFound(format!("message {message_id}"))),
        }
    }

    async fn agent_for(&self, conversation: &ConversationRecord) -> CoreResult<ResolvedAgent> {
        let Some(agent_id) = conversation.agent_id else {
            return Err(CoreError::Conflict(format!(
                "the agent {:?} of this conversation was deleted; start a new conversation",
                conversation.agent_name
            )));
        };
        self.agents.resolve(agent_id).await
    }

    /// Claims the conversation for one answer; refused while another is streaming.
    fn reserve(&self, conversation: &ConversationRecord) -> CoreResult<Arc<Run>> {
        self.reserve_for(conversation, &uuid::Uuid::now_v7().to_string())
    }

    fn reserve_for(&self, conversation: &ConversationRecord, message_id: &str) -> CoreResult<Arc<Run>> {
        let placeholder = MessageView {
            id: message_id.to_owned(),
            conversation_id: conversation.id.clone(),
            seq: 0,
            role: MessageRole::Assistant,
            text: String::new(),
            status: MessageStatus::Streaming,
            error: None,
            attachments: Vec::new(),
            detail: MessageDetail::default(),
            interactive_reply: false,
            created_at: self.now(),
            first_token_ms: None,
            total_ms: None,
        };
        let run = Arc::new(Run::new(placeholder, self.shutdown.child_token()));
        if self.runs.start(&conversation.id, run.clone()) {
            Ok(run)
        } else {
            Err(CoreError::Conflict("an answer is still streaming in this conversation; stop it first".into()))
        }
    }

    fn new_answer(&self, conversation_id: &str, id: &str, now: Timestamp) -> NewMessage {
        NewMessage {
            id: id.to_owned(),
            conversation_id: conversation_id.to_owned(),
            role: MessageRole::Assistant.as_str().into(),
            text: String::new(),
            status: MessageStatus::Streaming.as_str().into(),
            attachments: json!([]),
            detail: json!({}),
            interactive_reply: false,
            now,
        }
    }

    async fn reset_answer(&self, id: &str) -> CoreResult<MessageRecord> {
        self.store
            .update_message(&MessageUpdate {
                id: id.to_owned(),
                text: String::new(),
                status: MessageStatus::Streaming.as_str().into(),
                error: None,
                detail: json!({}),
                first_token_ms: None,
                total_ms: None,
                now: self.now(),
            })
            .await?;
        self.store.message(id).await?.ok_or_else(|| CoreError::NotFound(format!("message {id}")))
    }

    /// Builds the upstream request from the stored conversation and hands the run to its own task.
    async fn start(
        &self,
        conversation: ConversationRecord,
        agent: ResolvedAgent,
        run: Arc<Run>,
        answer: MessageRecord,
        question: Option<MessageView>,
    ) -> CoreResult<EventStream> {
        let history = match self.store.messages(&conversation.id).await {
            Ok(history) => history,
            Err(error) => {
                self.runs.finish(&conversation.id, &run.message_id);
                return Err(error.into());
            }
        };
        let history: Vec<MessageRecord> = history.into_iter().filter(|m| m.seq < answer.seq).collect();
        let request = context::build_request(
            &agent.spec,
            &conversation,
            &history,
            &answer.id,
            &context::AttachmentSources { blobs: self.files.blobs(), store: &*self.store, cad: &self.cad },
        )
        .await;
        let answer = MessageView::from(answer);
        run.publish(StreamEvent::Started { user_message: None, message: Box::new(answer.clone()) }, |m| *m = answer);
        let watcher = until_finished(run.watch(question));
        let driver = Driver {
            store: self.store.clone(),
            clock: self.clock.clone(),
            runs: self.runs.clone(),
            run,
            shutdown: self.shutdown.clone(),
            conversation,
            first_exchange: history.len() <= 1,
            metrics: self.metrics.clone(),
        };
        // Tracked, not detached: a shutdown waits for the driver to write the answer's final state.
        self.drivers.spawn(driver.drive(agent, request));
        Ok(watcher)
    }
}

/// Ends a watcher's stream right after the `finished` event (the run's channel stays open for
/// others, so the stream would not end by itself).
fn until_finished(events: impl futures_util::Stream<Item = StreamEvent> + Send + 'static) -> EventStream {
    futures_util::stream::unfold((events.boxed(), false), |(mut events, done)| async move {
        if done {
            return None;
        }
        let event = events.next().await?;
        let done = matches!(event, StreamEvent::Finished { .. });
        Some((event, (events, done)))
    })
    .boxed()
}

/// The task that owns one run: reads the upstream stream, applies and relays each event, writes the
/// answer to the store, and ends the run.
struct Driver {
    store: Arc<dyn Store>,
    clock: SharedClock,
    runs: Arc<RunRegistry>,
    run: Arc<Run>,
    shutdown: CancellationToken,
    conversation: ConversationRecord,
    first_exchange: bool,
    metrics: Arc<Metrics>,
}

enum Ending {
    Complete,
    Stopped,
    Shutdown,
    Failed(ModelApiError),
    /// The request could not be built (an attachment is gone, the history is unreadable).
    Invalid(String),
}

impl Driver {
    async fn drive(self, agent: ResolvedAgent, request: CoreResult<zk_model_api::ChatRequest>) {
        let started = Instant::now();
        let mut first_token: Option<Duration> = None;
        let ending = match request {
            Err(error) => Ending::Invalid(error.to_string()),
            Ok(request) => self.stream(&agent, &request, started, &mut first_token).await,
        };
        let call = match &ending {
            Ending::Complete => Some(ModelCall::Ok),
            Ending::Stopped | Ending::Shutdown => Some(ModelCall::Cancelled),
            Ending::Failed(error) => Some(ModelCall::Failed(error)),
            // Never sent: not a model call.
            Ending::Invalid(_) => None,
        };
        if let Some(call) = call {
            self.metrics.model_call(agent.spec.provider.as_str(), call, started.elapsed());
        }
        self.finish(ending, started, first_token).await;
    }

    async fn stream(
        &self,
        agent: &ResolvedAgent,
        request: &zk_model_api::ChatRequest,
        started: Instant,
        first_token: &mut Option<Duration>,
    ) -> Ending {
        let cancel = self.run.cancel.clone();
        let opened = tokio::select! {
            () = cancel.cancelled() => return self.cancelled_ending(),
            opened = agent.client.chat_stream(request) => opened,
        };
        let mut events = match opened {
            Ok(events) => Box::pin(events),
            Err(error) => return Ending::Failed(error),
        };
        let mut checkpoint = tokio::time::interval(CHECKPOINT_EVERY);
        checkpoint.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return self.cancelled_ending(),
                _ = checkpoint.tick() => self.checkpoint(started, *first_token).await,
                next = events.next() => match next {
                    None => return Ending::Complete,
                    Some(Err(error)) => return Ending::Failed(error),
                    Some(Ok(event)) => {
                        if first_token.is_none() && matches!(event, ChatEvent::Answer { .. } | ChatEvent::FastAnswer { .. } | ChatEvent::Reasoning { .. }) {
                            *first_token = Some(started.elapsed());
                        }
                        self.apply(event).await;
                    }
                },
            }
        }
    }

    /// The run's token is a child of the shutdown token: a cancelled parent means the server is stopping.
    fn cancelled_ending(&self) -> Ending {
        if self.shutdown.is_cancelled() { Ending::Shutdown } else { Ending::Stopped }
    }

    async fn apply(&self, event: ChatEvent) {
        match event {
            ChatEvent::Answer { text } | ChatEvent::FastAnswer { text } => {
                let delta = text.clone();
                self.run.publish(StreamEvent::Answer { text }, |m| m.text.push_str(&delta));
            }
            ChatEvent::Reasoning { text } => {
                let delta = text.clone();
                self.run.publish(StreamEvent::Reasoning { text }, |m| m.detail.reasoning.push_str(&delta));
            }
            ChatEvent::NodeStatus { status, name } => {
                let step = WorkflowStep { name, status };
                let stored = step.clone();
                self.run.publish(StreamEvent::Step { step }, |m| m.detail.steps.push(stored));
            }
            ChatEvent::Tool(tool) => {
                let stored = tool.clone();
                self.run.publish(StreamEvent::Tool { tool }, |m| {
                    match m.detail.tools.iter_mut().find(|t| t.id == stored.id) {
                        Some(slot) => *slot = stored,
                        None => m.detail.tools.push(stored),
                    }
                });
            }
            ChatEvent::Variables { values } => {
                self.run.publish_quiet(|m| m.detail.variables.extend(values));
            }
            ChatEvent::Interactive(interactive) => {
                let stored = interactive.clone();
                self.run.publish(StreamEvent::Interactive { interactive }, |m| m.detail.interactive = Some(stored));
            }
            ChatEvent::NodeResponses { nodes } => {
                let quotes: Vec<Quote> = nodes.iter().flat_map(|n| n.quotes.iter().cloned()).collect();
                let summaries: Vec<NodeSummary> = nodes
                    .iter()
                    .map(|n| NodeSummary {
                        name: n.module_name.clone(),
                        module_type: n.module_type.clone(),
                        running_time: n.running_time,
                        tokens: n.tokens,
                        total_points: n.total_points,
                    })
                    .collect();
                if quotes.is_empty() {
                    self.run.publish_quiet(|m| m.detail.nodes.extend(summaries));
                } else {
                    let mut all = self.run.snapshot().detail.quotes;
                    all.extend(quotes.clone());
                    self.run.publish(StreamEvent::Quotes { quotes: all }, |m| {
                        m.detail.quotes.extend(quotes);
                        m.detail.nodes.extend(summaries);
                    });
                }
            }
            ChatEvent::WorkflowDuration { seconds } => {
                self.run.publish_quiet(|m| m.detail.duration_secs = Some(seconds))
            }
            ChatEvent::ChatTitle { title } => {
                let title = title.trim().chars().take(200).collect::<String>();
                if self.first_exchange && !title.is_empty() {
                    if let Err(error) = self.store.rename_conversation(&self.conversation.id, &title, self.now()).await
                    {
                        tracing::warn!(%error, "cannot store the conversation title");
                    }
                    self.run.publish(StreamEvent::Title { title }, |_| {});
                }
            }
            ChatEvent::Finished { reason } => self.run.publish_quiet(|m| m.detail.finish_reason = Some(reason)),
            ChatEvent::Done => {}
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    async fn checkpoint(&self, started: Instant, first_token: Option<Duration>) {
        let message = self.run.snapshot();
        let update = update_of(&message, self.now(), first_token, Some(started.elapsed()));
        if let Err(error) = self.store.update_message(&update).await {
            tracing::warn!(%error, message = %message.id, "cannot write the streaming answer; retrying at the next checkpoint");
        }
    }

    async fn finish(self, ending: Ending, started: Instant, first_token: Option<Duration>) {
        let (status, error) = match &ending {
            Ending::Complete => (MessageStatus::Complete, None),
            Ending::Stopped => (MessageStatus::Stopped, None),
            Ending::Shutdown => (
                MessageStatus::Interrupted,
                Some(MessageError {
                    code: "interrupted".into(),
                    message: "the server stopped while answering; regenerate the answer".into(),
                    retryable: true,
                }),
            ),
            Ending::Failed(error) => classify(error),
            Ending::Invalid(message) => (
                MessageStatus::Failed,
                Some(MessageError { code: "request_invalid".into(), message: message.clone(), retryable: false }),
            ),
        };
        let elapsed = started.elapsed();
        self.run.publish_quiet(|m| {
            m.status = status;
            m.error = error.clone();
            m.first_token_ms = first_token.map(duration_ms);
            m.total_ms = Some(duration_ms(elapsed));
        });
        let message = self.run.snapshot();
        let update = update_of(&message, self.now(), first_token, Some(elapsed));
        // The final write is retried briefly: losing it would leave the answer `streaming` until recovery.
        for attempt in 0..3 {
            match self.store.update_message(&update).await {
                Ok(_) => break,
                Err(error) if attempt < 2 => {
                    tracing::warn!(%error, "cannot write the finished answer; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => tracing::error!(%error, message = %message.id, "cannot write the finished answer"),
            }
        }
        let preview = preview_of(&message);
        if let Err(error) = self.store.touch_conversation(&self.conversation.id, &preview, self.now()).await {
            tracing::warn!(%error, "cannot update the conversation's preview");
        }
        if !message.detail.variables.is_empty() {
            let mut variables: Map<String, Value> =
                self.conversation.variables.0.as_object().cloned().unwrap_or_default();
            variables.extend(message.detail.variables.clone());
            if let Err(error) =
                self.store.set_conversation_variables(&self.conversation.id, &Value::Object(variables)).await
            {
                tracing::warn!(%error, "cannot store the workflow variables");
            }
        }
        // Free the conversation before telling watchers, so a client that sends again at once is accepted.
        self.runs.finish(&self.conversation.id, &message.id);
        self.run.publish(StreamEvent::Finished { message: Box::new(message.clone()) }, |_| {});
        tracing::info!(
            conversation = %self.conversation.id,
            message = %message.id,
            status = status.as_str(),
            total_ms = duration_ms(elapsed),
            "answer finished"
        );
    }
}

fn checked_text(text: &str) -> CoreResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CoreError::invalid("text", "write a message first"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(CoreError::invalid("text", format!("a message has at most {MAX_MESSAGE_CHARS} characters")));
    }
    Ok(text.to_owned())
}

/// A conversation's title until it gets a better one: the start of its first question.
fn default_title(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text).trim();
    let mut title: String = line.chars().take(DEFAULT_TITLE_CHARS).collect();
    if line.chars().count() > DEFAULT_TITLE_CHARS {
        title.push('…');
    }
    title
}

fn preview_of(message: &MessageView) -> String {
    let text = message.text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(120).collect()
}

/// The text around the first match of `needle` (already folded), about 80 characters.
fn snippet(text: &str, needle: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = search_key(text).chars().collect();
    let needle: Vec<char> = needle.chars().collect();
    // Folding may change the length of a few characters; fall back to the start then.
    let at = if folded.len() == chars.len() {
        folded.windows(needle.len().max(1)).position(|w| w == needle.as_slice()).unwrap_or(0)
    } else {
        0
    };
    let start = at.saturating_sub(30);
    let end = (at + needle.len() + 50).min(chars.len());
    let mut out: String = chars[start..end].iter().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ");
    if start > 0 {
        out.insert(0, '…');
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

fn encode_cursor(record: &ConversationRecord) -> String {
    format!("{}.{}.{}", u8::from(record.pinned), record.updated_at.millis(), record.id)
}

fn decode_cursor(cursor: &str) -> CoreResult<ConversationCursor> {
    let invalid = || CoreError::invalid("after", "not a cursor from a previous page");
    let mut parts = cursor.splitn(3, '.');
    let pinned = match parts.next() {
        Some("1") => true,
        Some("0") => false,
        _ => return Err(invalid()),
    };
    let millis: i64 = parts.next().and_then(|m| m.parse().ok()).ok_or_else(invalid)?;
    let id = parts.next().filter(|id| !id.is_empty()).ok_or_else(invalid)?;
    Ok(ConversationCursor {
        pinned,
        updated_at: Timestamp::from_millis(millis).ok_or_else(invalid)?,
        id: id.to_owned(),
    })
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn update_of(
    message: &MessageView,
    now: Timestamp,
    first_token: Option<Duration>,
    elapsed: Option<Duration>,
) -> MessageUpdate {
    MessageUpdate {
        id: message.id.clone(),
        text: message.text.clone(),
        status: message.status.as_str().into(),
        error: message.error.as_ref().and_then(|e| serde_json::to_value(e).ok()),
        detail: serde_json::to_value(&message.detail).unwrap_or_default(),
        first_token_ms: first_token.map(duration_ms),
        total_ms: elapsed.map(duration_ms),
        now,
    }
}

/// How an upstream failure ends an answer: a broken stream is `interrupted` (what arrived is kept and
/// a retry offered); a refusal or failure is `failed`, with a message that says what to do.
pub(crate) fn classify(error: &ModelApiError) -> (MessageStatus, Option<MessageError>) {
    let failure = crate::agents::request::describe_failure(error);
    let status = if failure.broke_off { MessageStatus::Interrupted } else { MessageStatus::Failed };
    let error = MessageError { code: failure.code.into(), message: failure.message, retryable: failure.retryable };
    (status, Some(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_center_on_the_match_in_chinese_text() {
        let text = format!("{}这张图纸的标注需要检查{}", "前".repeat(100), "后".repeat(100));
        let snip = snippet(&text, "图纸");
        assert!(snip.contains("这张图纸的标注"), "{snip}");
        assert!(snip.starts_with('…') && snip.ends_with('…'));
        assert!(snip.chars().count() < 90);
    }

    #[test]
    fn default_titles_take_the_first_line() {
        assert_eq!(default_title("\n  你好，帮我看看这张图\n第二行"), "你好，帮我看看这张图");
        assert!(default_title(&"a".repeat(100)).ends_with('…'));
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let cursor = decode_cursor("1.1700000000000.abc-def").expect("valid");
        assert!(cursor.pinned);
        assert_eq!(cursor.id, "abc-def");
        for bad in ["", "2.1.x", "1.x.y", "1.5."] {
            assert!(decode_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_cut_stream_is_interrupted_and_retryable_an_auth_error_is_not() {
        let (status, error) = classify(&ModelApiError::Interrupted("cut".into()));
        assert_eq!(status, MessageStatus::Interrupted);
        assert!(error.is_some_and(|e| e.retryable));
        let (status, error) = classify(&ModelApiError::Auth { status: 401, code: None, message: "bad key".into() });
        assert_eq!(status, MessageStatus::Failed);
        assert!(error.is_some_and(|e| !e.retryable && e.code == "upstream_auth"));
    }
}
