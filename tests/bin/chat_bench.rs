//! Chat benchmarks against a real `zk-agent serve` process and the model double process (both
//! release builds), on SQLite and PostgreSQL. `bench/chat.sh` builds and runs it; bench/README.md
//! explains each figure.
//!
//! 1. Stream overhead: chunks stamped by the double with the time they are written; latency = time
//!    the client decodes the chunk − stamp. Measured straight from the double (the baseline) and
//!    through the server's relay; the difference is what the app adds. Also sustained chunks/s.
//! 2. 100 concurrent streams: the server's RSS and CPU time while they run.
//! 3. Conversation list and search with 10,000 conversations and 200,000 messages: p50/p99.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::{Value, json};
use zk_core::store::{NewConversation, NewMessage, Store, Timestamp};
use zk_tests::db::TestDatabase;

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn now_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// Reads an SSE response; for each text delta carrying stamps, records latency in ms.
async fn stamped_latencies(response: reqwest::Response) -> (Vec<f64>, Duration) {
    let mut decoder = zk_model_api::SseDecoder::new(16 * 1024 * 1024);
    let mut latencies = Vec::new();
    let mut body = response.bytes_stream();
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { break };
        for frame in decoder.push(&chunk).expect("valid SSE") {
            let received = now_nanos();
            // Our relay: {"type":"answer","text":…}; the double: an OpenAI chunk with delta.content.
            let value: Value = serde_json::from_str(&frame.data).unwrap_or(Value::Null);
            let text =
                value["text"].as_str().or_else(|| value["choices"][0]["delta"]["content"].as_str()).unwrap_or("");
            for stamp in text.split('⏱').skip(1) {
                if let Some(nanos) = stamp.split(';').next().and_then(|n| n.parse::<u128>().ok()) {
                    latencies.push(received.saturating_sub(nanos) as f64 / 1e6);
                    first.get_or_insert_with(Instant::now);
                    last = Instant::now();
                }
            }
            if frame.event.as_deref() == Some("finished") {
                let span = first.map_or(Duration::ZERO, |f| last - f);
                return (latencies, span);
            }
        }
    }
    let span = first.map_or(Duration::ZERO, |f| last - f);
    (latencies, span)
}

struct Bench {
    http: reqwest::Client,
    base: String,
    double: String,
    token: String,
    server_pid: u32,
    agent_id: i64,
}

impl Bench {
    async fn conversation(&self) -> String {
        let response = self
            .http
            .post(format!("{}/api/conversations", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "agent_id": self.agent_id }))
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    async fn through_server(&self, conversation: &str, message: &str) -> (Vec<f64>, Duration) {
        let response = self
            .http
            .post(format!("{}/api/conversations/{conversation}/messages", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "text": message }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        stamped_latencies(response).await
    }

    async fn direct(&self, message: &str) -> (Vec<f64>, Duration) {
        let response = self
            .http
            .post(format!("{}/api/v1/chat/completions", self.double))
            .bearer_auth("fastgpt-good")
            .json(&json!({ "stream": true, "detail": true, "messages": [{ "role": "user", "content": message }] }))
            .send()
            .await
            .unwrap();
        stamped_latencies(response).await
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.server_pid)).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    }

    /// utime + stime of the server process, in seconds.
    fn cpu_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.server_pid)).unwrap_or_default();
        let after = stat.rsplit(')').next().unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
        ticks / 100.0
    }

    async fn timed_get(&self, path: &str, rounds: usize) -> Vec<f64> {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = Instant::now();
            let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
            assert!(response.status().is_success(), "{path}: {}", response.status());
            let _ = response.bytes().await.unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        sorted(times)
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    let server_bin = PathBuf::from(arg("--server").expect("--server PATH"));
    let double_bin = PathBuf::from(arg("--double").expect("--double PATH"));
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let conversations: usize = arg("--conversations").and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let messages_per: usize = arg("--messages-per").and_then(|v| v.parse().ok()).unwrap_or(20);

    let db = match backend.as_str() {
        "postgres" => TestDatabase::postgres().await.expect("PostgreSQL on 127.0.0.1:5432"),
        _ => TestDatabase::sqlite(),
    };
    let data = tempfile::tempdir().unwrap();

    let mut double = Command::new(&double_bin).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(double.stdout.take().unwrap()), &mut line).unwrap();
    let _double = Guard(double);
    let double_base = line.trim().to_owned();

    let env = |command: &mut Command| {
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", data.path())
            .env("ZK_DATA_DIR", data.path())
            .env("DATABASE_URL", db.database_url())
            .env("ZK_KEYSTORE", "file")
            .env("ZK_KEYSTORE_PASSPHRASE", "bench passphrase")
            .env("TASK_WORKERS", "0")
            .env("LOG_LEVEL", "warn");
    };
    let password = "bench passphrase that is long enough";
    let mut create = Command::new(&server_bin);
    env(&mut create);
    create
        .args(["users", "create", "--username", "bench", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped());
    let mut child = create.stdout(Stdio::null()).spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), format!("{password}\n").as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "admin created");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut serve = Command::new(&server_bin);
    env(&mut serve);
    serve.env("PORT", port.to_string()).arg("serve").stdout(Stdio::null()).stderr(Stdio::null());
    let server = serve.spawn().unwrap();
    let server_pid = server.id();
    let _server = Guard(server);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/api/health")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server starts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let login: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "username": "bench", "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let agent: Value = http
        .post(format!("{base}/api/agents"))
        .bearer_auth(&token)
        .json(&json!({ "spec": { "name": "bench", "provider": "fastgpt", "base_url": double_base }, "api_key": "fastgpt-good" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bench = Bench {
        http,
        base,
        double: double_base,
        token,
        server_pid,
        agent_id: agent["id"].as_i64().expect("agent created"),
    };

    println!("## {backend}");
    // 1. Overhead per chunk, and sustained throughput of one stream.
    let conversation = bench.conversation().await;
    bench.through_server(&conversation, "bench 200 1000").await; // warm-up
    bench.direct("bench 200 1000").await;
    let (direct, _) = bench.direct("bench 2000 2000").await;
    let (relayed, _) = bench.through_server(&conversation, "bench 2000 2000").await;
    let (direct, relayed) = (sorted(direct), sorted(relayed));
    println!(
        "stream latency, 2000 chunks at 2 ms: direct p50 {:.3} ms p99 {:.3} ms (n={}); through the server p50 {:.3} ms p99 {:.3} ms (n={}); added p50 {:.3} ms p99 {:.3} ms",
        percentile(&direct, 50.0),
        percentile(&direct, 99.0),
        direct.len(),
        percentile(&relayed, 50.0),
        percentile(&relayed, 99.0),
        relayed.len(),
        percentile(&relayed, 50.0) - percentile(&direct, 50.0),
        percentile(&relayed, 99.0) - percentile(&direct, 99.0),
    );
    let (direct_fast, direct_span) = bench.direct("bench 20000 0").await;
    let (relayed_fast, relayed_span) = bench.through_server(&conversation, "bench 20000 0").await;
    println!(
        "sustained, 20000 chunks as fast as the double writes: direct {:.0} chunks/s, through the server {:.0} chunks/s (received {} of 20000)",
        direct_fast.len() as f64 / direct_span.as_secs_f64().max(1e-9),
        relayed_fast.len() as f64 / relayed_span.as_secs_f64().max(1e-9),
        relayed_fast.len()
    );

    // 2. 100 concurrent streams of 300 chunks, 10 ms apart (3 s each).
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(bench.conversation().await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = bench.rss_kib();
    let cpu_before = bench.cpu_secs();
    let wall = Instant::now();
    let bench = Arc::new(bench);
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(idle_rss));
    let sampler = {
        let (bench, peak) = (bench.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                peak.fetch_max(bench.rss_kib(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let runs = ids.iter().map(|id| {
        let bench = bench.clone();
        let id = id.clone();
        async move { bench.through_server(&id, "bench 300 10000").await }
    });
    let results = futures_util::future::join_all(runs).await;
    let elapsed = wall.elapsed();
    sampler.abort();
    let cpu = bench.cpu_secs() - cpu_before;
    let delivered: usize = results.iter().map(|(l, _)| l.len()).sum();
    let all = sorted(results.into_iter().flat_map(|(l, _)| l).collect());
    let peak_rss = peak.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "100 concurrent streams × 300 chunks: {:.1} s wall, {} chunks delivered ({:.0}/s), server CPU {:.2} s = {:.0} % of one core, RSS idle {:.1} MiB, peak {:.1} MiB, {:.0} KiB per stream; chunk latency p50 {:.3} ms p99 {:.3} ms",
        elapsed.as_secs_f64(),
        delivered,
        delivered as f64 / elapsed.as_secs_f64(),
        cpu,
        100.0 * cpu / elapsed.as_secs_f64(),
        idle_rss as f64 / 1024.0,
        peak_rss as f64 / 1024.0,
        peak_rss.saturating_sub(idle_rss) as f64 / 100.0,
        percentile(&all, 50.0),
        percentile(&all, 99.0),
    );

    // 3. Seed 10,000 conversations with 200,000 messages for this user, then list and search.
    let store = db.open_store().await;
    if backend == "postgres" {
        // Seeding only: commits need not wait for the disk. The measured requests are unaffected.
        if let Some(name) = db.database_url().rsplit('/').next() {
            let admin = sqlx::PgPool::connect(&db.database_url()).await.unwrap();
            sqlx::query(&format!("ALTER DATABASE {name} SET synchronous_commit = off")).execute(&admin).await.unwrap();
            admin.close().await;
        }
        store.close().await;
    }
    let store = if backend == "postgres" { db.open_store().await } else { store };
    let user_id = login["user"]["id"].as_i64().unwrap();
    let seeding = Instant::now();
    seed(store.clone(), user_id, bench.agent_id, conversations, messages_per).await;
    println!(
        "seeded {conversations} conversations with {} messages in {:.1} s",
        conversations * messages_per,
        seeding.elapsed().as_secs_f64()
    );
    // Planner statistics as PostgreSQL's autovacuum keeps them after a bulk of new rows (without them,
    // PostgreSQL takes the freshly seeded user for one with a few rows and nests loops).
    if backend == "postgres" {
        let pool = sqlx::PgPool::connect(&db.database_url()).await.unwrap();
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        pool.close().await;
    }
    let first_page = bench.timed_get("/api/conversations?limit=50", 200).await;
    let page: Value = bench
        .http
        .get(format!("{}/api/conversations?limit=200", bench.base))
        .bearer_auth(&bench.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cursor = page["next"].as_str().unwrap_or_default().to_owned();
    let later_page = bench.timed_get(&format!("/api/conversations?limit=50&after={cursor}"), 200).await;
    let common = bench.timed_get("/api/conversations/search?q=%E5%B9%95%E5%A2%99", 50).await; // 幕墙
    let rare = bench.timed_get("/api/conversations/search?q=%E8%8A%82%E7%82%B9%E8%AF%A6%E5%9B%BE7", 50).await; // 节点详图7
    let none = bench.timed_get("/api/conversations/search?q=%E4%B8%8D%E5%AD%98%E5%9C%A8", 50).await; // 不存在
    for (label, times) in [
        ("list, first page of 50", &first_page),
        ("list, a page after a cursor", &later_page),
        ("search, a common Chinese word (幕墙)", &common),
        ("search, a rare phrase (节点详图7)", &rare),
        ("search, no match (不存在: scans everything)", &none),
    ] {
        println!(
            "{label}: p50 {:.2} ms, p99 {:.2} ms (n={})",
            percentile(times, 50.0),
            percentile(times, 99.0),
            times.len()
        );
    }
    store.close().await;
}

/// Conversations of `messages_per` messages each, Chinese and English text of realistic length.
async fn seed(store: Arc<dyn Store>, user_id: i64, agent_id: i64, conversations: usize, messages_per: usize) {
    let words =
        ["幕墙", "龙骨", "层高", "图纸", "标注", "海报", "配色", "layout", "hatch", "dimension", "节点", "规范"];
    let workers = 4;
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for c in (worker..conversations).step_by(workers) {
                let id = format!("bench-{c:06}");
                let now = Timestamp::from_millis(1_760_000_000_000 + c as i64 * 1000).unwrap();
                store
                    .create_conversation(&NewConversation {
                        id: id.clone(),
                        user_id,
                        agent_id,
                        agent_name: "bench".into(),
                        title: format!("会话 {c}"),
                        chat_id: None,
                        variables: json!({}),
                        source: "app".into(),
                        now,
                    })
                    .await
                    .unwrap();
                for m in 0..messages_per {
                    let n = c * messages_per + m;
                    let word = words[n % words.len()];
                    let rare = if n.is_multiple_of(997) { format!(" 节点详图{}", n % 10) } else { String::new() };
                    let text = format!(
                        "第{n}条：关于{word}的讨论，请检查图层与线型设置是否符合公司制图标准。The {word} detail needs review before issue; check layers, line types and text styles.{rare}"
                    );
                    store
                        .append_message(&NewMessage {
                            id: format!("{id}-{m:03}"),
                            conversation_id: id.clone(),
                            role: if m.is_multiple_of(2) { "user".into() } else { "assistant".into() },
                            text,
                            status: "complete".into(),
                            attachments: json!([]),
                            detail: json!({}),
                            interactive_reply: false,
                            now,
                        })
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}
