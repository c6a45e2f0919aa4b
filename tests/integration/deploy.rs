//! `deploy/` checked against the real thing: the Grafana dashboard parses and names only metrics a
//! real scrape has; the alert rules pass `promtool check rules` and their unit tests; the container
//! file's instructions make a runnable, non-root image; the systemd unit is hardened.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use zk_tests::server::TestServer;

use crate::metrics::{REQUIRED, scrape};

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy").join(path)
}

/// Metric names in a PromQL expression: the identifiers that are followed by a selector, a range
/// or an operator, minus functions, keywords and label names. Histogram series are reduced to
/// their family (`_bucket`, `_sum`, `_count`).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    let mut in_braces = 0;
    let mut in_quotes = false;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if in_quotes {
            if c == '"' {
                in_quotes = false;
            }
            i += 1;
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '{' => in_braces += 1,
            '}' => in_braces -= 1,
            _ => {}
        }
        if in_braces == 0 && (c.is_ascii_alphabetic() || c == '_') {
            let start = i;
            while i < bytes.len()
                && ((bytes[i] as char).is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b':')
            {
                i += 1;
            }
            let word = &expr[start..i];
            let next = expr[i..].trim_start().chars().next();
            let is_metric = (word.starts_with("zk_") || word.starts_with("process_")) && next != Some('(');
            if is_metric {
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| word.strip_suffix(suffix))
                    .filter(|base| base.ends_with("_seconds") || base.ends_with("_bytes"))
                    .unwrap_or(word);
                names.insert(family.to_owned());
            }
            continue;
        }
        i += 1;
    }
    names
}

#[test]
fn metric_names_are_read_from_promql() {
    let names = metric_names(
        r#"histogram_quantile(0.99, sum by (route, le) (rate(zk_http_request_duration_seconds_bucket{job="$job", route=~"zk_.*"}[5m]))) / time() - process_start_time_seconds"#,
    );
    let expected: BTreeSet<String> =
        ["zk_http_request_duration_seconds", "process_start_time_seconds"].iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(names, expected, "label values and functions are not metrics");
}

#[tokio::test]
async fn the_dashboard_parses_and_uses_only_metrics_a_scrape_has() {
    let text = std::fs::read_to_string(deploy("grafana/zk-agent.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert_eq!(dashboard["uid"], "zk-agent");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10, "a panel per area of the manual's section 5.1");
    let mut used = BTreeSet::new();
    for panel in panels {
        let targets = panel["targets"].as_array().unwrap_or_else(|| panic!("{} has targets", panel["title"]));
        assert!(!targets.is_empty(), "{} queries something", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().unwrap();
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{}: {expr} names a metric", panel["title"]);
            used.extend(names);
        }
    }

    let db = zk_tests::db::TestDatabase::sqlite();
    let server = TestServer::start(&db).await;
    server.user("ada", zk_core::store::Role::Admin).await;
    // The dependency gauges appear after the loop's first round.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let scrape = loop {
        let scrape = scrape(&server).await;
        if scrape.families.iter().any(|f| f == "zk_dependency_up") || std::time::Instant::now() > deadline {
            break scrape;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let missing: Vec<&String> = used.iter().filter(|name| !scrape.families.contains(name)).collect();
    assert!(missing.is_empty(), "the dashboard uses metrics the server does not have: {missing:?}");
    for name in REQUIRED {
        assert!(used.contains(*name), "the dashboard shows {name}");
    }
    server.stop().await;
}

/// Runs promtool with `args` in `deploy/prometheus`, or says it skipped when promtool is missing
/// (CI installs it: a missing one fails there).
fn promtool(args: &[&str]) {
    let output = std::process::Command::new("promtool").args(args).current_dir(deploy("prometheus")).output();
    match output {
        Ok(output) => assert!(
            output.status.success(),
            "promtool {args:?} fails:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "promtool is missing ({error}); CI installs it");
            println!("SKIPPED: promtool {args:?} (promtool not installed: apt-get install prometheus)");
        }
    }
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    promtool(&["check", "rules", "rules.yml"]);
    promtool(&["test", "rules", "rules_test.yml"]);
}

#[test]
fn every_alert_rule_has_a_unit_test_and_keys_on_served_metrics() {
    let rules = std::fs::read_to_string(deploy("prometheus/rules.yml")).unwrap();
    let tests = std::fs::read_to_string(deploy("prometheus/rules_test.yml")).unwrap();
    let alerts: Vec<&str> = rules.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).collect();
    assert!(alerts.len() >= 15, "the manual's alert list: {alerts:?}");
    for alert in &alerts {
        let tested = tests.lines().any(|l| l.trim() == format!("alertname: {alert}"));
        assert!(tested, "{alert} has a promtool test case in rules_test.yml");
    }
    // Every zk_ or process_ metric a rule reads is one the server declares.
    let served: BTreeSet<&str> = REQUIRED.iter().copied().collect();
    for line in rules.lines() {
        for name in metric_names(line) {
            assert!(served.contains(name.as_str()), "rules.yml reads {name}, which /metrics does not serve");
        }
    }
}

/// One instruction of a container file: keyword and its arguments, continuations joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            joined.push(std::mem::take(&mut current));
        }
    }
    assert!(current.is_empty(), "the file ends in a continuation");
    joined
        .into_iter()
        .map(|line| {
            let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            (keyword.to_owned(), args.trim().to_owned())
        })
        .collect()
}

#[test]
fn the_container_file_builds_a_non_root_image_that_serves_and_checks_its_health() {
    const KNOWN: &[&str] = &[
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ];
    let text = std::fs::read_to_string(deploy("container/Containerfile")).unwrap();
    let all = instructions(&text);
    for (keyword, args) in &all {
        assert!(KNOWN.contains(&keyword.as_str()), "{keyword} is a Containerfile instruction");
        assert!(!args.is_empty(), "{keyword} has arguments");
    }
    assert_eq!(all[0].0, "FROM", "the file starts with FROM");
    // The stages and what the last one (the image) holds.
    let stages: Vec<usize> = all.iter().enumerate().filter(|(_, (k, _))| k == "FROM").map(|(i, _)| i).collect();
    let names: Vec<String> =
        stages.iter().filter_map(|&i| all[i].1.split_once(" AS ").map(|(_, name)| name.trim().to_owned())).collect();
    for (keyword, args) in &all {
        if keyword == "COPY"
            && let Some(from) = args.split_whitespace().find_map(|a| a.strip_prefix("--from="))
        {
            assert!(names.iter().any(|n| n == from), "COPY --from={from} names an earlier stage");
        }
    }
    let last = &all[*stages.last().unwrap()..];
    let find = |keyword: &str| last.iter().filter(|(k, _)| k == keyword).map(|(_, a)| a.as_str()).next_back();
    let user = find("USER").expect("the image sets USER");
    let uid = user.split(':').next().unwrap();
    assert!(uid != "root" && uid != "0" && !uid.is_empty(), "the server runs as an unprivileged user, not {user}");
    assert!(find("EXPOSE").is_some_and(|p| p.split_whitespace().any(|p| p == "3000")), "EXPOSE 3000 (PORT)");
    let health = find("HEALTHCHECK").expect("a HEALTHCHECK");
    assert!(health.contains("CMD") && health.contains("/api/health"), "the health check asks /api/health: {health}");
    let entrypoint: Vec<String> = serde_json::from_str(find("ENTRYPOINT").expect("ENTRYPOINT")).expect("exec form");
    let cmd: Vec<String> = serde_json::from_str(find("CMD").expect("CMD")).expect("exec form");
    assert!(entrypoint[0].ends_with("/zk-agent") && cmd == ["serve"], "it runs `zk-agent serve`");
    let env = last.iter().filter(|(k, _)| k == "ENV").map(|(_, a)| a.as_str()).collect::<Vec<_>>().join(" ");
    for setting in ["ZK_DATA_DIR=", "HOST=0.0.0.0", "PORT=3000"] {
        assert!(env.contains(setting), "the image sets {setting}: {env}");
    }
    for name in env.split_whitespace().filter_map(|kv| kv.split_once('=').map(|(k, _)| k)) {
        assert!(zk_core::config::settings().any(|s| s.name == name), "{name} is a setting zk-agent reads");
    }
}

#[test]
fn the_systemd_unit_is_hardened_and_runs_the_server() {
    let text = std::fs::read_to_string(deploy("systemd/zk-agent.service")).unwrap();
    let mut section = String::new();
    let mut entries: Vec<(String, String, String)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("{line:?} is key=value"));
        entries.push((section.clone(), key.to_owned(), value.to_owned()));
    }
    let get = |key: &str| entries.iter().find(|(s, k, _)| s == "Service" && k == key).map(|(_, _, v)| v.as_str());
    assert!(get("ExecStart").is_some_and(|v| v.ends_with("zk-agent serve")), "ExecStart runs the server");
    assert!(get("DynamicUser") == Some("yes") || get("User").is_some_and(|u| u != "root"), "not as root");
    for (key, value) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
    ] {
        assert_eq!(get(key), Some(value), "{key}={value}");
    }
    assert!(get("StateDirectory").is_some(), "a writable state directory under ProtectSystem=strict");
    assert!(entries.iter().any(|(s, k, v)| s == "Install" && k == "WantedBy" && v == "multi-user.target"));
}
