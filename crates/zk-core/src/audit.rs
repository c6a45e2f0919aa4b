//! The audit log as the services write it: who did what, from where.

use std::sync::Arc;

use serde_json::json;

use crate::clock::SharedClock;
use crate::metrics::{LoginOutcome, Metrics};
use crate::request::RequestMeta;
use crate::store::{NewAuditEntry, Store, Timestamp};

/// Audited actions that are also counted in the metrics (security events: the alert rules key on
/// them). Counted where they are audited, so a count and its audit rows cannot disagree.
pub const SIGN_IN: &str = "auth.login";
pub const REFRESH_REUSE: &str = "auth.refresh_reuse";
pub const ORIGIN_REFUSED: &str = "http.origin_denied";

/// Appends audit entries. A failed append is logged as an error but does not undo the action it
/// describes: by then the action has happened.
#[derive(Clone)]
pub struct AuditLog {
    store: Arc<dyn Store>,
    clock: SharedClock,
    metrics: Arc<Metrics>,
}

impl AuditLog {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock, metrics: Arc<Metrics>) -> Self {
        Self { store, clock, metrics }
    }

    pub async fn record(&self, entry: NewAuditEntry, meta: &RequestMeta) {
        self.count(&entry);
        let entry = prepare(entry, meta);
        if let Err(error) = self.store.append_audit(&entry, Timestamp::from(self.clock.now())).await {
            tracing::error!(action = %entry.action, %error, "cannot write the audit log");
        }
    }
}

impl AuditLog {
    /// The security events among audited actions, into their counters.
    fn count(&self, entry: &NewAuditEntry) {
        match entry.action.as_str() {
            SIGN_IN => self.metrics.login(match entry.outcome.as_str() {
                "ok" => LoginOutcome::Ok,
                "failed" => LoginOutcome::Failed,
                _ if entry.details.get("reason").and_then(|r| r.as_str()) == Some("throttled") => {
                    LoginOutcome::Throttled
                }
                _ => LoginOutcome::Denied,
            }),
            REFRESH_REUSE => self.metrics.refresh_token_reused(),
            ORIGIN_REFUSED => self.metrics.origin_refused(),
            _ => {}
        }
    }
}

/// An entry as it is stored: the request's address and id filled in where the entry has none.
pub fn prepare(mut entry: NewAuditEntry, meta: &RequestMeta) -> NewAuditEntry {
    entry.ip = entry.ip.or_else(|| meta.ip.clone());
    entry.request_id = entry.request_id.or_else(|| meta.request_id.clone());
    if entry.details.is_null() {
        entry.details = json!({});
    }
    entry
}
