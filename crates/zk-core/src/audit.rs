//! The audit log as the services write it: who did what, from where.

use std::sync::Arc;

use serde_json::json;

use crate::clock::SharedClock;
use crate::request::RequestMeta;
use crate::store::{NewAuditEntry, Store, Timestamp};

/// Appends audit entries. A failed append is logged as an error but does not undo the action it
/// describes: by then the action has happened.
#[derive(Clone)]
pub struct AuditLog {
    store: Arc<dyn Store>,
    clock: SharedClock,
}

impl AuditLog {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    pub async fn record(&self, entry: NewAuditEntry, meta: &RequestMeta) {
        let entry = prepare(entry, meta);
        if let Err(error) = self.store.append_audit(&entry, Timestamp::from(self.clock.now())).await {
            tracing::error!(action = %entry.action, %error, "cannot write the audit log");
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
