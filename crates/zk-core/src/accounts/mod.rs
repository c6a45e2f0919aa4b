//! Accounts and access: users with roles, sign-in, token rotation, revocation, first-start setup.

pub mod hashing;
pub mod password;
pub mod throttle;
pub mod tokens;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::AuditLog;
use crate::cache::Cache;
use crate::clock::SharedClock;
use crate::error::{CoreError, CoreResult};
use crate::request::{Principal, RequestMeta};
use crate::secret::Secret;
use crate::store::{NewAuditEntry, NewUser, Role, SessionRecord, Store, Timestamp, UserRecord};
use hashing::HashingPool;
use throttle::Scope;
use tokens::{TokenError, TokenKeys};

/// How long a cached user or session answers for the database when the cache is shared by every
/// instance (Redis): invalidation is explicit and reaches them all; this bounds staleness when an
/// invalidation is lost (Redis down at that moment).
const SHARED_AUTH_CACHE_TTL: Duration = Duration::from_secs(30);
/// The same with an in-process cache. Another instance on the same database cannot invalidate it,
/// so a sign-out, a disabled account or a role change made there must reach this one by expiry:
/// within a second, at the cost of one session and one user read per signed-in client per
/// half-second.
const LOCAL_AUTH_CACHE_TTL: Duration = Duration::from_millis(500);
/// Every this many failed attempts, counts quiet for an hour are removed from the store.
const PRUNE_EVERY: u64 = 64;
const LOCAL_OWNER: &str = "owner";

/// The result of a sign-in or a refresh.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: UserView,
}

/// A sign-in with a password: the tokens, and the device cookie this browser keeps so that it is
/// not throttled with strangers next time (the front door sets it, the UI never sees it).
#[derive(Debug, Clone)]
pub struct PasswordSignIn {
    pub signed_in: SignedIn,
    pub device_cookie: String,
}

/// A user as the API shows it: never the hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub has_password: bool,
    pub created_at: Timestamp,
}

impl From<&UserRecord> for UserView {
    fn from(user: &UserRecord) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role(),
            disabled: user.disabled,
            has_password: user.password_hash.is_some(),
            created_at: user.created_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub password: String,
    pub role: Role,
}

#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CachedUser {
    username: String,
    role: Role,
    disabled: bool,
    tokens_valid_after_ms: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct CachedSession {
    user_id: i64,
    revoked: bool,
    expires_at_ms: i64,
}

pub struct AccountService {
    store: Arc<dyn Store>,
    cache: Arc<Cache>,
    clock: SharedClock,
    audit: AuditLog,
    keys: TokenKeys,
    /// Every password hash and check runs here, at most its size at once.
    hashing: HashingPool,
    /// Failed attempts counted, to prune old throttle counts now and then.
    failures_seen: AtomicU64,
    access_ttl_secs: i64,
    refresh_ttl: chrono::Duration,
    /// The one-time token that lets the first admin be created on a server; std mutex, never held
    /// across an await.
    setup_token: Mutex<Option<Secret>>,
    /// The desktop shell's secret for this launch: whoever presents it is the local owner. Only the
    /// shell knows it and hands it to its own window; a std mutex, never held across an await.
    desktop_launch: Mutex<Option<Secret>>,
}

impl AccountService {
    pub fn new(
        store: Arc<dyn Store>,
        cache: Arc<Cache>,
        clock: SharedClock,
        audit: AuditLog,
        keys: TokenKeys,
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Self {
        Self {
            store,
            cache,
            clock,
            audit,
            keys,
            hashing: HashingPool::new(hashing::default_workers(), hashing::DEFAULT_QUEUE_TIMEOUT),
            failures_seen: AtomicU64::new(0),
            access_ttl_secs: access_ttl.as_secs() as i64,
            refresh_ttl: chrono::Duration::from_std(refresh_ttl).unwrap_or(chrono::Duration::days(30)),
            setup_token: Mutex::new(None),
            desktop_launch: Mutex::new(None),
        }
    }

    /// Runs password work in `pool` instead of the default one (a worker per core, 3 s queue).
    pub fn with_hashing(mut self, pool: HashingPool) -> Self {
        self.hashing = pool;
        self
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    // ---- sign-in ------------------------------------------------------------------------------

    /// The pool password work runs in (its size and high-water mark, for tests and benchmarks).
    pub fn hashing(&self) -> &HashingPool {
        &self.hashing
    }

    /// Signs in with a password. `device_cookie` is what the browser kept from an earlier sign-in:
    /// when it is valid for this account, failures are counted under it alone, so strangers guessing
    /// at the account do not slow its owner; without one, under the name with the client's address
    /// and under the name from any untrusted client. Unknown names are counted and checked the same
    /// way as known ones (against a dummy hash), so neither answers nor timing tell them apart.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        device_cookie: Option<&str>,
        meta: &RequestMeta,
    ) -> CoreResult<PasswordSignIn> {
        let now = self.now();
        // The name as the store keys it, so a throttle count cannot be dodged by case or spaces.
        let name_key = crate::store::username_key(username);
        let user = self.store.user_by_username(username.trim()).await?;
        let device = device_cookie
            .and_then(|cookie| self.keys.verify_device_cookie(cookie))
            .filter(|device| user.as_ref().is_some_and(|u| u.id == device.user_id));
        let counted = match &device {
            Some(device) => {
                vec![(Scope::Device, throttle::key(Scope::Device, &[&device.user_id.to_string(), &device.nonce]))]
            }
            None => {
                let address = meta.ip.as_deref().unwrap_or("unknown");
                vec![
                    (Scope::AccountAtAddress, throttle::key(Scope::AccountAtAddress, &[&name_key, address])),
                    (Scope::AccountUntrusted, throttle::key(Scope::AccountUntrusted, &[&name_key])),
                ]
            }
        };
        let user_id = user.as_ref().map(|u| u.id);
        if let Some(retry_after) = self.throttled(&counted, now).await? {
            self.audit_login(user_id, username, "denied", "throttled", meta).await;
            return Err(CoreError::RateLimited { retry_after_secs: retry_after });
        }

        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let given = password.to_owned();
        let check = move |memory: &mut password::HashMemory| match stored {
            Some(hash) => {
                let (ok, rehash) = password::verify_in(memory, &given, &hash);
                (ok, if rehash { password::hash_in(memory, &given).ok() } else { None })
            }
            // Same work as for a real user, so response time does not reveal which names exist.
            None => {
                let _ = password::verify_in(memory, &given, password::dummy_hash());
                (false, None)
            }
        };
        // A browser that signed in as this user before is not queued behind a flood of strangers.
        let worker = self.hashing.worker(device.is_some()).await?;
        // Checked again with the worker in hand, which is held until the failure is recorded:
        // guesses sent at once all passed the first check, but only as many as there are workers
        // can pass this one before the count moves.
        if let Some(retry_after) = self.throttled(&counted, self.now()).await? {
            drop(worker);
            self.audit_login(user_id, username, "denied", "throttled", meta).await;
            return Err(CoreError::RateLimited { retry_after_secs: retry_after });
        }
        let (verified, upgraded) = worker.run(check).await?;
        let user = match user {
            Some(user) if verified => user,
            _ => {
                let mut failures = 0;
                for (_, key) in &counted {
                    failures = failures
                        .max(self.store.record_throttle_failure(key, now, now.plus(-throttle::QUIET_RESET)).await?);
                }
                drop(worker);
                self.prune_throttles_now_and_then(now).await;
                let reason = if user_id.is_some() {
                    format!("wrong password ({failures} in a row)")
                } else {
                    format!("unknown user ({failures} in a row)")
                };
                self.audit_login(user_id, username, "failed", &reason, meta).await;
                return Err(wrong_credentials());
            }
        };
        if user.disabled {
            self.audit_login(Some(user.id), &user.username, "denied", "account disabled", meta).await;
            return Err(CoreError::Unauthenticated(
                "this account is disabled; ask an administrator to enable it".into(),
            ));
        }
        if let Some(upgraded) = upgraded {
            self.store.upgrade_password_hash(user.id, &upgraded).await?;
        }
        for (_, key) in &counted {
            self.store.clear_throttle(key).await?;
        }
        drop(worker);
        let signed_in = self.open_session(&user, meta).await?;
        self.audit_login(
            Some(user.id),
            &user.username,
            "ok",
            if device.is_some() { "password, known device" } else { "password" },
            meta,
        )
        .await;
        // A valid cookie is kept; a browser without one gets one for next time.
        let device_cookie = match (device, device_cookie) {
            (Some(_), Some(cookie)) => cookie.to_owned(),
            _ => self.keys.new_device_cookie(user.id),
        };
        Ok(PasswordSignIn { signed_in, device_cookie })
    }

    /// The longest wait any of `counted` asks for now, if any.
    async fn throttled(&self, counted: &[(Scope, String)], now: Timestamp) -> CoreResult<Option<u64>> {
        let mut wait = None;
        for (scope, key) in counted {
            if let Some(record) = self.store.throttle(key).await? {
                wait = wait.max(throttle::delay(*scope, &record, now));
            }
        }
        Ok(wait)
    }

    /// Removes counts quiet for an hour, once every [`PRUNE_EVERY`] failures: a flood of made-up
    /// names leaves rows behind, and they serve no purpose after the quiet hour.
    async fn prune_throttles_now_and_then(&self, now: Timestamp) {
        if self.failures_seen.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY != PRUNE_EVERY - 1 {
            return;
        }
        if let Err(error) = self.store.prune_throttles(now.plus(-throttle::QUIET_RESET)).await {
            tracing::warn!(%error, "cannot remove old sign-in throttle counts");
        }
    }

    async fn audit_login(&self, user_id: Option<i64>, username: &str, outcome: &str, reason: &str, meta: &RequestMeta) {
        tracing::info!(username = ?username, outcome, reason, "sign-in");
        self.audit
            .record(
                NewAuditEntry {
                    actor_id: user_id,
                    actor_name: Some(username.chars().take(128).collect()),
                    action: crate::audit::SIGN_IN.into(),
                    target: user_id.map(|id| format!("user:{id}")),
                    outcome: outcome.into(),
                    details: json!({ "reason": reason }),
                    ..NewAuditEntry::default()
                },
                meta,
            )
            .await;
    }

    /// Starts a session (a refresh-token family) and issues its first token pair.
    async fn open_session(&self, user: &UserRecord, meta: &RequestMeta) -> CoreResult<SignedIn> {
        let now = self.now();
        let session = SessionRecord {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user.id,
            client: meta.client.clone().unwrap_or_default().chars().take(200).collect(),
            created_at: now,
            last_used_at: now,
            expires_at: now.plus(self.refresh_ttl),
            revoked_at: None,
            revoke_reason: None,
        };
        self.store.create_session(&session).await?;
        self.issue_pair(user, &session.id, session.expires_at).await
    }

    async fn issue_pair(
        &self,
        user: &UserRecord,
        session_id: &str,
        session_expires: Timestamp,
    ) -> CoreResult<SignedIn> {
        let now = self.now();
        let refresh_token = TokenKeys::new_refresh_token();
        self.store
            .insert_refresh_token(session_id, &self.keys.refresh_token_hash(&refresh_token), now, session_expires)
            .await?;
        let access_token = self
            .keys
            .issue_access(user.id, session_id, now, self.access_ttl_secs)
            .map_err(|e| CoreError::Internal(anyhow::anyhow!("cannot sign the access token: {e}")))?;
        Ok(SignedIn { access_token, refresh_token, expires_in: self.access_ttl_secs, user: UserView::from(user) })
    }

    /// Rotates a refresh token. A token used twice means it was stolen: the whole family is revoked.
    pub async fn refresh(&self, refresh_token: &str, meta: &RequestMeta) -> CoreResult<SignedIn> {
        let now = self.now();
        let invalid = || CoreError::Unauthenticated("the refresh token is invalid or expired; sign in again".into());
        let Some(record) = self.store.refresh_token(&self.keys.refresh_token_hash(refresh_token)).await? else {
            return Err(invalid());
        };
        let Some(session) = self.store.session(&record.session_id).await? else { return Err(invalid()) };
        if session.revoked_at.is_some() {
            return Err(invalid());
        }
        let first_use = record.used_at.is_none() && self.store.consume_refresh_token(record.id, now).await?;
        if !first_use {
            self.store.revoke_session(&session.id, "refresh token reuse", now).await?;
            self.forget_session(&session.id).await;
            tracing::warn!(session = %session.id, user_id = session.user_id, "refresh token reused; session revoked");
            self.audit
                .record(
                    NewAuditEntry {
                        actor_id: Some(session.user_id),
                        action: crate::audit::REFRESH_REUSE.into(),
                        target: Some(format!("session:{}", session.id)),
                        outcome: "denied".into(),
                        details: json!({ "revoked": "session family" }),
                        ..NewAuditEntry::default()
                    },
                    meta,
                )
                .await;
            return Err(invalid());
        }
        if record.expires_at < now || session.expires_at < now {
            return Err(invalid());
        }
        let user = self.store.user(session.user_id).await?.filter(|u| !u.disabled).ok_or_else(invalid)?;
        self.store.touch_session(&session.id, now).await?;
        self.issue_pair(&user, &session.id, session.expires_at).await
    }

    pub async fn logout(&self, principal: &Principal, meta: &RequestMeta) -> CoreResult<()> {
        self.store.revoke_session(&principal.session_id, "logout", self.now()).await?;
        self.forget_session(&principal.session_id).await;
        self.audit
            .record(self.entry(principal, "auth.logout", format!("session:{}", principal.session_id), json!({})), meta)
            .await;
        Ok(())
    }

    /// Checks an access token and returns the caller as the database knows them now.
    pub async fn authenticate(&self, access_token: &str) -> CoreResult<Principal> {
        let now = self.now();
        let claims = self.keys.verify_access(access_token, now).map_err(|e| {
            CoreError::Unauthenticated(match e {
                TokenError::Expired => "the access token has expired; refresh it".into(),
                other => other.to_string(),
            })
        })?;
        let user_id: i64 =
            claims.sub.parse().map_err(|_| CoreError::Unauthenticated("the access token is malformed".into()))?;
        let session = self.cached_session(&claims.sid).await?;
        let revoked = || CoreError::Unauthenticated("this session has ended; sign in again".into());
        let session = session
            .filter(|s| !s.revoked && s.user_id == user_id && s.expires_at_ms > now.millis())
            .ok_or_else(revoked)?;
        let user = self.cached_user(session.user_id).await?.ok_or_else(revoked)?;
        if user.disabled {
            return Err(CoreError::Unauthenticated("this account is disabled".into()));
        }
        // Tokens carry whole seconds; compare at that precision so a token minted in the same second
        // as a password change (right after it) stays valid. Sessions are revoked separately.
        if claims.iat < user.tokens_valid_after_ms.div_euclid(1000) {
            return Err(revoked());
        }
        Ok(Principal { user_id, username: user.username, role: user.role, session_id: claims.sid })
    }

    async fn cached_session(&self, id: &str) -> CoreResult<Option<CachedSession>> {
        let key = format!("session:{id}");
        if let Some(hit) = self.cache.get_json::<CachedSession>(&key).await {
            return Ok(Some(hit));
        }
        let Some(session) = self.store.session(id).await? else { return Ok(None) };
        let cached = CachedSession {
            user_id: session.user_id,
            revoked: session.revoked_at.is_some(),
            expires_at_ms: session.expires_at.millis(),
        };
        self.cache.set_json(&key, &cached, self.auth_cache_ttl()).await;
        Ok(Some(cached))
    }

    async fn cached_user(&self, id: i64) -> CoreResult<Option<CachedUser>> {
        let key = format!("user:{id}");
        if let Some(hit) = self.cache.get_json::<CachedUser>(&key).await {
            return Ok(Some(hit));
        }
        let Some(user) = self.store.user(id).await? else { return Ok(None) };
        let cached = CachedUser {
            username: user.username.clone(),
            role: user.role(),
            disabled: user.disabled,
            tokens_valid_after_ms: user.tokens_valid_after.millis(),
        };
        self.cache.set_json(&key, &cached, self.auth_cache_ttl()).await;
        Ok(Some(cached))
    }

    fn auth_cache_ttl(&self) -> Duration {
        if self.cache.shared_across_instances() { SHARED_AUTH_CACHE_TTL } else { LOCAL_AUTH_CACHE_TTL }
    }

    async fn forget_session(&self, id: &str) {
        self.cache.delete(&format!("session:{id}")).await;
    }

    async fn forget_user(&self, id: i64, revoked_sessions: &[String]) {
        self.cache.delete(&format!("user:{id}")).await;
        for session in revoked_sessions {
            self.forget_session(session).await;
        }
    }

    /// Changes the caller's password, ends every session of theirs and signs them in afresh.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: &str,
        meta: &RequestMeta,
    ) -> CoreResult<SignedIn> {
        let user = self.store.user(principal.user_id).await?.ok_or_else(|| CoreError::NotFound("user".into()))?;
        if let Some(hash) = user.password_hash.clone() {
            // Wrong current passwords are throttled like sign-ins: a stolen access token must not
            // become a fast way to guess the password.
            let now = self.now();
            let counted = [(Scope::PasswordChange, throttle::key(Scope::PasswordChange, &[&user.id.to_string()]))];
            if let Some(retry_after) = self.throttled(&counted, now).await? {
                return Err(CoreError::RateLimited { retry_after_secs: retry_after });
            }
            // Held until the failure is recorded, and checked again, as in `login`.
            let worker = self.hashing.worker(false).await?;
            if let Some(retry_after) = self.throttled(&counted, self.now()).await? {
                return Err(CoreError::RateLimited { retry_after_secs: retry_after });
            }
            let given = current.to_owned();
            let ok = worker.run(move |memory| password::verify_in(memory, &given, &hash).0).await?;
            if !ok {
                for (_, key) in &counted {
                    self.store.record_throttle_failure(key, now, now.plus(-throttle::QUIET_RESET)).await?;
                }
                self.audit
                    .record(
                        NewAuditEntry {
                            outcome: "failed".into(),
                            ..self.entry(
                                principal,
                                "user.password_change",
                                format!("user:{}", user.id),
                                json!({ "reason": "wrong current password" }),
                            )
                        },
                        meta,
                    )
                    .await;
                return Err(CoreError::invalid("current_password", "the current password is wrong"));
            }
            for (_, key) in &counted {
                self.store.clear_throttle(key).await?;
            }
            if new == current {
                return Err(CoreError::invalid(
                    "new_password",
                    "the new password is the current one; choose a different password",
                ));
            }
        }
        password::check_policy(new, &user.username)?;
        let hash = self.hash_password(new).await?;
        let now = self.now();
        self.store.set_password_hash(user.id, &hash, now).await?;
        let revoked = self.store.revoke_user_sessions(user.id, "password changed", now).await?;
        self.forget_user(user.id, &revoked).await;
        self.audit
            .record(
                self.entry(
                    principal,
                    "user.password_change",
                    format!("user:{}", user.id),
                    json!({ "sessions_revoked": revoked.len() }),
                ),
                meta,
            )
            .await;
        let user = self.store.user(user.id).await?.ok_or_else(|| CoreError::NotFound("user".into()))?;
        self.open_session(&user, meta).await
    }

    // ---- first start --------------------------------------------------------------------------

    /// On a server with no users: a one-time setup token (printed by `serve`) that creates the first
    /// admin through the API. `None` once any user exists.
    pub async fn begin_setup(&self) -> CoreResult<Option<String>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let token = format!("zks_{}", &TokenKeys::new_refresh_token()[4..]);
        *self.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = Some(Secret::new(token.clone()));
        Ok(Some(token))
    }

    pub async fn setup_required(&self) -> CoreResult<bool> {
        Ok(self.store.count_users().await? == 0)
    }

    /// Creates the first admin with the setup token; the token works once.
    pub async fn complete_setup(&self, token: &str, account: NewAccount, meta: &RequestMeta) -> CoreResult<SignedIn> {
        let expected = self.setup_token.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let matches = expected.as_ref().is_some_and(|e| constant_time_eq(e.expose().as_bytes(), token.as_bytes()));
        if !matches || self.store.count_users().await? > 0 {
            self.audit
                .record(
                    NewAuditEntry {
                        action: "auth.setup".into(),
                        outcome: "denied".into(),
                        details: json!({}),
                        ..Default::default()
                    },
                    meta,
                )
                .await;
            return Err(CoreError::Forbidden("the setup token is wrong or was already used".into()));
        }
        *self.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let user = self.create_user(None, NewAccount { role: Role::Admin, ..account }, meta).await?;
        self.open_session(&user, meta).await
    }

    /// The desktop's single local owner: an admin without a password, created on first start.
    pub async fn ensure_local_owner(&self) -> CoreResult<UserRecord> {
        if let Some(owner) = self.store.user_by_username(LOCAL_OWNER).await?.filter(|u| u.password_hash.is_none()) {
            return Ok(owner);
        }
        if self.store.count_users().await? > 0 {
            return Err(CoreError::Conflict("this database already has accounts; sign in with one of them".into()));
        }
        self.store
            .create_user(NewUser {
                username: LOCAL_OWNER.into(),
                display_name: "Owner".into(),
                password_hash: None,
                role: Role::Admin,
                now: self.now(),
            })
            .await
            .map_err(CoreError::from)
    }

    /// Signs the desktop's local owner in; the desktop shell calls this, never the network.
    pub async fn sign_in_local_owner(&self, meta: &RequestMeta) -> CoreResult<SignedIn> {
        let owner = self.ensure_local_owner().await?;
        let signed_in = self.open_session(&owner, meta).await?;
        self.audit_login(Some(owner.id), &owner.username, "ok", "local owner", meta).await;
        Ok(signed_in)
    }

    /// Lets the desktop window sign in as the local owner by presenting `secret` (fresh per launch).
    pub fn allow_desktop_launch(&self, secret: Secret) {
        *self.desktop_launch.lock().unwrap_or_else(|p| p.into_inner()) = Some(secret);
    }

    /// Signs the desktop window in as the local owner when it presents this launch's secret.
    pub async fn sign_in_desktop(&self, launch_secret: &str, meta: &RequestMeta) -> CoreResult<SignedIn> {
        let expected = self.desktop_launch.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let matches =
            expected.as_ref().is_some_and(|e| constant_time_eq(e.expose().as_bytes(), launch_secret.as_bytes()));
        if !matches {
            self.audit
                .record(
                    NewAuditEntry {
                        action: "auth.desktop".into(),
                        outcome: "denied".into(),
                        details: json!({ "reason": if expected.is_some() { "wrong launch secret" } else { "not a desktop launch" } }),
                        ..NewAuditEntry::default()
                    },
                    meta,
                )
                .await;
            return Err(CoreError::Forbidden("only the desktop app's own window can sign in this way".into()));
        }
        self.sign_in_local_owner(meta).await
    }

    // ---- user administration ------------------------------------------------------------------

    pub async fn list_users(&self) -> CoreResult<Vec<UserView>> {
        Ok(self.store.list_users().await?.iter().map(UserView::from).collect())
    }

    /// Creates a user. `actor` is `None` for the CLI and first-start setup.
    pub async fn create_user(
        &self,
        actor: Option<&Principal>,
        account: NewAccount,
        meta: &RequestMeta,
    ) -> CoreResult<UserRecord> {
        let username = validate_username(&account.username)?;
        let display_name = match account.display_name.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(name) => validate_display_name(name)?,
            None => username.clone(),
        };
        password::check_policy(&account.password, &username)?;
        let hash = self.hash_password(&account.password).await?;
        let user = self
            .store
            .create_user(NewUser {
                username,
                display_name,
                password_hash: Some(hash),
                role: account.role,
                now: self.now(),
            })
            .await?;
        self.audit
            .record(
                NewAuditEntry {
                    actor_id: actor.map(|a| a.user_id),
                    actor_name: Some(actor.map_or_else(|| "cli".to_owned(), |a| a.username.clone())),
                    action: "user.create".into(),
                    target: Some(format!("user:{}", user.id)),
                    outcome: "ok".into(),
                    details: json!({ "username": user.username, "role": user.role }),
                    ..NewAuditEntry::default()
                },
                meta,
            )
            .await;
        Ok(user)
    }

    pub async fn user_by_username(&self, username: &str) -> CoreResult<UserRecord> {
        self.store.user_by_username(username).await?.ok_or_else(|| CoreError::NotFound(format!("user {username:?}")))
    }

    /// Changes role, enabled state or display name. An admin cannot demote or disable the last admin.
    pub async fn update_user(
        &self,
        actor: Option<&Principal>,
        id: i64,
        patch: UserPatch,
        meta: &RequestMeta,
    ) -> CoreResult<UserView> {
        let user = self.store.user(id).await?.ok_or_else(|| CoreError::NotFound(format!("user {id}")))?;
        let now = self.now();
        let demotes = patch.role.is_some_and(|r| r != Role::Admin) || patch.disabled == Some(true);
        if demotes && user.role() == Role::Admin && !user.disabled {
            let active_admins =
                self.store.list_users().await?.iter().filter(|u| u.role() == Role::Admin && !u.disabled).count();
            if active_admins <= 1 {
                return Err(CoreError::Conflict("this is the last active admin; make another admin first".into()));
            }
        }
        let actor_name = Some(actor.map_or_else(|| "cli".to_owned(), |a| a.username.clone()));
        if let Some(name) = patch.display_name.as_deref() {
            let _ = validate_display_name(name)?;
        }
        if let Some(role) = patch.role.filter(|r| *r != user.role()) {
            self.store.set_user_role(id, role, now).await?;
            self.forget_user(id, &[]).await;
            self.audit
                .record(
                    NewAuditEntry {
                        actor_id: actor.map(|a| a.user_id),
                        actor_name: actor_name.clone(),
                        action: "user.role_change".into(),
                        target: Some(format!("user:{id}")),
                        outcome: "ok".into(),
                        details: json!({ "from": user.role(), "to": role }),
                        ..NewAuditEntry::default()
                    },
                    meta,
                )
                .await;
        }
        if let Some(disabled) = patch.disabled.filter(|d| *d != user.disabled) {
            self.store.set_user_disabled(id, disabled, now).await?;
            let revoked =
                if disabled { self.store.revoke_user_sessions(id, "account disabled", now).await? } else { Vec::new() };
            self.forget_user(id, &revoked).await;
            self.audit
                .record(
                    NewAuditEntry {
                        actor_id: actor.map(|a| a.user_id),
                        actor_name: actor_name.clone(),
                        action: if disabled { "user.disable".into() } else { "user.enable".into() },
                        target: Some(format!("user:{id}")),
                        outcome: "ok".into(),
                        details: json!({ "sessions_revoked": revoked.len() }),
                        ..NewAuditEntry::default()
                    },
                    meta,
                )
                .await;
        }
        let user = self.store.user(id).await?.ok_or_else(|| CoreError::NotFound(format!("user {id}")))?;
        Ok(UserView::from(&user))
    }

    async fn hash_password(&self, password: &str) -> CoreResult<String> {
        let password = password.to_owned();
        self.hashing.run(move |memory| password::hash_in(memory, &password)).await?
    }

    fn entry(&self, actor: &Principal, action: &str, target: String, details: serde_json::Value) -> NewAuditEntry {
        NewAuditEntry {
            actor_id: Some(actor.user_id),
            actor_name: Some(actor.username.clone()),
            action: action.into(),
            target: Some(target),
            outcome: "ok".into(),
            details,
            ..NewAuditEntry::default()
        }
    }
}

fn wrong_credentials() -> CoreError {
    CoreError::Unauthenticated("wrong user name or password".into())
}

fn validate_username(raw: &str) -> CoreResult<String> {
    let name = raw.trim();
    let length = name.chars().count();
    if length == 0 || length > 64 {
        return Err(CoreError::invalid("username", "a user name has 1 to 64 characters"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))) {
        return Err(CoreError::invalid(
            "username",
            format!("a user name may hold letters, digits and . _ - @, not {bad:?}"),
        ));
    }
    Ok(name.to_owned())
}

fn validate_display_name(raw: &str) -> CoreResult<String> {
    let name = raw.trim();
    if name.chars().count() > 100 || name.is_empty() {
        return Err(CoreError::invalid("display_name", "a display name has 1 to 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid("display_name", "a display name cannot hold control characters"));
    }
    Ok(name.to_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked() {
        assert_eq!(validate_username("  alice ").ok().as_deref(), Some("alice"));
        assert!(validate_username("张伟").is_ok());
        assert!(validate_username("admin\n2026-01-01 LOGIN OK").is_err());
        assert!(validate_username("../etc").is_err());
        assert!(validate_username(&"a".repeat(65)).is_err());
        assert!(validate_username("").is_err());
    }
}
