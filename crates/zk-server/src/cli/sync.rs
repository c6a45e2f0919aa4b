//! `zk-agent sync status|run|verify`: object-storage sync from the command line, through the core's
//! sync service (the same one `serve` runs in the background).

use clap::Subcommand;
use zk_core::Core;
use zk_core::config::Config;
use zk_core::sync::StorageStatus;

#[derive(Subcommand)]
pub enum SyncCommand {
    /// Where files are kept and how far the bucket is behind (pending items and bytes, last error)
    Status {
        /// One JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Try failed items again and upload every pending one now; exit 1 when any is left
    Run,
    /// Check that every file the database knows is in the bucket with the right size, re-hashing a
    /// sample of objects (every object with --all); exit 1 with the list of mismatches
    Verify {
        /// Read back and hash every object, not a sample
        #[arg(long)]
        all: bool,
        /// One JSON object instead of text
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: Config, command: SyncCommand) -> anyhow::Result<()> {
    let core = Core::open(config).await?;
    let result = run_on(&core, command).await;
    core.close().await;
    result
}

async fn run_on(core: &Core, command: SyncCommand) -> anyhow::Result<()> {
    match command {
        SyncCommand::Status { json } => {
            let status = core.storage_status().await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print_status(&status);
            }
            Ok(())
        }
        SyncCommand::Run => {
            let attempts = core.sync_drain().await?;
            let status = core.storage_status().await?;
            out!("sync run: {attempts} attempt(s)");
            print_status(&status);
            if status.pending > 0 || status.deleting > 0 || status.failed > 0 {
                anyhow::bail!(
                    "{} upload(s), {} deletion(s) still pending and {} failed; see the last error above",
                    status.pending,
                    status.deleting,
                    status.failed
                );
            }
            Ok(())
        }
        SyncCommand::Verify { all, json } => {
            let report = core.sync_verify(all).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for mismatch in &report.mismatches {
                    out!("mismatch {} ({}): {}", mismatch.sha256, mismatch.key, mismatch.problem);
                }
                out!(
                    "verify: {} file content(s) checked, {} read back and hashed, {} mismatch(es)",
                    report.checked,
                    report.hashed,
                    report.mismatches.len()
                );
            }
            if report.mismatches.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} content(s) are not in the bucket as the database says", report.mismatches.len())
            }
        }
    }
}

fn print_status(status: &StorageStatus) {
    if status.backend == "local" {
        out!("storage: local file store only (no object storage configured; set S3_BUCKET to sync to a bucket)");
        return;
    }
    out!(
        "storage: s3 bucket {} at {}{}",
        status.bucket.as_deref().unwrap_or_default(),
        status.endpoint.as_deref().unwrap_or("AWS"),
        status.prefix.as_deref().filter(|p| !p.is_empty()).map(|p| format!(", prefix {p}")).unwrap_or_default()
    );
    let state = if status.offline { "offline" } else { "online" };
    out!(
        "{state}, {} pending ({} bytes), {} deletion(s) pending, {} failed, {} synced",
        status.pending,
        status.pending_bytes,
        status.deleting,
        status.failed,
        status.synced
    );
    if let Some(error) = &status.last_error {
        out!("last error: {error}");
    }
}
