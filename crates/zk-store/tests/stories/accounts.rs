//! Users, sessions and refresh tokens.

#![allow(clippy::unwrap_used)]

use super::*;

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
                matches!(err, StoreError::Conflict(_)),
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
        assert!(matches!(err, StoreError::Conflict(_)), "\"ÉMILE\" collides with \"Émile\", got {err:?}");
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
            matches!(store.record_login_failure(unknown, at(43)).await, Err(StoreError::NotFound(_))),
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
        assert!(matches!(err, StoreError::Conflict(_)), "session ids are unique, got {err:?}");

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
        assert!(matches!(err, StoreError::Conflict(_)), "token hashes are unique, got {err:?}");

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

#[tokio::test]
async fn sign_in_throttles_count_restart_clear_and_prune() {
    each_backend(|store| async move {
        assert!(store.throttle("k1").await.unwrap().is_none(), "an unknown key has no failures");
        assert_eq!(store.record_throttle_failure("k1", at(10), at(0)).await.unwrap(), 1, "the first failure counts 1");
        assert_eq!(store.record_throttle_failure("k1", at(11), at(0)).await.unwrap(), 2);
        assert_eq!(store.record_throttle_failure("k1", at(12), at(0)).await.unwrap(), 3, "failures accumulate");
        let record = store.throttle("k1").await.unwrap().expect("counted");
        assert_eq!((record.failures, record.last_failure_at), (3, at(12)), "the latest failure's instant is kept");

        assert_eq!(
            store.record_throttle_failure("k1", at(100), at(50)).await.unwrap(),
            1,
            "a count quiet since before the restart instant starts again"
        );
        assert_eq!(store.record_throttle_failure("k2", at(101), at(50)).await.unwrap(), 1, "keys count apart");

        store.clear_throttle("k1").await.unwrap();
        assert!(store.throttle("k1").await.unwrap().is_none(), "a success clears its key");
        store.clear_throttle("k1").await.expect("clearing a clear key is harmless");
        assert!(store.throttle("k2").await.unwrap().is_some(), "other keys are left alone");

        store.record_throttle_failure("k3", at(200), at(0)).await.unwrap();
        assert_eq!(store.prune_throttles(at(150)).await.unwrap(), 1, "counts quiet since before the instant go");
        assert!(store.throttle("k2").await.unwrap().is_none());
        assert!(store.throttle("k3").await.unwrap().is_some(), "recent counts stay");
    })
    .await;
}

#[tokio::test]
async fn active_sessions_leave_out_revoked_and_expired_ones() {
    each_backend(|store| async move {
        assert_eq!(store.active_sessions(at(0)).await.unwrap(), (0, 0), "no sessions yet");
        let hana = store.create_user(new_user("hana", Role::Designer, at(0))).await.unwrap();
        let ivan = store.create_user(new_user("ivan", Role::Designer, at(0))).await.unwrap();
        store.create_session(&new_session("h1", hana.id, at(1))).await.unwrap();
        store.create_session(&new_session("h2", hana.id, at(1))).await.unwrap();
        store.create_session(&new_session("i1", ivan.id, at(1))).await.unwrap();
        assert_eq!(store.active_sessions(at(2)).await.unwrap(), (3, 2), "three sessions of two users");

        store.revoke_session("i1", "logout", at(3)).await.unwrap();
        assert_eq!(store.active_sessions(at(4)).await.unwrap(), (2, 1), "a revoked session is not active");
        let short = SessionRecord { expires_at: at(10), ..new_session("h3", hana.id, at(5)) };
        store.create_session(&short).await.unwrap();
        assert_eq!(store.active_sessions(at(9)).await.unwrap(), (3, 1));
        assert_eq!(store.active_sessions(at(10)).await.unwrap(), (2, 1), "an expired session is not active");
    })
    .await;
}
