//! `zk-agent config show`: every setting, its effective value (secrets redacted) and its source.

use serde_json::json;
use zk_core::config::Config;

pub fn run(config: &Config, as_json: bool) -> anyhow::Result<()> {
    let rows = config.shown_rows();
    if as_json {
        let settings: Vec<_> =
            rows.iter().map(|row| json!({ "name": row.name, "value": row.value, "source": row.source })).collect();
        let effective = json!({
            "database": config.database.display(),
            "data_dir": config.data_dir,
            "upload_dir": config.files.upload_dir,
            "cad_dir": config.cad.dir,
            "listen": format!("{}:{}", config.server.host, config.server.port),
            "cache": if config.cache.redis_url.is_some() { "redis" } else { "memory" },
        });
        out!("{}", serde_json::to_string_pretty(&json!({ "effective": effective, "settings": settings }))?);
        return Ok(());
    }
    out!("effective:");
    out!("  database   {}", config.database.display());
    out!("  data dir   {}", config.data_dir.display());
    out!("  files      {}", config.files.upload_dir.display());
    out!("  drawings   {}", config.cad.dir.display());
    out!("  listen     {}:{}", config.server.host, config.server.port);
    out!("  cache      {}", if config.cache.redis_url.is_some() { "redis" } else { "in-process" });
    out!("");
    out!("{:<28} {:<40} source", "setting", "value");
    for row in rows {
        out!("{:<28} {:<40} {}", row.name, row.value, row.source);
    }
    Ok(())
}
