//! Accounts: users, sign-in sessions and their refresh tokens.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::error::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Designer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Designer => "designer",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "viewer" => Some(Self::Viewer),
            "designer" => Some(Self::Designer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub username_key: String,
    pub display_name: String,
    /// PHC string; `None` for the desktop's local owner, who never types a password.
    pub password_hash: Option<String>,
    pub role: String,
    pub disabled: bool,
    pub failed_logins: i32,
    pub last_failed_login_at: Option<Timestamp>,
    /// Access tokens issued before this instant are rejected (password change, disable).
    pub tokens_valid_after: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl UserRecord {
    /// The stored role; a row with an unknown role (edited by hand) gets the least privilege.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role: Role,
    pub now: Timestamp,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: i64,
    pub client: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoke_reason: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRecord {
    pub id: i64,
    pub session_id: String,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Failed attempts counted under one throttle key (see `AccountStore::record_throttle_failure`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThrottleRecord {
    pub key: String,
    pub failures: i32,
    pub last_failure_at: Timestamp,
}

/// Users, sessions (one per sign-in: a refresh-token family) and refresh tokens (each usable once).
///
/// Methods that take a `now` never read the clock themselves: the caller's clock decides.
#[async_trait]
pub trait AccountStore: Send + Sync {
    // Users
    async fn create_user(&self, user: NewUser) -> StoreResult<UserRecord>;
    async fn user(&self, id: i64) -> StoreResult<Option<UserRecord>>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    async fn count_users(&self) -> StoreResult<i64>;
    async fn set_user_role(&self, id: i64, role: Role, now: Timestamp) -> StoreResult<bool>;
    /// Disabling also moves `tokens_valid_after` to `now`.
    async fn set_user_disabled(&self, id: i64, disabled: bool, now: Timestamp) -> StoreResult<bool>;
    /// Stores a new hash and moves `tokens_valid_after` to `now`.
    async fn set_password_hash(&self, id: i64, hash: &str, now: Timestamp) -> StoreResult<bool>;
    /// Replaces the hash without revoking anything (re-hash with stronger parameters at login).
    async fn upgrade_password_hash(&self, id: i64, hash: &str) -> StoreResult<()>;
    /// Counts a failed sign-in and returns the new count.
    async fn record_login_failure(&self, id: i64, now: Timestamp) -> StoreResult<i32>;
    async fn clear_login_failures(&self, id: i64) -> StoreResult<()>;

    // Sign-in throttles: failures counted under keys the caller derives (account, address, device)
    async fn throttle(&self, key: &str) -> StoreResult<Option<ThrottleRecord>>;
    /// Counts a failure under `key` and returns the new count; a count whose last failure is older
    /// than `restart_before` starts again at 1.
    async fn record_throttle_failure(&self, key: &str, now: Timestamp, restart_before: Timestamp) -> StoreResult<i32>;
    async fn clear_throttle(&self, key: &str) -> StoreResult<()>;
    /// Removes counts whose last failure is older than `before`; how many.
    async fn prune_throttles(&self, before: Timestamp) -> StoreResult<u64>;

    // Sessions and refresh tokens
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// Sessions neither revoked nor expired at `now`, and the users they belong to: `(sessions, users)`.
    async fn active_sessions(&self, now: Timestamp) -> StoreResult<(i64, i64)>;
    async fn session(&self, id: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, id: &str, now: Timestamp) -> StoreResult<()>;
    /// Revokes one session (a refresh-token family); false when it was already revoked.
    async fn revoke_session(&self, id: &str, reason: &str, now: Timestamp) -> StoreResult<bool>;
    /// Revokes every live session of a user; returns the revoked session ids.
    async fn revoke_user_sessions(&self, user_id: i64, reason: &str, now: Timestamp) -> StoreResult<Vec<String>>;
    async fn insert_refresh_token(
        &self,
        session_id: &str,
        token_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    async fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>>;
    /// Marks a refresh token used, atomically: only the first caller gets `true`.
    async fn consume_refresh_token(&self, id: i64, now: Timestamp) -> StoreResult<bool>;
}

/// Implements [`AccountStore`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`.
macro_rules! impl_account_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::AccountStore for $store {
            async fn create_user(&self, user: NewUser) -> StoreResult<UserRecord> {
                let record = sqlx::query_as::<$db, UserRecord>(
                    "INSERT INTO users (username, username_key, display_name, password_hash, role, disabled, failed_logins, \
                     tokens_valid_after, created_at, updated_at) \
                     VALUES ($1, $6, $2, $3, $4, FALSE, 0, $5, $5, $5) RETURNING *",
                )
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(user.role.as_str())
                .bind(user.now)
                .bind($crate::accounts::username_key(&user.username))
                .fetch_one(&self.pool)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict(format!("a user named {:?} already exists", user.username)),
                    other => other,
                })?;
                Ok(record)
            }

            async fn user(&self, id: i64) -> StoreResult<Option<UserRecord>> {
                Ok(sqlx::query_as::<$db, UserRecord>("SELECT * FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
                Ok(sqlx::query_as::<$db, UserRecord>("SELECT * FROM users WHERE username_key = $1")
                    .bind($crate::accounts::username_key(username))
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
                Ok(sqlx::query_as::<$db, UserRecord>("SELECT * FROM users ORDER BY id").fetch_all(&self.pool).await?)
            }

            async fn count_users(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
            }

            async fn set_user_role(&self, id: i64, role: Role, now: Timestamp) -> StoreResult<bool> {
                $crate::accounts::set_user_role!($db, &self.pool, id, role, now)
            }

            async fn set_user_disabled(&self, id: i64, disabled: bool, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE users SET disabled = $2, updated_at = $3, \
                     tokens_valid_after = CASE WHEN $2 THEN $3 ELSE tokens_valid_after END WHERE id = $1",
                )
                .bind(id)
                .bind(disabled)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_password_hash(&self, id: i64, hash: &str, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE users SET password_hash = $2, tokens_valid_after = $3, updated_at = $3, failed_logins = 0 WHERE id = $1",
                )
                .bind(id)
                .bind(hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn upgrade_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(id).bind(hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn record_login_failure(&self, id: i64, now: Timestamp) -> StoreResult<i32> {
                Ok(sqlx::query_scalar::<$db, i32>(
                    "UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at = $2 WHERE id = $1 RETURNING failed_logins",
                )
                .bind(id)
                .bind(now)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn clear_login_failures(&self, id: i64) -> StoreResult<()> {
                sqlx::query("UPDATE users SET failed_logins = 0 WHERE id = $1 AND failed_logins <> 0").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn throttle(&self, key: &str) -> StoreResult<Option<ThrottleRecord>> {
                Ok(sqlx::query_as::<$db, ThrottleRecord>("SELECT * FROM sign_in_throttles WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn record_throttle_failure(&self, key: &str, now: Timestamp, restart_before: Timestamp) -> StoreResult<i32> {
                Ok(sqlx::query_scalar::<$db, i32>(
                    "INSERT INTO sign_in_throttles (key, failures, last_failure_at) VALUES ($1, 1, $2) \
                     ON CONFLICT (key) DO UPDATE SET \
                     failures = CASE WHEN sign_in_throttles.last_failure_at < $3 THEN 1 ELSE sign_in_throttles.failures + 1 END, \
                     last_failure_at = $2 \
                     RETURNING failures",
                )
                .bind(key)
                .bind(now)
                .bind(restart_before)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sign_in_throttles WHERE key = $1").bind(key).execute(&self.pool).await?;
                Ok(())
            }

            async fn prune_throttles(&self, before: Timestamp) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sign_in_throttles WHERE last_failure_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn create_session(&self, session: &SessionRecord) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, client, created_at, last_used_at, expires_at, revoked_at, revoke_reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&session.id)
                .bind(session.user_id)
                .bind(&session.client)
                .bind(session.created_at)
                .bind(session.last_used_at)
                .bind(session.expires_at)
                .bind(session.revoked_at)
                .bind(&session.revoke_reason)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn active_sessions(&self, now: Timestamp) -> StoreResult<(i64, i64)> {
                Ok(sqlx::query_as::<$db, (i64, i64)>(
                    "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1",
                )
                .bind(now)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn session(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
                Ok(sqlx::query_as::<$db, SessionRecord>("SELECT * FROM sessions WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn touch_session(&self, id: &str, now: Timestamp) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id = $1").bind(id).bind(now).execute(&self.pool).await?;
                Ok(())
            }

            async fn revoke_session(&self, id: &str, reason: &str, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .bind(reason)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_user_sessions(&self, user_id: i64, reason: &str, now: Timestamp) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar::<$db, String>(
                    "UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
                )
                .bind(user_id)
                .bind(now)
                .bind(reason)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_refresh_token(&self, session_id: &str, token_hash: &str, now: Timestamp, expires_at: Timestamp) -> StoreResult<()> {
                sqlx::query("INSERT INTO refresh_tokens (session_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(session_id)
                    .bind(token_hash)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>> {
                Ok(sqlx::query_as::<$db, RefreshTokenRecord>("SELECT * FROM refresh_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn consume_refresh_token(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

/// Sets a user's role on `$executor` (the pool, or a unit of work's transaction); whether the user exists.
macro_rules! set_user_role {
    ($db:ty, $executor:expr, $id:expr, $role:expr, $now:expr) => {{
        let role: $crate::Role = $role;
        sqlx::query::<$db>("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
            .bind($id)
            .bind(role.as_str())
            .bind($now)
            .execute($executor)
            .await
            .map(|done| done.rows_affected() == 1)
            .map_err($crate::StoreError::from)
    }};
}

pub(crate) use {impl_account_store, set_user_role};

/// The unique key of a user name: Unicode lower case, computed here because SQLite's `lower()` folds
/// ASCII only.
pub fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}
