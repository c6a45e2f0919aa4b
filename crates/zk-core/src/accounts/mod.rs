//! Accounts and access: users with roles, sign-in, token rotation, revocation, first-start setup.

pub mod password;
pub mod tokens;

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
use tokens::{TokenError, TokenKeys};

/// How long a cached user or session answers for the database. Invalidation is explicit; this bounds
/// staleness when an invalidation is lost (Redis down at that moment).
const AUTH_CACHE_TTL: Duration = Duration::from_secs(30);
/// Failed sign-ins allowed before each further attempt must wait.
const FREE_FAILURES: i32 = 4;
/// The longest wait between attempts: at most about 60 failures an hour, and never a permanent lock.
const MAX_LOGIN_DELAY_SECS: i64 = 60;
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
            access_ttl_secs: access_ttl.as_secs() as i64,
            refresh_ttl: chrono::Duration::from_std(refresh_ttl).unwrap_or(chrono::Duration::days(30)),
            setup_token: Mutex::new(None),
            desktop_launch: Mutex::new(None),
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    // ---- sign-in ------------------------------------------------------------------------------

    pub async fn login(&self, username: &str, password: &str, meta: &RequestMeta) -> CoreResult<SignedIn> {
        let now = self.now();
        let user = self.store.user_by_username(username.trim()).await?;
        let Some(user) = user else {
            // Same work as for a real user, so response time does not reveal which names exist.
            let password = password.to_owned();
            let _ = tokio::task::spawn_blocking(move || password::verify(&password, password::dummy_hash())).await;
            self.audit_login(None, username, "failed", "unknown user", meta).await;
            return Err(wrong_credentials());
        };

        if let Some(retry_after) = login_delay(&user, now) {
            self.audit_login(Some(user.id), &user.username, "denied", "throttled", meta).await;
            return Err(CoreError::RateLimited { retry_after_secs: retry_after });
        }

        let verified = match user.password_hash.clone() {
            Some(hash) => {
                let password = password.to_owned();
                tokio::task::spawn_blocking(move || {
                    let (ok, rehash) = password::verify(&password, &hash);
                    let upgraded = if rehash { password::hash(&password).ok() } else { None };
                    (ok, upgraded)
                })
                .await
                .map_err(|e| CoreError::Internal(anyhow::anyhow!("password check failed: {e}")))?
            }
            None => (false, None),
        };
        if !verified.0 {
            let failures = self.store.record_login_failure(user.id, now).await?;
            self.audit_login(
                Some(user.id),
                &user.username,
                "failed",
                &format!("wrong password ({failures} in a row)"),
                meta,
            )
            .await;
            return Err(wrong_credentials());
        }
        if user.disabled {
            self.audit_login(Some(user.id), &user.username, "denied", "account disabled", meta).await;
            return Err(CoreError::Unauthenticated(
                "this account is disabled; ask an administrator to enable it".into(),
            ));
        }
        if let Some(upgraded) = verified.1 {
            self.store.upgrade_password_hash(user.id, &upgraded).await?;
        }
        self.store.clear_login_failures(user.id).await?;
        let signed_in = self.open_session(&user, meta).await?;
        self.audit_login(Some(user.id), &user.username, "ok", "password", meta).await;
        Ok(signed_in)
    }

    async fn audit_login(&self, user_id: Option<i64>, username: &str, outcome: &str, reason: &str, meta: &RequestMeta) {
        tracing::info!(username = ?username, outcome, reason, "sign-in");
        self.audit
            .record(
                NewAuditEntry {
                    actor_id: user_id,
                    actor_name: Some(username.chars().take(128).collect()),
                    action: "auth.login".into(),
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
                        action: "auth.refresh_reuse".into(),
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
        self.cache.set_json(&key, &cached, AUTH_CACHE_TTL).await;
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
        self.cache.set_json(&key, &cached, AUTH_CACHE_TTL).await;
        Ok(Some(cached))
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
            let given = current.to_owned();
            let ok = tokio::task::spawn_blocking(move || password::verify(&given, &hash).0)
                .await
                .map_err(|e| CoreError::Internal(anyhow::anyhow!("password check failed: {e}")))?;
            if !ok {
                self.store.record_login_failure(user.id, self.now()).await?;
                return Err(CoreError::invalid("current_password", "the current password is wrong"));
            }
            if new == current {
                return Err(CoreError::invalid(
                    "new_password",
                    "the new password is the current one; choose a different password",
                ));
            }
        }
        password::check_policy(new, &user.username)?;
        let hash = hash_blocking(new).await?;
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
        let hash = hash_blocking(&account.password).await?;
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

/// Seconds the next attempt must wait, when it must: free for the first few failures, then doubling up
/// to a minute. The wait ends by itself, so an attacker cannot lock the owner out for good.
fn login_delay(user: &UserRecord, now: Timestamp) -> Option<u64> {
    let over = user.failed_logins - FREE_FAILURES;
    if over <= 0 {
        return None;
    }
    let delay_secs = 1i64.checked_shl(over.min(16) as u32).unwrap_or(MAX_LOGIN_DELAY_SECS).min(MAX_LOGIN_DELAY_SECS);
    let last = user.last_failed_login_at?;
    let until = last.millis() + delay_secs * 1000;
    (until > now.millis()).then(|| ((until - now.millis()) as u64).div_ceil(1000))
}

async fn hash_blocking(password: &str) -> CoreResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("password hashing failed: {e}")))?
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

    fn user_with(failures: i32, last_failed_ms: Option<i64>) -> UserRecord {
        let t = Timestamp::from_millis(0).expect("epoch");
        UserRecord {
            id: 1,
            username: "u".into(),
            username_key: "u".into(),
            display_name: "u".into(),
            password_hash: None,
            role: "viewer".into(),
            disabled: false,
            failed_logins: failures,
            last_failed_login_at: last_failed_ms.and_then(Timestamp::from_millis),
            tokens_valid_after: t,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn login_delay_grows_and_is_capped() {
        let now = Timestamp::from_millis(1_000_000).expect("valid");
        assert_eq!(login_delay(&user_with(4, Some(1_000_000)), now), None, "the first failures are free");
        assert_eq!(login_delay(&user_with(5, Some(1_000_000)), now), Some(2));
        assert_eq!(login_delay(&user_with(6, Some(1_000_000)), now), Some(4));
        assert_eq!(login_delay(&user_with(40, Some(1_000_000)), now), Some(60), "never more than a minute");
        assert_eq!(login_delay(&user_with(40, Some(1_000_000 - 60_000)), now), None, "the wait ends by itself");
    }

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
