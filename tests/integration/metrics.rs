//! `/metrics` over real HTTP on SQLite and PostgreSQL: the names dashboards and alert rules key on,
//! counters that move with requests, sign-ins and tasks, route templates (never ids) as labels,
//! who may scrape (loopback only without a token, the bearer token when one is set), and a scrape
//! that `promtool check metrics` accepts.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use zk_core::secret::Secret;
use zk_core::store::Role;
use zk_tests::db::each_database;
use zk_tests::server::TestServer;

/// Names the dashboards and rules in `deploy/` rely on; each must be in every scrape.
pub const REQUIRED: &[&str] = &[
    "zk_http_requests_total",
    "zk_http_request_duration_seconds",
    "zk_auth_logins_total",
    "zk_auth_sessions_active",
    "zk_auth_users_active",
    "zk_auth_refresh_reuse_total",
    "zk_http_origin_refused_total",
    "zk_task_duration_seconds",
    "zk_tasks_total",
    "zk_tasks_queued",
    "zk_tasks_running",
    "zk_task_queue_oldest_seconds",
    "zk_cache_requests_total",
    "zk_cache_errors_total",
    "zk_model_api_requests_total",
    "zk_model_api_request_duration_seconds",
    "zk_cad_opens_total",
    "zk_cad_open_duration_seconds",
    "zk_db_pool_connections",
    "zk_db_pool_max_connections",
    "zk_dependency_up",
    "zk_dependency_check_duration_seconds",
    "zk_build_info",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
];

/// A scrape: each sample line as `name{labels}` → value, and the families it declares.
pub struct Scrape {
    pub text: String,
    pub samples: BTreeMap<String, f64>,
    pub families: Vec<String>,
}

impl Scrape {
    pub fn parse(text: String) -> Self {
        let mut samples = BTreeMap::new();
        let mut families = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                families.extend(rest.split_whitespace().next().map(str::to_owned));
            } else if !line.starts_with('#') && !line.is_empty() {
                let (series, value) = line.rsplit_once(' ').unwrap();
                samples.insert(series.to_owned(), value.parse::<f64>().unwrap());
            }
        }
        Self { text, samples, families }
    }

    /// The value of the one series `name{labels}` (labels as rendered, sorted by name).
    pub fn value(&self, series: &str) -> f64 {
        *self.samples.get(series).unwrap_or_else(|| panic!("the scrape has {series}:\n{}", self.text))
    }
}

pub async fn scrape(server: &TestServer) -> Scrape {
    let response = server.http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "a loopback client may scrape");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "Prometheus's text format: {content_type}");
    Scrape::parse(response.text().await.unwrap())
}

/// A client whose connections come from `127.0.0.<last>`, which the server sees as another host.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))).build().unwrap()
}

/// `promtool check metrics` on a scrape, when promtool is installed (CI installs Debian's
/// `prometheus`; elsewhere the check says it skipped).
pub fn promtool_accepts(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "promtool is missing ({error}); CI installs Debian's prometheus package (scripts/test.sh)"
            );
            println!("SKIPPED: promtool check metrics (promtool not installed: apt-get install prometheus)");
            return;
        }
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics refuses the scrape:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_scrape_has_every_required_name_and_its_counters_move() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let (status, _) = server
            .call(Method::POST, "/api/auth/login", None, Some(json!({ "username": "ada", "password": "wrong one" })))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let first = scrape(&server).await;
        for name in REQUIRED.iter().filter(|n| !n.starts_with("zk_dependency")) {
            assert!(first.families.iter().any(|f| f == name), "the scrape declares {name}:\n{}", first.text);
        }
        assert_eq!(first.value("zk_auth_logins_total{outcome=\"ok\"}"), 1.0, "the admin's sign-in");
        assert_eq!(first.value("zk_auth_logins_total{outcome=\"failed\"}"), 1.0, "the wrong password");
        assert_eq!(first.value("zk_auth_logins_total{outcome=\"throttled\"}"), 0.0, "known outcomes start at 0");
        assert_eq!(first.value("zk_auth_sessions_active"), 1.0);
        assert_eq!(first.value("zk_auth_users_active"), 1.0);
        assert!(first.value("process_resident_memory_bytes") > 1e6 && first.value("process_open_fds") > 3.0);
        assert!(first.value("process_max_fds") >= first.value("process_open_fds"));
        assert!(first.value("zk_db_pool_max_connections") >= 1.0);
        let users = "zk_http_requests_total{method=\"GET\",route=\"/api/users\",status=\"200\"}";
        assert!(!first.samples.contains_key(users), "no request to /api/users yet");

        // Requests, by route template: the id in the path never becomes a label.
        for _ in 0..2 {
            let (status, _) = server.call(Method::GET, "/api/users", Some(&admin.access), None).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = server.call(Method::GET, "/api/tasks/987654", Some(&admin.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = server.call(Method::GET, "/api/no-such-route/4242", None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A task, to its end.
        let (status, task) = server
            .call(Method::POST, "/api/tasks", Some(&admin.access), Some(json!({ "kind": "diagnostics.selftest" })))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        let path = format!("/api/tasks/{}", task["id"]);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, task) = server.call(Method::GET, &path, Some(&admin.access), None).await;
            if task["state"] == "succeeded" {
                break;
            }
            assert!(Instant::now() < deadline, "the self-test finishes: {task}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // The dependency loop checked the database at start.
        let deadline = Instant::now() + Duration::from_secs(10);
        let second = loop {
            let second = scrape(&server).await;
            if second.samples.contains_key("zk_dependency_up{dependency=\"database\"}") {
                break second;
            }
            assert!(Instant::now() < deadline, "the dependency loop reports the database:\n{}", second.text);
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(second.value(users), 2.0, "two requests to /api/users");
        let bucket = "zk_http_request_duration_seconds_count{method=\"GET\",route=\"/api/users\"}";
        assert_eq!(second.value(bucket), 2.0, "both were timed");
        assert_eq!(
            second.value("zk_http_requests_total{method=\"GET\",route=\"/api/tasks/{id}\",status=\"404\"}"),
            1.0
        );
        assert_eq!(second.value("zk_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"), 1.0);
        assert!(!second.text.contains("987654") && !second.text.contains("4242"), "no id in any label");
        let tasks = "zk_tasks_total{kind=\"diagnostics.selftest\",outcome=\"succeeded\"}";
        assert_eq!(second.value(tasks), 1.0, "the self-test's end");
        assert_eq!(
            second.value("zk_task_duration_seconds_count{kind=\"diagnostics.selftest\",outcome=\"succeeded\"}"),
            1.0
        );
        assert_eq!(second.value("zk_tasks_queued"), 0.0);
        assert_eq!(second.value("zk_dependency_up{dependency=\"database\"}"), 1.0);
        assert_eq!(second.value("zk_dependency_up{dependency=\"file_store\"}"), 1.0);
        assert!(
            second.value("zk_cache_requests_total{result=\"hit\"}") >= 1.0,
            "the token checks read the session through the cache"
        );
        assert!(second.value("process_cpu_seconds_total") >= first.value("process_cpu_seconds_total"));
        let scrapes = "zk_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}";
        assert!(second.value(scrapes) >= 1.0, "the scrapes themselves are counted");
        promtool_accepts(&second.text);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn security_events_are_counted() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let ada = server.user("ada", Role::Admin).await;
        // A refresh token used twice.
        for _ in 0..2 {
            server.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": ada.refresh }))).await;
        }
        // A state-changing request from another web site.
        let response = server
            .http
            .post(server.url("/api/tasks"))
            .bearer_auth(&ada.access)
            .header("origin", "https://evil.example")
            .json(&json!({ "kind": "diagnostics.selftest" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let scrape = scrape(&server).await;
        assert_eq!(scrape.value("zk_auth_refresh_reuse_total"), 1.0, "the second use is a reuse");
        assert_eq!(scrape.value("zk_http_origin_refused_total"), 1.0);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn without_a_token_only_this_machine_may_scrape() {
    let db = zk_tests::db::TestDatabase::sqlite();
    let server = TestServer::start(&db).await;
    let other = client_from(2).get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN, "127.0.0.2 is another client");
    let body = other.text().await.unwrap();
    assert!(body.contains("METRICS_TOKEN") && !body.contains("zk_build_info"), "the refusal says the fix: {body}");
    let with_some_token =
        client_from(2).get(server.url("/metrics")).bearer_auth("guess-guess-guess-guess").send().await.unwrap();
    assert_eq!(with_some_token.status(), StatusCode::FORBIDDEN, "no token is configured, so none opens it");
    scrape(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn with_a_token_every_scrape_needs_it() {
    const TOKEN: &str = "metrics-token-0123456789abcdef";
    let db = zk_tests::db::TestDatabase::sqlite();
    let server =
        TestServer::start_with(&db, |config| config.server.metrics_token = Some(Secret::new(TOKEN.to_owned()))).await;
    let local = server.http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(local.status(), StatusCode::UNAUTHORIZED, "a set token binds loopback clients too");
    assert_eq!(local.headers()["www-authenticate"], "Bearer");
    let wrong = client_from(3).get(server.url("/metrics")).bearer_auth("metrics-token-0123456789abcdeX").send();
    assert_eq!(wrong.await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let right = client_from(3).get(server.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(right.status(), StatusCode::OK, "the token opens it from another address");
    assert!(right.text().await.unwrap().contains("zk_build_info{"));
    server.stop().await;
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let db = zk_tests::db::TestDatabase::sqlite();
    let server = TestServer::start_with(&db, |config| config.server.metrics_enabled = false).await;
    let response = server.http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "METRICS_ENABLED=false: no /metrics");
    assert!(!response.text().await.unwrap().contains("zk_"));
    server.stop().await;
}
