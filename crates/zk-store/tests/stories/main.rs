//! The store stories: every method of every `zk_store` trait, told once and run on both backends.
//!
//! Each story runs on a fresh SQLite file and on a fresh PostgreSQL database (see
//! `zk_store::testing`), so the two backends are held to one specification. Time never comes from a
//! clock: every instant is a fixed `Timestamp`, so every timestamp assertion is exact. One file per
//! area, one test binary.

#![allow(clippy::unwrap_used)] // A test that cannot unwrap has already failed; the panic says where.

mod accounts;
mod agents;
mod cad;
mod database;
mod files;
mod logs;
mod settings;
mod sync;
mod tasks;
mod unit;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;
use zk_store::testing::{each_backend, each_database};
use zk_store::{
    FileRecord, LogQuery, NewAuditEntry, NewErrorEntry, NewTask, NewUser, Role, SessionRecord, Store, StoreError,
    TaskOutcome, TaskQuery, TaskRecord, TaskState, Timestamp,
};

// ---------------------------------------------------------------------------------------------------
// Fixed instants and small builders
// ---------------------------------------------------------------------------------------------------

/// 2025-11-24T16:00:00.123Z: odd milliseconds, so a backend that rounds to seconds is caught.
pub(crate) const T0_MILLIS: i64 = 1_764_000_000_123;

/// `T0` plus `secs` seconds.
pub(crate) fn at(secs: i64) -> Timestamp {
    Timestamp::from_millis(T0_MILLIS + secs * 1000).unwrap()
}

pub(crate) fn new_user(username: &str, role: Role, now: Timestamp) -> NewUser {
    NewUser {
        username: username.to_owned(),
        display_name: format!("{username} (display)"),
        password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1$salt${username}")),
        role,
        now,
    }
}

pub(crate) fn new_session(id: &str, user_id: i64, now: Timestamp) -> SessionRecord {
    SessionRecord {
        id: id.to_owned(),
        user_id,
        client: "test-browser".to_owned(),
        created_at: now,
        last_used_at: now,
        expires_at: now.plus(chrono::Duration::days(30)),
        revoked_at: None,
        revoke_reason: None,
    }
}

pub(crate) fn new_task(kind: &str, run_after: Timestamp, created_by: Option<i64>, now: Timestamp) -> NewTask {
    NewTask {
        kind: kind.to_owned(),
        payload: json!({ "kind": kind, "nested": { "list": [1, 2, 3], "text": "ünïcødé" } }),
        max_attempts: 3,
        timeout_ms: 60_000,
        run_after,
        created_by,
        idempotency_key: None,
        now,
    }
}

pub(crate) fn kinds(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| (*k).to_owned()).collect()
}

/// A task row as comparable text: `TaskRecord` has no `PartialEq`, and "nothing changed" must mean
/// every column.
pub(crate) fn snapshot(task: &TaskRecord) -> String {
    format!("{task:?}")
}

pub(crate) async fn task_now(store: &Arc<dyn Store>, id: i64) -> TaskRecord {
    store.task(id).await.unwrap().expect("the task exists")
}

pub(crate) fn ids(tasks: &[TaskRecord]) -> Vec<i64> {
    tasks.iter().map(|t| t.id).collect()
}
