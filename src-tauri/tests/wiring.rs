//! The desktop shell's wiring, in-process and without a display: the real app (`zk_agent_desktop::build`,
//! its commands, capabilities and plugins) on `tauri::test`'s mock runtime, and the real core and
//! HTTP server behind it on a fresh SQLite database.
//!
//! - `desktop_launch` hands the window a loopback API that answers, and a secret that signs the window
//!   (Origin `tauri://localhost`) in as the local owner, an admin; a wrong secret or a foreign origin
//!   gets nothing.
//! - A start-up failure (bad configuration, damaged or lost database) reaches the failure reporter and the
//!   UI (`desktop_launch` fails with `start_failed`) instead of panicking.
//! - Checklist S3: every command that takes arguments (`save_file`, `read_file`) refuses traversal,
//!   relative, Windows and UNC paths, NUL bytes, a 10 MB string and symlinks pointing elsewhere, and
//!   touches only a path the user picked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, AppHandle, Manager, WebviewWindow, WebviewWindowBuilder};
use tauri_plugin_fs::FsExt as _;
use zk_agent_desktop::DesktopLaunch;
use zk_core::config::{Config, ConfigError};

/// Start-up failures the app reported (instead of the native message box of the real app).
static FAILURES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_failure(_app: &AppHandle<MockRuntime>, message: String) {
    FAILURES.lock().unwrap().push(message);
}

fn app(config: Result<Config, ConfigError>) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = zk_agent_desktop::build(mock_builder(), config, record_failure).expect("the app builds");
    // The window from tauri.conf.json; capabilities name it, so the label must match.
    let window = match app.get_webview_window("main") {
        Some(window) => window,
        None => WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("main window"),
    };
    (app, window)
}

/// Calls a command the way the UI does (from the bundled page's origin).
fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    invoke_raw(window, cmd, args).map(|body| body.deserialize::<Value>().unwrap())
}

fn invoke_raw(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<tauri::ipc::InvokeResponseBody, Value> {
    let url = if cfg!(windows) { "http://tauri.localhost" } else { "tauri://localhost" };
    tauri::test::get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: url.parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
}

fn launch(window: &WebviewWindow<MockRuntime>) -> DesktopLaunch {
    serde_json::from_value(invoke(window, "desktop_launch", json!({})).expect("desktop_launch succeeds")).unwrap()
}

fn error_code(result: Result<Value, Value>) -> String {
    let error = result.expect_err("the command must fail");
    error["code"].as_str().unwrap_or_else(|| panic!("a typed error with a code, got {error}")).to_owned()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

#[test]
fn desktop_launch_serves_the_api_on_loopback_and_signs_the_window_in_as_owner() {
    let data = tempfile::tempdir().unwrap();
    let (app, window) = app(Ok(Config::offline(data.path())));
    let launch = launch(&window);

    let port: u16 = launch
        .api_base
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("the API must be on 127.0.0.1, got {}", launch.api_base))
        .parse()
        .expect("api_base ends in a port");
    assert_ne!(port, 0, "an ephemeral port was bound");
    assert_eq!(launch.launch_secret.len(), 64, "32 random bytes as hex");
    let again = self::launch(&window);
    assert_eq!(again, launch, "desktop_launch answers the same for the whole launch");

    tauri::async_runtime::block_on(async {
        let http = http();
        let base = &launch.api_base;
        let health = http.get(format!("{base}/api/health")).send().await.expect("the API answers");
        assert_eq!(health.status(), 200, "GET /api/health");

        let signed_in = http
            .post(format!("{base}/api/auth/desktop"))
            .header("Origin", "tauri://localhost")
            .json(&json!({ "launch_secret": launch.launch_secret }))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 200, "the window signs in with the launch secret");
        assert_eq!(
            signed_in.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
            Some("tauri://localhost"),
            "CORS answered for the window's origin"
        );
        let body: Value = signed_in.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap_or_else(|| panic!("an access token in {body}"));
        let me: Value =
            http.get(format!("{base}/api/auth/me")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["role"], "admin", "the local owner is an admin: {me}");

        let wrong = http
            .post(format!("{base}/api/auth/desktop"))
            .header("Origin", "tauri://localhost")
            .json(&json!({ "launch_secret": "0".repeat(64) }))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 403, "a wrong launch secret is refused");

        let foreign = http
            .post(format!("{base}/api/auth/desktop"))
            .header("Origin", "https://evil.example")
            .json(&json!({ "launch_secret": launch.launch_secret }))
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 403, "another origin cannot use the secret even when it knows it");
        assert!(foreign.headers().get("access-control-allow-origin").is_none(), "no CORS for other origins");
    });

    zk_agent_desktop::shutdown(app.handle());
    let after =
        tauri::async_runtime::block_on(async { http().get(format!("{}/api/health", launch.api_base)).send().await });
    assert!(after.is_err(), "the server stops with the app");
}

#[test]
fn a_bad_configuration_is_reported_not_panicked() {
    let problem = ConfigError {
        name: "DATABASE_URL".into(),
        value: Some("mysql://db".into()),
        source: None,
        problem: "unsupported database".into(),
        fix: "use postgres:// or sqlite://".into(),
    };
    let (app, window) = app(Err(problem));
    let error = invoke(&window, "desktop_launch", json!({})).expect_err("no launch without a core");
    assert_eq!(error["code"], "start_failed");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("DATABASE_URL") && message.contains("fix"), "names the variable and the fix: {message}");
    assert!(
        FAILURES.lock().unwrap().iter().any(|m| m.contains("DATABASE_URL")),
        "the failure reached the reporter (the native message box in the real app)"
    );
    zk_agent_desktop::shutdown(app.handle());
}

#[test]
fn a_damaged_database_is_reported_not_panicked() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("zk-agent.db"), vec![0x5a; 64 * 1024]).unwrap();
    let (app, window) = app(Ok(Config::offline(data.path())));
    let error = invoke(&window, "desktop_launch", json!({})).expect_err("a damaged database stops the start");
    assert_eq!(error["code"], "start_failed");
    assert!(error["message"].as_str().unwrap().contains("database"), "says it is the database: {error}");
    zk_agent_desktop::shutdown(app.handle());
}

#[test]
fn a_lost_database_is_reported_with_the_ways_on() {
    let data = tempfile::tempdir().unwrap();
    // The file store holds an upload, the database beside it is gone.
    let blob = data.path().join("files/sha256/ab/cd");
    std::fs::create_dir_all(&blob).unwrap();
    std::fs::write(blob.join(format!("abcd{}", "0".repeat(60))), b"an upload").unwrap();
    let (app, window) = app(Ok(Config::offline(data.path())));
    let error = invoke(&window, "desktop_launch", json!({})).expect_err("a lost database stops the start");
    assert_eq!(error["code"], "start_failed");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("holds 1 file but the database") && message.contains("is missing"), "{message}");
    assert!(message.contains("--new-database") && message.contains("from a backup"), "{message}");
    assert!(
        FAILURES.lock().unwrap().iter().any(|m| m.contains("--new-database")),
        "the failure reached the reporter (the native message box in the real app)"
    );
    assert!(!data.path().join("zk-agent.db").exists(), "no empty database was created in its place");
    zk_agent_desktop::shutdown(app.handle());
}

/// The capability is enforced, not just written: what it does not grant is refused at run time.
#[test]
fn the_window_gets_only_what_its_capability_grants() {
    let data = tempfile::tempdir().unwrap();
    let (app, window) = app(Ok(Config::offline(data.path())));
    for (cmd, args) in [
        // The fs plugin is registered (for its scope) but the window has no `fs:` permission.
        ("plugin:fs|read_text_file", json!({ "path": "/etc/hostname" })),
        ("plugin:fs|write_text_file", json!({ "path": "/tmp/zk-capability-test", "data": "x" })),
        // Dialogs: open and save only, no message boxes driven by the page.
        ("plugin:dialog|message", json!({ "message": "hi" })),
        // Window and app control is not granted.
        ("plugin:window|close", json!({ "label": "main" })),
        ("plugin:app|app_hide", json!({})),
    ] {
        let error = invoke(&window, cmd, args).expect_err(cmd);
        assert!(error.to_string().contains("not allowed"), "{cmd} must be refused by the ACL, got {error}");
    }
    assert!(!Path::new("/tmp/zk-capability-test").exists());

    // Another window (say, one a compromised page managed to open) gets none of the shell's commands.
    let other = WebviewWindowBuilder::new(&app, "other", Default::default()).build().unwrap();
    let error = invoke(&other, "desktop_launch", json!({})).expect_err("only `main` may ask for the launch secret");
    assert!(error.to_string().contains("not allowed"), "got {error}");
    zk_agent_desktop::shutdown(app.handle());
}

/// Checklist S3 for `save_file` and `read_file`.
#[test]
fn file_commands_touch_only_paths_the_user_picked() {
    let data = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let (app, window) = app(Ok(Config::offline(data.path())));

    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "not yours").unwrap();
    let target = outside.path().join("written-by-attack.txt");
    let picked_dir = tempfile::tempdir().unwrap();
    let picked = picked_dir.path().join("drawing.dxf");
    let long = format!("/{}", "a".repeat(10 * 1024 * 1024));
    let hostile: Vec<String> = vec![
        "../../etc/passwd".into(),
        "/etc/passwd".into(),
        secret.display().to_string(),
        format!("{}/../{}", picked_dir.path().display(), "etc/passwd"),
        format!("{}/../../../../../etc/passwd", data.path().display()),
        "C:\\Windows\\win.ini".into(),
        "\\\\host\\share\\file".into(),
        format!("{}\0.png", picked.display()),
        "".into(),
        long,
    ];
    for path in &hostile {
        let shown: String = path.chars().take(60).collect();
        let read = error_code(invoke(&window, "read_file", json!({ "path": path })));
        assert!(["invalid_path", "not_picked"].contains(&read.as_str()), "read_file({shown:?}) → {read}");
        let save = error_code(invoke(&window, "save_file", json!({ "path": path, "bytes": [65, 66] })));
        assert!(["invalid_path", "not_picked"].contains(&save.as_str()), "save_file({shown:?}) → {save}");
    }
    let save = error_code(invoke(&window, "save_file", json!({ "path": target, "bytes": [65] })));
    assert_eq!(save, "not_picked", "a path nobody picked is refused");
    assert!(!target.exists(), "nothing was written outside the picked paths");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "not yours", "and nothing overwritten");

    // A symlink inside the app's data directory pointing out is refused while nobody picked it; once
    // picked, saving replaces the link itself (write beside, then rename) and leaves its target alone.
    #[cfg(unix)]
    {
        let link = data.path().join("link.txt");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let read = error_code(invoke(&window, "read_file", json!({ "path": link })));
        assert_eq!(read, "not_picked", "a symlink nobody picked is refused");
        let save = error_code(invoke(&window, "save_file", json!({ "path": link, "bytes": [65] })));
        assert_eq!(save, "not_picked");
        app.fs_scope().allow_file(&link).unwrap();
        invoke(&window, "save_file", json!({ "path": link, "bytes": [65] })).expect("saves over the picked link");
        assert!(!link.is_symlink(), "the link was replaced, not written through");
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "not yours", "the symlink's target is untouched");
    }

    // What the dialog plugin does when the user picks a path: it lands in the fs scope.
    app.fs_scope().allow_file(&picked).unwrap();
    invoke(&window, "save_file", json!({ "path": picked, "bytes": b"0\nSECTION\n" })).expect("saves a picked path");
    assert_eq!(std::fs::read(&picked).unwrap(), b"0\nSECTION\n");
    let body = invoke_raw(&window, "read_file", json!({ "path": picked })).expect("reads a picked path");
    match body {
        tauri::ipc::InvokeResponseBody::Raw(bytes) => assert_eq!(bytes, b"0\nSECTION\n"),
        other => panic!("raw bytes expected, got {other:?}"),
    }
    app.fs_scope().allow_directory(picked_dir.path(), false).unwrap();
    let not_file = error_code(invoke(&window, "read_file", json!({ "path": picked_dir.path() })));
    assert_eq!(not_file, "not_a_file");

    assert_only_expected_files(outside.path(), &["secret.txt"]);
    zk_agent_desktop::shutdown(app.handle());
}

fn assert_only_expected_files(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, expected, "files in {}", dir.display());
}
