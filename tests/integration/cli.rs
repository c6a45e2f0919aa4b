//! The `zk-agent` binary, black-box: configuration errors, config show, migrate, seed, users, doctor,
//! and serve (first-start setup, error log, graceful stop).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zk_tests::db::each_database;

/// The binary under test (`target/<profile>/zk-agent`, or `ZK_AGENT_BIN`).
fn binary() -> PathBuf {
    zk_tests::process::zk_agent_binary()
}

/// A command with a clean environment: only what the test sets reaches the binary.
fn zk(data_dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", data_dir)
        .env("ZK_DATA_DIR", data_dir)
        .current_dir(data_dir);
    command
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

/// Runs with `input` on stdin, as a person pasting a password would.
fn run_with_stdin(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["seed", "--help"],
        vec!["users", "--help"],
        vec!["users", "create", "--help"],
        vec!["users", "list", "--help"],
        vec!["users", "set-role", "--help"],
        vec!["users", "disable", "--help"],
        vec!["config", "show", "--help"],
        vec!["doctor", "--help"],
        vec!["chat", "--help"],
        vec!["agents", "--help"],
        vec!["agents", "list", "--help"],
        vec!["agents", "show", "--help"],
        vec!["agents", "import", "--help"],
        vec!["agents", "export", "--help"],
        vec!["agents", "validate", "--help"],
        vec!["cad", "--help"],
        vec!["cad", "info", "--help"],
        vec!["cad", "render", "--help"],
        vec!["sync", "--help"],
        vec!["sync", "status", "--help"],
        vec!["sync", "run", "--help"],
        vec!["sync", "verify", "--help"],
    ] {
        let output = run(zk(dir.path()).args(&args));
        assert!(output.status.success(), "{args:?} --help works");
        assert!(text(&output.stdout).contains("Usage:"), "{args:?} prints usage");
    }
}

#[test]
fn bad_configuration_stops_with_the_variable_the_problem_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value, expected) in [
        ("PORT", "abc", "PORT=\"abc\" (from environment): is not a TCP port number; fix: set PORT"),
        ("DATABASE_URL", "mysql://db/zk", "DATABASE_URL=\"mysql://db/zk\""),
        ("DB_POOL_MAX", "0", "DB_POOL_MAX=\"0\""),
        ("JWT_ACCESS_SECRET", "short", "JWT_ACCESS_SECRET=\"<redacted>\""),
        ("REDIS_URL", "localhost:6379", "REDIS_URL"),
        ("UPLOAD_MAX_BYTES", "a lot", "UPLOAD_MAX_BYTES"),
    ] {
        let output = run(zk(dir.path()).env(name, value).arg("serve"));
        assert_eq!(output.status.code(), Some(2), "{name}={value} is a configuration error");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expected) && stderr.contains("fix:"), "{name}: {stderr}");
        if name == "JWT_ACCESS_SECRET" {
            assert!(!stderr.contains("short"), "a secret's value is never printed");
        }
    }
    std::fs::write(dir.path().join("config.toml"), "prot = 3000\n").unwrap();
    let output = run(zk(dir.path()).env("ZK_CONFIG", dir.path().join("config.toml")).arg("migrate"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("prot") && text(&output.stderr).contains("unknown setting"),
        "{}",
        text(&output.stderr)
    );
    assert!(!dir.path().join("zk-agent.db").exists(), "nothing was created");
}

#[test]
fn config_show_redacts_secrets_and_names_each_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "UPLOAD_DIR=/srv/zk-files\nTASK_WORKERS=5\nPORT=4100\n").unwrap();
    std::fs::write(dir.path().join("config.toml"), "task_workers = 7\nlog_format = \"json\"\n").unwrap();
    let secrets = ["pg-pass-Zq81", "jwt-access-secret-0123456789abcdefghij", "fastgpt-key-77x"];
    let output = run(zk(dir.path())
        .env("ZK_CONFIG", dir.path().join("config.toml"))
        .env("PORT", "4000")
        .env("DB_HOST", "db.internal")
        .env("DB_USER", "zk")
        .env("DB_PASSWORD", secrets[0])
        .env("JWT_ACCESS_SECRET", secrets[1])
        .env("FASTGPT_API_URL", "https://fastgpt.example.com")
        .env("FASTGPT_API_KEY", secrets[2])
        .args(["config", "show", "--json"]));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for secret in secrets {
        assert!(!stdout.contains(secret), "{secret} is redacted");
    }
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    let setting =
        |name: &str| shown["settings"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    assert_eq!(setting("DB_PASSWORD")["value"], "<redacted>");
    assert_eq!(setting("PORT")["value"], "4000");
    assert_eq!(setting("PORT")["source"], "environment", "the environment beats .env");
    assert_eq!(setting("UPLOAD_DIR")["source"], dir.path().join(".env").display().to_string());
    assert_eq!(setting("TASK_WORKERS")["value"], "5", ".env beats the config file");
    assert_eq!(setting("LOG_FORMAT")["source"], dir.path().join("config.toml").display().to_string());
    assert_eq!(shown["effective"]["database"], "postgres://zk@db.internal:5432/");

    let output = run(zk(dir.path()).env("PORT", "4000").args([
        "--database-url",
        "sqlite:///tmp/flag.db",
        "config",
        "show",
        "--json",
    ]));
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["effective"]["database"], "sqlite:///tmp/flag.db", "a flag beats everything");
}

#[tokio::test]
async fn migrate_seed_users_and_doctor_on_both_backends() {
    each_database(|db| async move {
        let dir = tempfile::tempdir().unwrap();
        let url = db.database_url();
        let zk = || {
            let mut command = zk(dir.path());
            command.env("DATABASE_URL", &url);
            command
        };

        // As many as the migrations folder holds (the same number for both backends).
        let known = std::fs::read_dir(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/zk-store/migrations/sqlite"),
        )
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql")))
        .count();
        let output = run(zk().args(["migrate", "--status"]));
        assert!(text(&output.stdout).contains(&format!("0 of {known} migrations applied")), "{}", text(&output.stdout));
        let output = run(zk().arg("doctor"));
        assert_eq!(output.status.code(), Some(1), "an unmigrated database is a problem");
        assert!(text(&output.stdout).contains("run `zk-agent migrate`"), "{}", text(&output.stdout));
        let output = run(zk().arg("migrate"));
        assert!(
            output.status.success() && text(&output.stdout).contains(&format!("applied {known} migration(s)")),
            "{}",
            text(&output.stdout)
        );
        let output = run(zk().arg("migrate"));
        let idempotent = format!("applied 0 migration(s); {known} of {known} applied");
        assert!(text(&output.stdout).contains(&idempotent), "migrate is idempotent");

        let output = run(zk().arg("seed"));
        assert!(
            output.status.success() && text(&output.stdout).contains("7 setting(s) added"),
            "{}",
            text(&output.stdout)
        );
        let output = run(zk().arg("seed"));
        assert!(text(&output.stdout).contains("0 setting(s) added, 7 already present"), "seed is idempotent");

        let create = ["users", "create", "--username", "ada", "--role", "admin", "--password-stdin"];
        let output = run_with_stdin(zk().args(create), b"a long and private passphrase\n");
        assert!(output.status.success(), "{}", text(&output.stderr));
        let weak = ["users", "create", "--username", "bob", "--role", "viewer", "--password-stdin"];
        let output = run_with_stdin(zk().args(weak), b"password123\n");
        assert_eq!(output.status.code(), Some(1), "a common password is refused");
        assert!(text(&output.stderr).contains("most common"), "{}", text(&output.stderr));
        let output =
            run(zk().args(["users", "create", "--username", "dan", "--role", "designer", "--generate-password"]));
        assert!(text(&output.stdout).contains("password: "), "a generated password is shown once");
        let output = run(zk().args(["users", "set-role", "dan", "viewer"]));
        assert!(text(&output.stdout).contains("dan is now viewer"), "{}", text(&output.stdout));
        let output = run(zk().args(["users", "disable", "dan"]));
        assert!(output.status.success());
        let output = run(zk().args(["users", "disable", "ada"]));
        assert_eq!(output.status.code(), Some(1), "the last admin cannot be disabled");
        let output = run(zk().args(["users", "list", "--json"]));
        let users: Value = serde_json::from_slice(&output.stdout).unwrap();
        let summary: Vec<_> = users
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["username"].clone(), u["role"].clone(), u["disabled"].clone()))
            .collect();
        assert_eq!(
            summary,
            vec![(json!("ada"), json!("admin"), json!(false)), (json!("dan"), json!("viewer"), json!(true))]
        );

        let port = free_port();
        let output = run(zk().env("PORT", port.to_string()).arg("doctor"));
        assert!(output.status.success(), "a migrated setup passes: {}", text(&output.stdout));
        let _taken = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let output = run(zk().env("PORT", port.to_string()).arg("doctor"));
        assert_eq!(output.status.code(), Some(1), "a taken port is a problem");
        assert!(
            text(&output.stdout).contains(&format!("fix: stop the program using port {port}")),
            "{}",
            text(&output.stdout)
        );
    })
    .await;
}

#[test]
fn doctor_changes_nothing_on_a_new_install() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(zk(dir.path()).env("PORT", free_port().to_string()).arg("doctor"));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("[warn] database") && stdout.contains("does not exist yet"), "{stdout}");
    assert!(!dir.path().join("zk-agent.db").exists(), "the doctor did not create the database");
    // Without dwg2dxf (the test's PATH has none) DWG still opens with the built-in reader: the line says so.
    let dwg = stdout.lines().find(|line| line.contains("] dwg")).expect("a dwg line");
    assert!(dwg.contains("[ok  ]") && dwg.contains("R13 to R2018 open with the built-in reader"), "{dwg}");
}

#[test]
fn doctor_json_is_one_document_with_every_check_and_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(zk(dir.path()).env("PORT", free_port().to_string()).args(["doctor", "--json"]));
    let stdout = text(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(output.status.code(), Some(0), "a new install only warns: {stdout}");
    assert_eq!((document["status"].as_str(), document["exit_code"].as_u64()), (Some("warn"), Some(0)), "{stdout}");
    let checks = document["checks"].as_array().unwrap();
    let status_of =
        |name: &str| checks.iter().find(|c| c["check"] == name).map(|c| c["status"].as_str().unwrap().to_owned());
    for name in ["configuration", "data_dir", "disk_space", "port", "database", "cache", "file_store", "keychain"] {
        assert!(status_of(name).is_some(), "doctor --json reports {name}: {stdout}");
    }
    assert_eq!(status_of("database").as_deref(), Some("warn"), "not created yet");
    let database = checks.iter().find(|c| c["check"] == "database").unwrap();
    assert!(database["fix"].as_str().unwrap().contains("zk-agent migrate"), "a warning carries its fix");

    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let output = run(zk(dir.path()).env("PORT", port.to_string()).args(["doctor", "--json"]));
    let document: serde_json::Value = serde_json::from_str(&text(&output.stdout)).unwrap();
    assert_eq!(output.status.code(), Some(1), "a taken port fails");
    assert_eq!((document["status"].as_str(), document["exit_code"].as_u64()), (Some("fail"), Some(1)));
    let bad = run(zk(dir.path()).env("PORT", "not-a-port").args(["doctor", "--json"]));
    let document: serde_json::Value = serde_json::from_str(&text(&bad.stdout)).expect("JSON even for a bad variable");
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(document["checks"][0]["check"], "configuration");
    assert!(document["checks"][0]["fix"].as_str().is_some_and(|f| f.contains("PORT")), "{document}");
}

#[test]
fn doctor_explains_an_unreachable_database_and_redis() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(zk(dir.path())
        .env("DATABASE_URL", "postgres://zk:hunter2pw@127.0.0.1:1/zk")
        .env("DB_ACQUIRE_TIMEOUT_MS", "500")
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .arg("doctor"));
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("[FAIL] database") && stdout.contains("fix: start PostgreSQL"), "{stdout}");
    assert!(stdout.contains("[ok  ] database tls   off, to 127.0.0.1 on this machine"), "{stdout}");
    assert!(stdout.contains("[warn] cache") && stdout.contains("slower, still correct"), "{stdout}");
    assert!(!stdout.contains("hunter2pw"), "the password is not printed");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `zk-agent serve` process, killed when dropped.
struct Served {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(command: Command) -> Served {
    serve_with(command, &[])
}

/// `zk-agent serve ARGS…` on a free port.
fn serve_with(mut command: Command, args: &[&str]) -> Served {
    let port = free_port();
    let mut child = command
        .env("PORT", port.to_string())
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    Served { child, lines, base: format!("http://127.0.0.1:{port}") }
}

impl Served {
    /// Lines printed so far, waiting until one contains `needle`.
    fn wait_for_line(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return seen;
                }
            }
        }
        panic!("the server never printed {needle:?}; it printed {seen:?}");
    }
}

/// The first error-log entry that `matches`, waiting up to 20 s for the log writer.
async fn wait_for_error(http: &reqwest::Client, base: &str, access: &str, matches: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let errors: Value = http
            .get(format!("{base}/api/admin/errors"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(found) = errors.as_array().unwrap().iter().find(|e| matches(e)) {
            return found.clone();
        }
        assert!(Instant::now() < deadline, "the expected entry never reached the error log: {errors}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn serve_prints_how_to_start_records_errors_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = zk(dir.path());
    command.env("TASK_WORKERS", "1");
    let served = serve(command);
    let printed = served.wait_for_line("zk-agent users create").join("\n");
    assert!(printed.contains(&format!("ZK-Agent is serving {}/", served.base)), "the URL is printed: {printed}");
    let token = printed.split('"').find(|part| part.starts_with("zks_")).expect("a setup token is printed").to_owned();

    let http = reqwest::Client::new();
    let setup = json!({ "token": token, "username": "owner", "password": "a long and private passphrase" });
    let response = http.post(format!("{}/api/setup", served.base)).json(&setup).send().await.unwrap();
    assert_eq!(response.status(), 200, "the setup token creates the first admin");
    let signed_in: Value = response.json().await.unwrap();
    let access = signed_in["access_token"].as_str().unwrap().to_owned();
    let again = http.post(format!("{}/api/setup", served.base)).json(&setup).send().await.unwrap();
    assert_eq!(again.status(), 403, "the setup token works once");

    // A task over its time limit is failed and logged at ERROR, which lands in the error log.
    let task = json!({ "kind": "diagnostics.selftest", "payload": { "steps": 5, "step_ms": 500 }, "timeout_secs": 1, "max_attempts": 1 });
    let response =
        http.post(format!("{}/api/tasks", served.base)).bearer_auth(&access).json(&task).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let entry = wait_for_error(&http, &served.base, &access, |e| e["message"] == "task timed out").await;
    assert_eq!(entry["source"], "zk_core::tasks::worker");
    assert!(entry["context"]["error"].as_str().unwrap().contains("time limit"), "{entry}");

    // An internal error inside a request is recorded with that request's id and user.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    let stored: Value = http
        .post(format!("{}/api/files?name=a.png", served.base))
        .bearer_auth(&access)
        .body(png)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sha = stored["sha256"].as_str().unwrap();
    std::fs::remove_file(dir.path().join("files/sha256").join(&sha[..2]).join(&sha[2..4]).join(sha)).unwrap();
    let response = http
        .get(format!("{}/api/files/{}/content", served.base, stored["id"].as_str().unwrap()))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert!(!body["message"].as_str().unwrap().contains("sha256"), "no internals reach the client: {body}");
    let recorded = wait_for_error(&http, &served.base, &access, |e| e["request_id"] == request_id.as_str()).await;
    assert_eq!(recorded["user_id"], signed_in["user"]["id"], "with the user who made it: {recorded}");
    assert_eq!(recorded["level"], "ERROR");

    let mut served = served;
    let pid = served.child.id();
    let killed = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the server stops within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a graceful stop exits 0");
    served.wait_for_line("ZK-Agent stopped");
}

#[tokio::test]
async fn chat_streams_an_answer_and_exits_by_how_the_stream_ended() {
    let double = zk_tests::model_double::ModelDouble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let chat = |key: &str, args: &[&str]| {
        let mut command = zk(dir.path());
        command.env("FASTGPT_API_URL", &double.base).env("FASTGPT_API_KEY", key).arg("chat").args(args);
        command
    };
    let output = tokio::task::spawn_blocking({
        let mut command = chat("fastgpt-good", &["--detail", "plain"]);
        move || run(&mut command)
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "你好，（引用规范）设计师\n", "the answer is streamed to stdout");

    // The README's form: the URL on the command line, only the key in the environment.
    let output = tokio::task::spawn_blocking({
        let mut command = zk(dir.path());
        command.env("FASTGPT_API_KEY", "fastgpt-good").args(["chat", "--base-url", &double.base, "plain"]);
        move || run(&mut command)
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("设计师"), "{}", text(&output.stdout));

    let output = tokio::task::spawn_blocking({
        let mut command = chat("fastgpt-good", &["--json", "plain"]);
        move || run(&mut command)
    })
    .await
    .unwrap();
    let events: Vec<Value> = text(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.last().unwrap()["type"], "done", "--json prints one event per line");
    assert!(events.iter().any(|e| e["type"] == "answer" && e["text"] == "设计师"));

    let output = tokio::task::spawn_blocking({
        let mut command = chat("fastgpt-good", &["--idle-timeout", "1", "cut"]);
        move || run(&mut command)
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(3), "a cut stream is its own exit code");
    assert_eq!(text(&output.stdout), "你好，\n", "with the partial answer printed");
    assert!(text(&output.stderr).contains("cut off"), "{}", text(&output.stderr));

    let output = tokio::task::spawn_blocking({
        let mut command = chat("fastgpt-bad", &["plain"]);
        move || run(&mut command)
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("refused the key") && !text(&output.stderr).contains("fastgpt-bad"),
        "{}",
        text(&output.stderr)
    );

    let output = tokio::task::spawn_blocking({
        let mut command = zk(dir.path());
        command.env("OPENAI_API_KEY", "sk-good").args([
            "chat",
            "--provider",
            "openai",
            "--base-url",
            &double.base,
            "--model",
            "local-model",
            "你好",
        ]);
        move || run(&mut command)
    })
    .await
    .unwrap();
    assert_eq!(
        (output.status.code(), text(&output.stdout)),
        (Some(0), "离线回答\n".to_owned()),
        "an OpenAI-compatible local server"
    );
}

#[tokio::test]
async fn doctor_and_health_probe_fastgpt_with_the_configured_key() {
    let double = zk_tests::model_double::ModelDouble::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (key, code, expected) in [("fastgpt-good", 0, "key accepted"), ("fastgpt-bad", 1, "refuses the key")] {
        let mut command = zk(dir.path());
        command.env("FASTGPT_API_URL", &double.base).env("FASTGPT_API_KEY", key).env("PORT", free_port().to_string());
        command.arg("migrate");
        let _ = tokio::task::spawn_blocking(move || run(&mut command)).await.unwrap();
        let mut command = zk(dir.path());
        command
            .env("FASTGPT_API_URL", &double.base)
            .env("FASTGPT_API_KEY", key)
            .env("PORT", free_port().to_string())
            .arg("doctor");
        let output = tokio::task::spawn_blocking(move || run(&mut command)).await.unwrap();
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(code), "{stdout}");
        assert!(stdout.contains(expected) && !stdout.contains(key), "{stdout}");
    }
}

#[test]
fn doctor_warns_of_plain_text_to_a_remote_database() {
    let dir = tempfile::tempdir().unwrap();
    // A documentation address (TEST-NET-1): nothing answers, the TLS check reads the configuration.
    let remote = |ssl: &[(&str, &str)]| {
        let mut command = zk(dir.path());
        command.env("DATABASE_URL", "postgres://zk:pw@192.0.2.10:5432/zk").env("DB_ACQUIRE_TIMEOUT_MS", "300");
        for (name, value) in ssl {
            command.env(name, value);
        }
        text(&run(command.args(["doctor", "--json"])).stdout)
    };
    let tls = |stdout: &str| {
        let document: serde_json::Value = serde_json::from_str(stdout).unwrap();
        document["checks"].as_array().unwrap().iter().find(|c| c["check"] == "database_tls").cloned().unwrap()
    };
    let plain = tls(&remote(&[]));
    assert_eq!(plain["status"], "warn", "{plain}");
    assert!(plain["fix"].as_str().unwrap().contains("DB_SSL=true"), "{plain}");
    let verified = tls(&remote(&[("DB_SSL", "true")]));
    assert_eq!(verified["status"], "ok", "DB_SSL verifies by default: {verified}");
    let unverified = tls(&remote(&[("DB_SSL", "true"), ("DB_SSL_REJECT_UNAUTHORIZED", "false")]));
    assert_eq!(unverified["status"], "warn", "{unverified}");
}

#[tokio::test]
async fn doctor_probes_each_fastgpt_agent_with_its_key() {
    let double = zk_tests::model_double::ModelDouble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let agents_file = dir.path().join("team.toml");
    let file = format!(
        "name = \"规范助手\"\nprovider = \"fastgpt\"\nbase_url = \"{}\"\napi_key_env = \"TEAM_FASTGPT_KEY\"\n",
        double.base
    );
    std::fs::write(&agents_file, file).unwrap();
    let home = dir.path().to_owned();
    let zk_agent = move |key: &str, args: Vec<String>| {
        let mut command = zk(&home);
        command.env("ZK_KEYSTORE", "env").env("TEAM_FASTGPT_KEY", key).env("PORT", free_port().to_string()).args(args);
        async move { tokio::task::spawn_blocking(move || run(&mut command)).await.unwrap() }
    };
    let output = zk_agent("fastgpt-good", vec!["migrate".into()]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output =
        zk_agent("fastgpt-good", vec!["agents".into(), "import".into(), agents_file.display().to_string()]).await;
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));

    let output = zk_agent("fastgpt-good", vec!["doctor".into(), "--json".into()]).await;
    let document: serde_json::Value = serde_json::from_str(&text(&output.stdout)).expect("one JSON document");
    let agent = document["checks"].as_array().unwrap().iter().find(|c| c["check"] == "agent_规范助手").cloned();
    let agent = agent.unwrap_or_else(|| panic!("the agent is probed: {document}"));
    assert_eq!(agent["status"], "ok", "{agent}");
    assert!(agent["detail"].as_str().unwrap().contains(" ms)"), "with its latency: {agent}");
    assert_eq!(output.status.code(), Some(0), "{document}");

    let output = zk_agent("fastgpt-bad", vec!["doctor".into()]).await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "a refused agent key fails: {stdout}");
    assert!(stdout.contains("[FAIL] agent 规范助手") && stdout.contains("fix: replace the agent's key"), "{stdout}");
    assert!(!stdout.contains("fastgpt-bad"), "the key is not printed");
}

#[tokio::test]
async fn agents_import_list_show_export_validate_and_chat_with_an_agent() {
    let double = zk_tests::model_double::ModelDouble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let agents_file = dir.path().join("team.toml");
    std::fs::write(
        &agents_file,
        format!(
            "[[agent]]\nname = \"规范助手\"\nprovider = \"fastgpt\"\nbase_url = \"{}\"\napi_key_env = \"TEAM_FASTGPT_KEY\"\n\n\
             [[agent]]\nname = \"local\"\nprovider = \"openai\"\nbase_url = \"{}\"\nmodel = \"qwen\"\nsystem_prompt = \"简洁\"\napi_key_env = \"TEAM_OPENAI_KEY\"\n",
            double.base, double.base
        ),
    )
    .unwrap();
    let bad_file = dir.path().join("bad.json");
    std::fs::write(
        &bad_file,
        "{\n  \"name\": \"x\",\n  \"provider\": \"fastgpt\",\n  \"base_url\": \"ftp://nope\"\n}\n",
    )
    .unwrap();
    let home = dir.path().to_owned();
    let agents = move |args: &[&str]| {
        let mut command = zk(&home);
        command
            .env("ZK_KEYSTORE", "env")
            .env("TEAM_FASTGPT_KEY", "fastgpt-good")
            .env("TEAM_OPENAI_KEY", "sk-good")
            .args(args);
        let output = run(&mut command);
        (output.status.code(), text(&output.stdout), text(&output.stderr))
    };
    let run_blocking = |args: Vec<String>| {
        let agents = agents.clone();
        tokio::task::spawn_blocking(move || agents(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let path = |p: &Path| p.display().to_string();

    let (code, out, err) =
        run_blocking(vec!["agents".into(), "validate".into(), path(&agents_file), path(&bad_file)]).await.unwrap();
    assert_eq!(code, Some(1), "one bad file fails validation: {out} {err}");
    assert!(out.contains("team.toml: ok (2 agents)"), "{out}");
    assert!(err.contains("bad.json:4:"), "problems name file and line: {err}");
    assert!(err.contains("base_url"), "{err}");

    let (code, out, err) = run_blocking(vec!["agents".into(), "import".into(), path(&bad_file)]).await.unwrap();
    assert_eq!(code, Some(1), "an invalid file is refused: {out}");
    assert!(err.contains("bad.json:4"), "{err}");
    let (code, out, err) = run_blocking(vec!["agents".into(), "import".into(), path(&agents_file)]).await.unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("2 created"), "{out}");

    let (code, out, _) = run_blocking(vec!["agents".into(), "list".into()]).await.unwrap();
    assert_eq!(code, Some(0));
    assert!(out.contains("规范助手") && out.contains("from $TEAM_FASTGPT_KEY"), "{out}");
    let (_, out, _) = run_blocking(vec!["agents".into(), "list".into(), "--json".into()]).await.unwrap();
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let (code, out, _) = run_blocking(vec!["agents".into(), "show".into(), "LOCAL".into()]).await.unwrap();
    assert_eq!(code, Some(0), "names match without case");
    assert!(out.contains("model = \"qwen\""), "{out}");
    let exported = dir.path().join("out.json");
    let (code, _, err) = run_blocking(vec![
        "agents".into(),
        "export".into(),
        "--format".into(),
        "json".into(),
        "-o".into(),
        path(&exported),
    ])
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(exported["agents"].as_array().unwrap().len(), 2);
    assert!(!exported.to_string().contains("fastgpt-good"), "keys are never exported");

    let (code, out, err) =
        run_blocking(vec!["chat".into(), "--agent".into(), "规范助手".into(), "plain".into()]).await.unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "你好，（引用规范）设计师\n", "the agent's key and detail setting are used");
    let (code, out, _) =
        run_blocking(vec!["chat".into(), "--agent".into(), "local".into(), "--json".into(), "hi".into()])
            .await
            .unwrap();
    assert_eq!(code, Some(0));
    assert!(out.lines().any(|l| l.contains("\"离线\"")), "{out}");
    let sent = double.received();
    let openai = &sent.iter().find(|r| r.path == "/v1/chat/completions").unwrap().body;
    assert_eq!(openai["messages"][0]["content"], "简洁", "the agent's system prompt goes first");
    let (code, _, err) =
        run_blocking(vec!["chat".into(), "--agent".into(), "nobody".into(), "hi".into()]).await.unwrap();
    assert_eq!(code, Some(2));
    assert!(err.contains("agent \"nobody\" not found"), "{err}");
}

/// Runs `command` to its end (at most 60 s, then the test fails), capturing its output.
fn run_to_exit(command: &mut Command) -> Output {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("{command:?} did not exit within 60 s: {}{}", text(&output.stdout), text(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// One blob in the file store, where an upload puts it (`UPLOAD_DIR/sha256/ab/cd/<hash>`).
fn stored_blob(upload_dir: &Path) -> PathBuf {
    let hash = format!("abcd{}", "0".repeat(60));
    let dir = upload_dir.join("sha256/ab/cd");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&hash), b"an upload").unwrap();
    dir.join(hash)
}

/// Asserts that `output` is the refusal of a lost database, naming `found`.
fn assert_refused_as_lost(output: &Output, found: &str, what: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{what} is refused with a failure status: {stderr}");
    assert!(stderr.contains("holds 1 file but the database"), "{what}: says what it found: {stderr}");
    assert!(stderr.contains(found), "{what}: says the database {found}: {stderr}");
    assert!(stderr.contains("backup"), "{what}: says where a backup is, or that none was found: {stderr}");
    assert!(stderr.contains("restore the database from a backup"), "{what}: the first way on: {stderr}");
    assert!(stderr.contains("zk-agent serve --new-database"), "{what}: the second way on: {stderr}");
}

#[tokio::test]
async fn a_lost_database_with_files_in_the_store_is_refused_and_new_database_starts_over() {
    each_database(|db| async move {
        let dir = tempfile::tempdir().unwrap();
        let url = db.database_url();
        let zk = || {
            let mut command = zk(dir.path());
            command.env("DATABASE_URL", &url).env("PORT", free_port().to_string());
            command
        };
        let store = dir.path().join("files");
        let blob = stored_blob(&store);
        let sqlite = url.strip_prefix("sqlite://").map(PathBuf::from);

        // SQLite: no file at all; PostgreSQL: a database without tables.
        let found = if sqlite.is_some() { "is missing" } else { "no tables" };
        assert_refused_as_lost(&run_to_exit(zk().arg("serve")), found, "serve");
        assert_refused_as_lost(&run_to_exit(zk().args(["users", "list"])), found, "a command that opens the core");
        assert_refused_as_lost(&run_to_exit(zk().arg("migrate")), found, "migrate");
        let output = run_to_exit(zk().arg("doctor"));
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "doctor finds the lost database a problem: {stdout}");
        assert!(
            stdout.contains("[FAIL] database") && stdout.contains("holds 1 file but the database"),
            "doctor names it: {stdout}"
        );
        assert!(stdout.contains("--new-database") && !stdout.contains("run `zk-agent migrate`"), "{stdout}");
        if let Some(path) = &sqlite {
            assert!(!path.exists(), "no empty database was created in place of the lost one");
            std::fs::write(path, b"").unwrap();
            assert_refused_as_lost(&run_to_exit(zk().arg("serve")), "is empty (0 bytes)", "a truncated database");
        }

        // Starting over on purpose: the files are moved aside, the server starts and asks for setup.
        let served = serve_with(zk(), &["--new-database"]);
        let printed = served.wait_for_line("zk-agent users create").join("\n");
        let moved = printed
            .lines()
            .find_map(|line| line.split(" moved aside to ").nth(1))
            .and_then(|rest| rest.split(" (nothing was deleted)").next())
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("says where the files went: {printed}"));
        assert_eq!(moved.parent(), Some(dir.path()), "a dated folder next to the file store: {printed}");
        assert!(moved.join("sha256/ab/cd").join(blob.file_name().unwrap()).is_file(), "the file was kept whole");
        assert!(!blob.exists(), "the new database's file store does not mix the old files in");
        drop(served);

        // Without the flag, the new (empty) database starts again; with it, a database in use is refused.
        let served = serve(zk());
        served.wait_for_line("ZK-Agent is serving");
        drop(served);
        // A migrated database without accounts or file records (what `migrate` would leave) is empty too.
        stored_blob(&store);
        let found = "is empty (no accounts and no file records)";
        assert_refused_as_lost(&run_to_exit(zk().arg("serve")), found, "a migrated database with no records");
        std::fs::remove_file(&blob).unwrap();
        let create = ["users", "create", "--username", "ada", "--role", "admin", "--generate-password"];
        assert!(run(zk().args(create)).status.success());
        stored_blob(&store);
        let output = run_to_exit(zk().args(["serve", "--new-database"]));
        assert_eq!(output.status.code(), Some(1), "--new-database on a database in use is refused");
        assert!(
            text(&output.stderr).contains("holds accounts or files; nothing was changed"),
            "{}",
            text(&output.stderr)
        );
        assert!(blob.exists(), "nothing was moved");
    })
    .await;
}

#[tokio::test]
async fn serve_from_any_folder_serves_the_built_in_ui_with_cache_headers() {
    // zk() runs in a temporary folder with no UI_DIR: whatever is served comes from the binary.
    let dir = tempfile::tempdir().unwrap();
    let served = serve(zk(dir.path()));
    let printed = served.wait_for_line("zk-agent users create").join("\n");
    assert!(
        printed.contains("UI:       built in"),
        "this zk-agent embeds the UI (build ui/ with `npm run build` before cargo build): {printed}"
    );
    let setup_address = format!("{}/setup?token=zks_", served.base);
    assert!(printed.contains(&setup_address), "the first start prints the setup address: {printed}");
    assert!(
        printed.find(&setup_address) < printed.find("curl -X POST"),
        "the address comes before the terminal form: {printed}"
    );

    let http = reqwest::Client::new();
    let page = http.get(format!("{}/", served.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers()["cache-control"], "no-cache", "the page is revalidated: a new binary's UI shows at once");
    let etag = page.headers()["etag"].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains("<div id=\"root\">"), "the page is the app: {html}");

    let revalidated = http.get(format!("{}/", served.base)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(revalidated.status(), 304);
    let spa_route = http.get(format!("{}/cad/some/drawing", served.base)).send().await.unwrap();
    assert_eq!(spa_route.status(), 200, "the app's own routes load the page");
    assert_eq!(spa_route.headers()["etag"].to_str().unwrap(), etag);

    let script = html
        .split('"')
        .find(|part| part.starts_with("/assets/") && part.ends_with(".js"))
        .expect("the page loads a script from /assets/")
        .to_owned();
    let plain = http.get(format!("{}{script}", served.base)).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["cache-control"], "public, max-age=31536000, immutable", "hashed assets never change");
    assert!(plain.headers().get("content-encoding").is_none(), "a client that takes no gzip gets the file itself");
    let plain = plain.bytes().await.unwrap();
    let compressed =
        http.get(format!("{}{script}", served.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    let compressed = compressed.bytes().await.unwrap();
    assert!(compressed.len() < plain.len(), "scripts travel compressed: {} of {} bytes", compressed.len(), plain.len());
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut inflated).unwrap();
    assert_eq!(inflated, plain, "the compressed file is the same file");

    let missing = http.get(format!("{}/assets/not-in-this-build.js", served.base)).send().await.unwrap();
    assert_eq!(missing.status(), 404, "a script of another build is missing, not the page");
    let posted = http.post(format!("{}/", served.base)).send().await.unwrap();
    assert_eq!(posted.status(), 405);
}

#[tokio::test]
async fn a_cad_time_out_and_a_busy_refusal_are_logged_into_the_error_log() {
    each_database(|db| async move {
        let dir = tempfile::tempdir().unwrap();
        let url = db.database_url();
        let zk = || {
            let mut command = zk(dir.path());
            // One CAD worker with a short queue; budgets so large that a bomb outlasts its time budget.
            command.env("DATABASE_URL", &url).env("CAD_WORKERS", "1").env("CAD_QUEUE_SECS", "1");
            command.env("CAD_TIME_BUDGET_SECS", "3").env("CAD_MAX_INSTANCES", "18446744073709551615");
            command.env("CAD_MAX_VERTICES", "400000000");
            command
        };
        let create = ["users", "create", "--username", "ada", "--role", "admin", "--password-stdin"];
        assert!(run_with_stdin(zk().args(create), b"a long and private passphrase\n").status.success());
        let served = serve(zk());
        served.wait_for_line("ZK-Agent is serving");
        let http = reqwest::Client::new();
        let credentials = json!({ "username": "ada", "password": "a long and private passphrase" });
        let signed_in: Value = http
            .post(format!("{}/api/auth/login", served.base))
            .json(&credentials)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = signed_in["access_token"].as_str().unwrap().to_owned();
        let drawing: Value = http
            .post(format!("{}/api/cad/drawings?name=array-bomb.dxf", served.base))
            .bearer_auth(&access)
            .body(zk_tests::cad_bombs::array_bomb())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = drawing["id"].as_str().unwrap_or_else(|| panic!("uploaded: {drawing}")).to_owned();

        let scene = http.get(format!("{}/api/cad/drawings/{id}/scene", served.base)).bearer_auth(&access).send();
        let svg = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let url = format!("{}/api/cad/drawings/{id}/render?format=svg", served.base);
            http.get(url).bearer_auth(&access).send().await
        };
        let (scene, svg) = tokio::join!(scene, svg);
        assert_eq!(svg.unwrap().status(), 503, "the only CAD worker is drawing the scene");
        let scene = scene.unwrap();
        assert_eq!(scene.status(), 422, "the scene ran out of its time budget");
        let request_id = scene.headers()["x-request-id"].to_str().unwrap().to_owned();

        let timed_out = wait_for_error(&http, &served.base, &access, |e| e["request_id"] == request_id.as_str()).await;
        assert_eq!(timed_out["level"], "WARN", "{timed_out}");
        assert_eq!(timed_out["message"], "a CAD request was refused");
        assert!(timed_out["context"]["error"].as_str().unwrap().contains("time budget"), "{timed_out}");
        assert_eq!(timed_out["context"]["drawing"], id.as_str());
        let busy = wait_for_error(&http, &served.base, &access, |e| {
            e["context"]["error"].as_str().is_some_and(|error| error.contains("busy"))
        })
        .await;
        assert_eq!(busy["level"], "WARN", "{busy}");
        assert_eq!(busy["context"]["what"], "SVG export", "{busy}");
    })
    .await;
}
