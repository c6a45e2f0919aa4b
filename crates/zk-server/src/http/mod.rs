//! The local server: JSON API under `/api`, SSE streams, and the built UI.
//!
//! Every API route is registered through [`Api::route`] with the role it needs, which both installs
//! the access check and records the route in a table ([`router`] returns it) that tests walk with
//! every role. Layers, outermost first: request id → trace span → request metrics → Host allow-list →
//! Origin check → security headers → body limit → per-route access check → route template → handler.
//! `/metrics` (Prometheus) sits beside `/api`, outside the route table.

#[cfg(test)]
mod bindings;
mod embedded_ui;
mod error;
mod extract;
mod guard;
mod routes;
mod static_ui;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderName, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get, on};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use zk_core::Core;
use zk_core::store::Role;

pub use error::{ApiError, ApiResult};
use extract::CurrentUser;

/// JSON bodies larger than this are refused (uploads have their own, streaming limit).
const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token: health, sign-in, refresh, first-start setup.
    Public,
    /// Any signed-in user of at least this role.
    Role(Role),
}

/// One row of the route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// How the server is run, besides the core's configuration.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// What answers outside `/api`.
    pub ui: UiSource,
    /// Exact origins of the desktop app's own window (e.g. `tauri://localhost`). They may call the API
    /// cross-origin, with CORS answered for them alone; empty for `zk-agent serve`.
    pub desktop_origins: Vec<String>,
}

/// Where the UI served at `/` comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum UiSource {
    /// The API only (the desktop app's window has the UI itself).
    #[default]
    None,
    /// A built UI on disk (`UI_DIR`, or `ui/dist` of a checkout whose binary embeds none).
    Dir(PathBuf),
    /// The UI built into this binary.
    Embedded,
}

impl UiSource {
    /// What `zk-agent serve` serves: `UI_DIR` when set, else the UI built into the binary, else
    /// `ui/dist` under the working folder when a binary without one runs in a checkout.
    pub fn for_server(ui_dir: Option<&std::path::Path>) -> Self {
        match ui_dir {
            Some(dir) => Self::Dir(dir.to_path_buf()),
            None if embedded_ui::available() => Self::Embedded,
            None => {
                let checkout = PathBuf::from("ui/dist");
                if checkout.join("index.html").is_file() { Self::Dir(checkout) } else { Self::None }
            }
        }
    }

    /// One line for the start-up banner.
    pub fn describe(&self) -> String {
        match self {
            Self::None => "not built (run `npm run build` in ui/ and rebuild, or set UI_DIR)".to_owned(),
            Self::Dir(dir) => dir.display().to_string(),
            Self::Embedded => format!("built in ({} files)", embedded_ui::file_count()),
        }
    }
}

/// What the router needs besides the core.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The port actually bound (differs from PORT when PORT is 0).
    pub port: u16,
    pub options: ServeOptions,
}

#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    /// `host[:port]` values the Host header may carry (DNS-rebinding defence).
    pub allowed_hosts: Arc<HashSet<String>>,
    /// Origins besides our own that may make state-changing requests: the desktop window's.
    pub desktop_origins: Arc<HashSet<String>>,
    /// Ends long-lived responses (SSE) when the server shuts down.
    pub shutdown: CancellationToken,
}

/// Collects routes together with the role each needs.
struct Api {
    state: AppState,
    router: Router<AppState>,
    table: Vec<RouteSpec>,
}

impl Api {
    fn route<H, T>(mut self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            Method::GET => MethodFilter::GET,
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::PATCH => MethodFilter::PATCH,
            Method::DELETE => MethodFilter::DELETE,
            _ => unreachable!("the API uses GET, POST, PUT, PATCH and DELETE only"),
        };
        let checked = on(filter, handler)
            .route_layer(middleware::from_fn_with_state((self.state.clone(), access), check_access))
            .route_layer(middleware::from_fn(note_route));
        self.router = self.router.route(path, checked);
        self.table.push(RouteSpec { method, path, access });
        self
    }
}

/// The access check of one route: a valid bearer token of a user with at least the role.
async fn check_access(State((state, access)): State<(AppState, Access)>, mut request: Request, next: Next) -> Response {
    let Access::Role(role) = access else { return next.run(request).await };
    let token = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return ApiError::unauthenticated("this needs a bearer token; sign in first").into_response();
    };
    let principal = match state.core.accounts.authenticate(token).await {
        Ok(principal) => principal,
        Err(error) => return ApiError::from(error).into_response(),
    };
    tracing::Span::current().record("user_id", principal.user_id);
    if let Err(error) = principal.require(role) {
        tracing::info!(user_id = principal.user_id, path = %request.uri().path(), "access denied by role");
        return ApiError::from(error).into_response();
    }
    request.extensions_mut().insert(CurrentUser(principal));
    next.run(request).await
}

/// Hands the matched route's template (`/api/files/{id}`) to the request's span (JSON logs show it
/// as `route`) and to the response, where [`measure`] reads it: the template, never the path, so
/// ids and names never become metric labels.
async fn note_route(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let Some(matched) = matched else { return next.run(request).await };
    tracing::Span::current().record("route", matched.as_str());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(matched);
    response
}

/// Counts every request and times it to its response head (`zk_http_requests_total`,
/// `zk_http_request_duration_seconds`), labelled with the route template [`note_route`] left on the
/// response; requests no route matched are `unmatched` (API) or `static` (the UI's files).
async fn measure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let api = request.uri().path().starts_with("/api/") || request.uri().path() == "/metrics";
    let response = next.run(request).await;
    let route = match response.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str(),
        None if api => "unmatched",
        None => "static",
    };
    state.core.metrics.http_request(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// The whole application and its route table.
pub fn router(core: Arc<Core>, settings: &ServerSettings, shutdown: CancellationToken) -> (Router, Vec<RouteSpec>) {
    let allowed_hosts = Arc::new(guard::allowed_hosts(&core.config, settings.port));
    let desktop_origins = Arc::new(settings.options.desktop_origins.iter().map(|o| o.to_ascii_lowercase()).collect());
    let state = AppState { core, allowed_hosts, desktop_origins, shutdown };
    let api = routes::register(Api { state: state.clone(), router: Router::new(), table: Vec::new() });
    let table = api.table;
    let api_router =
        api.router.fallback(|| async { ApiError::not_found("API route") }).method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        });

    let request_id = HeaderName::from_static("x-request-id");
    let metrics_enabled = state.core.config.server.metrics_enabled;
    let mut app = Router::new().nest("/api", api_router);
    if metrics_enabled {
        app = app.route("/metrics", get(routes::metrics::scrape).route_layer(middleware::from_fn(note_route)));
    }
    app = match &settings.options.ui {
        UiSource::Dir(dir) => app.fallback_service(static_ui::service(dir)),
        UiSource::Embedded => app.fallback(embedded_ui::serve),
        UiSource::None => app.fallback(static_ui::no_ui),
    };
    let app = app
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::from_fn(guard::security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), guard::check_origin))
        .layer(guard::desktop_cors(&settings.options.desktop_origins))
        .layer(middleware::from_fn_with_state(state.clone(), guard::check_host))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(tower::util::option_layer(
            metrics_enabled.then(|| middleware::from_fn_with_state(state.clone(), measure)),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id, user_id = tracing::field::Empty, route = tracing::field::Empty)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state);
    (app, table)
}

/// Serves until `shutdown` is cancelled, then stops accepting and lets open requests finish.
///
/// Connections are served one task each by hyper's HTTP/1 server (not `axum::serve`, which sets no
/// timer): a connection whose request head is not complete within `HTTP_HEADER_TIMEOUT_SECS` is
/// closed, and at most `HTTP_MAX_CONNECTIONS` are open at once; the next one is accepted only when a
/// slot frees, and waits in the listen backlog until then.
pub async fn serve(
    core: Arc<Core>,
    listener: TcpListener,
    options: ServeOptions,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let port = listener.local_addr()?.port();
    let limits = ConnectionLimits {
        header_timeout: core.config.server.header_timeout,
        max_connections: core.config.server.max_connections,
    };
    let (app, _) = router(core, &ServerSettings { port, options }, shutdown.clone());
    accept(listener, app, limits, shutdown).await;
    Ok(())
}

/// How the accept loop bounds what clients hold.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    header_timeout: std::time::Duration,
    max_connections: usize,
}

/// Accepts connections until `shutdown`, each served on its own task; then waits for the open ones
/// to finish their requests (idle ones close at once).
async fn accept(listener: TcpListener, app: Router, limits: ConnectionLimits, shutdown: CancellationToken) {
    // One permit per open connection: the cap. A permit is taken before `accept`, so a connection
    // over the cap is not accepted (it waits in the kernel's backlog) rather than accepted and dropped.
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    // Owns every connection task, so a graceful stop can wait for them all.
    let connections = tokio_util::task::TaskTracker::new();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                // Never closed while the loop runs.
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
        };
        connections.spawn(serve_connection(stream, remote, app.clone(), limits, permit, shutdown.clone()));
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// One connection until it closes; on `shutdown`, its open request finishes and it closes.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    remote: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    _slot: tokio::sync::OwnedSemaphorePermit,
    shutdown: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(axum::extract::ConnectInfo(remote));
        tower::ServiceExt::oneshot(app.clone(), request.map(axum::body::Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(connection);
    let finished = tokio::select! {
        finished = connection.as_mut() => finished,
        _ = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = finished {
        // A client that went away or was too slow (the header timeout): nothing to do but note it.
        tracing::debug!(%remote, error = %error, "connection closed with an error");
    }
}

/// An `accept` that failed: a connection reset before it was accepted is skipped; anything else (out
/// of file descriptors, most often) is logged and retried after a pause instead of spinning.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(error.kind(), ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused)
    {
        return;
    }
    tracing::error!(error = %error, "cannot accept a connection; retrying in a second (lower HTTP_MAX_CONNECTIONS \
        or raise the process's open-file limit if this repeats)");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}
