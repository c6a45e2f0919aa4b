//! Whether an upstream model API answers: the FastGPT deployment of the configuration, or an agent's
//! endpoint. A probe costs no model call (FastGPT's `getHistories`, OpenAI's `/v1/models`).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Config;

/// The configured FastGPT deployment: with a key, FastGPT's cheap `getHistories` probe (reachable and
/// the key valid, no model call); without one, whether the host answers HTTP at all. Per-agent probes
/// belong to the agents service.
pub async fn probe_fastgpt(config: &Config) -> UpstreamHealth {
    let Some(fastgpt) = &config.agents.fastgpt else {
        return UpstreamHealth {
            status: "not_configured",
            base_url: None,
            latency_ms: None,
            key_valid: None,
            error: None,
        };
    };
    let base_url = Some(crate::secret::redact_url(&fastgpt.base_url));
    let started = Instant::now();
    let Some(key) = &fastgpt.api_key else {
        let answered = match reqwest::Client::builder().timeout(Duration::from_secs(3)).build() {
            Ok(client) => client.get(&fastgpt.base_url).send().await.map(|_| ()).map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let latency_ms = Some(millis(started.elapsed()));
        return match answered {
            Ok(()) => UpstreamHealth { status: "reachable", base_url, latency_ms, key_valid: None, error: None },
            Err(error) => UpstreamHealth {
                status: "unreachable",
                base_url,
                latency_ms,
                key_valid: None,
                error: Some(crate::secret::redact_url(&error)),
            },
        };
    };
    let client = match zk_model_api::ModelClient::new(
        zk_model_api::Provider::Fastgpt,
        &fastgpt.base_url,
        Some(zk_model_api::ApiKey::new(key.expose().clone())),
    ) {
        Ok(client) => client.with_request_timeout(Duration::from_secs(3)),
        Err(error) => {
            return UpstreamHealth {
                status: "unreachable",
                base_url,
                latency_ms: None,
                key_valid: None,
                error: Some(error.to_string()),
            };
        }
    };
    let probed = client.probe().await;
    upstream_health(probed.map(|_| ()), base_url, started.elapsed(), true)
}

/// What a probe of an upstream says: reachable, the key refused, or not reachable at all.
pub(crate) fn upstream_health(
    probed: Result<(), zk_model_api::ModelApiError>,
    base_url: Option<String>,
    elapsed: Duration,
    had_key: bool,
) -> UpstreamHealth {
    let latency_ms = Some(millis(elapsed));
    match probed {
        Ok(()) => UpstreamHealth {
            status: "reachable",
            base_url,
            latency_ms,
            key_valid: had_key.then_some(true),
            error: None,
        },
        Err(error @ zk_model_api::ModelApiError::Auth { .. }) => UpstreamHealth {
            status: "unauthorized",
            base_url,
            latency_ms,
            key_valid: Some(false),
            error: Some(error.to_string()),
        },
        Err(error) => UpstreamHealth {
            status: "unreachable",
            base_url,
            latency_ms,
            key_valid: None,
            error: Some(crate::secret::redact_url(&error.to_string())),
        },
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct UpstreamHealth {
    /// `not_configured`, `reachable`, `unauthorized` (it answers, the key is refused), `unreachable`,
    /// or, for an agent, `no_key` (its key cannot be found).
    pub status: &'static str,
    pub base_url: Option<String>,
    pub latency_ms: Option<f64>,
    /// Whether the configured key was accepted (`None` when no key is configured or it could not be told).
    pub key_valid: Option<bool>,
    pub error: Option<String>,
}

/// A duration in milliseconds with microsecond precision, as health reports show latencies.
pub(crate) fn millis(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
