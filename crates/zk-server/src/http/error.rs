//! The one error shape of the API: `{code, message, details}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use zk_core::CoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    pub retry_after: Option<u64>,
}

/// The body of every API error.
#[derive(Serialize, ts_rs::TS)]
pub struct ApiErrorBody {
    /// Stable and short; the UI branches on it (e.g. `unauthenticated`, `rate_limited`).
    pub code: String,
    /// For people: names the thing, the problem and the fix.
    pub message: String,
    /// Machine-readable extras, e.g. `{"field": "password"}` or `{"retry_after_secs": 4}`.
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: json!({}), retry_after: None }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody { code: self.code.to_owned(), message: self.message, details: self.details };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        let status = match &error {
            CoreError::Invalid { .. } | CoreError::Problems { .. } => StatusCode::BAD_REQUEST,
            CoreError::NotFound(_) => StatusCode::NOT_FOUND,
            CoreError::Conflict(_) => StatusCode::CONFLICT,
            CoreError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
            CoreError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            CoreError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            CoreError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            CoreError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            CoreError::NoSuchLayout { .. } => StatusCode::NOT_FOUND,
            CoreError::DatabaseUnavailable(_) | CoreError::KeychainUnavailable(_) | CoreError::Busy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            CoreError::KeyStoreLocked(_) => StatusCode::LOCKED,
            CoreError::Storage(_) | CoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut api = Self::new(status, error.code(), error.to_string());
        match &error {
            CoreError::Invalid { field: Some(field), .. } => api.details = json!({ "field": field }),
            CoreError::Problems { problems, .. } => api.details = json!({ "problems": problems }),
            CoreError::RateLimited { retry_after_secs } | CoreError::Busy { retry_after_secs, .. } => {
                api.retry_after = Some(*retry_after_secs);
                api.details = json!({ "retry_after_secs": retry_after_secs });
            }
            CoreError::TooLarge { limit, .. } => api.details = json!({ "limit_bytes": limit }),
            CoreError::NoSuchLayout { name, available } => {
                api.details = json!({ "layout": name, "layouts": available })
            }
            CoreError::DatabaseUnavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                api.message = "database unavailable; try again in a moment".into();
            }
            CoreError::Storage(_) | CoreError::Internal(_) => {
                // Logged at ERROR (and so into error_log, with the request id); the client gets no internals.
                tracing::error!(error = ?error, "request failed");
                api.message = "internal error; the administrator can find it in the error log by its request id".into();
            }
            _ => {}
        }
        api
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_type",
            _ => "invalid_input",
        };
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
        Self::new(status, code, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
