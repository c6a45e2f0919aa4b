//! Object-storage sync against a plain client, to one SeaweedFS (`scripts/seaweedfs.sh`):
//!
//! - `sync-bench throughput [FILES]`: FILES (default 1,000) mixed files (1 KB to 10 MB) uploaded by a
//!   plain object_store client (`PUT` each, as many at once as the sync service works on) and then by
//!   the sync service (outbox claim, upload, verification, outbox update), each under its own prefix;
//!   prints both times and the ratio, and the outbox's own cost per file (row written, claimed and
//!   finished, on SQLite, no network).
//! - `sync-bench big [MiB]`: one file (default 2048 MiB) synced by the service (multipart); prints
//!   the peak resident memory of this process before and after.
//!
//! bench/README.md has the commands and the figures.
#![allow(clippy::unwrap_used)] // A benchmark that cannot unwrap has already failed; the panic says where.

use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use rand::Rng;
use zk_core::clock::SystemClock;
use zk_core::files::BlobStore;
use zk_core::store::{FileRecord, Store, SyncOp, Timestamp};
use zk_core::sync::{ObjectSync, SyncOptions};
use zk_store::testing::TestDatabase;
use zk_tests::s3::TestBucket;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bucket = TestBucket::from_env().expect("eval \"$(scripts/seaweedfs.sh start)\" first");
    match args.get(1).map(String::as_str) {
        Some("throughput") => throughput(&bucket, args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000)).await,
        Some("big") => big(&bucket, args.get(2).and_then(|n| n.parse().ok()).unwrap_or(2048)).await,
        _ => eprintln!("usage: sync-bench throughput [FILES] | big [MiB]"),
    }
}

/// Sizes of a mixed set: mostly small documents, some images, a few drawings over the part size.
fn mixed_size(i: usize, rng: &mut impl Rng) -> usize {
    match i % 100 {
        0 => rng.random_range(9 * 1024 * 1024..=10 * 1024 * 1024),
        1..=20 => rng.random_range(256 * 1024..=2 * 1024 * 1024),
        _ => rng.random_range(1024..=64 * 1024),
    }
}

/// Stores `contents` as the file service does (blob in place; file row and outbox row in one
/// transaction).
async fn queue(store: &Arc<dyn Store>, blobs: &BlobStore, contents: impl Iterator<Item = Vec<u8>>) -> u64 {
    let mut bytes_total = 0;
    for (i, bytes) in contents.enumerate() {
        bytes_total += bytes.len() as u64;
        let staged = blobs.stage(futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]), u64::MAX).await.unwrap();
        let record = FileRecord {
            id: uuid::Uuid::now_v7().to_string(),
            sha256: staged.sha256.clone(),
            size: staged.size as i64,
            media_type: "application/octet-stream".into(),
            original_name: format!("{i}.bin"),
            uploaded_by: None,
            created_at: Timestamp::from(chrono::Utc::now()),
        };
        blobs.commit(staged).await.unwrap();
        store.insert_file(&record).await.unwrap();
    }
    bytes_total
}

/// Runs the sync loop until the outbox has nothing left to upload; how long that took.
async fn sync_all(store: &Arc<dyn Store>, blobs: &BlobStore, bucket: &TestBucket) -> Duration {
    let sync = Arc::new(
        ObjectSync::new(store.clone(), blobs.clone(), Arc::new(SystemClock), &bucket.config(), SyncOptions::default())
            .unwrap(),
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(sync.clone().run(shutdown.clone()));
    loop {
        let counts = store.sync_counts().await.unwrap();
        if counts.pending == 0 {
            break;
        }
        assert_eq!(counts.failed, 0, "{counts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    shutdown.cancel();
    running.await.unwrap();
    took
}

async fn throughput(base: &TestBucket, files: usize) {
    let mut rng = rand::rng();
    let contents: Vec<Vec<u8>> = (0..files)
        .map(|i| {
            let mut bytes = vec![0u8; mixed_size(i, &mut rng)];
            rng.fill(&mut bytes[..]);
            bytes
        })
        .collect();
    let total: u64 = contents.iter().map(|c| c.len() as u64).sum();
    println!("{files} files, {:.1} MiB", total as f64 / 1048576.0);

    // The plain client: one PUT per file (object_store splits nothing), 4 at once like the service.
    let plain = base.fresh();
    let s3 = Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(&plain.endpoint)
            .with_bucket_name(&plain.bucket)
            .with_region("us-east-1")
            .with_access_key_id(&plain.access_key_id)
            .with_secret_access_key(&plain.secret_access_key)
            .with_allow_http(true)
            .build()
            .unwrap(),
    );
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(SyncOptions::default().concurrency));
    let mut puts = tokio::task::JoinSet::new();
    for (i, bytes) in contents.iter().cloned().enumerate() {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let (s3, key) = (s3.clone(), ObjectPath::from(format!("{}plain/{i}", plain.prefix)));
        puts.spawn(async move {
            s3.put(&key, PutPayload::from(bytes)).await.unwrap();
            drop(permit);
        });
    }
    while puts.join_next().await.is_some() {}
    let plain_took = started.elapsed();

    // The sync service, from a queued outbox.
    let synced = base.fresh();
    let db = TestDatabase::sqlite();
    let store = db.open_store().await;
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(dir.path()).unwrap();
    queue(&store, &blobs, contents.into_iter()).await;
    let sync_took = sync_all(&store, &blobs, &synced).await;

    let mib = total as f64 / 1048576.0;
    println!(
        "plain object_store PUTs: {:.2} s ({:.1} MiB/s)",
        plain_took.as_secs_f64(),
        mib / plain_took.as_secs_f64()
    );
    println!("sync service:            {:.2} s ({:.1} MiB/s)", sync_took.as_secs_f64(), mib / sync_took.as_secs_f64());
    println!("ratio (plain time / sync time): {:.2}", plain_took.as_secs_f64() / sync_took.as_secs_f64());
    store.close().await;

    // The outbox's own cost: a row written with its file, claimed and finished (no network).
    let db = TestDatabase::sqlite();
    let store = db.open_store().await;
    let rows = 2000;
    let started = Instant::now();
    for i in 0..rows {
        let record = FileRecord {
            id: format!("f{i:06}"),
            sha256: format!("{i:064x}"),
            size: 1,
            media_type: "text/plain".into(),
            original_name: "x".into(),
            uploaded_by: None,
            created_at: Timestamp::from(chrono::Utc::now()),
        };
        store.insert_file(&record).await.unwrap();
    }
    let insert = started.elapsed();
    let started = Instant::now();
    let now = Timestamp::from(chrono::Utc::now());
    let lease = Timestamp::from(chrono::Utc::now() + chrono::Duration::seconds(60));
    while let Some(row) = store.claim_sync("bench", now, lease).await.unwrap() {
        store.finish_sync(&row.sha256, "bench", SyncOp::Upload, now).await.unwrap();
    }
    let claim_finish = started.elapsed();
    println!(
        "outbox on SQLite: file row + outbox row {:.0} µs per file; claim + finish {:.0} µs per file",
        insert.as_secs_f64() * 1e6 / rows as f64,
        claim_finish.as_secs_f64() * 1e6 / rows as f64
    );
    store.close().await;
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn big(base: &TestBucket, mib: usize) {
    let bucket = base.fresh();
    let db = TestDatabase::sqlite();
    let store = db.open_store().await;
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let blobs = BlobStore::open(dir.path()).unwrap();
    // Written in 1 MiB chunks through the blob store's streaming stage: never whole in memory.
    let mut rng = rand::rng();
    let stream = futures_util::stream::iter((0..mib).map(move |_| {
        let mut chunk = vec![0u8; 1024 * 1024];
        rng.fill(&mut chunk[..]);
        Ok::<_, std::io::Error>(chunk)
    }));
    let staged = blobs.stage(stream, u64::MAX).await.unwrap();
    let record = FileRecord {
        id: "big".into(),
        sha256: staged.sha256.clone(),
        size: staged.size as i64,
        media_type: "application/octet-stream".into(),
        original_name: "big.bin".into(),
        uploaded_by: None,
        created_at: Timestamp::from(chrono::Utc::now()),
    };
    blobs.commit(staged).await.unwrap();
    store.insert_file(&record).await.unwrap();
    let before = peak_rss_mib();
    println!("{mib} MiB file written; peak RSS so far {before:.0} MiB");
    let took = sync_all(&store, &blobs, &bucket).await;
    println!(
        "synced in {:.1} s ({:.1} MiB/s); peak RSS {:.0} MiB (was {before:.0} MiB before the upload)",
        took.as_secs_f64(),
        mib as f64 / took.as_secs_f64(),
        peak_rss_mib()
    );
    store.close().await;
}
