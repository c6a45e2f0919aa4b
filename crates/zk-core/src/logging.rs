//! Logs: `tracing` to stdout as text or JSON, and every ERROR event also into the `error_log` table
//! (with the request id and user of the span it happened in) and, when enabled, to a webhook.
//!
//! Levels are INFO, WARN, ERROR and FATAL; FATAL is an ERROR event with the field `fatal = true`
//! (tracing has no level above ERROR), written just before the process gives up. A WARN event
//! with the field `error_log = true` is copied into `error_log` too (level WARN): a refusal an
//! administrator should be able to find (a CAD drawing that timed out, a busy CAD worker pool)
//! without it being an error of the server.
//!
//! `LOG_FORMAT=json` writes one JSON object per line, as Loki and Elasticsearch take them: `ts`
//! (RFC 3339, UTC, milliseconds), `level` (`INFO`, `WARN`, `ERROR`, `FATAL`, or `DEBUG`/`TRACE`),
//! `msg`, `target`, and from the request's span `request_id`, `user` (the user id), `route` (the
//! matched route template), `method` and `path` where known; then the event's own fields.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::clock::SharedClock;
use crate::config::{ErrorMonitorConfig, LogFormat};
use crate::store::{NewErrorEntry, Store, Timestamp};

/// Errors waiting to be written; past this, new ones are dropped (and counted) rather than queued.
const ERROR_QUEUE: usize = 1024;
/// At most one webhook alert per this interval; the next one says how many were folded in.
const WEBHOOK_INTERVAL: Duration = Duration::from_secs(60);

/// Where ERROR events go once the database is open. Set once per process.
static ERROR_SINK: OnceLock<mpsc::Sender<NewErrorEntry>> = OnceLock::new();
/// Entries queued or being written: a shutdown waits for it to reach zero before closing the database.
static PENDING_ERRORS: AtomicUsize = AtomicUsize::new(0);

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter).with(ErrorLogLayer);
    let result = match format {
        LogFormat::Json => registry.with(JsonLines::new(std::io::stdout)).try_init(),
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_target(true)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())),
            )
            .try_init(),
    };
    drop(result);
}

/// Logging for one-shot commands: text to stderr, so their stdout (JSON, exports) stays clean.
pub fn init_command(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    let layer = tracing_subscriber::fmt::layer()
        .with_target(true)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    drop(tracing_subscriber::registry().with(filter).with(ErrorLogLayer).with(layer).try_init());
}

/// Starts the task that writes ERROR events to `error_log` (and the webhook). Returns false when a
/// writer is already running in this process.
pub fn attach_error_log(store: Arc<dyn Store>, clock: SharedClock, monitor: &ErrorMonitorConfig) -> bool {
    let (sender, mut receiver) = mpsc::channel::<NewErrorEntry>(ERROR_QUEUE);
    if ERROR_SINK.set(sender).is_err() {
        return false;
    }
    let webhook = monitor.enabled.then(|| monitor.webhook_url.clone()).flatten();
    // Owned by the process: it ends when the runtime shuts down.
    tokio::spawn(async move {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().ok();
        let mut last_alert: Option<Instant> = None;
        let mut folded: u64 = 0;
        while let Some(mut entry) = receiver.recv().await {
            entry.at = Timestamp::from(clock.now());
            let written = store.append_error(&entry).await;
            PENDING_ERRORS.fetch_sub(1, Ordering::SeqCst);
            if let Err(error) = written {
                // Not through tracing::error!, which would loop back here.
                eprintln!("zk-agent: cannot write the error log: {error}");
            }
            if let (Some(url), Some(client)) = (&webhook, &client) {
                if last_alert.is_some_and(|t| t.elapsed() < WEBHOOK_INTERVAL) {
                    folded += 1;
                    continue;
                }
                last_alert = Some(Instant::now());
                let body = json!({
                    "level": entry.level, "source": entry.source, "message": entry.message,
                    "request_id": entry.request_id, "at": entry.at, "suppressed_since_last": folded,
                });
                folded = 0;
                if let Err(error) = client.post(url.expose()).json(&body).send().await {
                    eprintln!("zk-agent: cannot deliver the error alert: {error}");
                }
            }
        }
    });
    true
}

/// Waits (up to `limit`) until every ERROR event logged so far is written, so a shutdown does not
/// close the database under the last ones. True when the queue emptied in time.
pub async fn flush_error_log(limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while PENDING_ERRORS.load(Ordering::SeqCst) > 0 {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// Sends ERROR events to the error-log writer, with the request id and user from enclosing spans.
struct ErrorLogLayer;

#[derive(Default)]
struct SpanFields(BTreeMap<String, Value>);

impl<S> Layer<S> for ErrorLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, id: &tracing::span::Id, ctx: Context<'_, S>) {
        let mut fields = FieldVisitor::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.fields));
        }
    }

    fn on_record(&self, id: &tracing::span::Id, values: &tracing::span::Record<'_>, ctx: Context<'_, S>) {
        let mut fields = FieldVisitor::default();
        values.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            if let Some(existing) = extensions.get_mut::<SpanFields>() {
                existing.0.extend(fields.fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        if level != Level::ERROR && level != Level::WARN {
            return;
        }
        let Some(sink) = ERROR_SINK.get() else { return };
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let mut context = visitor.fields;
        let flagged = context.remove("error_log").and_then(|v| v.as_bool()).unwrap_or(false);
        if level == Level::WARN && !flagged {
            return;
        }
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    for (key, value) in &fields.0 {
                        context.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
        }
        let message = context
            .remove("message")
            .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
            .unwrap_or_default();
        let fatal = context.get("fatal").and_then(Value::as_bool).unwrap_or(false);
        let request_id = context.get("request_id").and_then(|v| v.as_str().map(str::to_owned));
        let user_id =
            context.get("user_id").and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
        let entry = NewErrorEntry {
            at: Timestamp::from(chrono::Utc::now()),
            level: if fatal {
                "FATAL"
            } else if level == Level::WARN {
                "WARN"
            } else {
                "ERROR"
            }
            .to_owned(),
            source: event.metadata().target().to_owned(),
            message,
            request_id,
            user_id,
            context: Value::Object(context.into_iter().collect()),
        };
        // A full queue drops the entry rather than blocking the code that logged it.
        PENDING_ERRORS.fetch_add(1, Ordering::SeqCst);
        if sink.try_send(entry).is_err() {
            PENDING_ERRORS.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// One JSON object per event and line (see the module's documentation). Span fields come from the
/// [`SpanFields`] that [`ErrorLogLayer`] keeps on every span, so it is installed beside that layer.
struct JsonLines<W> {
    make_writer: W,
}

impl<W> JsonLines<W> {
    fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

/// Span fields shown under another name, and the order of the known ones.
const SPAN_FIELDS: &[(&str, &str)] =
    &[("request_id", "request_id"), ("user_id", "user"), ("route", "route"), ("method", "method"), ("path", "path")];

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + 'static,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let mut fields = visitor.fields;
        let msg = fields.remove("message").map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned));
        let level = *event.metadata().level();
        let fatal = level == Level::ERROR && fields.get("fatal").and_then(Value::as_bool) == Some(true);
        if fatal {
            fields.remove("fatal");
        }
        let mut line = serde_json::Map::new();
        line.insert("ts".into(), json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        line.insert("level".into(), json!(if fatal { "FATAL" } else { level.as_str() }));
        line.insert("msg".into(), json!(msg.unwrap_or_default()));
        line.insert("target".into(), json!(event.metadata().target()));
        if let Some(scope) = ctx.event_scope(event) {
            // The innermost span wins: walk from the root and let later spans overwrite.
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<SpanFields>() {
                    for (name, shown) in SPAN_FIELDS {
                        if let Some(value) = span_fields.0.get(*name) {
                            line.insert((*shown).into(), value.clone());
                        }
                    }
                }
            }
        }
        for (key, value) in fields {
            line.entry(key).or_insert(value);
        }
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        // One write per line, so lines of concurrent events do not interleave.
        let _ = std::io::Write::write_all(&mut self.make_writer.make_writer(), text.as_bytes());
    }
}

#[derive(Default)]
struct FieldVisitor {
    fields: BTreeMap<String, Value>,
}

impl Visit for FieldVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.fields.insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields.insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_owned(), json!(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_owned(), json!(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_owned(), json!(value));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Lines written by the JSON layer, in memory.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_time_level_message_and_the_request_context() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("info"))
            .with(ErrorLogLayer)
            .with(JsonLines::new(move || writer.clone()));
        // Only this thread's events, not the process's global subscriber.
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(port = 3000, "listening");
            let span = tracing::info_span!(
                "request",
                method = "GET",
                path = "/api/files/42",
                request_id = "req-1",
                user_id = tracing::field::Empty,
                route = tracing::field::Empty
            );
            let _entered = span.enter();
            span.record("user_id", 7);
            span.record("route", "/api/files/{id}");
            tracing::warn!(size = 5, "a \"quoted\" word");
            tracing::error!(fatal = true, "giving up");
        });
        let text = String::from_utf8(lines.0.lock().unwrap_or_else(|p| p.into_inner()).clone()).unwrap_or_default();
        let parsed: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap_or(Value::Null)).collect();
        assert_eq!(parsed.len(), 3, "one object per line: {text}");
        assert!(parsed.iter().all(Value::is_object), "every line is a JSON object: {text}");

        let ts = parsed[0]["ts"].as_str().unwrap_or_default();
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok() && ts.ends_with('Z'), "RFC 3339 in UTC: {ts}");
        assert_eq!((parsed[0]["level"].as_str(), parsed[0]["msg"].as_str()), (Some("INFO"), Some("listening")));
        assert_eq!(parsed[0]["port"], json!(3000), "the event's fields follow");
        assert!(parsed[0].get("request_id").is_none(), "no request outside a request");

        assert_eq!(parsed[1]["level"], json!("WARN"));
        assert_eq!(parsed[1]["msg"], json!("a \"quoted\" word"));
        assert_eq!(parsed[1]["request_id"], json!("req-1"));
        assert_eq!(parsed[1]["user"], json!(7), "the user recorded on the span after it opened");
        assert_eq!(parsed[1]["route"], json!("/api/files/{id}"), "the route template, not the path");
        assert_eq!(parsed[1]["path"], json!("/api/files/42"));

        assert_eq!(parsed[2]["level"], json!("FATAL"), "an ERROR marked fatal is FATAL: {}", parsed[2]);
        assert!(parsed[2].get("fatal").is_none(), "the marker is the level, not a field");
    }
}
