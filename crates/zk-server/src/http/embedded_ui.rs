//! The UI built into the binary (see `build.rs`): served when no `UI_DIR` is given, so
//! `zk-agent serve` works from any folder.
//!
//! Vite names every file under `assets/` by its content hash, so those are cached for a year as
//! immutable; everything else (`index.html` above all) is revalidated on each load by its ETag, so a
//! new binary's UI is seen at the next reload. Compressed files go out as they are to clients that
//! accept gzip (every browser) and are inflated for the others.

use std::io::Read;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use flate2::read::GzDecoder;

/// One file of `ui/dist`.
pub struct EmbeddedFile {
    /// Relative to `ui/dist`, `/`-separated.
    pub path: &'static str,
    pub content_type: &'static str,
    /// A quoted strong ETag: part of the content's SHA-256.
    pub etag: &'static str,
    /// `bytes` is the gzip of the file.
    pub gzipped: bool,
    pub bytes: &'static [u8],
}

/// Sorted by path.
static FILES: &[EmbeddedFile] = include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Whether this binary carries a UI build.
pub fn available() -> bool {
    find("index.html").is_some()
}

/// How many files the embedded UI has.
pub fn file_count() -> usize {
    FILES.len()
}

fn find(path: &str) -> Option<&'static EmbeddedFile> {
    FILES.binary_search_by(|file| file.path.cmp(path)).ok().map(|index| &FILES[index])
}

/// Answers a request outside the API: the file at its path, or `index.html` for the single-page
/// app's own routes. A missing file under `assets/` is a 404, not the page: a stale page asking for
/// a script of an older build must fail as a missing script, not load HTML as one.
pub async fn serve(request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")]).into_response();
    }
    let path = request.uri().path().trim_start_matches('/');
    let file = match find(path) {
        Some(file) => file,
        None if path.starts_with("assets/") => return StatusCode::NOT_FOUND.into_response(),
        None => match find("index.html") {
            Some(index) => index,
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    respond(file, request.headers(), request.method() == Method::HEAD)
}

fn respond(file: &EmbeddedFile, request: &HeaderMap, head_only: bool) -> Response {
    let cache = if file.path.starts_with("assets/") { IMMUTABLE } else { REVALIDATE };
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ETAG, HeaderValue::from_static(file.etag));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if matches_etag(request, file.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type));
    // The embedded bytes go out as they are, without a copy; only a client without gzip costs one.
    let bytes = if !file.gzipped {
        Bytes::from_static(file.bytes)
    } else if accepts_gzip(request) {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        Bytes::from_static(file.bytes)
    } else {
        let mut inflated = Vec::new();
        if GzDecoder::new(file.bytes).read_to_end(&mut inflated).is_err() {
            // Written by build.rs from this very table: unreachable short of a corrupted binary.
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Bytes::from(inflated)
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let body = if head_only { Body::empty() } else { Body::from(bytes) };
    (StatusCode::OK, headers, body).into_response()
}

fn matches_etag(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        })
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            // `gzip;q=0` refuses it.
            let refused = parts.any(|param| {
                let param = param.trim();
                param.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(name, value)| (name.clone(), HeaderValue::from_static(value))).collect()
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        assert!(accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "gzip, deflate, br")])));
        assert!(accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "br;q=1.0, GZIP;q=0.5")])));
        assert!(accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "*")])));
        assert!(!accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn an_etag_matches_in_a_list_and_weakly() {
        let etag = "\"abc\"";
        assert!(matches_etag(&headers(&[(header::IF_NONE_MATCH, "\"x\", \"abc\"")]), etag));
        assert!(matches_etag(&headers(&[(header::IF_NONE_MATCH, "W/\"abc\"")]), etag));
        assert!(matches_etag(&headers(&[(header::IF_NONE_MATCH, "*")]), etag));
        assert!(!matches_etag(&headers(&[(header::IF_NONE_MATCH, "\"abd\"")]), etag));
    }

    #[test]
    fn the_table_is_sorted_so_lookups_find_every_file() {
        assert!(FILES.windows(2).all(|pair| pair[0].path < pair[1].path));
        for file in FILES {
            assert!(find(file.path).is_some(), "{} is found", file.path);
        }
    }
}
