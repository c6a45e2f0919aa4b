//! What can go wrong talking to a model API, in the terms a caller acts on: retry later, fix the key,
//! buy quota, or keep the partial answer and offer a retry.

use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelApiError {
    /// The key is missing, wrong or not allowed (HTTP 401/403, FastGPT 403, 511, 514, 506000–506001).
    #[error("the model API refused the key: {message}")]
    Auth { status: u16, code: Option<i64>, message: String },
    /// Out of quota or rate limited (HTTP 429, FastGPT 510, 506002).
    #[error("the model API is out of quota or rate limited: {message}")]
    Quota { status: u16, code: Option<i64>, message: String, retry_after: Option<Duration> },
    /// The server failed (HTTP 5xx, or a failure reported inside an HTTP 200 answer or stream).
    #[error("the model API failed: {message}")]
    Upstream { status: u16, code: Option<i64>, message: String },
    /// The request was refused as invalid (other HTTP 4xx).
    #[error("the model API refused the request: {message}")]
    Rejected { status: u16, message: String },
    /// No answer within the time limit.
    #[error("the model API did not answer within {0:?}")]
    Timeout(Duration),
    /// A stream went quiet for longer than the read-idle limit.
    #[error("the answer stream stalled for {0:?}")]
    Stalled(Duration),
    /// A stream ended (connection cut) before its end was announced.
    #[error("the answer stream was cut off: {0}")]
    Interrupted(String),
    /// A frame or body that is not what the protocol says.
    #[error("the model API sent something malformed: {0}")]
    Malformed(String),
    /// The answer passed the size cap.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    /// The server could not be reached at all.
    #[error("cannot reach the model API: {0}")]
    Unreachable(String),
}

impl ModelApiError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Quota { .. }
                | Self::Upstream { .. }
                | Self::Timeout(_)
                | Self::Stalled(_)
                | Self::Interrupted(_)
                | Self::Unreachable(_)
        )
    }

    /// Maps an error body (FastGPT's `{code, statusText, message}`, OpenAI's `{error: {message, type,
    /// code}}`, or FastGPT's stream `{message}`) and the HTTP status to an error.
    pub fn from_body(status: u16, body: &Value, retry_after: Option<Duration>) -> Self {
        let (code, message) = describe(body);
        let message = if message.is_empty() { format!("HTTP {status}") } else { message };
        match (status, code) {
            (_, Some(403 | 511 | 513 | 514 | 506000 | 506001)) | (401 | 403, _) => Self::Auth { status, code, message },
            (_, Some(510 | 506002)) | (429, _) => Self::Quota { status, code, message, retry_after },
            (400..=499, _) if code.is_none() => Self::Rejected { status, message },
            _ => Self::Upstream { status, code, message },
        }
    }
}

/// The numeric code and the human message of an error body, whichever shape it has.
fn describe(body: &Value) -> (Option<i64>, String) {
    let nested = body.get("error").filter(|e| e.is_object());
    let source = nested.unwrap_or(body);
    let code = source.get("code").and_then(|c| c.as_i64().or_else(|| c.as_str().and_then(|s| s.parse().ok())));
    let text = |key: &str| source.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let message = text("message")
        .or_else(|| text("statusText"))
        .or_else(|| body.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    (code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_documented_error_shape_maps_to_what_a_caller_acts_on() {
        let key = ModelApiError::from_body(
            500,
            &json!({"code": 514, "statusText": "unAuthApiKey", "message": "Api Key 不合法", "data": null}),
            None,
        );
        assert!(matches!(key, ModelApiError::Auth { code: Some(514), ref message, .. } if message == "Api Key 不合法"));
        assert!(matches!(
            ModelApiError::from_body(403, &json!({"code": 403, "statusText": "unAuthorization"}), None),
            ModelApiError::Auth { .. }
        ));
        assert!(matches!(
            ModelApiError::from_body(500, &json!({"code": 510, "message": "insufficientQuota"}), None),
            ModelApiError::Quota { .. }
        ));
        assert!(matches!(ModelApiError::from_body(500, &json!({"code": 506002}), None), ModelApiError::Quota { .. }));
        let plain = ModelApiError::from_body(
            500,
            &json!({"code": 500, "statusText": "error", "message": "网络连接异常"}),
            None,
        );
        assert!(matches!(plain, ModelApiError::Upstream { ref message, .. } if message == "网络连接异常"));
        assert!(plain.is_retryable());
        let openai = ModelApiError::from_body(
            429,
            &json!({"error": {"message": "slow down", "type": "rate_limit", "code": "rate_limit_exceeded"}}),
            Some(Duration::from_secs(3)),
        );
        assert!(matches!(openai, ModelApiError::Quota { retry_after: Some(_), .. }));
        assert!(matches!(
            ModelApiError::from_body(401, &json!({"error": {"message": "bad key"}}), None),
            ModelApiError::Auth { .. }
        ));
        assert!(matches!(
            ModelApiError::from_body(400, &json!({"error": {"message": "messages is empty"}}), None),
            ModelApiError::Rejected { .. }
        ));
        assert!(
            matches!(ModelApiError::from_body(502, &json!("gateway"), None), ModelApiError::Upstream { ref message, .. } if message == "HTTP 502")
        );
        assert!(!ModelApiError::Auth { status: 401, code: None, message: String::new() }.is_retryable());
    }
}
