//! `zk-agent migrate` and `zk-agent seed`.

use anyhow::Context;
use zk_core::Core;
use zk_core::config::Config;
use zk_core::request::RequestMeta;

pub async fn migrate(config: Config, status_only: bool) -> anyhow::Result<()> {
    // Migrating a lost database would only make it look like a real, empty one: refused, as at start.
    let files = zk_core::lost_database::stored_files(&config.files.upload_dir);
    let found_before = zk_core::lost_database::before_open(&config.database);
    if !status_only
        && files > 0
        && let Some(found) = found_before
    {
        return Err(zk_core::lost_database::LostDatabase::new(&config, found, files).into());
    }
    let store = zk_core::store::open(&config.database)
        .await
        .with_context(|| format!("cannot open {}", config.database.display()))?;
    if !status_only && files > 0 {
        let found = zk_core::lost_database::after_open(&*store).await;
        if let Ok(Some(found)) = found {
            store.close().await;
            return Err(zk_core::lost_database::LostDatabase::new(&config, found, files).into());
        }
    }
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

pub async fn seed(config: Config) -> anyhow::Result<()> {
    let core = Core::open(config).await?;
    let meta = RequestMeta { client: Some("zk-agent seed".into()), ..RequestMeta::default() };
    let added = core.admin.seed_defaults(&meta).await;
    core.close().await;
    let added = added?;
    for key in &added {
        out!("added {key}");
    }
    let present = zk_core::admin::default_settings().len() - added.len();
    out!("seed: {} setting(s) added, {present} already present", added.len());
    Ok(())
}
