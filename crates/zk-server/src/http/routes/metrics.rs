//! `GET /metrics`: the core's metrics in Prometheus's text format, for a scraper.
//!
//! Outside `/api` (where scrapers look for it) and outside the route table's roles: a scraper has
//! no account. Who may read it is the core's rule ([`zk_core::metrics::access`]): the bearer token
//! `METRICS_TOKEN` when one is set, else loopback clients only.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use zk_core::metrics::{self, Access};

use crate::http::{ApiError, AppState};

pub async fn scrape(State(state): State<AppState>, request: Request) -> Response {
    let client = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let authorization = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match metrics::access(state.core.config.server.metrics_token.as_ref(), authorization, client) {
        Access::Allowed => {
            ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], state.core.metrics_text().await).into_response()
        }
        Access::TokenRequired => {
            let mut response = ApiError::unauthenticated(
                "/metrics needs the bearer token METRICS_TOKEN: give it to the scraper as `authorization: \
                 credentials` (Prometheus) or `Authorization: Bearer <token>`",
            )
            .into_response();
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            response
        }
        Access::NotLoopback => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "/metrics answers only clients on this machine; set METRICS_TOKEN to let a remote scraper in",
        )
        .into_response(),
    }
}
