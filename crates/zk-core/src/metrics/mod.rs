//! What `/metrics` shows: one [`Metrics`] per [`crate::Core`], in Prometheus's text format.
//!
//! The services record what happens as it happens (a sign-in, a task's end, a model call, a drawing
//! read); the HTTP front door records each request through [`Metrics::http_request`]. What is a
//! state rather than an event (queue depth, sessions, the database pool, the cache's counters, the
//! process) is read when the metrics are scraped ([`Metrics::sample`]); the health of each
//! dependency is checked by a background loop and kept in `zk_dependency_up`.
//!
//! Naming follows Prometheus: one prefix (`zk_`), base units (`_seconds`, `_bytes`), `_total` on
//! counters, `_info` for build information. Labels carry bounded values only: route templates
//! (never paths with ids), outcomes, task kinds as registered, providers, HTTP status codes. Latencies
//! are histograms with explicit buckets so they add up across instances.
//!
//! The object-storage sync backlog (`zk_sync_backlog_items{op}`, `zk_sync_backlog_bytes`,
//! `zk_sync_failed_items`) is read from the outbox at each scrape when a bucket is configured, and
//! the bucket is one more `zk_dependency_up{dependency="object_storage"}` from the dependency loop.
//! Where later work plugs in (not defined here until something records them): poster renders as
//! `zk_poster_renders_total{outcome}` with `zk_poster_render_duration_seconds`, recorded by the poster
//! service; the age of the oldest pending upload as `zk_sync_backlog_oldest_seconds`.

mod process;

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};
use sha2::{Digest, Sha256};
use zk_model_api::ModelApiError;

use crate::secret::Secret;

pub use process::ProcessStats;

/// Request latency buckets (seconds): from a cached read (sub-millisecond) to a slow upload.
const HTTP_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Task and model-call buckets (seconds): a self-test takes milliseconds, an analysis minutes.
const SLOW_BUCKETS: &[f64] =
    &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0];
/// Drawing reads (seconds): a small DXF in milliseconds, a large DWG in tens of seconds.
const CAD_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// How a sign-in ended, as `zk_auth_logins_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Ok,
    /// Wrong password or unknown name.
    Failed,
    /// Refused before the password was checked: too many recent failures.
    Throttled,
    /// The password was right but the account may not sign in (disabled).
    Denied,
}

impl LoginOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Throttled => "throttled",
            Self::Denied => "denied",
        }
    }
}

/// A state read when the metrics are scraped: the queue and sessions (when the database answered),
/// the database pool, the cache's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    pub store: Option<StoreSample>,
    pub pool_size: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_errors: u64,
    /// The sync outbox, when a bucket is configured and the database answered.
    pub sync: Option<SyncSample>,
}

/// The object-storage outbox at a scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncSample {
    /// Contents waiting for their upload, and their bytes.
    pub uploads: i64,
    pub upload_bytes: i64,
    /// Deletions waiting for the bucket.
    pub deletions: i64,
    /// Items given up on (a missing or damaged local copy).
    pub failed: i64,
}

/// What the database tells at a scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StoreSample {
    pub tasks_queued: i64,
    pub tasks_running: i64,
    /// How long the oldest task that may run now has waited for a worker.
    pub oldest_queued: Option<Duration>,
    pub sessions_active: i64,
    pub users_active: i64,
}

/// Every metric of one core, registered in its own registry (several cores in one process, as in
/// the black-box tests, keep apart).
pub struct Metrics {
    registry: Registry,
    /// Held while a scrape brings the sampled counters up to date, so two scrapes at once do not
    /// both add the same difference.
    sampling: Mutex<()>,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    logins: IntCounterVec,
    refresh_reuse: IntCounter,
    origins_refused: IntCounter,
    sessions_active: IntGauge,
    users_active: IntGauge,
    tasks: IntCounterVec,
    task_duration: HistogramVec,
    tasks_queued: IntGauge,
    tasks_running: IntGauge,
    task_oldest_queued: Gauge,
    cache_requests: IntCounterVec,
    cache_errors: IntCounter,
    model_requests: IntCounterVec,
    model_duration: HistogramVec,
    cad_opens: IntCounterVec,
    cad_open_duration: Histogram,
    db_connections: IntGaugeVec,
    db_connections_max: IntGauge,
    dependency_up: IntGaugeVec,
    dependency_latency: GaugeVec,
    sync_backlog: IntGaugeVec,
    sync_backlog_bytes: IntGauge,
    sync_failed: IntGauge,
    process: process::ProcessMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let r = Registrar { registry: &registry };
        let build_info = r.int_gauge_vec("zk_build_info", "Build of this server: always 1", &["version", "profile"]);
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), if cfg!(debug_assertions) { "debug" } else { "release" }])
            .set(1);
        Self {
            http_requests: r.int_counter_vec(
                "zk_http_requests_total",
                "HTTP requests answered, by method, route template and status",
                &["method", "route", "status"],
            ),
            http_duration: r.histogram_vec(
                "zk_http_request_duration_seconds",
                "Time to the response head, by method and route template",
                &["method", "route"],
                HTTP_BUCKETS,
            ),
            logins: r.int_counter_vec(
                "zk_auth_logins_total",
                "Password sign-ins by outcome (ok, failed, throttled, denied)",
                &["outcome"],
            ),
            refresh_reuse: r.int_counter(
                "zk_auth_refresh_reuse_total",
                "Refresh tokens presented a second time (the session is revoked)",
            ),
            origins_refused: r.int_counter(
                "zk_http_origin_refused_total",
                "State-changing requests refused because they came from another web origin",
            ),
            sessions_active: r.int_gauge("zk_auth_sessions_active", "Sessions neither revoked nor expired"),
            users_active: r.int_gauge("zk_auth_users_active", "Users with at least one active session"),
            tasks: r.int_counter_vec(
                "zk_tasks_total",
                "Task runs ended, by kind and outcome (succeeded, failed, timed_out, retry, cancelled, released)",
                &["kind", "outcome"],
            ),
            task_duration: r.histogram_vec(
                "zk_task_duration_seconds",
                "Run time of a task attempt, by kind and outcome",
                &["kind", "outcome"],
                SLOW_BUCKETS,
            ),
            tasks_queued: r.int_gauge("zk_tasks_queued", "Tasks waiting in the queue (all kinds)"),
            sync_backlog: r.int_gauge_vec(
                "zk_sync_backlog_items",
                "Object-storage sync: items not yet in the bucket, by operation (upload, delete)",
                &["op"],
            ),
            sync_backlog_bytes: r.int_gauge("zk_sync_backlog_bytes", "Object-storage sync: bytes waiting for upload"),
            sync_failed: r.int_gauge(
                "zk_sync_failed_items",
                "Object-storage sync: items given up on (a missing or damaged local copy)",
            ),
            tasks_running: r.int_gauge("zk_tasks_running", "Tasks held by a worker of any instance"),
            task_oldest_queued: r.gauge(
                "zk_task_queue_oldest_seconds",
                "How long the oldest task that may run now has waited for a worker (0: none waits)",
            ),
            cache_requests: r.int_counter_vec(
                "zk_cache_requests_total",
                "Cache look-ups by result (hit, miss; an unavailable cache counts as a miss)",
                &["result"],
            ),
            cache_errors: r.int_counter("zk_cache_errors_total", "Cache operations that failed (Redis down or slow)"),
            model_requests: r.int_counter_vec(
                "zk_model_api_requests_total",
                "Calls to model APIs (FastGPT, OpenAI-compatible) by provider, outcome and HTTP status",
                &["provider", "outcome", "code"],
            ),
            model_duration: r.histogram_vec(
                "zk_model_api_request_duration_seconds",
                "Duration of a model API call to its last byte, by provider and outcome",
                &["provider", "outcome"],
                SLOW_BUCKETS,
            ),
            cad_opens: r.int_counter_vec(
                "zk_cad_opens_total",
                "Drawings read and parsed for the viewer, by outcome (ok, failed)",
                &["outcome"],
            ),
            cad_open_duration: r.histogram(
                "zk_cad_open_duration_seconds",
                "Time to read and parse a drawing",
                CAD_BUCKETS,
            ),
            db_connections: r.int_gauge_vec(
                "zk_db_pool_connections",
                "Database pool connections by state (in_use, idle)",
                &["state"],
            ),
            db_connections_max: r.int_gauge("zk_db_pool_max_connections", "Largest size the database pool may grow to"),
            dependency_up: r.int_gauge_vec(
                "zk_dependency_up",
                "Whether a dependency answered its last health check (1) or not (0)",
                &["dependency"],
            ),
            dependency_latency: r.gauge_vec(
                "zk_dependency_check_duration_seconds",
                "How long a dependency's last health check took",
                &["dependency"],
            ),
            process: process::ProcessMetrics::register(&r),
            sampling: Mutex::new(()),
            registry,
        }
        .with_known_series()
    }

    /// Every series whose labels are known in advance, at zero: a dashboard or rule finds each name
    /// from the first scrape on, and `rate()` sees the first event as an increase from 0.
    fn with_known_series(self) -> Self {
        for outcome in [LoginOutcome::Ok, LoginOutcome::Failed, LoginOutcome::Throttled, LoginOutcome::Denied] {
            self.logins.with_label_values(&[outcome.as_str()]);
        }
        for result in ["hit", "miss"] {
            self.cache_requests.with_label_values(&[result]);
        }
        for outcome in ["ok", "failed"] {
            self.cad_opens.with_label_values(&[outcome]);
        }
        for state in ["in_use", "idle"] {
            self.db_connections.with_label_values(&[state]);
        }
        for op in ["upload", "delete"] {
            self.sync_backlog.with_label_values(&[op]);
        }
        for provider in ["fastgpt", "openai"] {
            self.model_requests.with_label_values(&[provider, "ok", "none"]);
            self.model_duration.with_label_values(&[provider, "ok"]);
        }
        self
    }

    /// The task kinds this process runs, at zero for the outcomes alerts watch.
    pub fn known_task_kinds<'a>(&self, kinds: impl IntoIterator<Item = &'a str>) {
        for kind in kinds {
            for outcome in ["succeeded", "failed", "timed_out"] {
                self.tasks.with_label_values(&[kind, outcome]);
                self.task_duration.with_label_values(&[kind, outcome]);
            }
        }
    }

    /// One HTTP request, as the front door saw it. `route` is the matched route's template
    /// (`/api/files/{id}`), never the path itself.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.http_requests.with_label_values(&[method, route, &status]).inc();
        self.http_duration.with_label_values(&[method, route]).observe(elapsed.as_secs_f64());
    }

    pub fn login(&self, outcome: LoginOutcome) {
        self.logins.with_label_values(&[outcome.as_str()]).inc();
    }

    pub fn refresh_token_reused(&self) {
        self.refresh_reuse.inc();
    }

    pub fn origin_refused(&self) {
        self.origins_refused.inc();
    }

    /// A task attempt ended. `kind` is a registered handler's kind (or "unknown"), `outcome` one of
    /// succeeded, failed, timed_out, retry, cancelled, released.
    pub fn task_ended(&self, kind: &str, outcome: &str, elapsed: Duration) {
        self.tasks.with_label_values(&[kind, outcome]).inc();
        self.task_duration.with_label_values(&[kind, outcome]).observe(elapsed.as_secs_f64());
    }

    /// A call to a model API ended: `Ok` with its answer, or the error the client reported.
    /// `cancelled` is for a call the user or a shutdown stopped.
    pub fn model_call(&self, provider: &str, result: ModelCall<'_>, elapsed: Duration) {
        let (outcome, code) = match result {
            ModelCall::Ok => ("ok", None),
            ModelCall::Cancelled => ("cancelled", None),
            ModelCall::Failed(error) => model_error_labels(error),
        };
        let code = code.map_or_else(|| "none".to_owned(), |c| c.to_string());
        self.model_requests.with_label_values(&[provider, outcome, &code]).inc();
        self.model_duration.with_label_values(&[provider, outcome]).observe(elapsed.as_secs_f64());
    }

    /// A drawing was read and parsed (or refused) for the viewer.
    pub fn cad_opened(&self, ok: bool, elapsed: Duration) {
        self.cad_opens.with_label_values(&[if ok { "ok" } else { "failed" }]).inc();
        self.cad_open_duration.observe(elapsed.as_secs_f64());
    }

    /// The outcome of a dependency's health check (database, redis, file_store, fastgpt).
    pub fn dependency_checked(&self, dependency: &str, up: bool, elapsed: Duration) {
        self.dependency_up.with_label_values(&[dependency]).set(i64::from(up));
        self.dependency_latency.with_label_values(&[dependency]).set(elapsed.as_secs_f64());
    }

    /// Brings the sampled metrics up to date (`sample` read from the store and the cache just now)
    /// together with the process's own figures.
    pub fn sample(&self, sample: &Sample) {
        let _one_at_a_time = self.sampling.lock().unwrap_or_else(|p| p.into_inner());
        // Without the database's answer the last figures stay.
        if let Some(store) = &sample.store {
            self.tasks_queued.set(store.tasks_queued);
            self.tasks_running.set(store.tasks_running);
            self.task_oldest_queued.set(store.oldest_queued.map_or(0.0, |d| d.as_secs_f64()));
            self.sessions_active.set(store.sessions_active);
            self.users_active.set(store.users_active);
        }
        if let Some(sync) = &sample.sync {
            self.sync_backlog.with_label_values(&["upload"]).set(sync.uploads);
            self.sync_backlog.with_label_values(&["delete"]).set(sync.deletions);
            self.sync_backlog_bytes.set(sync.upload_bytes);
            self.sync_failed.set(sync.failed);
        }
        let idle = sample.pool_idle.min(sample.pool_size);
        self.db_connections.with_label_values(&["in_use"]).set(i64::from(sample.pool_size - idle));
        self.db_connections.with_label_values(&["idle"]).set(i64::from(idle));
        self.db_connections_max.set(i64::from(sample.pool_max));
        catch_up(&self.cache_requests.with_label_values(&["hit"]), sample.cache_hits);
        catch_up(&self.cache_requests.with_label_values(&["miss"]), sample.cache_misses);
        catch_up(&self.cache_errors, sample.cache_errors);
        self.process.sample(&process::read());
    }

    /// Everything in Prometheus's text format (version 0.0.4).
    pub fn render(&self) -> String {
        prometheus::TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_else(|error| {
            tracing::error!(%error, "cannot encode the metrics");
            String::new()
        })
    }
}

/// Who may read `/metrics` (see [`access`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// `METRICS_TOKEN` is set and the request did not carry it.
    TokenRequired,
    /// No token is configured and the client is not on this machine.
    NotLoopback,
}

/// Whether a scrape may read the metrics: with `METRICS_TOKEN` set, only with
/// `Authorization: Bearer <token>` (compared in constant time), from anywhere; without one, only
/// from this machine's own loopback address, `127.0.0.1` or `::1`. The rest of 127.0.0.0/8 counts as
/// another client: local proxies and containers bind such addresses for clients they relay.
pub fn access(token: Option<&Secret>, authorization: Option<&str>, client: Option<IpAddr>) -> Access {
    match token {
        Some(token) => {
            let presented = authorization
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(str::trim)
                .unwrap_or_default();
            if !presented.is_empty() && same_secret(presented, token.expose()) {
                Access::Allowed
            } else {
                Access::TokenRequired
            }
        }
        None if client.is_some_and(is_this_machine) => Access::Allowed,
        None => Access::NotLoopback,
    }
}

fn is_this_machine(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4 == std::net::Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => v6 == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// Compares the SHA-256 of both in constant time: neither the position of the first difference nor
/// the length of the token shows in the time taken.
fn same_secret(presented: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(presented.as_bytes()), Sha256::digest(expected.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// How a model-API call ended, for [`Metrics::model_call`].
pub enum ModelCall<'a> {
    Ok,
    Cancelled,
    Failed(&'a ModelApiError),
}

/// A model error as an outcome label and the HTTP status it came with, if any.
fn model_error_labels(error: &ModelApiError) -> (&'static str, Option<u16>) {
    match error {
        ModelApiError::Auth { status, .. } => ("auth", Some(*status)),
        ModelApiError::Quota { status, .. } => ("quota", Some(*status)),
        ModelApiError::Upstream { status, .. } => ("upstream", Some(*status)),
        ModelApiError::Rejected { status, .. } => ("rejected", Some(*status)),
        ModelApiError::Timeout(_) => ("timeout", None),
        ModelApiError::Stalled(_) => ("stalled", None),
        ModelApiError::Interrupted(_) => ("interrupted", None),
        ModelApiError::Malformed(_) => ("malformed", None),
        ModelApiError::TooLarge(_) => ("too_large", None),
        ModelApiError::Unreachable(_) => ("unreachable", None),
    }
}

/// Raises a counter that mirrors a total kept elsewhere (the cache's own counters) to that total.
fn catch_up(counter: &IntCounter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}

/// Creates metrics and registers them; a name is registered once per registry, so a failure is a
/// programming error caught by the unit tests, and the metric then simply goes unreported.
struct Registrar<'a> {
    registry: &'a Registry,
}

impl Registrar<'_> {
    fn register<C: prometheus::core::Collector + Clone + 'static>(&self, collector: C) -> C {
        if let Err(error) = self.registry.register(Box::new(collector.clone())) {
            tracing::error!(%error, "a metric could not be registered");
        }
        collector
    }

    fn int_counter(&self, name: &str, help: &str) -> IntCounter {
        self.register(IntCounter::with_opts(Opts::new(name, help)).unwrap_or_else(|e| invalid(name, e)))
    }

    fn int_counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        self.register(IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| invalid(name, e)))
    }

    fn int_gauge(&self, name: &str, help: &str) -> IntGauge {
        self.register(IntGauge::with_opts(Opts::new(name, help)).unwrap_or_else(|e| invalid(name, e)))
    }

    fn int_gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
        self.register(IntGaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| invalid(name, e)))
    }

    fn gauge(&self, name: &str, help: &str) -> Gauge {
        self.register(Gauge::with_opts(Opts::new(name, help)).unwrap_or_else(|e| invalid(name, e)))
    }

    fn gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
        self.register(GaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| invalid(name, e)))
    }

    fn histogram(&self, name: &str, help: &str, buckets: &[f64]) -> Histogram {
        let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
        self.register(Histogram::with_opts(opts).unwrap_or_else(|e| invalid(name, e)))
    }

    fn histogram_vec(&self, name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> HistogramVec {
        let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
        self.register(HistogramVec::new(opts, labels).unwrap_or_else(|e| invalid(name, e)))
    }
}

/// A metric whose name, help or labels the client library refuses: the definitions above are
/// constants, so this cannot depend on input; the unit test below builds every one.
fn invalid(name: &str, error: prometheus::Error) -> ! {
    panic!("the metric {name} is defined wrongly: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_registers_and_renders_with_its_type() {
        let metrics = Metrics::new();
        metrics.http_request("GET", "/api/files/{id}", 200, Duration::from_millis(3));
        metrics.login(LoginOutcome::Throttled);
        metrics.task_ended("diagnostics.selftest", "succeeded", Duration::from_millis(20));
        metrics.model_call(
            "fastgpt",
            ModelCall::Failed(&ModelApiError::Quota {
                status: 429,
                code: None,
                message: String::new(),
                retry_after: None,
            }),
            Duration::from_secs(1),
        );
        metrics.sample(&Sample { cache_hits: 7, cache_misses: 2, pool_size: 3, pool_idle: 1, ..Sample::default() });
        metrics.sample(&Sample { cache_hits: 9, cache_misses: 2, pool_size: 3, pool_idle: 1, ..Sample::default() });
        let text = metrics.render();
        for line in [
            "# TYPE zk_http_requests_total counter",
            "zk_http_requests_total{method=\"GET\",route=\"/api/files/{id}\",status=\"200\"} 1",
            "# TYPE zk_http_request_duration_seconds histogram",
            "zk_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/files/{id}\",le=\"0.005\"} 1",
            "zk_auth_logins_total{outcome=\"throttled\"} 1",
            "zk_tasks_total{kind=\"diagnostics.selftest\",outcome=\"succeeded\"} 1",
            "zk_model_api_requests_total{code=\"429\",outcome=\"quota\",provider=\"fastgpt\"} 1",
            "zk_cache_requests_total{result=\"hit\"} 9",
            "zk_cache_requests_total{result=\"miss\"} 2",
            "zk_db_pool_connections{state=\"in_use\"} 2",
            "# TYPE process_cpu_seconds_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "the scrape has {line:?}:\n{text}");
        }
        assert!(text.contains("zk_build_info{profile="), "build info is there: {text}");
    }

    #[test]
    fn access_needs_the_token_when_one_is_set_and_else_a_loopback_client() {
        let token = Secret::new("0123456789abcdef-metrics".to_owned());
        let local: Option<IpAddr> = "127.0.0.1".parse().ok();
        let other: Option<IpAddr> = "10.1.2.3".parse().ok();
        let mapped: Option<IpAddr> = "::ffff:127.0.0.1".parse().ok();
        assert_eq!(access(None, None, local), Access::Allowed, "loopback without a token");
        assert_eq!(access(None, None, mapped), Access::Allowed, "IPv4 loopback seen through IPv6");
        assert_eq!(access(None, None, "::1".parse().ok()), Access::Allowed);
        assert_eq!(access(None, None, "127.0.0.2".parse().ok()), Access::NotLoopback, "only 127.0.0.1 itself");
        assert_eq!(access(None, Some("Bearer anything"), other), Access::NotLoopback, "no token: no remote reads");
        assert_eq!(access(None, None, None), Access::NotLoopback, "an unknown client is not trusted");
        let bearer = format!("Bearer {}", token.expose());
        assert_eq!(access(Some(&token), Some(&bearer), other), Access::Allowed, "the token from anywhere");
        assert_eq!(access(Some(&token), None, local), Access::TokenRequired, "a set token binds loopback too");
        assert_eq!(access(Some(&token), Some("Bearer 0123456789abcdef"), other), Access::TokenRequired);
        assert_eq!(access(Some(&token), Some(token.expose()), other), Access::TokenRequired, "the scheme is needed");
        assert_eq!(access(Some(&token), Some("Bearer "), other), Access::TokenRequired);
    }
}
