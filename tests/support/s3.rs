//! The S3-compatible store of the object-storage tests: a real SeaweedFS (`scripts/seaweedfs.sh`),
//! found through `ZK_TEST_S3_*`, each test under its own key prefix; its filer's JSON listing reads
//! the bucket back without going through the code under test. And [`FaultProxy`], a TCP proxy on
//! 127.0.0.1 in front of it that a test can take down and bring back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use zk_core::config::S3Config;
use zk_core::secret::Secret;

/// The bucket of one test: SeaweedFS's bucket under a prefix of its own.
#[derive(Debug, Clone)]
pub struct TestBucket {
    pub endpoint: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub filer: String,
    pub prefix: String,
}

impl TestBucket {
    /// The SeaweedFS of `scripts/seaweedfs.sh`, or `None` (the test is skipped) when `ZK_TEST_S3_ENDPOINT`
    /// is unset; under `CI=true` a missing store fails the test instead.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let Some(endpoint) = var("ZK_TEST_S3_ENDPOINT") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "ZK_TEST_S3_ENDPOINT is unset; CI does not skip tests (eval \"$(scripts/seaweedfs.sh start)\")"
            );
            eprintln!("skipped: no S3-compatible store (eval \"$(scripts/seaweedfs.sh start)\" to run this test)");
            return None;
        };
        let required = |name: &str| var(name).unwrap_or_else(|| panic!("{name} is unset beside ZK_TEST_S3_ENDPOINT"));
        Some(Self {
            endpoint,
            bucket: required("ZK_TEST_S3_BUCKET"),
            access_key_id: required("ZK_TEST_S3_ACCESS_KEY_ID"),
            secret_access_key: required("ZK_TEST_S3_SECRET_ACCESS_KEY"),
            filer: required("ZK_TEST_S3_FILER"),
            prefix: format!("t-{}/", uuid::Uuid::new_v4().simple()),
        })
    }

    /// The same store under another fresh prefix (a second test case, another backend).
    pub fn fresh(&self) -> Self {
        Self { prefix: format!("t-{}/", uuid::Uuid::new_v4().simple()), ..self.clone() }
    }

    /// The configuration of this bucket, through `endpoint` (the store itself, or a proxy before it).
    pub fn config_via(&self, endpoint: &str) -> S3Config {
        S3Config {
            endpoint: Some(endpoint.to_owned()),
            bucket: self.bucket.clone(),
            region: "us-east-1".into(),
            access_key_id: Some(self.access_key_id.clone()),
            secret_access_key: Some(Secret::new(self.secret_access_key.clone())),
            prefix: self.prefix.clone(),
            force_path_style: true,
        }
    }

    pub fn config(&self) -> S3Config {
        self.config_via(&self.endpoint)
    }

    /// The S3 settings as environment variables, for a `zk-agent` process.
    pub fn env(&self, endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("S3_ENDPOINT", endpoint.to_owned()),
            ("S3_BUCKET", self.bucket.clone()),
            ("S3_ACCESS_KEY_ID", self.access_key_id.clone()),
            ("S3_SECRET_ACCESS_KEY", self.secret_access_key.clone()),
            ("S3_PREFIX", self.prefix.clone()),
        ]
    }

    /// The content address of `sha256` in this bucket.
    pub fn key(&self, sha256: &str) -> String {
        format!("{}files/{}/{}/{sha256}", self.prefix, &sha256[..2], &sha256[2..4])
    }

    /// Every object under this test's prefix, with its size, read through the filer.
    pub async fn objects(&self) -> Vec<(String, u64)> {
        let http = reqwest::Client::new();
        let mut found = Vec::new();
        let mut folders = vec![format!("/buckets/{}/{}", self.bucket, self.prefix.trim_end_matches('/'))];
        while let Some(folder) = folders.pop() {
            let mut last = String::new();
            loop {
                let url = format!("{}{folder}/?limit=1000&lastFileName={last}", self.filer);
                let response = http.get(&url).header("Accept", "application/json").send().await.expect("filer answers");
                if response.status() == reqwest::StatusCode::NOT_FOUND {
                    break;
                }
                let listing: Value = response.json().await.expect("a JSON listing");
                let entries = listing["Entries"].as_array().cloned().unwrap_or_default();
                for entry in &entries {
                    let path = entry["FullPath"].as_str().expect("FullPath").to_owned();
                    let mode = entry["Mode"].as_u64().unwrap_or_default();
                    if mode & (1 << 31) != 0 {
                        folders.push(path);
                    } else {
                        let key = path.trim_start_matches(&format!("/buckets/{}/", self.bucket)).to_owned();
                        found.push((key, entry["FileSize"].as_u64().unwrap_or_default()));
                    }
                }
                if !listing["ShouldDisplayLoadMore"].as_bool().unwrap_or(false) {
                    break;
                }
                last = listing["LastFileName"].as_str().unwrap_or_default().to_owned();
            }
        }
        found.sort();
        found
    }

    /// An object's bytes, read through the filer; `None` when it is not there.
    pub async fn object(&self, key: &str) -> Option<Vec<u8>> {
        let url = format!("{}/buckets/{}/{key}", self.filer, self.bucket);
        let response = reqwest::get(&url).await.expect("filer answers");
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return None;
        }
        assert!(response.status().is_success(), "GET {url}: {}", response.status());
        Some(response.bytes().await.expect("the object's bytes").to_vec())
    }

    /// Deletes an object behind the code's back (through the filer).
    pub async fn remove_object(&self, key: &str) {
        let url = format!("{}/buckets/{}/{key}", self.filer, self.bucket);
        let response = reqwest::Client::new().delete(&url).send().await.expect("filer answers");
        assert!(response.status().is_success(), "DELETE {url}: {}", response.status());
    }
}

/// A proxy on 127.0.0.1 before the store, reading HTTP/1.1 requests one by one (head, then the body
/// of its Content-Length): while it is down, every connection is closed at once (as a store that is
/// not running would refuse it); with a fault rate, that share of requests gets a 500, 503 or 429
/// answer (`Connection: close`) instead of reaching the store. It counts connections, requests,
/// faults and bytes sent upstream.
pub struct FaultProxy {
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    /// Faults per thousand connections.
    fault_per_mille: Arc<AtomicU64>,
    pub faults: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
    pub connections: Arc<AtomicU64>,
    pub bytes_up: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("the store's endpoint is http://IP:PORT");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let down = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicU64::new(0));
        let bytes_up = Arc::new(AtomicU64::new(0));
        let fault_per_mille = Arc::new(AtomicU64::new(0));
        let faults = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn({
            let proxy = Counters {
                down: down.clone(),
                fault_per_mille: fault_per_mille.clone(),
                faults: faults.clone(),
                requests: requests.clone(),
                bytes_up: bytes_up.clone(),
            };
            let connections = connections.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    if proxy.down.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    tokio::spawn(forward(client, upstream, proxy.clone()));
                }
            }
        });
        Self { addr, down, fault_per_mille, faults, requests, connections, bytes_up, task }
    }

    /// Answers this share of requests (0.0 to 1.0) with a 500, 503 or 429.
    pub fn set_fault_rate(&self, rate: f64) {
        self.fault_per_mille.store((rate * 1000.0) as u64, Ordering::SeqCst);
    }

    pub fn faults(&self) -> u64 {
        self.faults.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn bytes_up(&self) -> u64 {
        self.bytes_up.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct Counters {
    down: Arc<AtomicBool>,
    fault_per_mille: Arc<AtomicU64>,
    faults: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    bytes_up: Arc<AtomicU64>,
}

/// One client connection: requests forwarded one at a time (HTTP/1.1 clients wait for an answer
/// before the next request), answers copied back as they come.
async fn forward(client: tokio::net::TcpStream, upstream: SocketAddr, proxy: Counters) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else { return };
    let (mut client_read, client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // Shared by the copy of answers and a fault's answer; a tokio mutex, held across the write.
    let client_write = Arc::new(tokio::sync::Mutex::new(client_write));
    let back = tokio::spawn({
        let client_write = client_write.clone();
        async move {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match server_read.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if client_write.lock().await.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        }
    });
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    'requests: loop {
        // The head.
        let head_end = loop {
            if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break 'requests,
                Ok(n) => pending.extend_from_slice(&buffer[..n]),
            }
        };
        let head = String::from_utf8_lossy(&pending[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        // The body.
        while pending.len() < head_end + length {
            match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break 'requests,
                Ok(n) => pending.extend_from_slice(&buffer[..n]),
            }
        }
        let request: Vec<u8> = pending.drain(..head_end + length).collect();
        proxy.requests.fetch_add(1, Ordering::SeqCst);
        // Taken down: open connections break too.
        if proxy.down.load(Ordering::SeqCst) {
            break;
        }
        if rand::random_range(0..1000) < proxy.fault_per_mille.load(Ordering::SeqCst) {
            proxy.faults.fetch_add(1, Ordering::SeqCst);
            let status = ["500 Internal Server Error", "503 Service Unavailable", "429 Too Many Requests"]
                [rand::random_range(0..3)];
            let body = "<Error><Code>SlowDown</Code><Message>injected by the test proxy</Message></Error>";
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let mut writer = client_write.lock().await;
            let _ = writer.write_all(response.as_bytes()).await;
            let _ = writer.shutdown().await;
            break;
        }
        proxy.bytes_up.fetch_add(request.len() as u64, Ordering::SeqCst);
        if server_write.write_all(&request).await.is_err() {
            break;
        }
    }
    // An answer still on its way is let through before the connection closes.
    let _ = tokio::time::timeout(Duration::from_secs(5), back).await;
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits until `check` holds, polling every 100 ms, or panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + timeout;
    while !check().await {
        assert!(tokio::time::Instant::now() < until, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
