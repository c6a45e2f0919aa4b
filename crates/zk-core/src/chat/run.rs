//! Runs: one answer streaming from the model, owned by a task that outlives the request that started it.
//!
//! A run keeps the answer as it stands and broadcasts each event; watchers (the request that sent
//! the message, a reconnecting UI) attach with a snapshot plus the live events after it. The run
//! writes its message to the store as it goes (so a crash loses at most a second) and at the end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::Stream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::CancellationToken;

use super::model::{MessageStatus, MessageView, StreamEvent};

/// Events a slow watcher may fall behind by before it is re-synced with a snapshot.
const EVENT_BUFFER: usize = 1024;

pub(crate) struct Run {
    pub message_id: String,
    /// Cancelled by "stop" and by shutdown; the run then drops the upstream request.
    pub cancel: CancellationToken,
    // One lock for the answer and the broadcast: an event is applied and sent under it, and a watcher
    // snapshots and subscribes under it, so no watcher sees an event twice or misses one.
    state: Mutex<RunState>,
}

struct RunState {
    message: MessageView,
    events: broadcast::Sender<StreamEvent>,
}

impl Run {
    pub fn new(message: MessageView, cancel: CancellationToken) -> Self {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Self { message_id: message.id.clone(), cancel, state: Mutex::new(RunState { message, events }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies a change to the answer and tells the watchers.
    pub fn publish(&self, event: StreamEvent, apply: impl FnOnce(&mut MessageView)) {
        let mut state = self.lock();
        apply(&mut state.message);
        // No watcher is fine: the run goes on and the store keeps the answer.
        let _ = state.events.send(event);
    }

    /// Applies a change that has no event of its own (it shows in the final message).
    pub fn publish_quiet(&self, apply: impl FnOnce(&mut MessageView)) {
        apply(&mut self.lock().message);
    }

    pub fn snapshot(&self) -> MessageView {
        self.lock().message.clone()
    }

    /// The answer so far as a `started` event, then every later event until the run ends.
    pub fn watch(
        self: &Arc<Self>,
        user_message: Option<MessageView>,
    ) -> impl Stream<Item = StreamEvent> + Send + 'static {
        use futures_util::StreamExt;
        let (snapshot, receiver) = {
            let state = self.lock();
            (state.message.clone(), state.events.subscribe())
        };
        let run = self.clone();
        if snapshot.status != MessageStatus::Streaming {
            // Attached after the end: the last event was already sent, so repeat it.
            let events = vec![
                StreamEvent::Started { user_message: user_message.map(Box::new), message: Box::new(snapshot.clone()) },
                StreamEvent::Finished { message: Box::new(snapshot) },
            ];
            return futures_util::stream::iter(events).left_stream();
        }
        let first = futures_util::stream::once(std::future::ready(StreamEvent::Started {
            user_message: user_message.map(Box::new),
            message: Box::new(snapshot),
        }));
        let live = BroadcastStream::new(receiver).map(move |item| match item {
            Ok(event) => event,
            // Fell behind: a fresh snapshot replaces what the watcher has.
            Err(BroadcastStreamRecvError::Lagged(_)) => {
                StreamEvent::Started { user_message: None, message: Box::new(run.snapshot()) }
            }
        });
        first.chain(live).right_stream()
    }
}

/// The runs of this process, by conversation: one answer at a time per conversation.
#[derive(Default)]
pub(crate) struct RunRegistry {
    // A plain mutex: map operations only, never held across an await.
    runs: Mutex<HashMap<String, Arc<Run>>>,
}

impl RunRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Run>>> {
        self.runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a run unless the conversation has one already.
    pub fn start(&self, conversation_id: &str, run: Arc<Run>) -> bool {
        let mut runs = self.lock();
        if runs.contains_key(conversation_id) {
            return false;
        }
        runs.insert(conversation_id.to_owned(), run);
        true
    }

    pub fn get(&self, conversation_id: &str) -> Option<Arc<Run>> {
        self.lock().get(conversation_id).cloned()
    }

    pub fn finish(&self, conversation_id: &str, message_id: &str) {
        let mut runs = self.lock();
        if runs.get(conversation_id).is_some_and(|r| r.message_id == message_id) {
            runs.remove(conversation_id);
        }
    }

    pub fn is_running(&self, conversation_id: &str) -> bool {
        self.lock().contains_key(conversation_id)
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }
}
