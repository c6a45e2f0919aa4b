//! `zk-agent migrate` and `zk-agent seed`.

use anyhow::Context;
use serde_json::{Value, json};
use zk_core::Core;
use zk_core::accounts::RequestMeta;
use zk_core::app::Migrations;
use zk_core::clock::SystemClock;
use zk_core::config::Config;

pub async fn migrate(config: Config, status_only: bool) -> anyhow::Result<()> {
    let store = zk_core::store::open(&config.database)
        .await
        .with_context(|| format!("cannot open {}", config.database.display()))?;
    let (before, known) = store.migration_status().await?;
    if status_only {
        out!("{}: {before} of {known} migrations applied", config.database.display());
    } else {
        store.migrate().await?;
        let (after, _) = store.migration_status().await?;
        out!(
            "{}: applied {} migration(s); {after} of {known} applied",
            config.database.display(),
            after.saturating_sub(before)
        );
    }
    store.close().await;
    Ok(())
}

/// Settings every installation starts with; existing values are left as they are.
fn defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("features.chat", json!(true)),
        ("features.cad", json!(true)),
        ("features.posters", json!(true)),
        ("features.sync", json!(false)),
        ("ui.default_language", json!("auto")),
        ("ui.default_theme", json!("system")),
        ("tasks.default_timeout_secs", json!(600)),
    ]
}

pub async fn seed(config: Config) -> anyhow::Result<()> {
    let core = Core::open_with(config, std::sync::Arc::new(SystemClock), Migrations::Apply).await?;
    let meta = RequestMeta { client: Some("zk-agent seed".into()), ..RequestMeta::default() };
    let mut added = 0;
    for (key, value) in defaults() {
        if core.admin.config_value(key).await?.is_none() {
            core.admin.set_config(None, key, value, &meta).await?;
            out!("added {key}");
            added += 1;
        }
    }
    out!("seed: {added} setting(s) added, {} already present", defaults().len() - added);
    core.close().await;
    Ok(())
}
