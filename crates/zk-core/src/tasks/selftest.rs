//! `diagnostics.selftest`: a task that walks through steps and reports progress. Operators use it
//! to check that workers run, progress reaches the UI and cancellation works, end to end.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{TaskContext, TaskFailure, TaskHandler};
use crate::error::{CoreError, CoreResult};

pub struct SelfTest;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SelfTestPayload {
    #[serde(default = "default_steps")]
    steps: u32,
    #[serde(default = "default_step_ms")]
    step_ms: u64,
    /// Fail (retryably) on the first N attempts: shows retries and backoff working.
    #[serde(default)]
    fail_attempts: u32,
}

fn default_steps() -> u32 {
    10
}

fn default_step_ms() -> u64 {
    200
}

impl SelfTestPayload {
    fn parse(payload: &Value) -> CoreResult<Self> {
        let parsed: Self = serde_json::from_value(payload.clone()).map_err(|e| {
            CoreError::invalid("payload", format!("a selftest payload is {{steps, step_ms, fail_attempts}}: {e}"))
        })?;
        if !(1..=1000).contains(&parsed.steps) || parsed.step_ms > 60_000 || parsed.fail_attempts > 20 {
            return Err(CoreError::invalid(
                "payload",
                "steps is 1 to 1000, step_ms at most 60000, fail_attempts at most 20",
            ));
        }
        Ok(parsed)
    }
}

#[async_trait]
impl TaskHandler for SelfTest {
    fn kind(&self) -> &'static str {
        "diagnostics.selftest"
    }

    fn validate(&self, payload: &Value) -> CoreResult<()> {
        SelfTestPayload::parse(payload).map(|_| ())
    }

    async fn run(&self, ctx: TaskContext) -> Result<Value, TaskFailure> {
        let payload = SelfTestPayload::parse(&ctx.payload).map_err(|e| TaskFailure::Permanent(e.to_string()))?;
        if ctx.attempt <= payload.fail_attempts as i32 {
            return Err(TaskFailure::Retryable(format!("planned failure on attempt {}", ctx.attempt)));
        }
        for step in 1..=payload.steps {
            if ctx.is_cancelled() {
                return Err(TaskFailure::Cancelled);
            }
            tokio::time::sleep(Duration::from_millis(payload.step_ms)).await;
            let percent = (step * 100 / payload.steps) as i32;
            ctx.progress(percent, Some(&format!("step {step} of {}", payload.steps))).await;
        }
        Ok(json!({ "steps": payload.steps, "attempt": ctx.attempt }))
    }
}
