//! The store story: every method of `zk_core::store::Store`, told once and run on both backends.
//!
//! Each test runs its story on a fresh SQLite file and on a fresh PostgreSQL database (see
//! `zk_tests::db`), so the two backends are held to one specification. Time never comes from a clock:
//! every instant is a fixed `Timestamp`, so every timestamp assertion is exact.

#![allow(clippy::unwrap_used)] // A test that cannot unwrap has already failed; the panic says where.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;
use zk_core::CoreError;
use zk_core::store::{
    FileRecord, LogQuery, NewAuditEntry, NewErrorEntry, NewTask, NewUser, Role, SessionRecord, Store, TaskOutcome,
    TaskQuery, TaskRecord, TaskState, Timestamp,
};
use zk_tests::db::{each_backend, each_database};

// ---------------------------------------------------------------------------------------------------
// Fixed instants and small builders
// ---------------------------------------------------------------------------------------------------

/// 2025-11-24T16:00:00.123Z: odd milliseconds, so a backend that rounds to seconds is caught.
const T0_MILLIS: i64 = 1_764_000_000_123;

/// `T0` plus `secs` seconds.
fn at(secs: i64) -> Timestamp {
    Timestamp::from_millis(T0_MILLIS + secs * 1000).unwrap()
}

fn new_user(username: &str, role: Role, now: Timestamp) -> NewUser {
    NewUser {
        username: username.to_owned(),
        display_name: format!("{username} (display)"),
        password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1$salt${username}")),
        role,
        now,
    }
}

fn new_session(id: &str, user_id: i64, now: Timestamp) -> SessionRecord {
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

fn new_task(kind: &str, run_after: Timestamp, created_by: Option<i64>, now: Timestamp) -> NewTask {
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

fn kinds(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| (*k).to_owned()).collect()
}

/// A task row as comparable text: `TaskRecord` has no `PartialEq`, and "nothing changed" must mean
/// every column.
fn snapshot(task: &TaskRecord) -> String {
    format!("{task:?}")
}

async fn task_now(store: &Arc<dyn Store>, id: i64) -> TaskRecord {
    store.task(id).await.unwrap().expect("the task exists")
}

fn ids(tasks: &[TaskRecord]) -> Vec<i64> {
    tasks.iter().map(|t| t.id).collect()
}

// ---------------------------------------------------------------------------------------------------
// Schema, connection
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn migrations_apply_fully_and_are_idempotent() {
    each_database(|db| async move {
        let store = db.open_unmigrated_store().await;
        assert_eq!(store.backend(), db.backend(), "the store reports the backend it was opened on");
        let (applied, known) = store.migration_status().await.unwrap();
        assert!(known >= 1, "the backend ships at least the foundation migration");
        assert_eq!(applied, 0, "a never-migrated database has no migration applied");

        store.migrate().await.unwrap();
        assert_eq!(store.migration_status().await.unwrap(), (known, known), "migrate applies every known migration");

        store.migrate().await.expect("migrating an up-to-date database is a no-op, not an error");
        assert_eq!(store.migration_status().await.unwrap(), (known, known), "a second migrate applies nothing new");

        store.ping().await.expect("ping is a round trip to a live database");
        store.close().await;
        assert!(store.ping().await.is_err(), "a closed store cannot reach its database");

        // The schema lives in the database, not in the process: a new store sees it migrated.
        let reopened = db.open_unmigrated_store().await;
        assert_eq!(reopened.migration_status().await.unwrap(), (known, known), "migrations persist across opens");
        reopened.close().await;
    })
    .await;
}

#[tokio::test]
async fn timestamps_round_trip_identically_on_both_backends() {
    each_backend(|store| async move {
        let instants = [
            ("the epoch", 0),
            ("one millisecond before the epoch", -1),
            ("odd milliseconds", T0_MILLIS),
            ("the last millisecond of 9999", 253_402_300_799_999),
        ];
        for (label, millis) in instants {
            let t = Timestamp::from_millis(millis).unwrap();
            let key = format!("instant.{millis}");
            store.set_config_entry(&key, &json!(label), None, t).await.unwrap();
            let stored = store.config_entry(&key).await.unwrap().unwrap().updated_at;
            assert_eq!(stored, t, "{label} ({millis} ms) is stored and read back exactly");
            assert_eq!(stored.millis(), millis, "{label} keeps its milliseconds");
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_are_created_found_listed_and_counted() {
    each_backend(|store| async move {
        assert_eq!(store.count_users().await.unwrap(), 0, "a fresh database has no users");
        assert!(store.list_users().await.unwrap().is_empty(), "a fresh database lists no users");

        let alice = store.create_user(new_user("Alice", Role::Admin, at(0))).await.unwrap();
        assert_eq!(alice.username, "Alice", "the username keeps the case it was given");
        assert_eq!(alice.display_name, "Alice (display)");
        assert_eq!(alice.password_hash.as_deref(), Some("$argon2id$v=19$m=19456,t=2,p=1$salt$Alice"));
        assert_eq!(alice.role(), Role::Admin);
        assert!(!alice.disabled, "a new user is enabled");
        assert_eq!(alice.failed_logins, 0, "a new user has no failed sign-ins");
        assert_eq!(alice.last_failed_login_at, None);
        assert_eq!(alice.tokens_valid_after, at(0), "a new user's tokens are valid from creation");
        assert_eq!(alice.created_at, at(0));
        assert_eq!(alice.updated_at, at(0));

        let owner = NewUser { password_hash: None, ..new_user("owner", Role::Designer, at(1)) };
        let owner = store.create_user(owner).await.unwrap();
        assert_eq!(owner.password_hash, None, "the desktop's local owner has no password");
        assert!(owner.id > alice.id, "ids grow with creation");

        for duplicate in ["Alice", "alice", "ALICE"] {
            let err = store.create_user(new_user(duplicate, Role::Viewer, at(2))).await.unwrap_err();
            assert!(
                matches!(err, CoreError::Conflict(_)),
                "{duplicate:?} collides with \"Alice\": usernames are unique regardless of case, got {err:?}"
            );
        }
        assert_eq!(store.count_users().await.unwrap(), 2, "a refused duplicate creates nothing");

        let found = store.user(alice.id).await.unwrap().expect("alice is found by id");
        assert_eq!(found.username, "Alice");
        assert_eq!(found.created_at, at(0));
        assert!(store.user(alice.id + 1000).await.unwrap().is_none(), "an unknown id finds no user");

        for spelling in ["Alice", "alice", "aLiCe"] {
            let found = store.user_by_username(spelling).await.unwrap();
            assert_eq!(found.map(|u| u.id), Some(alice.id), "{spelling:?} finds Alice: lookup ignores case");
        }
        assert!(store.user_by_username("alicia").await.unwrap().is_none(), "an unknown name finds no user");

        let listed: Vec<(i64, String)> =
            store.list_users().await.unwrap().into_iter().map(|u| (u.id, u.username)).collect();
        assert_eq!(listed, vec![(alice.id, "Alice".into()), (owner.id, "owner".into())], "users are listed by id");
        assert_eq!(store.count_users().await.unwrap(), 2);
    })
    .await;
}

/// SQLite's `lower()` folds ASCII only, so the store keeps a key folded by the application: user names
/// in any script are unique regardless of case on both backends.
#[tokio::test]
async fn non_ascii_usernames_are_unique_regardless_of_case_on_both_backends() {
    each_backend(|store| async move {
        let emile = store.create_user(new_user("Émile", Role::Viewer, at(0))).await.unwrap();
        let found = store.user_by_username("émile").await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(emile.id), "\"émile\" finds \"Émile\" as \"emile\" finds \"Emile\"");
        let err = store.create_user(new_user("ÉMILE", Role::Viewer, at(1))).await.unwrap_err();
        assert!(matches!(err, CoreError::Conflict(_)), "\"ÉMILE\" collides with \"Émile\", got {err:?}");
    })
    .await;
}

#[tokio::test]
async fn user_role_disable_and_password_changes() {
    each_backend(|store| async move {
        let bob = store.create_user(new_user("bob", Role::Viewer, at(0))).await.unwrap();
        let unknown = bob.id + 1000;

        // Role
        assert!(store.set_user_role(bob.id, Role::Designer, at(10)).await.unwrap(), "an existing user's role changes");
        let after = store.user(bob.id).await.unwrap().unwrap();
        assert_eq!(after.role(), Role::Designer);
        assert_eq!(after.updated_at, at(10), "a role change updates updated_at");
        assert_eq!(after.tokens_valid_after, at(0), "a role change does not revoke tokens");
        assert!(!store.set_user_role(unknown, Role::Admin, at(10)).await.unwrap(), "an unknown user is not changed");

        // Disable, then enable
        assert!(store.set_user_disabled(bob.id, true, at(20)).await.unwrap());
        let disabled = store.user(bob.id).await.unwrap().unwrap();
        assert!(disabled.disabled, "the user is disabled");
        assert_eq!(disabled.tokens_valid_after, at(20), "disabling revokes every token issued before it");
        assert_eq!(disabled.updated_at, at(20));

        assert!(store.set_user_disabled(bob.id, false, at(30)).await.unwrap());
        let enabled = store.user(bob.id).await.unwrap().unwrap();
        assert!(!enabled.disabled, "the user is enabled again");
        assert_eq!(enabled.tokens_valid_after, at(20), "enabling does not move tokens_valid_after");
        assert_eq!(enabled.updated_at, at(30));
        assert!(!store.set_user_disabled(unknown, true, at(30)).await.unwrap(), "an unknown user is not disabled");

        // Failed sign-ins
        assert_eq!(store.record_login_failure(bob.id, at(40)).await.unwrap(), 1, "the first failure counts 1");
        assert_eq!(store.record_login_failure(bob.id, at(41)).await.unwrap(), 2);
        assert_eq!(store.record_login_failure(bob.id, at(42)).await.unwrap(), 3, "failures accumulate");
        let failing = store.user(bob.id).await.unwrap().unwrap();
        assert_eq!(failing.failed_logins, 3);
        assert_eq!(failing.last_failed_login_at, Some(at(42)), "the latest failure's instant is kept");
        assert!(
            matches!(store.record_login_failure(unknown, at(43)).await, Err(CoreError::NotFound(_))),
            "a failure cannot be counted for an unknown user"
        );

        store.clear_login_failures(bob.id).await.unwrap();
        assert_eq!(store.user(bob.id).await.unwrap().unwrap().failed_logins, 0, "a good sign-in clears the count");
        store.clear_login_failures(bob.id).await.expect("clearing an already clear count is harmless");
        assert_eq!(store.record_login_failure(bob.id, at(44)).await.unwrap(), 1, "counting restarts after a clear");

        // Password change: new hash, tokens revoked, failures forgiven
        assert!(store.set_password_hash(bob.id, "$argon2id$new", at(50)).await.unwrap());
        let changed = store.user(bob.id).await.unwrap().unwrap();
        assert_eq!(changed.password_hash.as_deref(), Some("$argon2id$new"));
        assert_eq!(changed.tokens_valid_after, at(50), "a password change revokes earlier tokens");
        assert_eq!(changed.updated_at, at(50));
        assert_eq!(changed.failed_logins, 0, "a password change clears failed sign-ins");
        assert!(!store.set_password_hash(unknown, "x", at(50)).await.unwrap(), "an unknown user has no password");

        // Re-hash at sign-in: the hash changes and nothing else does
        store.upgrade_password_hash(bob.id, "$argon2id$stronger").await.unwrap();
        let upgraded = store.user(bob.id).await.unwrap().unwrap();
        assert_eq!(upgraded.password_hash.as_deref(), Some("$argon2id$stronger"));
        assert_eq!(upgraded.tokens_valid_after, at(50), "an upgraded hash revokes nothing");
        assert_eq!(upgraded.updated_at, at(50), "an upgraded hash is not an account change");
        store.upgrade_password_hash(unknown, "x").await.expect("upgrading an unknown user's hash changes nothing");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// Sessions and refresh tokens
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn sessions_are_created_touched_and_revoked() {
    each_backend(|store| async move {
        let carol = store.create_user(new_user("carol", Role::Designer, at(0))).await.unwrap();
        let dave = store.create_user(new_user("dave", Role::Designer, at(0))).await.unwrap();

        let phone = new_session("s-phone", carol.id, at(1));
        store.create_session(&phone).await.unwrap();
        store.create_session(&new_session("s-laptop", carol.id, at(2))).await.unwrap();
        store.create_session(&new_session("s-tablet", carol.id, at(3))).await.unwrap();
        store.create_session(&new_session("s-dave", dave.id, at(4))).await.unwrap();
        let already = SessionRecord {
            revoked_at: Some(at(5)),
            revoke_reason: Some("imported".into()),
            ..new_session("s-old", carol.id, at(0))
        };
        store.create_session(&already).await.unwrap();

        let read = store.session("s-phone").await.unwrap().expect("the session exists");
        assert_eq!(read.user_id, carol.id);
        assert_eq!(read.client, "test-browser");
        assert_eq!((read.created_at, read.last_used_at), (at(1), at(1)));
        assert_eq!(read.expires_at, phone.expires_at, "the expiry round-trips exactly");
        assert_eq!((read.revoked_at, read.revoke_reason), (None, None), "a new session is live");
        assert!(store.session("s-unknown").await.unwrap().is_none(), "an unknown id finds no session");
        let old = store.session("s-old").await.unwrap().unwrap();
        assert_eq!(old.revoked_at, Some(at(5)), "a session can be stored already revoked");

        let err = store.create_session(&new_session("s-phone", carol.id, at(6))).await.unwrap_err();
        assert!(matches!(err, CoreError::Conflict(_)), "session ids are unique, got {err:?}");

        store.touch_session("s-phone", at(100)).await.unwrap();
        let touched = store.session("s-phone").await.unwrap().unwrap();
        assert_eq!(touched.last_used_at, at(100), "touching records the last use");
        assert_eq!(touched.created_at, at(1), "touching leaves the creation instant alone");
        store.touch_session("s-unknown", at(100)).await.expect("touching an unknown session changes nothing");

        assert!(store.revoke_session("s-phone", "signed out", at(200)).await.unwrap(), "the first revoke revokes");
        assert!(!store.revoke_session("s-phone", "again", at(201)).await.unwrap(), "a second revoke reports false");
        let revoked = store.session("s-phone").await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(at(200)), "the first revoke's instant is kept");
        assert_eq!(revoked.revoke_reason.as_deref(), Some("signed out"), "the first revoke's reason is kept");
        assert!(!store.revoke_session("s-unknown", "x", at(200)).await.unwrap(), "an unknown session is not revoked");

        let mut swept = store.revoke_user_sessions(carol.id, "password changed", at(300)).await.unwrap();
        swept.sort();
        assert_eq!(swept, vec!["s-laptop".to_owned(), "s-tablet".to_owned()], "only carol's live sessions are revoked");
        for id in ["s-laptop", "s-tablet"] {
            let s = store.session(id).await.unwrap().unwrap();
            assert_eq!(s.revoked_at, Some(at(300)));
            assert_eq!(s.revoke_reason.as_deref(), Some("password changed"));
        }
        assert_eq!(
            store.session("s-phone").await.unwrap().unwrap().revoke_reason.as_deref(),
            Some("signed out"),
            "an already revoked session keeps its first reason"
        );
        assert_eq!(store.session("s-dave").await.unwrap().unwrap().revoked_at, None, "another user's session lives on");
        assert!(
            store.revoke_user_sessions(carol.id, "again", at(301)).await.unwrap().is_empty(),
            "with nothing live, nothing is revoked"
        );
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_are_stored_found_and_consumed_once() {
    each_backend(|store| async move {
        let erin = store.create_user(new_user("erin", Role::Viewer, at(0))).await.unwrap();
        store.create_session(&new_session("s-erin", erin.id, at(0))).await.unwrap();

        store.insert_refresh_token("s-erin", "hash-1", at(1), at(1000)).await.unwrap();
        let token = store.refresh_token("hash-1").await.unwrap().expect("the token is found by its hash");
        assert_eq!(token.session_id, "s-erin");
        assert_eq!(token.token_hash, "hash-1");
        assert_eq!((token.created_at, token.expires_at), (at(1), at(1000)));
        assert_eq!(token.used_at, None, "a new token is unused");
        assert!(store.refresh_token("hash-unknown").await.unwrap().is_none(), "an unknown hash finds nothing");

        let err = store.insert_refresh_token("s-erin", "hash-1", at(2), at(1000)).await.unwrap_err();
        assert!(matches!(err, CoreError::Conflict(_)), "token hashes are unique, got {err:?}");

        assert!(store.consume_refresh_token(token.id, at(10)).await.unwrap(), "the first use consumes the token");
        assert!(!store.consume_refresh_token(token.id, at(11)).await.unwrap(), "a second use is refused (reuse)");
        let used = store.refresh_token("hash-1").await.unwrap().unwrap();
        assert_eq!(used.used_at, Some(at(10)), "the first use's instant is kept");
        assert!(!store.consume_refresh_token(token.id + 1000, at(10)).await.unwrap(), "an unknown token is refused");

        // Eight requests race with the same token: exactly one may rotate it.
        store.insert_refresh_token("s-erin", "hash-2", at(20), at(1000)).await.unwrap();
        let raced = store.refresh_token("hash-2").await.unwrap().unwrap().id;
        let racers: Vec<_> = (0..8)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.consume_refresh_token(raced, at(30 + i)).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            winners += usize::from(racer.await.unwrap());
        }
        assert_eq!(winners, 1, "consuming is atomic: exactly one of eight concurrent uses wins");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// System configuration
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn system_config_is_upserted_and_listed_by_key() {
    each_backend(|store| async move {
        let admin = store.create_user(new_user("admin", Role::Admin, at(0))).await.unwrap();
        assert!(store.config_entries().await.unwrap().is_empty(), "a fresh database has no configuration");
        assert!(store.config_entry("tasks.workers").await.unwrap().is_none(), "an unset key reads as none");

        let limits = json!({ "upload": { "max_bytes": 104_857_600_u64, "types": ["dxf", "dwg"] }, "note": "中文" });
        store.set_config_entry("uploads", &limits, Some(admin.id), at(1)).await.unwrap();
        store.set_config_entry("agents.default", &json!("designer"), None, at(2)).await.unwrap();
        store.set_config_entry("tasks.workers", &json!(4), Some(admin.id), at(3)).await.unwrap();

        let keys: Vec<String> = store.config_entries().await.unwrap().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["agents.default", "tasks.workers", "uploads"], "entries are listed in key order");

        let uploads = store.config_entry("uploads").await.unwrap().unwrap();
        assert_eq!(uploads.value.0, limits, "a JSON value round-trips exactly");
        assert_eq!(uploads.updated_by, Some(admin.id));
        assert_eq!(uploads.updated_at, at(1));

        store.set_config_entry("uploads", &json!({ "upload": null }), None, at(9)).await.unwrap();
        let overwritten = store.config_entry("uploads").await.unwrap().unwrap();
        assert_eq!(overwritten.value.0, json!({ "upload": null }), "setting a key again replaces its value");
        assert_eq!(overwritten.updated_at, at(9), "the overwrite's instant replaces the old one");
        assert_eq!(overwritten.updated_by, None, "the overwrite's author replaces the old one");
        assert_eq!(store.config_entries().await.unwrap().len(), 3, "an overwrite adds no entry");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// Audit and error logs
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn audit_log_is_appended_filtered_and_paged_newest_first() {
    each_backend(|store| async move {
        let actions = ["user.login", "user.logout", "user.login", "config.set", "user.login"];
        let mut appended = Vec::new();
        for (i, action) in actions.iter().enumerate() {
            let entry = NewAuditEntry {
                actor_id: Some(7),
                actor_name: Some("frank".into()),
                action: (*action).to_owned(),
                target: Some(format!("target-{i}")),
                outcome: if i == 2 { "denied".into() } else { "ok".into() },
                ip: Some("192.0.2.10".into()),
                request_id: Some(format!("req-{i}")),
                details: json!({ "step": i }),
            };
            appended.push(store.append_audit(&entry, at(i as i64)).await.unwrap());
        }
        assert!(appended.windows(2).all(|w| w[0] < w[1]), "audit ids grow with each append");

        let all = store.audit_entries(&LogQuery { limit: 100, ..LogQuery::default() }).await.unwrap();
        let newest_first: Vec<i64> = appended.iter().rev().copied().collect();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), newest_first, "entries come newest first");
        let third = all.iter().find(|e| e.id == appended[2]).unwrap();
        assert_eq!(third.at, at(2));
        assert_eq!((third.actor_id, third.actor_name.as_deref()), (Some(7), Some("frank")));
        assert_eq!((third.action.as_str(), third.outcome.as_str()), ("user.login", "denied"));
        assert_eq!(third.target.as_deref(), Some("target-2"));
        assert_eq!(third.ip.as_deref(), Some("192.0.2.10"));
        assert_eq!(third.request_id.as_deref(), Some("req-2"));
        assert_eq!(third.details.0, json!({ "step": 2 }));

        let logins = LogQuery { kind: Some("user.login".into()), limit: 100, ..LogQuery::default() };
        let found: Vec<i64> = store.audit_entries(&logins).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(found, vec![appended[4], appended[2], appended[0]], "the kind filter matches the action");

        let page1 = store.audit_entries(&LogQuery { limit: 2, ..LogQuery::default() }).await.unwrap();
        assert_eq!(page1.iter().map(|e| e.id).collect::<Vec<_>>(), vec![appended[4], appended[3]]);
        let page2 = store
            .audit_entries(&LogQuery { before_id: Some(page1[1].id), limit: 2, ..LogQuery::default() })
            .await
            .unwrap();
        assert_eq!(
            page2.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![appended[2], appended[1]],
            "before_id pages on"
        );
        let page3 = store
            .audit_entries(&LogQuery { before_id: Some(page2[1].id), limit: 2, ..LogQuery::default() })
            .await
            .unwrap();
        assert_eq!(page3.iter().map(|e| e.id).collect::<Vec<_>>(), vec![appended[0]], "the last page is short");

        let filtered_page = LogQuery { kind: Some("user.login".into()), before_id: Some(appended[4]), limit: 1 };
        let found: Vec<i64> = store.audit_entries(&filtered_page).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(found, vec![appended[2]], "kind, before_id and limit combine");

        let minimal = NewAuditEntry { action: "system.start".into(), outcome: "ok".into(), ..NewAuditEntry::default() };
        let id = store.append_audit(&minimal, at(99)).await.unwrap();
        let read = store.audit_entries(&LogQuery { limit: 1, ..LogQuery::default() }).await.unwrap();
        assert_eq!(read[0].id, id);
        assert_eq!((read[0].actor_id, read[0].actor_name.as_deref(), read[0].ip.as_deref()), (None, None, None));
        assert_eq!(read[0].details.0, serde_json::Value::Null, "a system event may have no actor and no details");
    })
    .await;
}

#[tokio::test]
async fn error_log_is_appended_filtered_and_paged_newest_first() {
    each_backend(|store| async move {
        let levels = ["ERROR", "WARN", "ERROR", "WARN"];
        let mut appended = Vec::new();
        for (i, level) in levels.iter().enumerate() {
            let entry = NewErrorEntry {
                at: at(i as i64),
                level: (*level).to_owned(),
                source: "zk_core::tasks".into(),
                message: format!("problem {i}"),
                request_id: (i % 2 == 0).then(|| format!("req-{i}")),
                user_id: Some(i as i64),
                context: json!({ "attempt": i }),
            };
            appended.push(store.append_error(&entry).await.unwrap());
        }
        assert!(appended.windows(2).all(|w| w[0] < w[1]), "error ids grow with each append");

        let all = store.error_entries(&LogQuery { limit: 100, ..LogQuery::default() }).await.unwrap();
        let newest_first: Vec<i64> = appended.iter().rev().copied().collect();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), newest_first, "entries come newest first");
        let first = all.last().unwrap();
        assert_eq!(first.at, at(0), "the entry's own instant is stored");
        assert_eq!((first.level.as_str(), first.source.as_str()), ("ERROR", "zk_core::tasks"));
        assert_eq!(first.message, "problem 0");
        assert_eq!((first.request_id.as_deref(), first.user_id), (Some("req-0"), Some(0)));
        assert_eq!(first.context.0, json!({ "attempt": 0 }));
        assert_eq!(all[0].request_id, None, "a missing request id stays missing");

        let errors = LogQuery { kind: Some("ERROR".into()), limit: 100, ..LogQuery::default() };
        let found: Vec<i64> = store.error_entries(&errors).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(found, vec![appended[2], appended[0]], "the kind filter matches the level");

        let page = LogQuery { before_id: Some(appended[2]), limit: 1, ..LogQuery::default() };
        let found: Vec<i64> = store.error_entries(&page).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(found, vec![appended[1]], "before_id pages backwards");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn files_are_inserted_listed_by_id_and_deleted_with_a_reference_count() {
    each_backend(|store| async move {
        let gina = store.create_user(new_user("gina", Role::Designer, at(0))).await.unwrap();
        let file = |id: &str, sha: &str, secs: i64| FileRecord {
            id: id.to_owned(),
            sha256: sha.repeat(64),
            size: 5 * 1024 * 1024 * 1024, // beyond 32 bits, to catch a narrowing column
            media_type: "image/vnd.dxf".to_owned(),
            original_name: format!("平面图-{id}.dxf"),
            uploaded_by: Some(gina.id),
            created_at: at(secs),
        };
        // Ids sort in upload order, as the file service's time-ordered ids do.
        let (a, b, c) = (file("f-0001", "a", 1), file("f-0002", "b", 2), file("f-0003", "a", 3));
        for f in [&a, &b, &c] {
            store.insert_file(f).await.unwrap();
        }
        let err = store.insert_file(&a).await.unwrap_err();
        assert!(matches!(err, CoreError::Conflict(_)), "file ids are unique, got {err:?}");

        let read = store.file("f-0001").await.unwrap().expect("the file is found by id");
        assert_eq!(read.sha256, "a".repeat(64));
        assert_eq!(read.size, 5 * 1024 * 1024 * 1024, "the size keeps all 64 bits");
        assert_eq!(read.media_type, "image/vnd.dxf");
        assert_eq!(read.original_name, "平面图-f-0001.dxf", "the original name round-trips in any script");
        assert_eq!((read.uploaded_by, read.created_at), (Some(gina.id), at(1)));
        assert!(store.file("f-9999").await.unwrap().is_none(), "an unknown id finds no file");

        let ids_of = |files: Vec<FileRecord>| files.into_iter().map(|f| f.id).collect::<Vec<_>>();
        assert_eq!(
            ids_of(store.list_files(None, 10).await.unwrap()),
            ["f-0003", "f-0002", "f-0001"],
            "newest id first"
        );
        assert_eq!(ids_of(store.list_files(None, 2).await.unwrap()), ["f-0003", "f-0002"], "limit caps the page");
        assert_eq!(ids_of(store.list_files(Some("f-0002"), 2).await.unwrap()), ["f-0001"], "before pages backwards");
        assert!(store.list_files(Some("f-0001"), 2).await.unwrap().is_empty(), "nothing is older than the first");

        assert_eq!(store.delete_file("f-0001").await.unwrap(), Some(1), "f-0003 still holds the same content");
        assert!(store.file("f-0001").await.unwrap().is_none(), "a deleted file is gone");
        assert_eq!(store.delete_file("f-0003").await.unwrap(), Some(0), "the last reference to the content is gone");
        assert_eq!(store.delete_file("f-0003").await.unwrap(), None, "deleting twice finds nothing the second time");
        assert_eq!(store.delete_file("f-9999").await.unwrap(), None, "an unknown file cannot be deleted");
        assert_eq!(ids_of(store.list_files(None, 10).await.unwrap()), ["f-0002"], "only the unrelated file remains");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn tasks_are_enqueued_read_and_listed_with_filters() {
    each_backend(|store| async move {
        let hana = store.create_user(new_user("hana", Role::Designer, at(0))).await.unwrap();
        let ivan = store.create_user(new_user("ivan", Role::Designer, at(0))).await.unwrap();

        let first = store.enqueue_task(&new_task("cad.render", at(5), Some(hana.id), at(1))).await.unwrap();
        assert_eq!(first.kind, "cad.render");
        assert_eq!(first.payload.0["nested"]["text"], "ünïcødé", "the payload round-trips");
        assert_eq!(first.state(), TaskState::Queued, "a new task waits in the queue");
        assert_eq!((first.progress, first.attempts, first.max_attempts), (0, 0, 3));
        assert_eq!(first.timeout_ms, 60_000);
        assert_eq!(first.run_after, at(5));
        assert_eq!((first.lease_token.as_deref(), first.lease_until), (None, None), "a queued task has no lease");
        assert!(!first.cancel_requested);
        assert_eq!((first.result.as_ref().map(|r| &r.0), first.error.as_deref()), (None, None));
        assert_eq!(first.created_by, Some(hana.id));
        assert_eq!((first.created_at, first.updated_at), (at(1), at(1)));
        assert_eq!((first.started_at, first.finished_at), (None, None));
        assert_eq!(snapshot(&task_now(&store, first.id).await), snapshot(&first), "get returns what enqueue returned");
        assert!(store.task(first.id + 1000).await.unwrap().is_none(), "an unknown id finds no task");

        let second = store.enqueue_task(&new_task("poster", at(1), Some(ivan.id), at(2))).await.unwrap();
        let third = store.enqueue_task(&new_task("cad.render", at(1), Some(hana.id), at(3))).await.unwrap();
        let fourth = store.enqueue_task(&new_task("poster", at(1), None, at(4))).await.unwrap();
        assert!(first.id < second.id && second.id < third.id && third.id < fourth.id, "task ids grow");
        store.cancel_task(second.id, at(6)).await.unwrap();

        let list = |query: TaskQuery| {
            let store = Arc::clone(&store);
            async move { ids(&store.list_tasks(&query).await.unwrap()) }
        };
        assert_eq!(
            list(TaskQuery { limit: 10, ..TaskQuery::default() }).await,
            vec![fourth.id, third.id, second.id, first.id],
            "tasks are listed newest first"
        );
        assert_eq!(
            list(TaskQuery { created_by: Some(hana.id), limit: 10, ..TaskQuery::default() }).await,
            vec![third.id, first.id],
            "created_by keeps one user's tasks"
        );
        assert_eq!(
            list(TaskQuery { state: Some(TaskState::Cancelled), limit: 10, ..TaskQuery::default() }).await,
            vec![second.id],
            "state keeps tasks in that state"
        );
        assert_eq!(
            list(TaskQuery { state: Some(TaskState::Queued), before_id: Some(fourth.id), limit: 10, created_by: None })
                .await,
            vec![third.id, first.id],
            "before_id pages backwards within the filter"
        );
        assert_eq!(
            list(TaskQuery { created_by: Some(hana.id), state: Some(TaskState::Queued), before_id: None, limit: 1 })
                .await,
            vec![third.id],
            "the filters combine and limit caps the page"
        );
        assert!(
            list(TaskQuery { state: Some(TaskState::Running), limit: 10, ..TaskQuery::default() }).await.is_empty(),
            "no task is running yet"
        );
    })
    .await;
}

#[tokio::test]
async fn claiming_respects_kinds_due_time_and_order() {
    each_backend(|store| async move {
        let render_later = store.enqueue_task(&new_task("cad.render", at(100), None, at(0))).await.unwrap();
        let render_now = store.enqueue_task(&new_task("cad.render", at(10), None, at(1))).await.unwrap();
        let poster = store.enqueue_task(&new_task("poster", at(5), None, at(2))).await.unwrap();

        assert!(
            store.claim_task(&kinds(&["cad.render", "poster"]), "L0", at(4), at(34)).await.unwrap().is_none(),
            "nothing is due before its run_after"
        );
        assert!(
            store.claim_task(&kinds(&["ocr"]), "L0", at(1000), at(1030)).await.unwrap().is_none(),
            "a worker only claims the kinds it runs"
        );
        assert!(store.claim_task(&[], "L0", at(1000), at(1030)).await.unwrap().is_none(), "no kinds, no task");

        let claimed = store.claim_task(&kinds(&["cad.render"]), "L1", at(10), at(40)).await.unwrap();
        let claimed = claimed.expect("a task due exactly now is claimable");
        assert_eq!(claimed.id, render_now.id, "only the due task of the claimed kind is taken");
        assert_eq!(claimed.state(), TaskState::Running);
        assert_eq!(claimed.attempts, 1, "a claim counts an attempt");
        assert_eq!(claimed.lease_token.as_deref(), Some("L1"), "the claimer's lease token is recorded");
        assert_eq!(claimed.lease_until, Some(at(40)));
        assert_eq!(claimed.started_at, Some(at(10)));
        assert_eq!(claimed.updated_at, at(10));
        assert_eq!(claimed.progress, 0);
        assert_eq!(snapshot(&task_now(&store, claimed.id).await), snapshot(&claimed), "claim returns the stored row");

        assert!(
            store.claim_task(&kinds(&["cad.render"]), "L2", at(11), at(41)).await.unwrap().is_none(),
            "a running task with a live lease is not claimed again, and the other render is not due"
        );

        let done = TaskOutcome::Succeeded { result: json!(null) };
        assert!(store.finish_task(claimed.id, "L1", &done, at(12)).await.unwrap(), "the lease holder finishes");

        // Both the poster (due at 5) and the later render (due at 100) are due at 200: earliest run_after first.
        let next = store.claim_task(&kinds(&["cad.render", "poster"]), "L3", at(200), at(10_000)).await.unwrap();
        assert_eq!(next.map(|t| t.id), Some(poster.id), "the task due earliest is claimed first");
        let last = store.claim_task(&kinds(&["poster", "cad.render"]), "L4", at(200), at(10_000)).await.unwrap();
        assert_eq!(last.map(|t| t.id), Some(render_later.id));
        assert!(
            store.claim_task(&kinds(&["cad.render", "poster"]), "L5", at(200), at(230)).await.unwrap().is_none(),
            "when every task is taken a claim returns none"
        );

        // Equal run_after: the older task (lower id) goes first.
        let older = store.enqueue_task(&new_task("poster", at(300), None, at(250))).await.unwrap();
        let newer = store.enqueue_task(&new_task("poster", at(300), None, at(251))).await.unwrap();
        let first = store.claim_task(&kinds(&["poster"]), "L6", at(300), at(330)).await.unwrap().unwrap();
        let second = store.claim_task(&kinds(&["poster"]), "L7", at(300), at(330)).await.unwrap().unwrap();
        assert_eq!((first.id, second.id), (older.id, newer.id), "ties on run_after go to the older task");
    })
    .await;
}

#[tokio::test]
async fn heartbeats_extend_the_lease_report_progress_and_relay_cancellation() {
    each_backend(|store| async move {
        let queued = store.enqueue_task(&new_task("cad.render", at(0), None, at(0))).await.unwrap();
        let task = store.claim_task(&kinds(&["cad.render"]), "lease-A", at(1), at(31)).await.unwrap().unwrap();
        assert_eq!(task.id, queued.id);

        let before = snapshot(&task);
        assert_eq!(
            store.heartbeat_task(task.id, "lease-B", 50, Some("stolen"), at(2), at(32)).await.unwrap(),
            None,
            "a heartbeat with someone else's lease token is refused"
        );
        assert_eq!(snapshot(&task_now(&store, task.id).await), before, "a refused heartbeat changes nothing");
        assert_eq!(
            store.heartbeat_task(task.id + 1000, "lease-A", 50, None, at(2), at(32)).await.unwrap(),
            None,
            "an unknown task has no lease"
        );

        assert_eq!(
            store.heartbeat_task(task.id, "lease-A", 40, Some("parsing"), at(10), at(40)).await.unwrap(),
            Some(false),
            "the lease holder's heartbeat is accepted, no cancel requested"
        );
        let beat = task_now(&store, task.id).await;
        assert_eq!(
            (beat.progress, beat.message.as_deref()),
            (40, Some("parsing")),
            "progress and message are recorded"
        );
        assert_eq!(beat.lease_until, Some(at(40)), "the lease is extended");
        assert_eq!(beat.updated_at, at(10));

        store.heartbeat_task(task.id, "lease-A", 150, None, at(11), at(41)).await.unwrap();
        let beat = task_now(&store, task.id).await;
        assert_eq!(beat.progress, 100, "progress is clamped to 100");
        assert_eq!(beat.message.as_deref(), Some("parsing"), "a heartbeat without a message keeps the last one");
        store.heartbeat_task(task.id, "lease-A", -5, None, at(12), at(42)).await.unwrap();
        assert_eq!(task_now(&store, task.id).await.progress, 0, "progress is clamped to 0");

        let flagged = store.cancel_task(task.id, at(20)).await.unwrap().expect("cancel returns the task");
        assert_eq!(flagged.state(), TaskState::Running, "a running task keeps running until its worker stops");
        assert!(flagged.cancel_requested, "cancelling a running task flags it");
        assert_eq!(flagged.finished_at, None);
        assert_eq!(flagged.lease_token.as_deref(), Some("lease-A"), "the worker keeps its lease");
        assert_eq!(
            store.heartbeat_task(task.id, "lease-A", 60, None, at(21), at(51)).await.unwrap(),
            Some(true),
            "the next heartbeat tells the worker to stop"
        );

        assert!(store.finish_task(task.id, "lease-A", &TaskOutcome::Cancelled, at(22)).await.unwrap());
        let done = task_now(&store, task.id).await;
        assert_eq!(done.state(), TaskState::Cancelled, "the worker confirms the cancellation");
        assert_eq!(done.finished_at, Some(at(22)));
        assert_eq!((done.lease_token, done.lease_until), (None, None), "a finished task holds no lease");
        assert_eq!(
            store.heartbeat_task(task.id, "lease-A", 70, None, at(23), at(53)).await.unwrap(),
            None,
            "a finished task takes no heartbeat"
        );
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_queued_task_ends_it_at_once() {
    each_backend(|store| async move {
        let task = store.enqueue_task(&new_task("poster", at(0), None, at(0))).await.unwrap();
        let cancelled = store.cancel_task(task.id, at(5)).await.unwrap().expect("cancel returns the task");
        assert_eq!(cancelled.state(), TaskState::Cancelled, "a queued task is cancelled at once");
        assert_eq!(cancelled.finished_at, Some(at(5)));
        assert_eq!(cancelled.updated_at, at(5));
        assert!(!cancelled.cancel_requested, "there is no worker to ask");
        assert_eq!(snapshot(&task_now(&store, task.id).await), snapshot(&cancelled), "cancel returns the stored row");
        assert!(
            store.claim_task(&kinds(&["poster"]), "L1", at(10), at(40)).await.unwrap().is_none(),
            "a cancelled task is never claimed"
        );
        assert!(store.cancel_task(task.id + 1000, at(5)).await.unwrap().is_none(), "an unknown task is not cancelled");

        let finished = store.enqueue_task(&new_task("poster", at(0), None, at(20))).await.unwrap();
        store.claim_task(&kinds(&["poster"]), "L2", at(21), at(51)).await.unwrap().unwrap();
        let ok = TaskOutcome::Succeeded { result: json!("done") };
        assert!(store.finish_task(finished.id, "L2", &ok, at(22)).await.unwrap());
        let after = store.cancel_task(finished.id, at(23)).await.unwrap().unwrap();
        assert_eq!(after.state(), TaskState::Succeeded, "cancelling a finished task does not undo it");
        assert!(!after.cancel_requested, "a finished task has no worker to ask");
        assert_eq!(after.finished_at, Some(at(22)), "a finished task keeps its finish instant");
    })
    .await;
}

#[tokio::test]
async fn finishing_a_task_records_each_outcome() {
    each_backend(|store| async move {
        let claim = |kind: &'static str, token: &'static str, now: i64| {
            let store = Arc::clone(&store);
            async move {
                let task = store.enqueue_task(&new_task(kind, at(now), None, at(now))).await.unwrap();
                let claimed = store.claim_task(&kinds(&[kind]), token, at(now), at(now + 30)).await.unwrap().unwrap();
                assert_eq!(claimed.id, task.id, "the task just enqueued is the one claimed");
                claimed
            }
        };

        // A wrong lease token changes nothing, whatever the outcome.
        let task = claim("k.wrong", "right", 0).await;
        let before = snapshot(&task);
        let every_outcome = [
            TaskOutcome::Succeeded { result: json!(1) },
            TaskOutcome::Failed { error: "e".into() },
            TaskOutcome::Retry { error: "e".into(), run_after: at(99) },
            TaskOutcome::Cancelled,
            TaskOutcome::Released,
        ];
        for outcome in &every_outcome {
            assert!(
                !store.finish_task(task.id, "wrong", outcome, at(5)).await.unwrap(),
                "{outcome:?} with a wrong lease token is refused"
            );
            assert_eq!(snapshot(&task_now(&store, task.id).await), before, "a refused {outcome:?} changes nothing");
            assert!(
                !store.finish_task(task.id + 1000, "right", outcome, at(5)).await.unwrap(),
                "{outcome:?} of an unknown task is refused"
            );
        }

        // Succeeded
        let task = claim("k.ok", "L-ok", 10).await;
        store.heartbeat_task(task.id, "L-ok", 40, Some("halfway"), at(11), at(41)).await.unwrap();
        let result = json!({ "svg": "files/abc", "layers": 12 });
        assert!(
            store
                .finish_task(task.id, "L-ok", &TaskOutcome::Succeeded { result: result.clone() }, at(12))
                .await
                .unwrap()
        );
        let done = task_now(&store, task.id).await;
        assert_eq!(done.state(), TaskState::Succeeded);
        assert_eq!(done.progress, 100, "a succeeded task is complete");
        assert_eq!(done.result.map(|r| r.0), Some(result), "the result is stored");
        assert_eq!(done.error, None);
        assert_eq!((done.lease_token, done.lease_until), (None, None), "the lease is given up");
        assert_eq!((done.finished_at, done.updated_at), (Some(at(12)), at(12)));
        assert_eq!(done.attempts, 1);
        assert!(
            !store.finish_task(task.id, "L-ok", &TaskOutcome::Failed { error: "late".into() }, at(13)).await.unwrap(),
            "a finished task cannot be finished again"
        );
        assert_eq!(task_now(&store, task.id).await.state(), TaskState::Succeeded, "the first outcome stands");

        // Failed
        let task = claim("k.fail", "L-fail", 20).await;
        let failed = TaskOutcome::Failed { error: "the DXF file is truncated".into() };
        assert!(store.finish_task(task.id, "L-fail", &failed, at(21)).await.unwrap());
        let done = task_now(&store, task.id).await;
        assert_eq!(done.state(), TaskState::Failed);
        assert_eq!(done.error.as_deref(), Some("the DXF file is truncated"), "the error is stored");
        assert_eq!((done.finished_at, done.updated_at), (Some(at(21)), at(21)));
        assert_eq!((done.lease_token, done.lease_until), (None, None));
        assert!(store.claim_task(&kinds(&["k.fail"]), "L-again", at(1000), at(1030)).await.unwrap().is_none());

        // Cancelled (without a cancel request: the worker may give up on its own)
        let task = claim("k.cancel", "L-cancel", 30).await;
        assert!(store.finish_task(task.id, "L-cancel", &TaskOutcome::Cancelled, at(31)).await.unwrap());
        let done = task_now(&store, task.id).await;
        assert_eq!(done.state(), TaskState::Cancelled);
        assert_eq!((done.finished_at, done.lease_token), (Some(at(31)), None));

        // Retry: back to the queue until run_after, counted as an attempt
        let task = claim("k.retry", "L-retry-1", 40).await;
        let retry = TaskOutcome::Retry { error: "upstream timed out".into(), run_after: at(100) };
        assert!(store.finish_task(task.id, "L-retry-1", &retry, at(41)).await.unwrap());
        let queued = task_now(&store, task.id).await;
        assert_eq!(queued.state(), TaskState::Queued, "a retried task waits in the queue again");
        assert_eq!(queued.run_after, at(100), "it waits for the backoff");
        assert_eq!(queued.error.as_deref(), Some("upstream timed out"), "the last error is kept for the user");
        assert_eq!(queued.attempts, 1, "the failed run counted as an attempt");
        assert_eq!((queued.lease_token, queued.lease_until, queued.finished_at), (None, None, None));
        assert_eq!(queued.updated_at, at(41));
        assert!(
            store.claim_task(&kinds(&["k.retry"]), "L-retry-2", at(99), at(129)).await.unwrap().is_none(),
            "a retried task is not claimed before its backoff ends"
        );
        let again = store.claim_task(&kinds(&["k.retry"]), "L-retry-2", at(100), at(130)).await.unwrap().unwrap();
        assert_eq!(again.attempts, 2, "the second run is the second attempt");
        assert_eq!(again.started_at, Some(at(40)), "started_at remembers the first start");

        // Released: back to the queue at once, not counted
        let task = claim("k.release", "L-rel-1", 50).await;
        assert_eq!(task.attempts, 1);
        assert!(store.finish_task(task.id, "L-rel-1", &TaskOutcome::Released, at(51)).await.unwrap());
        let released = task_now(&store, task.id).await;
        assert_eq!(released.state(), TaskState::Queued, "a released task is queued again");
        assert_eq!(released.attempts, 0, "a release does not count as an attempt");
        assert_eq!(released.run_after, at(51), "a released task is due at once");
        assert_eq!((released.lease_token, released.lease_until), (None, None));
        let again = store.claim_task(&kinds(&["k.release"]), "L-rel-2", at(52), at(82)).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (task.id, 1), "another worker picks it up as its first attempt");
    })
    .await;
}

#[tokio::test]
async fn a_task_handed_back_while_a_cancel_is_pending_ends_cancelled() {
    each_backend(|store| async move {
        for (kind, outcome) in [
            ("k.retry", TaskOutcome::Retry { error: "flaky".into(), run_after: at(90) }),
            ("k.release", TaskOutcome::Released),
        ] {
            let task = store.enqueue_task(&new_task(kind, at(0), None, at(0))).await.unwrap();
            let claimed = store.claim_task(&kinds(&[kind]), "L", at(1), at(31)).await.unwrap().unwrap();
            assert_eq!(claimed.id, task.id);
            store.cancel_task(task.id, at(2)).await.unwrap();
            assert!(store.finish_task(task.id, "L", &outcome, at(3)).await.unwrap());
            let ended = task_now(&store, task.id).await;
            assert_eq!(
                ended.state(),
                TaskState::Cancelled,
                "{kind}: a pending cancel wins over going back to the queue"
            );
            assert_eq!(ended.finished_at, Some(at(3)));
            assert!(
                store.claim_task(&kinds(&[kind]), "L2", at(100), at(130)).await.unwrap().is_none(),
                "{kind}: it never runs again"
            );
        }
        let done = store.enqueue_task(&new_task("k.done", at(0), None, at(0))).await.unwrap();
        store.claim_task(&kinds(&["k.done"]), "D", at(1), at(31)).await.unwrap();
        store
            .finish_task(done.id, "D", &TaskOutcome::Succeeded { result: serde_json::json!({}) }, at(2))
            .await
            .unwrap();
        let after = store.cancel_task(done.id, at(5)).await.unwrap().unwrap();
        assert_eq!(
            (after.state(), after.updated_at),
            (TaskState::Succeeded, at(2)),
            "cancelling an ended task changes nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn an_enqueue_retried_with_its_idempotency_key_returns_the_first_task() {
    each_backend(|store| async move {
        let ada = store.create_user(new_user("ada", Role::Designer, at(0))).await.unwrap();
        let bob = store.create_user(new_user("bob", Role::Designer, at(0))).await.unwrap();
        let keyed = |user: i64, key: &str| NewTask {
            idempotency_key: Some(key.into()),
            ..new_task("k.idem", at(0), Some(user), at(1))
        };
        let first = store.enqueue_task(&keyed(ada.id, "req-1")).await.unwrap();
        let again = store.enqueue_task(&keyed(ada.id, "req-1")).await.unwrap();
        assert_eq!(again.id, first.id, "the same key from the same user is the same task");
        let other_user = store.enqueue_task(&keyed(bob.id, "req-1")).await.unwrap();
        assert_ne!(other_user.id, first.id, "keys are per user");
        let other_key = store.enqueue_task(&keyed(ada.id, "req-2")).await.unwrap();
        assert_ne!(other_key.id, first.id);
        let unkeyed = store.enqueue_task(&new_task("k.idem", at(0), Some(ada.id), at(1))).await.unwrap();
        let unkeyed_again = store.enqueue_task(&new_task("k.idem", at(0), Some(ada.id), at(1))).await.unwrap();
        assert_ne!(unkeyed.id, unkeyed_again.id, "without a key every enqueue is new");
        let all = store
            .list_tasks(&TaskQuery { created_by: Some(ada.id), state: None, before_id: None, limit: 50 })
            .await
            .unwrap();
        assert_eq!(all.len(), 4, "no duplicate row was written");
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_hands_the_task_to_another_worker() {
    each_backend(|store| async move {
        let task = store.enqueue_task(&new_task("cad.render", at(0), None, at(0))).await.unwrap();
        let first = store.claim_task(&kinds(&["cad.render"]), "worker-1", at(1), at(31)).await.unwrap().unwrap();
        assert_eq!(first.id, task.id);
        store.heartbeat_task(task.id, "worker-1", 30, Some("a third"), at(10), at(40)).await.unwrap();

        assert!(
            store.claim_task(&kinds(&["cad.render"]), "worker-2", at(39), at(69)).await.unwrap().is_none(),
            "a live lease is respected"
        );
        assert!(
            store.claim_task(&kinds(&["cad.render"]), "worker-2", at(40), at(70)).await.unwrap().is_none(),
            "a lease is live up to and including lease_until"
        );
        let second = store.claim_task(&kinds(&["cad.render"]), "worker-2", at(41), at(71)).await.unwrap();
        let second = second.expect("after lease_until the task is claimable again: its worker is presumed dead");
        assert_eq!(second.id, task.id);
        assert_eq!(second.state(), TaskState::Running);
        assert_eq!(second.attempts, 2, "the lost run counted as an attempt");
        assert_eq!((second.lease_token.as_deref(), second.lease_until), (Some("worker-2"), Some(at(71))));
        assert_eq!(second.started_at, Some(at(1)), "started_at remembers the first start");
        assert_eq!(second.progress, 30, "progress survives the hand-over");

        let after_takeover = snapshot(&second);
        assert_eq!(
            store.heartbeat_task(task.id, "worker-1", 90, None, at(42), at(72)).await.unwrap(),
            None,
            "the old worker's heartbeat is refused"
        );
        for outcome in [TaskOutcome::Succeeded { result: json!("stale") }, TaskOutcome::Failed { error: "x".into() }] {
            assert!(
                !store.finish_task(task.id, "worker-1", &outcome, at(43)).await.unwrap(),
                "the old worker can no longer finish the task ({outcome:?})"
            );
        }
        assert_eq!(snapshot(&task_now(&store, task.id).await), after_takeover, "the old worker changed nothing");

        let ok = TaskOutcome::Succeeded { result: json!("fresh") };
        assert!(store.finish_task(task.id, "worker-2", &ok, at(44)).await.unwrap(), "the new lease holder finishes");
        assert_eq!(task_now(&store, task.id).await.result.map(|r| r.0), Some(json!("fresh")));
    })
    .await;
}

#[tokio::test]
async fn tasks_updated_since_feeds_changes_in_update_order() {
    each_backend(|store| async move {
        let a = store.enqueue_task(&new_task("k", at(0), None, at(1))).await.unwrap();
        let b = store.enqueue_task(&new_task("k", at(0), None, at(2))).await.unwrap();
        let c = store.enqueue_task(&new_task("k", at(0), None, at(3))).await.unwrap();
        store.cancel_task(a.id, at(4)).await.unwrap(); // a moves to the end of the feed

        let feed = |since: i64, limit: i64| {
            let store = Arc::clone(&store);
            async move { ids(&store.tasks_updated_since(at(since), limit).await.unwrap()) }
        };
        assert_eq!(feed(0, 10).await, vec![b.id, c.id, a.id], "changes come in update order");
        assert_eq!(feed(2, 10).await, vec![c.id, a.id], "since is exclusive: a change at exactly `since` was seen");
        assert_eq!(feed(0, 2).await, vec![b.id, c.id], "limit caps the batch, oldest changes first");
        assert!(feed(4, 10).await.is_empty(), "nothing changed after the last update");

        // Equal update instants are ordered by id, so a feed never reorders between polls.
        let d = store.enqueue_task(&new_task("k", at(0), None, at(9))).await.unwrap();
        let e = store.enqueue_task(&new_task("k", at(0), None, at(9))).await.unwrap();
        assert_eq!(feed(4, 10).await, vec![d.id, e.id], "ties on updated_at go by id");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_take_every_task_exactly_once() {
    each_database(|db| async move {
        const TASKS: usize = 20;
        const CLAIMERS: usize = 4;
        // Two stores with their own pools stand for two server instances sharing one database.
        let instances = [db.open_store().await, db.open_store().await];
        let store = Arc::clone(&instances[0]);
        let mut enqueued = BTreeSet::new();
        for i in 0..TASKS {
            let kind = if i % 2 == 0 { "cad.render" } else { "poster" };
            enqueued.insert(store.enqueue_task(&new_task(kind, at(0), None, at(0))).await.unwrap().id);
        }

        // All claimers start together, so their claims really overlap.
        let start = Arc::new(tokio::sync::Barrier::new(CLAIMERS));
        let claimers: Vec<_> = (0..CLAIMERS)
            .map(|w| {
                let (store, start) = (Arc::clone(&instances[w % instances.len()]), Arc::clone(&start));
                tokio::spawn(async move {
                    start.wait().await;
                    let mut mine = Vec::new();
                    let token = format!("worker-{w}");
                    let all_kinds = kinds(&["cad.render", "poster"]);
                    while let Some(task) = store.claim_task(&all_kinds, &token, at(1), at(1000)).await.unwrap() {
                        let ok = TaskOutcome::Succeeded { result: json!(w) };
                        let finished = store.finish_task(task.id, &token, &ok, at(2)).await.unwrap();
                        mine.push((task.id, task.lease_token, finished));
                    }
                    (token, mine)
                })
            })
            .collect();

        // Every claim, by task: (worker, lease token the claim returned, whether the worker could finish).
        let mut claims: BTreeMap<i64, Vec<(String, Option<String>, bool)>> = BTreeMap::new();
        for claimer in claimers {
            let (worker, mine) = claimer.await.unwrap();
            for (id, lease, finished) in mine {
                claims.entry(id).or_default().push((worker.clone(), lease, finished));
            }
        }
        let twice: Vec<_> = claims.iter().filter(|(_, c)| c.len() > 1).collect();
        assert!(twice.is_empty(), "no task is claimed by two workers, but these were: {twice:?}");
        for (id, claim) in &claims {
            let (worker, lease, finished) = &claim[0];
            assert_eq!(lease.as_ref(), Some(worker), "task {id}: the claim carries the claimer's lease token");
            assert!(finished, "task {id}: {worker} could finish the task it claimed");
        }
        let claimed: BTreeSet<i64> = claims.keys().copied().collect();
        assert_eq!(claimed, enqueued, "every enqueued task was claimed");
        for id in enqueued {
            let task = task_now(&store, id).await;
            assert_eq!(task.state(), TaskState::Succeeded, "task {id} ran to completion");
            assert_eq!(task.attempts, 1, "task {id} ran exactly once");
        }
        for instance in instances {
            instance.close().await;
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// Agents and conversations
// ---------------------------------------------------------------------------------------------------

fn agent_write(
    name: &str,
    spec: serde_json::Value,
    change: &str,
    by: Option<i64>,
    now: Timestamp,
) -> zk_core::store::AgentWrite {
    zk_core::store::AgentWrite {
        name: name.to_owned(),
        kind: "chat".into(),
        provider: "fastgpt".into(),
        enabled: true,
        spec,
        change: change.into(),
        source_file: None,
        by,
        now,
    }
}

#[tokio::test]
async fn agents_write_versions_optimistically_and_keep_their_history() {
    each_backend(|store| async move {
        let ada = store.create_user(new_user("ada", Role::Admin, at(0))).await.unwrap();
        let agent = store
            .create_agent("uid-1", &agent_write("海报", json!({"v": 1}), "created", Some(ada.id), at(1)))
            .await
            .unwrap();
        assert_eq!((agent.version, agent.created_at), (1, at(1)));
        let duplicate = store.create_agent("uid-2", &agent_write("海报", json!({}), "created", None, at(1))).await;
        assert!(matches!(duplicate, Err(CoreError::Conflict(_))), "names are unique: {duplicate:?}");

        let v2 = store
            .update_agent(agent.id, 1, &agent_write("海报", json!({"v": 2}), "edited", Some(ada.id), at(2)))
            .await
            .unwrap();
        assert_eq!(v2.map(|a| (a.version, a.updated_at)), Some((2, at(2))));
        let stale = store
            .update_agent(agent.id, 1, &agent_write("海报", json!({"v": 3}), "edited", None, at(3)))
            .await
            .unwrap();
        assert!(stale.is_none(), "a write based on version 1 loses to the one that made version 2");

        let history = store.agent_versions(agent.id).await.unwrap();
        let summary: Vec<(i32, serde_json::Value, String, Option<String>)> = history
            .iter()
            .map(|v| (v.version, v.spec.0.clone(), v.change.clone(), v.created_by_name.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (2, json!({"v": 2}), "edited".into(), Some("ada".into())),
                (1, json!({"v": 1}), "created".into(), Some("ada".into()))
            ]
        );
        assert_eq!(store.agent_by_name(" 海报 ").await.unwrap().map(|a| a.id), Some(agent.id), "found by folded name");
        assert!(store.delete_agent(agent.id).await.unwrap());
        assert!(store.agent_versions(agent.id).await.unwrap().is_empty(), "the history goes with the agent");
    })
    .await;
}

#[tokio::test]
async fn messages_append_in_order_truncate_and_recover_from_a_dead_run() {
    each_backend(|store| async move {
        let ada = store.create_user(new_user("ada", Role::Admin, at(0))).await.unwrap();
        let agent = store.create_agent("uid-1", &agent_write("a", json!({}), "created", None, at(0))).await.unwrap();
        let conversation = store
            .create_conversation(&zk_core::store::NewConversation {
                id: "c1".into(),
                user_id: ada.id,
                agent_id: agent.id,
                agent_name: "a".into(),
                title: "t".into(),
                chat_id: Some("chat-1".into()),
                variables: json!({}),
                source: "app".into(),
                now: at(1),
            })
            .await
            .unwrap();
        for (n, status) in [(1, "complete"), (2, "complete"), (3, "streaming")] {
            let message = store
                .append_message(&zk_core::store::NewMessage {
                    id: format!("m{n}"),
                    conversation_id: conversation.id.clone(),
                    role: if n % 2 == 1 { "user".into() } else { "assistant".into() },
                    text: format!("第{n}条 TEXT"),
                    status: status.into(),
                    attachments: json!([]),
                    detail: json!({}),
                    interactive_reply: false,
                    now: at(n),
                })
                .await
                .unwrap();
            assert_eq!(message.seq, n as i32, "seq counts up from 1");
        }
        assert_eq!(store.conversation("c1").await.unwrap().unwrap().message_count, 3);
        let hits = store.search_messages(ada.id, &zk_core::store::search_key("第2条 text"), 10).await.unwrap();
        assert_eq!(hits.iter().map(|h| h.message_id.as_str()).collect::<Vec<_>>(), ["m2"], "folded substring search");

        // A run that died leaves a streaming row that is not written any more.
        let error = json!({"code": "interrupted"});
        assert_eq!(store.interrupt_stale_messages(at(3), &error).await.unwrap(), 0, "not stale yet");
        assert_eq!(store.interrupt_stale_messages(at(60), &error).await.unwrap(), 1);
        let m3 = store.message("m3").await.unwrap().unwrap();
        assert_eq!((m3.status.as_str(), m3.text.as_str()), ("interrupted", "第3条 TEXT"), "the partial text stays");

        assert_eq!(store.truncate_messages("c1", 2).await.unwrap(), 2);
        let left: Vec<String> = store.messages("c1").await.unwrap().into_iter().map(|m| m.id).collect();
        assert_eq!(left, ["m1"]);
        assert_eq!(store.conversation("c1").await.unwrap().unwrap().message_count, 1, "the count follows");
        assert_eq!(
            store.conversation_by_chat_id(ada.id, agent.id, "chat-1").await.unwrap().map(|c| c.id),
            Some("c1".to_owned())
        );
        assert!(store.delete_agent(agent.id).await.unwrap());
        let kept = store.conversation("c1").await.unwrap().unwrap();
        assert_eq!((kept.agent_id, kept.agent_name.as_str()), (None, "a"), "deleting an agent keeps its conversations");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// CAD library
// ---------------------------------------------------------------------------------------------------

fn drawing_content(name: &str, sha: &str, thumbnail: Option<&[u8]>, now: Timestamp) -> zk_core::store::CadDrawingWrite {
    zk_core::store::CadDrawingWrite {
        name: name.to_owned(),
        format: "dxf".into(),
        sha256: sha.repeat(64),
        size_bytes: 5 * 1024 * 1024 * 1024,
        acad_version: Some("AC1015".into()),
        release: Some("R2000".into()),
        units: Some("millimeters".into()),
        entity_count: 4,
        layouts: json!(["Model", "布局1"]),
        status: "ready".into(),
        error: None,
        facts: Some(json!({ "version": "AC1015", "texts": [{ "text": "客厅" }] })),
        diagnostics: json!([{ "severity": "info", "code": "undeclared_name", "message": "layer Notes", "location": null }]),
        thumbnail: thumbnail.map(<[u8]>::to_vec),
        thumbnail_sha256: thumbnail.map(|_| "c".repeat(64)),
        now,
    }
}

/// A drawing of the watched folder `root`, at `path` in it (named as the file).
fn folder_drawing(id: &str, root: &str, path: &str, sha: &str, now: Timestamp) -> zk_core::store::NewCadDrawing {
    zk_core::store::NewCadDrawing {
        id: id.to_owned(),
        source: "folder".into(),
        file_id: None,
        folder_root: Some(root.to_owned()),
        folder_path: Some(path.to_owned()),
        uploaded_by: None,
        content: drawing_content(path.rsplit('/').next().unwrap_or(path), sha, None, now),
    }
}

#[tokio::test]
async fn cad_drawings_are_stored_listed_searched_updated_and_deleted() {
    each_backend(|store| async move {
        let gina = store.create_user(new_user("gina", Role::Designer, at(0))).await.unwrap();
        let file = FileRecord {
            id: "f-0001".into(),
            sha256: "a".repeat(64),
            size: 100,
            media_type: "image/vnd.dxf".into(),
            original_name: "平面图.dxf".into(),
            uploaded_by: Some(gina.id),
            created_at: at(1),
        };
        store.insert_file(&file).await.unwrap();
        let png = b"\x89PNG\r\n\x1a\nthumbnail".as_slice();
        let upload = store
            .insert_cad_drawing(&zk_core::store::NewCadDrawing {
                id: "d-0001".into(),
                source: "upload".into(),
                file_id: Some(file.id.clone()),
                folder_root: None,
                folder_path: None,
                uploaded_by: Some(gina.id),
                content: drawing_content("一层平面图.dxf", "a", Some(png), at(2)),
            })
            .await
            .unwrap();
        assert_eq!((upload.name.as_str(), upload.size_bytes), ("一层平面图.dxf", 5 * 1024 * 1024 * 1024));
        assert_eq!((upload.created_at, upload.updated_at, upload.uploaded_by), (at(2), at(2), Some(gina.id)));
        assert_eq!(upload.layouts.0, json!(["Model", "布局1"]));
        assert_eq!(upload.latest_analysis_id, None, "no analysis yet");
        let folder = store
            .insert_cad_drawing(&folder_drawing("d-0002", "host-a:/data/drawings", "A 栋/立面.dxf", "b", at(3)))
            .await
            .unwrap();
        let err = store
            .insert_cad_drawing(&folder_drawing("d-0003", "host-a:/data/drawings", "A 栋/立面.dxf", "b", at(3)))
            .await
            .unwrap_err();
        assert!(matches!(err, CoreError::Conflict(_)), "one drawing per folder file, got {err:?}");
        // Another server's folder may hold a file of the same path.
        store
            .insert_cad_drawing(&folder_drawing("d-0000", "host-b:/data/drawings", "A 栋/立面.dxf", "b", at(1)))
            .await
            .unwrap();
        assert_eq!((folder.source.as_str(), folder.folder_path.as_deref()), ("folder", Some("A 栋/立面.dxf")));

        let ids =
            |records: Vec<zk_core::store::CadDrawingRecord>| records.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.list_cad_drawings(None, None, 10).await.unwrap()),
            ["d-0002", "d-0001", "d-0000"],
            "newest first"
        );
        assert_eq!(ids(store.list_cad_drawings(None, Some("d-0002"), 1).await.unwrap()), ["d-0001"], "paged by id");
        assert_eq!(
            ids(store.list_cad_drawings(None, Some("d-0002"), 10).await.unwrap()),
            ["d-0001", "d-0000"],
            "everything after the cursor, in order"
        );
        assert_eq!(
            ids(store.list_cad_drawings(Some("平面"), None, 10).await.unwrap()),
            ["d-0001"],
            "Chinese substrings"
        );
        assert_eq!(ids(store.list_cad_drawings(Some("50%"), None, 10).await.unwrap()), Vec::<String>::new());
        assert_eq!(
            ids(store.folder_cad_drawings("host-a:/data/drawings").await.unwrap()),
            ["d-0002"],
            "only that folder's"
        );
        assert_eq!(ids(store.folder_cad_drawings("host-b:/data/drawings").await.unwrap()), ["d-0000"]);
        let by_path = store
            .cad_drawing_by_folder_path("host-a:/data/drawings", "A 栋/立面.dxf")
            .await
            .unwrap()
            .expect("found by its folder and path");
        assert_eq!((by_path.id.as_str(), by_path.file_id.as_deref()), ("d-0002", None));

        let (facts, diagnostics) = store.cad_drawing_facts("d-0001").await.unwrap().expect("stored facts");
        assert_eq!(facts.unwrap()["texts"][0]["text"], "客厅");
        assert_eq!(diagnostics[0]["code"], "undeclared_name");
        assert_eq!(store.cad_thumbnail("d-0001").await.unwrap().as_deref(), Some(png), "the PNG round-trips");
        assert_eq!(store.cad_thumbnail("d-0002").await.unwrap(), None);

        // The folder file changed, and now the reader refuses it: same row, new content, no thumbnail.
        let mut changed = drawing_content("立面.dxf", "e", None, at(9));
        changed.status = "failed".into();
        changed.error = Some("this is not a DXF drawing".into());
        changed.facts = None;
        let updated = store.update_cad_drawing("d-0002", &changed).await.unwrap().expect("updated");
        assert_eq!((updated.status.as_str(), updated.error.as_deref()), ("failed", Some("this is not a DXF drawing")));
        assert_eq!((updated.created_at, updated.updated_at, updated.sha256), (at(3), at(9), "e".repeat(64)));
        assert_eq!(store.cad_drawing_facts("d-0002").await.unwrap().unwrap().0, None);
        let refreshed = drawing_content("一层平面图.dxf", "a", None, at(10));
        store.update_cad_drawing("d-0001", &refreshed).await.unwrap();
        assert_eq!(store.cad_thumbnail("d-0001").await.unwrap(), None, "a write without a thumbnail removes it");
        assert!(store.update_cad_drawing("d-9999", &refreshed).await.unwrap().is_none());

        assert!(store.delete_cad_drawing("d-0002").await.unwrap());
        assert!(!store.delete_cad_drawing("d-0002").await.unwrap(), "deleting twice finds nothing");
        assert_eq!(store.delete_file("f-0001").await.unwrap(), Some(0));
        assert!(store.cad_drawing("d-0001").await.unwrap().is_none(), "an upload goes with its file");
    })
    .await;
}

#[tokio::test]
async fn cad_analyses_are_recorded_once_per_task_and_follow_it() {
    each_backend(|store| async move {
        let gina = store.create_user(new_user("gina", Role::Designer, at(0))).await.unwrap();
        store
            .insert_cad_drawing(&folder_drawing("d-0001", "host-a:/data/drawings", "plan.dxf", "a", at(1)))
            .await
            .unwrap();
        let first = store.enqueue_task(&new_task("cad.analyse", at(2), Some(gina.id), at(2))).await.unwrap();
        let second = store.enqueue_task(&new_task("cad.analyse", at(3), Some(gina.id), at(3))).await.unwrap();
        let new = |id: &str, task_id: i64, secs: i64| zk_core::store::NewCadAnalysis {
            id: id.to_owned(),
            drawing_id: "d-0001".into(),
            task_id,
            agent_id: None,
            agent_name: Some("图纸分析".into()),
            created_by: Some(gina.id),
            now: at(secs),
        };
        let a = store.insert_cad_analysis(&new("a-0001", first.id, 2)).await.unwrap();
        assert_eq!((a.state.as_str(), a.task_state.as_deref()), ("queued", Some("queued")), "the task is joined in");
        let again = store.insert_cad_analysis(&new("a-other", first.id, 2)).await.unwrap();
        assert_eq!(again.id, "a-0001", "a task has one analysis, however often it is inserted");
        store.insert_cad_analysis(&new("a-0002", second.id, 3)).await.unwrap();
        let drawing = store.cad_drawing("d-0001").await.unwrap().unwrap();
        assert_eq!(drawing.latest_analysis_id.as_deref(), Some("a-0002"), "the newest analysis is the latest");
        let ids: Vec<String> = store.cad_analyses("d-0001").await.unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["a-0002", "a-0001"], "newest first");

        assert!(store.start_cad_analysis("a-0001", at(4)).await.unwrap());
        store.note_cad_analysis_error("a-0001", &json!({ "code": "upstream_error", "message": "busy" })).await.unwrap();
        let running = store.cad_analysis_by_task(first.id).await.unwrap().unwrap();
        assert_eq!((running.state.as_str(), running.started_at), ("running", Some(at(4))));
        assert_eq!(running.error.unwrap().0["message"], "busy", "a failed attempt is noted");
        let outcome = zk_core::store::CadAnalysisOutcome {
            state: "succeeded".into(),
            agent_name: None,
            agent_version: Some(3),
            answer: Some("一套住宅平面".into()),
            note: None,
            error: None,
            facts_sent: Some(json!({ "texts": ["客厅"] })),
            timings: json!({ "totalMs": 12 }),
            now: at(5),
        };
        assert!(store.finish_cad_analysis("a-0001", &outcome).await.unwrap());
        let failed = zk_core::store::CadAnalysisOutcome { state: "failed".into(), ..outcome.clone() };
        assert!(!store.finish_cad_analysis("a-0001", &failed).await.unwrap(), "an outcome is recorded once");
        assert!(!store.start_cad_analysis("a-0001", at(6)).await.unwrap(), "a finished analysis does not restart");
        let done = store.cad_analysis_by_task(first.id).await.unwrap().unwrap();
        assert_eq!((done.state.as_str(), done.answer.as_deref()), ("succeeded", Some("一套住宅平面")));
        assert_eq!((done.agent_name.as_deref(), done.agent_version), (Some("图纸分析"), Some(3)), "the name stays");
        assert_eq!((done.finished_at, done.error.map(|e| e.0)), (Some(at(5)), None));
        assert_eq!(done.facts_sent.unwrap().0["texts"][0], "客厅");

        assert!(store.delete_cad_drawing("d-0001").await.unwrap());
        assert!(store.cad_analysis_by_task(first.id).await.unwrap().is_none(), "analyses go with their drawing");
    })
    .await;
}
