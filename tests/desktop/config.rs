//! The desktop app's security configuration, read from the files that ship (checklist rows S1, S2,
//! S23): `tauri.conf.json`, every capability file under `src-tauri/capabilities/`, `Cargo.lock` and
//! the workspace `Cargo.toml`. Each test lists every violation it finds, with what to change.
//!
//! The same rules hold at run time: `src-tauri/tests/wiring.rs` checks that what the capability does
//! not grant is refused, and `tests/desktop/window.rs` that the CSP blocks `eval` in the real window.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Permissions a capability may grant. Each was reviewed for what it lets the page do; a new one
/// needs the same review (what can a script injected into the UI do with it?) before it is added here.
const REVIEWED_PERMISSIONS: &[&str] = &[
    // The shell's own commands (src-tauri/permissions/commands.toml).
    "allow-desktop-launch", // the API address and this launch's secret: the window's own sign-in
    "allow-save-file",      // writes only a path the user chose in the save dialog
    "allow-read-file",      // reads only a path the user picked or dropped
    // Listening to events: OS drag and drop arrives as `tauri://drag-drop` events.
    "core:event:allow-listen",
    "core:event:allow-unlisten",
    // Native dialogs; the user chooses, the page only learns the chosen path.
    "dialog:allow-open",
    "dialog:allow-save",
    // Notifications for finished tasks.
    "notification:allow-is-permission-granted",
    "notification:allow-request-permission",
    "notification:allow-notify",
];

/// Permission prefixes that grant broad access to the machine; never for the window (S1).
const FORBIDDEN_PREFIXES: &[&str] = &["shell:", "fs:", "http:", "process:", "opener:", "updater:"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the repository root").to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn tauri_conf() -> Value {
    let path = root().join("tauri.conf.json");
    serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

fn assert_none(what: &str, violations: Vec<String>) {
    assert!(violations.is_empty(), "{what}:\n  - {}", violations.join("\n  - "));
}

/// A CSP as directive → sources; Tauri accepts a string or a map of strings or lists.
fn directives(csp: &Value) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    match csp {
        Value::String(policy) => {
            for directive in policy.split(';') {
                let mut words = directive.split_whitespace();
                if let Some(name) = words.next() {
                    map.insert(name.to_ascii_lowercase(), words.map(str::to_owned).collect());
                }
            }
        }
        Value::Object(entries) => {
            for (name, sources) in entries {
                let sources = match sources {
                    Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
                    Value::Array(list) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                    other => panic!("CSP directive {name} has an unexpected value {other}"),
                };
                map.insert(name.to_ascii_lowercase(), sources);
            }
        }
        other => panic!("the CSP must be a string or an object, got {other}"),
    }
    map
}

/// S2 for one policy (`csp`, or `devCsp` for `cargo run` against the Vite dev server).
fn csp_violations(name: &str, csp: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    let text = csp.to_string();
    if text.contains("unsafe-eval") {
        violations.push(format!("{name} allows 'unsafe-eval' (string-to-code); remove it"));
    }
    let directives = directives(csp);
    let script = directives.get("script-src").or_else(|| directives.get("default-src"));
    match script {
        None => violations.push(format!("{name} has neither script-src nor default-src: scripts are unrestricted")),
        Some(sources) => {
            for source in sources {
                let lower = source.to_ascii_lowercase();
                if lower == "data:" || lower == "blob:" || lower == "*" || lower == "'unsafe-inline'" {
                    violations.push(format!("{name}: script-src allows {source}; scripts must come from 'self' only"));
                }
            }
        }
    }
    for (directive, wanted) in [("object-src", "'none'"), ("base-uri", "'none'")] {
        if directives.get(directive).is_none_or(|sources| sources != &[wanted.to_owned()]) {
            violations.push(format!("{name} must contain `{directive} {wanted}`"));
        }
    }
    if !directives.contains_key("default-src") {
        violations.push(format!("{name} has no default-src; add `default-src 'self'`"));
    }
    violations
}

#[test]
fn the_csp_is_strict() {
    let conf = tauri_conf();
    let security = &conf["app"]["security"];
    let mut violations = Vec::new();
    match &security["csp"] {
        Value::Null => violations.push("app.security.csp is missing: the window would run without a CSP".into()),
        csp => violations.extend(csp_violations("app.security.csp", csp)),
    }
    if !security["devCsp"].is_null() {
        violations.extend(csp_violations("app.security.devCsp", &security["devCsp"]));
    }
    match &security["dangerousDisableAssetCspModification"] {
        Value::Null | Value::Bool(false) => {}
        Value::Array(kinds) if kinds.iter().all(|k| k == "style-src") => {}
        other => violations.push(format!(
            "dangerousDisableAssetCspModification is {other}; only [\"style-src\"] is allowed (script hashes and \
             nonces must stay)"
        )),
    }
    assert_none("tauri.conf.json's CSP (checklist S2)", violations);
}

#[test]
fn the_window_is_hardened() {
    let conf = tauri_conf();
    let app = &conf["app"];
    let security = &app["security"];
    let mut violations = Vec::new();
    if security["freezePrototype"] != Value::Bool(true) {
        violations.push("app.security.freezePrototype must be true (prototype pollution defence)".to_owned());
    }
    if security["pattern"]["use"] != "isolation" {
        violations.push(format!(
            "app.security.pattern.use is {}, must be \"isolation\" (every IPC message passes the isolation frame)",
            security["pattern"]["use"]
        ));
    } else {
        let dir = security["pattern"]["options"]["dir"].as_str().unwrap_or_default();
        if !root().join(dir).join("index.html").is_file() {
            violations.push(format!("the isolation page {dir}/index.html does not exist"));
        }
    }
    if app["withGlobalTauri"] == Value::Bool(true) {
        violations.push("app.withGlobalTauri must not be true: the UI imports @tauri-apps/api instead".into());
    }
    if security["assetProtocol"]["enable"] == Value::Bool(true) {
        violations.push("app.security.assetProtocol must stay disabled: files reach the UI through the API".into());
    }
    for window in app["windows"].as_array().into_iter().flatten() {
        if let Some(url) = window["url"].as_str()
            && (url.starts_with("http:") || url.starts_with("https:"))
        {
            violations
                .push(format!("window {} loads a remote page {url}; it must load the bundled UI", window["label"]));
        }
    }
    if !security["capabilities"].is_null() {
        for capability in security["capabilities"].as_array().into_iter().flatten() {
            if capability.is_object() {
                violations.extend(capability_violations("tauri.conf.json (inline)", capability));
            }
        }
    }
    assert_none("tauri.conf.json (checklist S2)", violations);
}

fn capability_violations(file: &str, capability: &Value) -> Vec<String> {
    let id = capability["identifier"].as_str().unwrap_or("<no identifier>");
    let mut violations = Vec::new();
    let mut labels = Vec::new();
    for key in ["windows", "webviews"] {
        for label in capability[key].as_array().into_iter().flatten() {
            let label = label.as_str().unwrap_or_default();
            if label.contains('*') || label.contains('?') || label.contains('[') {
                violations
                    .push(format!("{file} ({id}): {key} contains the pattern {label:?}; name the window exactly"));
            }
            labels.push(label.to_owned());
        }
    }
    if labels.is_empty() {
        violations.push(format!("{file} ({id}): names no window; a capability must name the windows it is for"));
    }
    if capability.get("remote").is_some() {
        violations.push(format!("{file} ({id}): has a `remote` key: remote pages must never reach the IPC"));
    }
    if capability["local"] == Value::Bool(false) {
        violations.push(format!("{file} ({id}): `local: false` is meant for remote pages; remove it"));
    }
    for permission in capability["permissions"].as_array().into_iter().flatten() {
        let (identifier, scoped) = match permission {
            Value::String(identifier) => (identifier.as_str(), false),
            Value::Object(entry) => (entry.get("identifier").and_then(Value::as_str).unwrap_or_default(), true),
            other => {
                violations.push(format!("{file} ({id}): unexpected permission entry {other}"));
                continue;
            }
        };
        if let Some(prefix) = FORBIDDEN_PREFIXES.iter().find(|p| identifier.starts_with(*p)) {
            violations.push(format!(
                "{file} ({id}): grants {identifier}: no {prefix} permission for the window (broad filesystem, \
                 shell, network or process access); add a narrow shell command instead"
            ));
        } else if !REVIEWED_PERMISSIONS.contains(&identifier) {
            violations.push(format!(
                "{file} ({id}): grants {identifier}, which is not in REVIEWED_PERMISSIONS of \
                 tests/desktop/config.rs; review what a script in the window could do with it, then add it there"
            ));
        }
        if scoped {
            violations.push(format!("{file} ({id}): {identifier} has a scope object; review scopes here first"));
        }
    }
    violations
}

#[test]
fn capabilities_grant_least_privilege() {
    let dir = root().join("src-tauri/capabilities");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    let mut violations = Vec::new();
    let mut main_granted = false;
    for path in &files {
        let name = path.strip_prefix(root()).unwrap_or(path).display().to_string();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            violations.push(format!("{name}: only JSON capability files are checked; convert it to JSON"));
            continue;
        }
        let capability: Value =
            serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
        main_granted |= capability["windows"].as_array().is_some_and(|w| w.iter().any(|l| l == "main"));
        violations.extend(capability_violations(&name, &capability));
    }
    assert!(main_granted, "no capability names the `main` window: the UI could not call desktop_launch");
    assert_none("capabilities (checklist S1)", violations);
}

#[test]
fn tauri_is_at_least_2_11() {
    let lock: toml::Value = toml::from_str(&read(&root().join("Cargo.lock"))).expect("Cargo.lock is TOML");
    let versions: Vec<String> = lock["package"]
        .as_array()
        .expect("Cargo.lock lists packages")
        .iter()
        .filter(|p| p["name"].as_str() == Some("tauri"))
        .filter_map(|p| p["version"].as_str().map(str::to_owned))
        .collect();
    assert!(!versions.is_empty(), "Cargo.lock has no tauri package: is the desktop app still a workspace member?");
    for version in versions {
        let mut parts = version.split(['.', '-']).map(|p| p.parse::<u64>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        assert!(
            major == 2 && minor >= 11,
            "Cargo.lock has tauri {version}; it must be 2.x with x >= 11 (checklist S2; 3.0 alphas are not used)"
        );
    }
}

#[test]
fn no_profile_aborts_on_panic() {
    let manifest: toml::Value = toml::from_str(&read(&root().join("Cargo.toml"))).expect("Cargo.toml is TOML");
    let mut violations = Vec::new();
    fn walk(path: String, value: &toml::Value, violations: &mut Vec<String>) {
        if let Some(table) = value.as_table() {
            for (key, value) in table {
                if key == "panic" && value.as_str() == Some("abort") {
                    violations.push(format!(
                        "[{path}] sets panic = \"abort\"; the CAD parser relies on catch_unwind, keep \"unwind\""
                    ));
                }
                walk(format!("{path}.{key}"), value, violations);
            }
        }
    }
    if let Some(profiles) = manifest.get("profile") {
        walk("profile".into(), profiles, &mut violations);
    }
    let release_panic = manifest.get("profile").and_then(|p| p.get("release")).and_then(|r| r.get("panic"));
    if release_panic.and_then(toml::Value::as_str) != Some("unwind") {
        violations.push("[profile.release] must say panic = \"unwind\" explicitly".into());
    }
    assert_none("Cargo.toml profiles (checklist S23)", violations);
}

/// The checks themselves: each rule catches what it is meant to catch.
#[test]
fn the_checks_catch_what_they_should() {
    let weak = serde_json::json!("default-src 'self'; script-src 'self' 'unsafe-eval' data: blob:");
    let found = csp_violations("csp", &weak).join("\n");
    for needle in ["unsafe-eval", "data:", "blob:", "object-src 'none'", "base-uri 'none'"] {
        assert!(found.contains(needle), "a CSP with {needle} problems must be flagged:\n{found}");
    }
    let map = serde_json::json!({ "default-src": "'self'", "script-src": ["'self'"], "object-src": "'none'", "base-uri": "'none'" });
    assert!(csp_violations("csp", &map).is_empty(), "the object form of a CSP is understood");

    let broad = serde_json::json!({
        "identifier": "bad", "windows": ["*"], "remote": { "urls": ["https://*"] },
        "permissions": ["fs:default", "shell:allow-execute", "http:default", "core:window:allow-close",
                        { "identifier": "dialog:allow-open", "allow": [] }]
    });
    let found = capability_violations("bad.json", &broad).join("\n");
    for needle in
        ["\"*\"", "remote", "fs:default", "shell:allow-execute", "http:default", "core:window:allow-close", "scope"]
    {
        assert!(found.contains(needle), "a capability with {needle} must be flagged:\n{found}");
    }
}
