//! Object storage: an S3-compatible bucket the file store is synced to. Nothing set: local only.

use super::{ConfigError, Reader, Setting};
use crate::secret::Secret;

pub(super) const SETTINGS: &[Setting] = &[
    Setting::url("S3_ENDPOINT", "S3-compatible endpoint, e.g. http://127.0.0.1:8333 (unset with a bucket: AWS)"),
    Setting::plain("S3_BUCKET", "bucket the file store is synced to; unset: local file store only"),
    Setting::plain("S3_REGION", "the bucket's region (default us-east-1)"),
    Setting::plain("S3_ACCESS_KEY_ID", "access key id of the bucket's credentials"),
    Setting::secret("S3_SECRET_ACCESS_KEY", "secret access key of the bucket's credentials"),
    Setting::plain("S3_PREFIX", "key prefix inside the bucket, e.g. team-a/ (default: none)"),
    Setting::plain(
        "S3_FORCE_PATH_STYLE",
        "bucket in the path rather than the host name (default true with an endpoint)",
    ),
];

/// Where files are kept besides the local file store.
#[derive(Debug, Clone, Default)]
pub struct StorageConfig {
    /// `None`: the local file store only.
    pub s3: Option<S3Config>,
}

/// An S3-compatible bucket. `Debug` never shows the secret key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `None`: AWS's own endpoint for the region.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    /// Both or neither: without them, credentials come from the environment's usual AWS sources.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    /// Empty, or ending in `/`.
    pub prefix: String,
    pub force_path_style: bool,
}

pub(super) fn read(reader: &mut Reader) -> Result<StorageConfig, ConfigError> {
    let endpoint = reader.url("S3_ENDPOINT", &["https", "http"])?;
    let bucket = reader.string("S3_BUCKET").map(|b| b.trim().to_owned());
    let region = reader.string("S3_REGION").map(|r| r.trim().to_owned());
    let access_key_id = reader.string("S3_ACCESS_KEY_ID").map(|k| k.trim().to_owned());
    let secret_access_key = reader.secret("S3_SECRET_ACCESS_KEY");
    let prefix = reader.string("S3_PREFIX");
    let force_path_style = reader.bool("S3_FORCE_PATH_STYLE")?;

    let Some(bucket) = bucket else {
        let stray = [
            ("S3_ENDPOINT", endpoint.is_some()),
            ("S3_ACCESS_KEY_ID", access_key_id.is_some()),
            ("S3_SECRET_ACCESS_KEY", secret_access_key.is_some()),
            ("S3_PREFIX", prefix.is_some()),
        ];
        if let Some((name, _)) = stray.iter().find(|(_, set)| *set) {
            return Err(reader.error(
                name,
                "is set but S3_BUCKET is not, so nothing would be synced",
                "set S3_BUCKET to the bucket to sync to, or unset every S3_* variable for a local file store only",
            ));
        }
        return Ok(StorageConfig { s3: None });
    };
    if !valid_bucket_name(&bucket) {
        return Err(reader.error(
            "S3_BUCKET",
            "is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)",
            "set S3_BUCKET to the bucket's exact name, e.g. S3_BUCKET=zk-agent-files",
        ));
    }
    let region = region.filter(|r| !r.is_empty()).unwrap_or_else(|| "us-east-1".to_owned());
    if !region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(reader.error(
            "S3_REGION",
            "is not a region name",
            "set S3_REGION to the bucket's region, e.g. us-east-1 (any name the store accepts, for stores without regions)",
        ));
    }
    match (&access_key_id, &secret_access_key) {
        (Some(_), None) => {
            return Err(reader.error(
                "S3_SECRET_ACCESS_KEY",
                "is not set although S3_ACCESS_KEY_ID is",
                "set S3_SECRET_ACCESS_KEY to the secret of that access key",
            ));
        }
        (None, Some(_)) => {
            return Err(reader.error(
                "S3_ACCESS_KEY_ID",
                "is not set although S3_SECRET_ACCESS_KEY is",
                "set S3_ACCESS_KEY_ID to the id of that secret key",
            ));
        }
        _ => {}
    }
    let prefix = match prefix {
        None => String::new(),
        Some(raw) => normalize_prefix(&raw).ok_or_else(|| {
            reader.error(
                "S3_PREFIX",
                "is not a key prefix (segments of letters, digits and - _ . separated by /, no . or .. segment)",
                "write it like S3_PREFIX=team-a/ or leave it unset",
            )
        })?,
    };
    Ok(StorageConfig {
        s3: Some(S3Config {
            force_path_style: force_path_style.unwrap_or(endpoint.is_some()),
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
            bucket,
            region,
            access_key_id,
            secret_access_key,
            prefix,
        }),
    })
}

/// S3's rules for bucket names (the ones every compatible store accepts).
fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
}

/// `team-a`, `/team-a/`, `team-a/x` → `team-a/`, `team-a/x/`; `None` for anything that is not a
/// plain key path.
fn normalize_prefix(raw: &str) -> Option<String> {
    let trimmed = raw.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Some(String::new());
    }
    let ok = trimmed.split('/').all(|segment| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    ok.then(|| format!("{trimmed}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_plain_paths_ending_in_a_slash() {
        assert_eq!(normalize_prefix("team-a").as_deref(), Some("team-a/"));
        assert_eq!(normalize_prefix("/team-a/x/").as_deref(), Some("team-a/x/"));
        assert_eq!(normalize_prefix("/").as_deref(), Some(""));
        assert_eq!(normalize_prefix("a/../b"), None);
        assert_eq!(normalize_prefix("a//b"), None);
        assert_eq!(normalize_prefix("a b"), None);
    }

    #[test]
    fn bucket_names_follow_s3() {
        assert!(valid_bucket_name("zk-agent.files"));
        for bad in ["ab", "Upper", "-start", "end-", "a..b", "under_score", &"a".repeat(64)] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }
}
