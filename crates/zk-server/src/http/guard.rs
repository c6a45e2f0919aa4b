//! Browser safety for a server on the loopback interface (the approach of Syncthing's GUI):
//! a Host allow-list against DNS rebinding, an Origin check on state-changing requests against
//! cross-site requests, no CORS at all, and security headers on every response.

use std::collections::HashSet;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use zk_core::config::Config;
use zk_core::store::NewAuditEntry;

use super::AppState;
use super::error::ApiError;
use super::extract::request_meta;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The `host:port` values this server answers to.
pub fn allowed_hosts(config: &Config, port: u16) -> HashSet<String> {
    let mut hosts: HashSet<String> =
        ["127.0.0.1", "localhost", "[::1]"].iter().map(|h| format!("{h}:{port}")).collect();
    if !config.server.host.is_loopback() && !config.server.host.is_unspecified() {
        hosts.insert(match config.server.host {
            std::net::IpAddr::V6(ip) => format!("[{ip}]:{port}"),
            ip => format!("{ip}:{port}"),
        });
    }
    for extra in &config.server.allowed_hosts {
        let has_port = extra.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) && !extra.ends_with(']');
        hosts.insert(if has_port { extra.clone() } else { format!("{extra}:{port}") });
    }
    if port == 80 {
        let bare: Vec<String> = hosts.iter().filter_map(|h| h.strip_suffix(":80").map(str::to_owned)).collect();
        hosts.extend(bare);
    }
    hosts
}

/// Refuses requests whose Host is not ours: a page on `evil.example` that rebinds its name to
/// 127.0.0.1 still sends `Host: evil.example`.
///
/// A request with two Host headers is refused: which one counts would differ between this check,
/// a proxy in front and the handlers.
pub async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.headers().get_all(header::HOST).iter().nth(1).is_some() {
        tracing::warn!("request with more than one Host header");
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_host",
            "the request has more than one Host header; send exactly one",
        )
        .into_response();
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()))
        .map(|h| h.to_ascii_lowercase());
    match host {
        Some(host) if state.allowed_hosts.contains(&host) => next.run(request).await,
        Some(host) => {
            tracing::warn!(host = ?host, "request for a host this server does not serve");
            ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "unknown_host",
                "this server does not answer to that host name; add it to ALLOWED_HOSTS if it is yours",
            )
            .into_response()
        }
        None => {
            ApiError::new(StatusCode::BAD_REQUEST, "unknown_host", "the request has no Host header").into_response()
        }
    }
}

/// Refuses state-changing requests sent by pages of other origins.
pub async fn check_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let cross_site = request.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
    let origin_ok = match &origin {
        None => true,
        Some(origin) if state.desktop_origins.contains(origin) => true,
        Some(origin) => origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|host| state.allowed_hosts.contains(host)),
    };
    // The desktop window is another site by the browser's rules, but it is ours.
    let cross_site = cross_site && !origin.as_ref().is_some_and(|o| state.desktop_origins.contains(o));
    if origin_ok && !cross_site {
        return next.run(request).await;
    }
    let (parts, _body) = request.into_parts();
    let meta = request_meta(&parts);
    tracing::warn!(origin = ?origin, path = %parts.uri.path(), "cross-origin request refused");
    state
        .core
        .admin
        .record(
            NewAuditEntry {
                action: zk_core::audit::ORIGIN_REFUSED.into(),
                target: Some(format!("{} {}", parts.method, parts.uri.path())),
                outcome: "denied".into(),
                details: json!({ "origin": origin }),
                ..NewAuditEntry::default()
            },
            &meta,
        )
        .await;
    ApiError::new(StatusCode::FORBIDDEN, "forbidden_origin", "requests from other web sites are not allowed")
        .into_response()
}

/// CORS for the desktop window's exact origins only; no CORS headers at all for anyone else (and
/// none at all when there is no desktop window).
pub fn desktop_cors(origins: &[String]) -> tower::util::Either<CorsLayer, tower::layer::util::Identity> {
    let origins: Vec<HeaderValue> =
        origins.iter().filter_map(|o| HeaderValue::from_str(&o.to_ascii_lowercase()).ok()).collect();
    if origins.is_empty() {
        return tower::util::Either::Right(tower::layer::util::Identity::new());
    }
    tower::util::Either::Left(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("idempotency-key")])
            .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER, header::CONTENT_DISPOSITION])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

pub async fn security_headers(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    if is_api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
