//! Object-storage sync: the local file store mirrored to an S3-compatible bucket.
//!
//! Every stored content has an outbox row (`zk_store::SyncStore`), written in the same transaction
//! as the file row that brings it. [`ObjectSync::run`] (a loop registered by `Core::start`) claims
//! due rows under a lease, so that two instances on one database never work on the same content at
//! once (PostgreSQL claims with `FOR UPDATE SKIP LOCKED`), and carries out each row's op:
//!
//! - **upload**: to the content address `{S3_PREFIX}files/ab/cd/<sha256>`, so a retry overwrites
//!   the same object with the same bytes and can never make a duplicate. An object already there
//!   with the right size is only verified. Small contents go in one `PUT` (read into memory, at most
//!   [`SyncOptions::part_size`]); larger ones as a multipart upload read part by part from disk,
//!   whose upload id and part ETags are saved after every part, so that an upload interrupted by a
//!   crash goes on from the next part. The bytes are hashed on the way; a local copy whose hash is
//!   not its name is never uploaded. The SHA-256 travels as `x-amz-checksum-sha256` (object_store's
//!   checksum, per request) and as the object's `sha256` metadata on single `PUT`s. After an upload
//!   the object is verified: ranged reads (start, end, a random place; the whole of a small object)
//!   that also report its size, hashed and compared with the same ranges of the local copy.
//! - **delete** (a tombstone, once no file references the content): the object is deleted, and any
//!   unfinished multipart upload aborted.
//!
//! A failure that may pass (the store down, 5xx, 429, a timeout, a failed verification) leaves the
//! row pending with a capped exponential backoff with jitter (1 s doubling to at most 60 s); only a
//! local copy that is missing (and not in the bucket) or damaged fails the row until someone asks
//! again (`zk-agent sync run`, `POST /api/storage/sync`).
//!
//! Reading back: [`ObjectSync`] is the file store's [`RemoteCopies`]: a content missing locally is
//! fetched from the bucket into a temporary file, hashed, and renamed into place only when its hash
//! is its name.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore,
    ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, RetryConfig,
};
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::S3Config;
use crate::error::{CoreError, CoreResult};
use crate::files::{BlobStore, RemoteCopies};
use crate::store::{Store, SyncOp, SyncRecord, Timestamp};

/// How the sync service works; the defaults suit a desktop and a small team server.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Size of a multipart upload's parts; contents up to this size go in one `PUT`. S3 wants at
    /// least 5 MiB for every part but the last.
    pub part_size: u64,
    /// Rows worked on at once by one instance.
    pub concurrency: usize,
    /// How long a claim holds without progress; a crashed instance's rows are free again after it.
    pub lease: Duration,
    /// How often an idle loop looks for due rows (a new file or "sync now" wakes it at once).
    pub idle_poll: Duration,
    /// Bytes of each sample range read back to verify an upload.
    pub sample_bytes: u64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            part_size: 8 * 1024 * 1024,
            concurrency: 4,
            lease: Duration::from_secs(120),
            idle_poll: Duration::from_secs(1),
            sample_bytes: 64 * 1024,
        }
    }
}

/// The longest wait between two attempts of one row.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What storage views show: where files go and how far the bucket is behind.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StorageStatus {
    /// `local` (no bucket configured) or `s3`.
    pub backend: &'static str,
    pub endpoint: Option<String>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    /// Contents not yet in the bucket, and their bytes.
    pub pending: i64,
    pub pending_bytes: i64,
    /// Deletions not yet applied to the bucket.
    pub deleting: i64,
    pub failed: i64,
    pub synced: i64,
    pub last_error: Option<String>,
    /// The last request to the bucket failed: the UI says "offline, N pending".
    pub offline: bool,
}

/// One content the bucket does not hold as the database says it should.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mismatch {
    pub sha256: String,
    pub key: String,
    pub problem: String,
}

/// What `zk-agent sync verify` found.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct VerifyReport {
    /// Contents the database knows (outbox rows to upload).
    pub checked: u64,
    /// Of those, read back whole and hashed.
    pub hashed: u64,
    pub mismatches: Vec<Mismatch>,
}

/// Why an attempt did not finish.
#[derive(Debug)]
enum AttemptError {
    /// May pass by itself (the store down or busy, a timeout): try again after a backoff.
    Passing(String),
    /// The bucket answered, or could not be reached: counts toward the offline flag.
    Store(String),
    /// Cannot pass by retrying (the local copy is missing or damaged): failed until requeued.
    Lasting(String),
}

impl AttemptError {
    fn store(what: &str, error: object_store::Error) -> Self {
        Self::Store(format!("{what}: {}", one_line(&error)))
    }
}

/// What the service remembers between attempts, for status views.
#[derive(Debug, Default)]
struct Live {
    offline: bool,
    last_error: Option<String>,
}

pub struct ObjectSync {
    store: Arc<dyn Store>,
    blobs: BlobStore,
    clock: SharedClock,
    s3: Arc<AmazonS3>,
    config: S3Config,
    options: SyncOptions,
    /// Names this process in claims (with a fresh token per claim).
    instance: String,
    /// A std mutex: held only to read or replace two fields.
    live: Mutex<Live>,
    /// Wakes the loop: a new file (the file service holds a clone), "sync now".
    wake: Arc<tokio::sync::Notify>,
}

impl ObjectSync {
    /// The service for the configured bucket. Builds the client only (no request is made).
    pub fn new(
        store: Arc<dyn Store>,
        blobs: BlobStore,
        clock: SharedClock,
        config: &S3Config,
        options: SyncOptions,
    ) -> CoreResult<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(!config.force_path_style)
            // The outbox retries with its own backoff; the client retries a little, quickly, so an
            // outage shows within seconds instead of minutes.
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(1),
                    base: 2.0,
                },
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(120))
                    .with_allow_http(true),
            )
            .with_checksum_algorithm(object_store::aws::Checksum::SHA256);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret.expose());
        }
        let s3 = builder.build().map_err(|e| {
            CoreError::invalid("S3_ENDPOINT", format!("the object storage settings cannot be used: {}", one_line(&e)))
        })?;
        Ok(Self {
            store,
            blobs,
            clock,
            s3: Arc::new(s3),
            config: config.clone(),
            options,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            live: Mutex::new(Live::default()),
            wake: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// The object key of a content: `{S3_PREFIX}files/ab/cd/<sha256>`.
    pub fn key(&self, sha256: &str) -> String {
        object_key(&self.config.prefix, sha256)
    }

    /// Wakes the loop (a new file was stored, or someone asked to sync now).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// What the file service notifies after it stored a file.
    pub fn waker(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.wake)
    }

    /// "Sync now": failed rows are tried again and every pending row is due at once.
    pub async fn sync_now(&self) -> CoreResult<u64> {
        let changed = self.store.requeue_sync(self.now()).await?;
        self.wake();
        Ok(changed)
    }

    /// Whether the last request to the bucket failed (no database read: the dependency check asks
    /// every 15 s).
    pub fn offline(&self) -> bool {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).offline
    }

    pub async fn status(&self) -> CoreResult<StorageStatus> {
        let counts = self.store.sync_counts().await?;
        let (offline, live_error) = {
            let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            (live.offline, live.last_error.clone())
        };
        let last_error = match live_error {
            Some(error) if offline => Some(error),
            _ => self.store.last_sync_error().await?,
        };
        Ok(StorageStatus {
            backend: "s3",
            endpoint: self.config.endpoint.clone(),
            bucket: Some(self.config.bucket.clone()),
            prefix: Some(self.config.prefix.clone()),
            pending: counts.pending,
            pending_bytes: counts.pending_bytes,
            deleting: counts.deleting,
            failed: counts.failed,
            synced: counts.synced,
            last_error,
            offline,
        })
    }

    /// The loop `Core::start` registers: claims due rows (at most [`SyncOptions::concurrency`] at
    /// once) until the shutdown token is cancelled. Rows in flight at shutdown are handed back as
    /// pending, due at once (an upload's saved parts are kept).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut running = tokio::task::JoinSet::new();
        // Rows this loop holds a claim on, with their tokens: handed back at shutdown.
        let held: Arc<Mutex<HashSet<(String, String)>>> = Arc::default();
        loop {
            while running.len() < self.options.concurrency.max(1) && !shutdown.is_cancelled() {
                let token = format!("{}-{}", self.instance, uuid::Uuid::new_v4().simple());
                let claimed = match self.claim(&token).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::warn!(error = %error, "object sync cannot read its outbox");
                        None
                    }
                };
                let Some(row) = claimed else { break };
                held.lock().unwrap_or_else(|p| p.into_inner()).insert((row.sha256.clone(), token.clone()));
                let this = Arc::clone(&self);
                let held = Arc::clone(&held);
                running.spawn(async move {
                    let key = (row.sha256.clone(), token.clone());
                    this.attempt(row, &token).await;
                    held.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
                });
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.options.idle_poll) => {}
            }
        }
        running.shutdown().await;
        let held: Vec<_> = held.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        let now = self.now();
        for (sha256, token) in held {
            if let Err(error) = self.store.defer_sync(&sha256, &token, "interrupted by a shutdown", now, now).await {
                tracing::warn!(error = %error, sha256, "an interrupted sync stays claimed until its lease runs out");
            }
        }
    }

    /// Works through every due row now, one after another, until none is due: `zk-agent sync run`.
    /// Returns how many attempts were made.
    pub async fn drain(&self) -> CoreResult<u64> {
        let mut attempts = 0;
        loop {
            let token = format!("{}-{}", self.instance, uuid::Uuid::new_v4().simple());
            let Some(row) = self.claim(&token).await? else { return Ok(attempts) };
            self.attempt(row, &token).await;
            attempts += 1;
        }
    }

    async fn claim(&self, token: &str) -> CoreResult<Option<SyncRecord>> {
        let now = self.clock.now();
        Ok(self.store.claim_sync(token, Timestamp::from(now), lease_end(now, self.options.lease)).await?)
    }

    /// One attempt at a claimed row, and its outcome written back under the claim's token.
    async fn attempt(&self, row: SyncRecord, token: &str) {
        let op = row.op();
        let result = match op {
            Some(SyncOp::Upload) => self.upload(&row, token).await,
            Some(SyncOp::Delete) => self.delete(&row).await,
            None => Err(AttemptError::Lasting(format!("unknown op {:?}", row.op))),
        };
        let now = self.now();
        let written = match (&result, op) {
            (Ok(()), Some(done)) => {
                self.record_reachable();
                tracing::debug!(sha256 = %row.sha256, op = done.as_str(), "object synced");
                self.store.finish_sync(&row.sha256, token, done, now).await
            }
            (Ok(()), None) => Ok(false),
            (Err(AttemptError::Lasting(error)), _) => {
                tracing::warn!(sha256 = %row.sha256, error, "object sync failed");
                self.store.fail_sync(&row.sha256, token, error, now).await
            }
            (Err(AttemptError::Passing(error) | AttemptError::Store(error)), _) => {
                if matches!(result, Err(AttemptError::Store(_))) {
                    self.record_unreachable(error);
                }
                let wait = backoff(row.attempts, &mut rand::rng());
                tracing::info!(sha256 = %row.sha256, error, retry_in_ms = wait.as_millis() as u64, "object sync deferred");
                let next = Timestamp::from(self.clock.now() + chrono::Duration::from_std(wait).unwrap_or_default());
                self.store.defer_sync(&row.sha256, token, error, next, now).await
            }
        };
        match written {
            Ok(true) => {}
            Ok(false) => tracing::info!(sha256 = %row.sha256, "the claim ran out before the attempt ended"),
            Err(error) => tracing::warn!(sha256 = %row.sha256, error = %error, "cannot record an object sync"),
        }
    }

    async fn upload(&self, row: &SyncRecord, token: &str) -> Result<(), AttemptError> {
        let key = ObjectPath::from(self.key(&row.sha256));
        let size = u64::try_from(row.size).map_err(|_| AttemptError::Lasting("negative size".into()))?;
        let local = self.blobs.blob_path(&row.sha256).map_err(|e| AttemptError::Lasting(e.to_string()))?;
        // Already there (an answer lost before, another instance): verify only. Asked on a retry
        // and when there is no local copy; a first attempt just uploads (the same bytes under the
        // same key, should they be there).
        let local_exists = tokio::fs::try_exists(&local).await.unwrap_or(false);
        let look_first = row.attempts > 1 || row.upload_id.is_some() || !local_exists;
        match if look_first { self.s3.head(&key).await.map(Some) } else { Ok(None) } {
            Ok(None) => {}
            Ok(Some(meta)) if meta.size == size => {
                return match tokio::fs::metadata(&local).await {
                    Ok(_) => self.verify_samples(&key, &local, size).await,
                    // No local copy to compare with: the size and the content address must do.
                    Err(_) => Ok(()),
                };
            }
            Ok(Some(_)) | Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => return Err(AttemptError::store("cannot look up the object", error)),
        }
        let mut file = match tokio::fs::File::open(&local).await {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(AttemptError::Lasting(
                    "the local copy is missing and the bucket does not have the object".into(),
                ));
            }
            Err(error) => return Err(AttemptError::Passing(format!("cannot open the local copy: {error}"))),
        };
        let on_disk = file.metadata().await.map_err(|e| AttemptError::Passing(e.to_string()))?.len();
        if on_disk != size {
            return Err(AttemptError::Lasting(format!("the local copy has {on_disk} bytes, the database says {size}")));
        }
        if size <= self.options.part_size {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).await.map_err(|e| AttemptError::Passing(format!("cannot read: {e}")))?;
            if hex::encode(Sha256::digest(&bytes)) != row.sha256 {
                return Err(AttemptError::Lasting("the local copy is damaged: its hash is not its name".into()));
            }
            let mut attributes = Attributes::new();
            attributes.insert(Attribute::Metadata("sha256".into()), AttributeValue::from(row.sha256.clone()));
            let options = PutOptions { attributes, ..PutOptions::default() };
            self.s3
                .put_opts(&key, PutPayload::from(bytes), options)
                .await
                .map_err(|e| AttemptError::store("cannot upload", e))?;
        } else {
            self.upload_parts(row, token, &key, &mut file, size).await?;
        }
        self.verify_samples(&key, &local, size).await
    }

    /// A multipart upload, going on from the parts a previous attempt saved.
    async fn upload_parts(
        &self,
        row: &SyncRecord,
        token: &str,
        key: &ObjectPath,
        file: &mut tokio::fs::File,
        size: u64,
    ) -> Result<(), AttemptError> {
        let part_size = self.options.part_size;
        let count = size.div_ceil(part_size);
        let mut parts: Vec<String> = row.parts.0.clone();
        let mut upload_id = row.upload_id.clone().filter(|_| (parts.len() as u64) < count);
        if upload_id.is_none() {
            parts.clear();
        }
        let mut hasher = Sha256::new();
        // The parts already uploaded are read again only to hash them.
        if upload_id.is_some() {
            for index in 0..parts.len() as u64 {
                hasher.update(read_part(file, index, part_size, size).await?);
            }
            tracing::info!(sha256 = %row.sha256, parts = parts.len(), of = count, "multipart upload resumed");
        }
        let id = match upload_id.take() {
            Some(id) => id,
            None => {
                let mut attributes = Attributes::new();
                attributes.insert(Attribute::Metadata("sha256".into()), AttributeValue::from(row.sha256.clone()));
                let options = PutMultipartOptions { attributes, ..PutMultipartOptions::default() };
                let id = self
                    .s3
                    .create_multipart_opts(key, options)
                    .await
                    .map_err(|e| AttemptError::store("cannot start a multipart upload", e))?;
                self.save_parts(row, token, Some(&id), &parts).await?;
                id
            }
        };
        for index in parts.len() as u64..count {
            // One part in memory at a time: the buffer becomes the request's body, without a copy.
            let part = read_part(file, index, part_size, size).await?;
            hasher.update(&part);
            let payload = PutPayload::from(part);
            let part = match self.s3.put_part(key, &id, index as usize, payload).await {
                Ok(part) => part,
                Err(object_store::Error::NotFound { .. }) => {
                    // The upload is gone (aborted, expired): start over next time.
                    self.save_parts(row, token, None, &[]).await?;
                    return Err(AttemptError::Passing("the multipart upload expired; starting again".into()));
                }
                Err(error) => return Err(AttemptError::store("cannot upload a part", error)),
            };
            parts.push(part.content_id);
            self.save_parts(row, token, Some(&id), &parts).await?;
        }
        if hex::encode(hasher.finalize()) != row.sha256 {
            let _ = self.s3.abort_multipart(key, &id).await;
            self.save_parts(row, token, None, &[]).await?;
            return Err(AttemptError::Lasting("the local copy is damaged: its hash is not its name".into()));
        }
        let ids = parts.iter().map(|content_id| PartId { content_id: content_id.clone() }).collect();
        match self.s3.complete_multipart(key, &id, ids).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => {
                self.save_parts(row, token, None, &[]).await?;
                Err(AttemptError::Passing("the multipart upload expired; starting again".into()))
            }
            Err(error) => Err(AttemptError::store("cannot complete the multipart upload", error)),
        }
    }

    /// Saves a multipart upload's progress and extends the claim; a claim that ran out ends the attempt.
    async fn save_parts(
        &self,
        row: &SyncRecord,
        token: &str,
        upload_id: Option<&str>,
        parts: &[String],
    ) -> Result<(), AttemptError> {
        let now = self.clock.now();
        let kept = self
            .store
            .sync_progress(
                &row.sha256,
                token,
                upload_id,
                parts,
                Timestamp::from(now),
                lease_end(now, self.options.lease),
            )
            .await
            .map_err(|e| AttemptError::Passing(format!("cannot save the upload's progress: {e}")))?;
        if kept { Ok(()) } else { Err(AttemptError::Passing("the claim ran out during the upload".into())) }
    }

    /// The object has the local copy's size, and sample ranges (start, end, a random place) read
    /// back hash like the same ranges of the local copy. A mismatch deletes the object, so the next
    /// attempt uploads it again.
    async fn verify_samples(&self, key: &ObjectPath, local: &std::path::Path, size: u64) -> Result<(), AttemptError> {
        let wrong_size = |found: u64| {
            AttemptError::Passing(format!("verification failed: the object has {found} bytes, expected {size}"))
        };
        let ranges = sample_ranges(size, self.options.sample_bytes, &mut rand::rng());
        if ranges.is_empty() {
            let meta = self.s3.head(key).await.map_err(|e| AttemptError::store("cannot check the object", e))?;
            return if meta.size == size { Ok(()) } else { Err(wrong_size(meta.size)) };
        }
        let mut file = tokio::fs::File::open(local).await.map_err(|e| AttemptError::Passing(e.to_string()))?;
        for range in ranges {
            // A ranged GET also tells the object's whole size.
            let options = GetOptions { range: Some(GetRange::Bounded(range.clone())), ..GetOptions::default() };
            let read = self
                .s3
                .get_opts(key, options)
                .await
                .map_err(|e| AttemptError::store("cannot read the uploaded object back", e))?;
            if read.meta.size != size {
                let _ = self.s3.delete(key).await;
                return Err(wrong_size(read.meta.size));
            }
            let remote =
                read.bytes().await.map_err(|e| AttemptError::store("cannot read the uploaded object back", e))?;
            let mut local_bytes = vec![0u8; (range.end - range.start) as usize];
            file.seek(std::io::SeekFrom::Start(range.start)).await.map_err(|e| AttemptError::Passing(e.to_string()))?;
            file.read_exact(&mut local_bytes).await.map_err(|e| AttemptError::Passing(e.to_string()))?;
            if Sha256::digest(&remote) != Sha256::digest(&local_bytes) {
                let _ = self.s3.delete(key).await;
                return Err(AttemptError::Passing(format!(
                    "verification failed: bytes {}..{} of the object differ from the local copy",
                    range.start, range.end
                )));
            }
        }
        Ok(())
    }

    async fn delete(&self, row: &SyncRecord) -> Result<(), AttemptError> {
        let key = ObjectPath::from(self.key(&row.sha256));
        if let Some(id) = &row.upload_id {
            let _ = self.s3.abort_multipart(&key, id).await;
        }
        match self.s3.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(AttemptError::store("cannot delete the object", error)),
        }
    }

    /// Every content the database knows is in the bucket with its size; with `all` every object
    /// (else a random sample of at most `sample`) is read back whole and hashed against its name.
    pub async fn verify(&self, all: bool, sample: usize) -> CoreResult<VerifyReport> {
        let mut report = VerifyReport::default();
        let mut rows = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.sync_records(after.as_deref(), 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sha256.clone());
            rows.extend(page.into_iter().filter(|row| row.op() == Some(SyncOp::Upload)));
        }
        let hash_these: HashSet<usize> = if all || rows.len() <= sample {
            (0..rows.len()).collect()
        } else {
            rand::seq::index::sample(&mut rand::rng(), rows.len(), sample).into_iter().collect()
        };
        for (index, row) in rows.iter().enumerate() {
            report.checked += 1;
            let key = self.key(&row.sha256);
            let path = ObjectPath::from(key.clone());
            let mismatch = |problem: String| Mismatch { sha256: row.sha256.clone(), key: key.clone(), problem };
            let meta = match self.s3.head(&path).await {
                Ok(meta) => meta,
                Err(object_store::Error::NotFound { .. }) => {
                    report.mismatches.push(mismatch(format!("not in the bucket (outbox state {})", row.state)));
                    continue;
                }
                Err(error) => return Err(CoreError::Storage(format!("cannot reach the bucket: {}", one_line(&error)))),
            };
            if meta.size != row.size as u64 {
                report.mismatches.push(mismatch(format!("{} bytes in the bucket, {} expected", meta.size, row.size)));
                continue;
            }
            if hash_these.contains(&index) {
                report.hashed += 1;
                match self.hash_object(&path).await {
                    Ok(hash) if hash == row.sha256 => {}
                    Ok(hash) => report.mismatches.push(mismatch(format!("its content hashes to {hash}"))),
                    Err(error) => {
                        return Err(CoreError::Storage(format!("cannot read {key} back: {}", one_line(&error))));
                    }
                }
            }
        }
        Ok(report)
    }

    async fn hash_object(&self, key: &ObjectPath) -> Result<String, object_store::Error> {
        let mut stream = self.s3.get(key).await?.into_stream();
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk?);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    fn record_reachable(&self) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.offline = false;
    }

    fn record_unreachable(&self, error: &str) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.offline = true;
        live.last_error = Some(error.to_owned());
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }
}

#[async_trait]
impl RemoteCopies for ObjectSync {
    async fn fetch_into(&self, sha256: &str, size: u64, blobs: &BlobStore) -> CoreResult<bool> {
        let key = ObjectPath::from(self.key(sha256));
        let result = match self.s3.get(&key).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(error) => {
                return Err(CoreError::Storage(format!(
                    "the local copy is missing and the bucket cannot be read: {}",
                    one_line(&error)
                )));
            }
        };
        let staged = blobs.stage(result.into_stream(), size).await?;
        if staged.sha256 != sha256 || staged.size != size {
            return Err(CoreError::Storage(format!(
                "the bucket's copy of {sha256} is damaged ({} bytes hashing to {}); it was not used",
                staged.size, staged.sha256
            )));
        }
        blobs.commit(staged).await?;
        tracing::info!(sha256, size, "a missing local copy was fetched from the bucket");
        Ok(true)
    }
}

/// What storage views show when no bucket is configured.
pub fn local_status() -> StorageStatus {
    StorageStatus {
        backend: "local",
        endpoint: None,
        bucket: None,
        prefix: None,
        pending: 0,
        pending_bytes: 0,
        deleting: 0,
        failed: 0,
        synced: 0,
        last_error: None,
        offline: false,
    }
}

/// `{prefix}files/ab/cd/<sha256>`.
pub fn object_key(prefix: &str, sha256: &str) -> String {
    let first = sha256.get(..2).unwrap_or_default();
    let second = sha256.get(2..4).unwrap_or_default();
    format!("{prefix}files/{first}/{second}/{sha256}")
}

/// The wait before attempt `attempts + 1`: 1 s doubling per attempt, capped at [`MAX_BACKOFF`],
/// drawn between half of that and all of it (so rows that failed together spread out), never under
/// 1 s (at most one attempt per second per row).
pub fn backoff(attempts: i32, rng: &mut impl Rng) -> Duration {
    let exponent = attempts.clamp(1, 7) as u32 - 1;
    let ceiling = Duration::from_secs(1u64 << exponent).min(MAX_BACKOFF);
    let wait = ceiling.mul_f64(rng.random_range(0.5..=1.0));
    wait.max(Duration::from_secs(1))
}

/// Ranges read back to verify an object of `size` bytes: its start, its end and one random place.
fn sample_ranges(size: u64, sample: u64, rng: &mut impl Rng) -> Vec<Range<u64>> {
    if size == 0 {
        return Vec::new();
    }
    if size <= sample * 3 {
        #[allow(clippy::single_range_in_vec_init)] // One range: the whole object.
        return vec![0..size];
    }
    let middle = rng.random_range(sample..size - 2 * sample);
    vec![0..sample, middle..middle + sample, size - sample..size]
}

/// Part `index` of the file.
async fn read_part(file: &mut tokio::fs::File, index: u64, part_size: u64, size: u64) -> Result<Vec<u8>, AttemptError> {
    let start = index * part_size;
    let mut part = vec![0u8; part_size.min(size - start) as usize];
    file.seek(std::io::SeekFrom::Start(start)).await.map_err(|e| AttemptError::Passing(format!("cannot seek: {e}")))?;
    file.read_exact(&mut part).await.map_err(|e| AttemptError::Passing(format!("cannot read the local copy: {e}")))?;
    Ok(part)
}

fn lease_end(now: chrono::DateTime<chrono::Utc>, lease: Duration) -> Timestamp {
    Timestamp::from(now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(120)))
}

/// An error and its causes on one line, without the secret parts of a request.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn keys_are_content_addresses_under_the_prefix() {
        let sha = "ab".repeat(32);
        assert_eq!(object_key("", &sha), format!("files/ab/ab/{sha}"));
        assert_eq!(object_key("team-a/", &sha), format!("team-a/files/ab/ab/{sha}"));
    }

    #[test]
    fn backoff_doubles_with_jitter_from_one_second_to_a_minute() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempts in 0..40 {
            let wait = backoff(attempts, &mut rng);
            let ceiling = Duration::from_secs(1u64 << (attempts.clamp(1, 7) - 1)).min(MAX_BACKOFF);
            assert!(wait >= Duration::from_secs(1), "never more than one attempt per second: {wait:?}");
            assert!(wait <= ceiling && wait >= ceiling / 2, "attempt {attempts}: {wait:?} within {ceiling:?}");
        }
        assert!(backoff(1000, &mut rng) <= MAX_BACKOFF, "capped at 60 s");
        let spread: HashSet<u128> = (0..20).map(|_| backoff(6, &mut rng).as_millis()).collect();
        assert!(spread.len() > 10, "jittered: {spread:?}");
    }

    #[test]
    fn samples_cover_start_end_and_a_random_middle_inside_the_object() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert!(sample_ranges(0, 10, &mut rng).is_empty());
        assert_eq!(sample_ranges(25, 10, &mut rng), [Range { start: 0, end: 25 }], "a small object is read whole");
        for _ in 0..100 {
            let ranges = sample_ranges(1000, 10, &mut rng);
            assert_eq!((ranges[0].clone(), ranges[2].clone()), (0..10, 990..1000));
            assert!(ranges[1].start >= 10 && ranges[1].end <= 990, "{ranges:?}");
        }
    }
}
