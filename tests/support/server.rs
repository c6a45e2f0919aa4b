//! A real server on 127.0.0.1 (ephemeral port) over a fresh database, spoken to over real HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use zk_core::accounts::NewAccount;
use zk_core::clock::Clock;
use zk_core::config::Config;
use zk_core::request::RequestMeta;
use zk_core::store::Role;
use zk_core::{Core, Running};

use crate::db::TestDatabase;

/// The wall clock plus an offset that tests can move forward (expiry, lock-out cool-downs).
#[derive(Clone, Default)]
pub struct ShiftedClock {
    offset: Arc<Mutex<chrono::Duration>>,
}

impl ShiftedClock {
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *offset += chrono::Duration::from_std(by).unwrap_or_default();
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// The Redis the tests use (`ZK_TEST_REDIS_URL`, default the local one), or `None` when it does not
/// answer; under `CI=true` a missing Redis fails the test instead.
pub async fn test_redis_url() -> Option<String> {
    let url = std::env::var("ZK_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    let address =
        url.trim_start_matches("redis://").trim_end_matches('/').rsplit('@').next().unwrap_or_default().to_owned();
    let reachable = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(&address))
        .await
        .is_ok_and(|r| r.is_ok());
    if reachable {
        return Some(url);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "Redis is not reachable at {url}; CI does not skip tests (start redis-server)"
    );
    eprintln!("skipped: Redis not reachable at {url}");
    None
}

pub struct TestServer {
    pub base: String,
    pub port: u16,
    pub core: Arc<Core>,
    pub clock: ShiftedClock,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: CancellationToken,
    running: Option<Running>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(db: &TestDatabase) -> Self {
        Self::start_with(db, |_| {}).await
    }

    /// Starts with the offline defaults in a temp dir, on `db`, after `adjust` edits the config.
    pub async fn start_with(db: &TestDatabase, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_serving(db, adjust, zk_server::ServeOptions::default()).await
    }

    /// As the desktop shell runs it: CORS for the window's origins, a launch secret for the owner.
    pub async fn start_desktop(db: &TestDatabase, origins: &[&str], launch_secret: &str) -> Self {
        let options = zk_server::ServeOptions {
            ui: zk_server::UiSource::None,
            desktop_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        };
        let server = Self::start_serving(db, |_| {}, options).await;
        server.core.accounts.allow_desktop_launch(zk_core::secret::Secret::new(launch_secret.to_owned()));
        server
    }

    async fn start_serving(
        db: &TestDatabase,
        adjust: impl FnOnce(&mut Config),
        mut options: zk_server::ServeOptions,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::offline(dir.path());
        config.database = db.config();
        config.tasks.lease = Duration::from_secs(3);
        // Agents' keys in an encrypted file of this test: stories do not depend on a session keychain
        // (tests/integration/keystore.rs covers the real one).
        config.keystore.mode = zk_core::keystore::KeyStoreMode::File;
        config.keystore.passphrase = Some(zk_core::secret::Secret::new("test passphrase".to_owned()));
        adjust(&mut config);
        let clock = ShiftedClock::default();
        // Started as `zk-agent serve` and the desktop app start it.
        let running = Core::start_with(config, Arc::new(clock.clone())).await.expect("core starts");
        let core = running.core().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let shutdown = CancellationToken::new();
        if let (zk_server::UiSource::None, Some(dir)) = (&options.ui, &core.config.server.ui_dir) {
            options.ui = zk_server::UiSource::Dir(dir.clone());
        }
        let served = tokio::spawn(zk_server::serve(core.clone(), listener, options, shutdown.clone()));
        Self {
            base: format!("http://127.0.0.1:{port}"),
            port,
            core,
            clock,
            http: reqwest::Client::new(),
            dir,
            shutdown,
            running: Some(running),
            served: Some(served),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a user straight through the core and signs them in over HTTP.
    pub async fn user(&self, username: &str, role: Role) -> SignedIn {
        let account = NewAccount { username: username.into(), display_name: None, password: PASSWORD.into(), role };
        self.core.accounts.create_user(None, account, &RequestMeta::default()).await.expect("user created");
        self.login(username, PASSWORD).await
    }

    pub async fn login(&self, username: &str, password: &str) -> SignedIn {
        let (status, body) = self
            .call(Method::POST, "/api/auth/login", None, Some(json!({ "username": username, "password": password })))
            .await;
        assert_eq!(status, StatusCode::OK, "sign-in of {username} works: {body}");
        SignedIn::from(body)
    }

    /// `POST /api/files` as `user`, which must store it: the stored file's view.
    pub async fn upload(&self, user: &SignedIn, name: &str, bytes: Vec<u8>) -> Value {
        let response = self
            .http
            .post(self.url("/api/files"))
            .query(&[("name", name)])
            .bearer_auth(&user.access)
            .body(bytes)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::CREATED, "{name} is stored: {body}");
        body
    }

    /// A JSON request; returns the status and the body (`Value::Null` when empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A request answered with Server-Sent Events: every `(event, data as JSON)` until the server ends
    /// the response, or the status and error body when it is not a stream.
    pub async fn events(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<Vec<(String, Value)>, (StatusCode, Value)> {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let is_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_stream {
            let text = response.text().await.unwrap_or_default();
            return Err((status, serde_json::from_str(&text).unwrap_or(Value::Null)));
        }
        let mut decoder = zk_model_api::SseDecoder::new(16 * 1024 * 1024);
        let mut events = Vec::new();
        let mut body = response.bytes_stream();
        while let Some(chunk) = tokio::time::timeout(Duration::from_secs(20), body.next()).await.expect("stream stalls")
        {
            for frame in decoder.push(&chunk.expect("stream readable")).expect("valid SSE") {
                let data = serde_json::from_str(&frame.data).unwrap_or(Value::Null);
                events.push((frame.event.unwrap_or_else(|| "message".into()), data));
            }
        }
        Ok(events)
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(served) = self.served.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), served).await;
        }
        if let Some(running) = self.running.take() {
            running.stop(Duration::from_secs(15)).await;
        }
    }
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub access: String,
    pub refresh: String,
    pub user_id: i64,
}

impl From<Value> for SignedIn {
    fn from(body: Value) -> Self {
        Self {
            access: body["access_token"].as_str().expect("access token").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh token").to_owned(),
            user_id: body["user"]["id"].as_i64().expect("user id"),
        }
    }
}
