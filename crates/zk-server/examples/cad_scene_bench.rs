//! The CAD library's scene endpoint over real HTTP: the first request for a drawing (cold cache:
//! read, parse, tessellate, encode) and repeated ones (warm: the cached scene), plus warm picks of
//! the layout's first and last entity (a pick walks the layout to its owner).
//! Each cold round opens a new core (an empty cache) on the same database and file store.
//!
//! `cargo run --release -p zk-server --example cad_scene_bench -- FILE.dxf [ROUNDS]` (figures in
//! `bench/README.md`, "CAD library").
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use zk_core::Core;
use zk_core::accounts::NewAccount;
use zk_core::config::Config;
use zk_core::request::RequestMeta;
use zk_core::store::Role;

const PASSWORD: &str = "correct horse battery staple";

struct Running {
    base: String,
    token: String,
    core: std::sync::Arc<Core>,
    stop: CancellationToken,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(config: Config, http: &reqwest::Client) -> Running {
    let core = Core::open(config).await.unwrap();
    if core.store.count_users().await.unwrap() == 0 {
        let account =
            NewAccount { username: "bench".into(), display_name: None, password: PASSWORD.into(), role: Role::Admin };
        core.accounts.create_user(None, account, &RequestMeta::default()).await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let served =
        tokio::spawn(zk_server::serve(core.clone(), listener, zk_server::ServeOptions::default(), stop.clone()));
    let signed: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "username": "bench", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed["access_token"].as_str().unwrap().to_owned();
    Running { base, token, core, stop, served }
}

impl Running {
    async fn get(&self, http: &reqwest::Client, path: &str) -> (Duration, usize) {
        let started = Instant::now();
        let response = http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        let length = response.bytes().await.unwrap().len();
        (started.elapsed(), length)
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.served.await;
        self.core.close().await;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median_and_p95(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| ms(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    (at(0.5), at(0.95))
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("usage: cad_scene_bench FILE.dxf [ROUNDS]");
    let rounds: usize = args.next().map_or(20, |r| r.parse().expect("ROUNDS is a number"));
    let bytes = std::fs::read(&file).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config::offline(dir.path());
    let http = reqwest::Client::new();

    let first = start(config.clone(), &http).await;
    let started = Instant::now();
    let name = std::path::Path::new(&file).file_name().unwrap().to_string_lossy().into_owned();
    let response = http
        .post(format!(
            "{}/api/cad/drawings?name={}",
            first.base,
            percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC)
        ))
        .bearer_auth(&first.token)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    let upload_time = started.elapsed();
    let drawing: Value = response.json().await.unwrap();
    let id = drawing["id"].as_str().unwrap_or_else(|| panic!("upload refused: {drawing}")).to_owned();
    let detail: Value = http
        .get(format!("{}/api/cad/drawings/{id}", first.base))
        .bearer_auth(&first.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The last entity of model space: the longest walk a pick makes.
    let model = detail["facts"]["layouts"].as_array().unwrap().iter().find(|l| l["name"] == "Model").cloned();
    let last = model.and_then(|l| l["entities"].as_u64()).unwrap_or(1).saturating_sub(1);
    first.stop().await;

    let scene = format!("/api/cad/drawings/{id}/scene");
    let (mut cold, mut warm, mut picks, mut last_picks) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut scene_bytes = 0;
    for _ in 0..3 {
        let server = start(config.clone(), &http).await;
        let (took, length) = server.get(&http, &scene).await;
        cold.push(took);
        scene_bytes = length;
        for _ in 0..rounds {
            warm.push(server.get(&http, &scene).await.0);
            picks.push(server.get(&http, &format!("/api/cad/drawings/{id}/entities/0")).await.0);
            last_picks.push(server.get(&http, &format!("/api/cad/drawings/{id}/entities/{last}")).await.0);
        }
        server.stop().await;
    }
    let (warm_median, warm_p95) = median_and_p95(warm);
    let (pick_median, pick_p95) = median_and_p95(picks);
    let (last_median, last_p95) = median_and_p95(last_picks);
    println!("file: {file} ({} bytes, {} entities)", bytes.len(), drawing["entityCount"]);
    println!("upload (stage, read, facts, thumbnail, store): {:.1} ms", ms(upload_time));
    println!("scene: {scene_bytes} bytes");
    println!(
        "cold scene (parse + tessellate + encode + send), 3 runs: {:?} ms",
        cold.iter().map(|d| (ms(*d) * 10.0).round() / 10.0).collect::<Vec<_>>()
    );
    println!("warm scene ({} requests): median {warm_median:.2} ms, p95 {warm_p95:.2} ms", rounds * 3);
    println!(
        "warm pick of the first entity ({} requests): median {pick_median:.2} ms, p95 {pick_p95:.2} ms",
        rounds * 3
    );
    println!(
        "warm pick of the last entity ({} requests): median {last_median:.2} ms, p95 {last_p95:.2} ms",
        rounds * 3
    );
}
