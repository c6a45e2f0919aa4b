//! Files: a content-addressed local store (SHA-256) with metadata in the database.
//!
//! An upload streams into a temporary file while it is hashed and counted; past the size limit it
//! stops at once. Complete, it is fsynced and renamed into `sha256/ab/cd/<hash>`, so a blob that
//! exists is always whole. The type is sniffed from the bytes, never taken from the name; the
//! original name is kept only as sanitised metadata.
//!
//! Who may read a file is decided here, once ([`FileService::readable`]): its uploader, an admin,
//! and whoever can see a thing that uses it. Today that is a CAD library drawing (the library is
//! open to every signed-in user); a chat attachment is its uploader's, because a message can attach
//! only a file its sender may read and a conversation is its owner's alone. Any other file answers
//! "not found", so that nobody learns it exists.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::clock::SharedClock;
use crate::error::{CoreError, CoreResult};
use crate::request::Principal;
use crate::store::{FileRecord, FileScope, Role, Store, Timestamp};

/// Bytes kept from the start of an upload for type sniffing.
const SNIFF_BYTES: usize = 8 * 1024;
const MAX_NAME_CHARS: usize = 200;

/// The blobs on disk.
#[derive(Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// An upload written to a temporary file and hashed, not yet in place.
pub struct StagedBlob {
    pub sha256: String,
    pub size: u64,
    pub head: Vec<u8>,
    temp: tempfile::NamedTempFile,
}

impl StagedBlob {
    /// The temporary file, for a caller that reads the content before deciding to keep it.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }
}

/// An upload staged by [`FileService::stage_upload`]: its sanitised name and sniffed type.
pub struct StagedUpload {
    pub name: String,
    pub media_type: &'static str,
    pub blob: StagedBlob,
}

impl BlobStore {
    pub fn open(root: &Path) -> CoreResult<Self> {
        for dir in [root.join("sha256"), root.join("tmp")] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| CoreError::Storage(format!("cannot create {}: {e}", dir.display())))?;
        }
        Ok(Self { root: root.to_owned() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this hash lives. The hash is checked to be hex, so it cannot name a path.
    pub fn blob_path(&self, sha256: &str) -> CoreResult<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(CoreError::invalid("sha256", "not a SHA-256 hex digest"));
        }
        Ok(self.root.join("sha256").join(&sha256[..2]).join(&sha256[2..4]).join(sha256))
    }

    /// Streams `body` into a temporary file, hashing as it goes; fails as soon as `limit` is passed.
    /// On any error the temporary file is removed.
    pub async fn stage<S, B, E>(&self, mut body: S, limit: u64) -> CoreResult<StagedBlob>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let temp = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(self.root.join("tmp"))
            .map_err(|e| CoreError::Storage(format!("cannot create a temporary file: {e}")))?;
        let std_file = temp.reopen().map_err(|e| CoreError::Storage(e.to_string()))?;
        let mut file = tokio::fs::File::from_std(std_file);
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| CoreError::invalid("body", format!("the upload was interrupted: {e}")))?;
            let bytes = chunk.as_ref();
            size += bytes.len() as u64;
            if size > limit {
                return Err(CoreError::TooLarge { what: "the upload".into(), limit });
            }
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(bytes.len());
                head.extend_from_slice(&bytes[..take]);
            }
            hasher.update(bytes);
            file.write_all(bytes).await.map_err(|e| CoreError::Storage(format!("cannot write the upload: {e}")))?;
        }
        file.sync_all().await.map_err(|e| CoreError::Storage(format!("cannot flush the upload: {e}")))?;
        Ok(StagedBlob { sha256: hex::encode(hasher.finalize()), size, head, temp })
    }

    /// Moves a staged blob into place (or drops it when the same content is already stored).
    pub async fn commit(&self, staged: StagedBlob) -> CoreResult<()> {
        let target = self.blob_path(&staged.sha256)?;
        tokio::task::spawn_blocking(move || -> CoreResult<()> {
            if target.is_file() {
                return Ok(());
            }
            let parent = target.parent().ok_or_else(|| CoreError::Storage("blob path has no parent".into()))?;
            std::fs::create_dir_all(parent).map_err(|e| CoreError::Storage(e.to_string()))?;
            staged
                .temp
                .persist(&target)
                .map_err(|e| CoreError::Storage(format!("cannot store the upload: {}", e.error)))?;
            // The rename is durable only once its directory is synced.
            if let Ok(dir) = std::fs::File::open(parent) {
                let _ = dir.sync_all();
            }
            Ok(())
        })
        .await
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("file store task failed: {e}")))?
    }

    pub async fn remove(&self, sha256: &str) -> CoreResult<()> {
        match tokio::fs::remove_file(self.blob_path(sha256)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CoreError::Storage(format!("cannot remove a blob: {e}"))),
        }
    }

    /// Creates, writes and removes a probe file (no fsync: health checks run often); returns how long
    /// that took.
    pub async fn check_writable(&self) -> CoreResult<Duration> {
        let started = Instant::now();
        let dir = self.root.join("tmp");
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut probe = tempfile::Builder::new().prefix("probe-").tempfile_in(dir)?;
            probe.write_all(b"zk-agent")?;
            Ok(())
        })
        .await
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("probe task failed: {e}")))?
        .map_err(|e| CoreError::Storage(format!("the file store is not writable: {e}")))?;
        Ok(started.elapsed())
    }
}

/// Where a content missing from the local store can be fetched from: the bucket of object-storage
/// sync (`crate::sync`), when one is configured.
#[async_trait]
pub trait RemoteCopies: Send + Sync {
    /// Fetches the content into `blobs`, verified against its hash before it is put in place;
    /// `Ok(false)` when the remote store does not have it.
    async fn fetch_into(&self, sha256: &str, size: u64, blobs: &BlobStore) -> CoreResult<bool>;
}

/// A file as the API shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct FileView {
    pub id: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub name: String,
    pub uploaded_by: Option<i64>,
    pub created_at: Timestamp,
}

impl From<FileRecord> for FileView {
    fn from(file: FileRecord) -> Self {
        Self {
            id: file.id,
            sha256: file.sha256,
            size: file.size,
            media_type: file.media_type,
            name: file.original_name,
            uploaded_by: file.uploaded_by,
            created_at: file.created_at,
        }
    }
}

pub struct FileService {
    store: Arc<dyn Store>,
    blobs: BlobStore,
    clock: SharedClock,
    max_bytes: u64,
    /// Hashes whose blob is being committed or removed; a std mutex, held only to insert or remove.
    /// Keeps a delete from removing a blob that an upload of the same content is about to reference.
    busy: std::sync::Mutex<HashSet<String>>,
    /// Where a content missing locally is fetched from (the sync bucket), if anywhere.
    remote: Option<Arc<dyn RemoteCopies>>,
    /// Told after a file is stored, so the sync loop starts at once instead of at its next poll.
    stored: Option<Arc<tokio::sync::Notify>>,
}

impl FileService {
    pub fn new(store: Arc<dyn Store>, blobs: BlobStore, clock: SharedClock, max_bytes: u64) -> Self {
        Self { store, blobs, clock, max_bytes, busy: std::sync::Mutex::new(HashSet::new()), remote: None, stored: None }
    }

    /// Missing local copies are fetched from `remote`; `stored` is notified after each stored file.
    pub fn with_remote(mut self, remote: Arc<dyn RemoteCopies>, stored: Arc<tokio::sync::Notify>) -> Self {
        self.remote = Some(remote);
        self.stored = Some(stored);
        self
    }

    /// The local path of a content, fetched from the remote store first when it is missing here
    /// (another instance stored it, or the local copy was lost) and verified against its hash.
    pub async fn local_path(&self, sha256: &str, size: i64) -> CoreResult<PathBuf> {
        let path = self.blobs.blob_path(sha256)?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(path);
        }
        let Some(remote) = &self.remote else {
            return Err(CoreError::Storage(format!("the content {sha256} is missing from the local file store")));
        };
        let size = u64::try_from(size).map_err(|_| CoreError::Storage("a negative file size".into()))?;
        let _guard = self.claim(sha256).await;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(path);
        }
        if remote.fetch_into(sha256, size, &self.blobs).await? {
            Ok(path)
        } else {
            Err(CoreError::Storage(format!(
                "the content {sha256} is missing from the local file store and from the bucket"
            )))
        }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Refuses an upload whose declared length is over the limit before any byte is read.
    pub fn check_declared_size(&self, content_length: Option<u64>) -> CoreResult<()> {
        match content_length {
            Some(length) if length > self.max_bytes => {
                Err(CoreError::TooLarge { what: "the upload".into(), limit: self.max_bytes })
            }
            _ => Ok(()),
        }
    }

    pub async fn upload<S, B, E>(&self, uploader: &Principal, declared_name: &str, body: S) -> CoreResult<FileView>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let staged = self.stage_upload(uploader, declared_name, body, self.max_bytes).await?;
        Ok(FileView::from(self.store_upload(uploader, staged).await?))
    }

    /// The first half of an upload: streamed into a temporary file (at most `limit` bytes), hashed,
    /// named and sniffed, not yet stored. Dropping the result removes the temporary file, so a caller
    /// that refuses the content (a drawing the CAD reader cannot open) leaves nothing behind.
    pub async fn stage_upload<S, B, E>(
        &self,
        uploader: &Principal,
        declared_name: &str,
        body: S,
        limit: u64,
    ) -> CoreResult<StagedUpload>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        uploader.require(Role::Designer)?;
        let name = sanitize_file_name(declared_name);
        let blob = self.blobs.stage(body, limit).await?;
        if blob.size == 0 {
            return Err(CoreError::invalid("body", "the upload is empty"));
        }
        let media_type = sniff(&blob.head, &name)?;
        Ok(StagedUpload { name, media_type, blob })
    }

    /// The second half: the blob moved into place and its row inserted.
    pub async fn store_upload(&self, uploader: &Principal, staged: StagedUpload) -> CoreResult<FileRecord> {
        let record = FileRecord {
            id: uuid::Uuid::now_v7().to_string(),
            sha256: staged.blob.sha256.clone(),
            size: staged.blob.size as i64,
            media_type: staged.media_type.to_owned(),
            original_name: staged.name,
            uploaded_by: Some(uploader.user_id),
            created_at: Timestamp::from(self.clock.now()),
        };
        let _guard = self.claim(&record.sha256).await;
        self.blobs.commit(staged.blob).await?;
        self.store.insert_file(&record).await?;
        if let Some(stored) = &self.stored {
            stored.notify_one();
        }
        tracing::info!(file = %record.id, size = record.size, media_type = staged.media_type, "file stored");
        Ok(record)
    }

    /// The file, when `reader` may read it (see the module's documentation); any other file, like
    /// an unknown id, is not found.
    pub async fn readable(&self, reader: &Principal, id: &str) -> CoreResult<FileRecord> {
        self.store.scoped_file(id, scope_of(reader)).await?.ok_or_else(|| CoreError::NotFound(format!("file {id}")))
    }

    /// The record and an open handle on its content, when `reader` may read it.
    pub async fn open(&self, reader: &Principal, id: &str) -> CoreResult<(FileRecord, tokio::fs::File)> {
        let record = self.readable(reader, id).await?;
        let file = tokio::fs::File::open(self.local_path(&record.sha256, record.size).await?)
            .await
            .map_err(|e| CoreError::Storage(format!("the content of file {id} is missing from the store: {e}")))?;
        Ok((record, file))
    }

    /// The files `reader` may read, newest first (an admin: every file).
    pub async fn list(&self, reader: &Principal, before: Option<&str>, limit: i64) -> CoreResult<Vec<FileView>> {
        let files = self.store.list_files(scope_of(reader), before, limit.clamp(1, 500)).await?;
        Ok(files.into_iter().map(FileView::from).collect())
    }

    /// Deletes a file: its uploader or an admin. A file the actor cannot read is not found; one they
    /// can read but not delete (a drawing's file of the library) is forbidden. The blob goes when no
    /// other file references it.
    pub async fn delete(&self, actor: &Principal, id: &str) -> CoreResult<()> {
        let record = self.readable(actor, id).await?;
        if actor.role != Role::Admin && record.uploaded_by != Some(actor.user_id) {
            return Err(CoreError::Forbidden("only the uploader or an admin can delete this file".into()));
        }
        let _guard = self.claim(&record.sha256).await;
        if let Some(0) = self.store.delete_file(id).await? {
            self.blobs.remove(&record.sha256).await?;
        }
        Ok(())
    }

    async fn claim(&self, sha256: &str) -> BusyGuard<'_> {
        loop {
            if self.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(sha256.to_owned()) {
                return BusyGuard { service: self, sha256: sha256.to_owned() };
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// The files `reader` may read: every file for an admin; else their uploads and the shared ones.
fn scope_of(reader: &Principal) -> FileScope {
    if reader.role == Role::Admin { FileScope::All } else { FileScope::OwnAndShared(reader.user_id) }
}

struct BusyGuard<'a> {
    service: &'a FileService,
    sha256: String,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.service.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.sha256);
    }
}

/// The media type of an upload from its first bytes, checked against the name's extension.
pub fn sniff(head: &[u8], name: &str) -> CoreResult<&'static str> {
    let sniffed = sniff_bytes(head).ok_or_else(|| {
        CoreError::UnsupportedType(
            "the content is not an accepted type (PNG, JPEG, GIF, WebP, PDF, DXF, DWG or UTF-8 text)".into(),
        )
    })?;
    let extension = Path::new(name).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if let Some(extension) = extension {
        let expected = media_type_for_extension(&extension).ok_or_else(|| {
            CoreError::UnsupportedType(format!(
                "files ending in .{extension} are not accepted; the content looks like {sniffed}"
            ))
        })?;
        if expected != sniffed {
            return Err(CoreError::UnsupportedType(format!(
                "the name ends in .{extension} but the content is {sniffed}; rename the file or upload the right one"
            )));
        }
    }
    Ok(sniffed)
}

fn media_type_for_extension(extension: &str) -> Option<&'static str> {
    Some(match extension {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "dxf" => "image/vnd.dxf",
        "dwg" => "image/vnd.dwg",
        "txt" | "md" | "csv" | "json" | "toml" => "text/plain",
        _ => return None,
    })
}

fn sniff_bytes(head: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(head) {
        return match kind.mime_type() {
            "image/png" => Some("image/png"),
            "image/jpeg" => Some("image/jpeg"),
            "image/gif" => Some("image/gif"),
            "image/webp" => Some("image/webp"),
            "application/pdf" => Some("application/pdf"),
            _ => None,
        };
    }
    // A binary DXF's sentinel ends in CR LF, SUB, NUL; some writers drop the CR (the CAD reader
    // accepts both, so uploads do too).
    if let Some(rest) = head.strip_prefix(b"AutoCAD Binary DXF".as_slice())
        && (rest.starts_with(b"\r\n\x1a\0") || rest.starts_with(b"\n\x1a\0"))
    {
        return Some("image/vnd.dxf");
    }
    if head.len() >= 6 && head.starts_with(b"AC10") && head[4..6].iter().all(u8::is_ascii_digit) {
        return Some("image/vnd.dwg");
    }
    if head.contains(&0) {
        return None;
    }
    // Text: valid UTF-8 (allowing a character cut at the end of the sniffed prefix) or a DXF in a
    // legacy code page, which is ASCII group codes with 8-bit text values.
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
        Err(_) => return looks_like_ascii_dxf(&String::from_utf8_lossy(head)).then_some("image/vnd.dxf"),
    };
    if looks_like_ascii_dxf(text) {
        return Some("image/vnd.dxf");
    }
    Some("text/plain")
}

/// An ASCII DXF opens with group code 0 and SECTION, or with 999 and a comment line.
fn looks_like_ascii_dxf(text: &str) -> bool {
    let mut lines = text.trim_start_matches('\u{feff}').lines().map(str::trim);
    matches!((lines.next(), lines.next()), (Some("0"), Some("SECTION")) | (Some("999"), Some(_)))
}

/// The name as metadata: no directories, no control or bidi-override characters, not a Windows
/// device name, at most 200 characters (keeping the extension).
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .map(|c| if matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim().trim_matches('.').trim();
    let mut name = if trimmed.is_empty() { "file".to_owned() } else { trimmed.to_owned() };
    let stem = name.split('.').next().unwrap_or_default().to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        name = format!("_{name}");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        let extension = Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.chars().count() <= 16)
            .map(str::to_owned);
        let keep = MAX_NAME_CHARS - extension.as_ref().map_or(0, |e| e.chars().count() + 1);
        let mut shortened: String = name.chars().take(keep).collect();
        if let Some(extension) = extension {
            shortened.push('.');
            shortened.push_str(&extension);
        }
        name = shortened;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn names_lose_paths_controls_and_tricks() {
        assert_eq!(sanitize_file_name("../../x"), "x");
        assert_eq!(sanitize_file_name("C:\\Windows\\system32\\evil.dll"), "evil.dll");
        assert_eq!(sanitize_file_name("/etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("a\0b.png"), "ab.png");
        assert_eq!(sanitize_file_name("CON"), "_CON");
        assert_eq!(sanitize_file_name("com1.txt"), "_com1.txt");
        assert_eq!(sanitize_file_name("a\u{202e}gnp.exe"), "agnp.exe");
        assert_eq!(sanitize_file_name(".."), "file");
        assert_eq!(sanitize_file_name("报价单.dxf"), "报价单.dxf");
        let long = sanitize_file_name(&format!("{}.dxf", "a".repeat(300)));
        assert_eq!(long.chars().count(), 200);
        assert!(long.ends_with(".dxf"));
    }

    #[test]
    fn types_come_from_the_bytes_and_must_match_the_extension() {
        assert_eq!(sniff(PNG, "poster.png").ok(), Some("image/png"));
        assert_eq!(sniff(PNG, "poster").ok(), Some("image/png"), "no extension: the bytes decide");
        assert_eq!(sniff(b"0\nSECTION\n2\nHEADER\n", "plan.dxf").ok(), Some("image/vnd.dxf"));
        assert_eq!(sniff(b"  0\r\nSECTION\r\n", "plan.DXF").ok(), Some("image/vnd.dxf"));
        assert_eq!(sniff(b"AC1018\0\0\0", "plan.dwg").ok(), Some("image/vnd.dwg"));
        assert!(sniff(b"0\nSECTION\n", "fake.png").is_err(), "a DXF named .png");
        assert!(sniff(b"PK\x03\x04\x14\0\0\0", "plan.dxf").is_err(), "a zip named .dxf");
        assert!(sniff(PNG, "a.png.exe").is_err(), "double extension");
        assert!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF", "photo.png").is_err(), "JPEG bytes named .png");
        assert!(sniff(b"MZ\x90\0\x03\0\0\0", "tool").is_err(), "executables are refused");
        assert_eq!(sniff("设计说明".as_bytes(), "notes.txt").ok(), Some("text/plain"));
        assert_eq!(sniff(b"AutoCAD Binary DXF\r\n\x1a\0\0\0SECTION\0", "b.dxf").ok(), Some("image/vnd.dxf"));
        assert_eq!(
            sniff(b"AutoCAD Binary DXF\n\x1a\0\0\0SECTION\0", "lf.dxf").ok(),
            Some("image/vnd.dxf"),
            "a binary DXF whose sentinel line ends in LF alone"
        );
        assert!(sniff(b"AutoCAD Binary DXF\n\0\0SECTION\0", "bad.dxf").is_err(), "no SUB: not the sentinel");
        let mut gbk_dxf = b"0\nSECTION\n2\nHEADER\n1\n".to_vec();
        gbk_dxf.extend_from_slice(&[0xc9, 0xe8, 0xbc, 0xc6]);
        assert_eq!(sniff(&gbk_dxf, "gbk.dxf").ok(), Some("image/vnd.dxf"), "legacy code page DXF");
    }

    #[test]
    fn blob_paths_only_take_hex_digests() {
        let store = BlobStore { root: PathBuf::from("/data") };
        assert!(store.blob_path("../../etc/passwd").is_err());
        let sha = "a".repeat(64);
        assert_eq!(store.blob_path(&sha).ok(), Some(PathBuf::from(format!("/data/sha256/aa/aa/{sha}"))));
    }

    #[tokio::test]
    async fn staging_stops_at_the_limit_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(dir.path()).expect("open");
        let chunks = futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(vec![7u8; 1000])));
        let result = store.stage(chunks, 4500).await;
        assert!(matches!(result, Err(CoreError::TooLarge { limit: 4500, .. })));
        let left = std::fs::read_dir(dir.path().join("tmp")).expect("tmp").count();
        assert_eq!(left, 0, "the partial upload is removed");

        let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(b"hello ".to_vec()), Ok(b"world".to_vec())]);
        let staged = store.stage(chunks, 4500).await.expect("fits");
        assert_eq!(staged.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        let path = store.blob_path(&staged.sha256).expect("path");
        store.commit(staged).await.expect("commit");
        assert_eq!(std::fs::read(path).expect("blob"), b"hello world");
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").count(), 0);
    }
}
