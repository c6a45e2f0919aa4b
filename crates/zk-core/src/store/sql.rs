//! The SQL both backends share.
//!
//! SQLite and PostgreSQL accept the same text for every statement here (`$n` parameters, `RETURNING`,
//! `lower()` indexes), so the statements are written once and [`impl_store!`] instantiates them for each
//! backend's pool. What differs lives in the backend modules: connection setup, migrations and the
//! task-claim statement (`FOR UPDATE SKIP LOCKED` exists only in PostgreSQL).

/// Implements [`crate::store::Store`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`.
/// `$claim` is the backend's task-claim statement, binding kinds (JSON array), lease token, now, lease end.
macro_rules! impl_store {
    ($store:ty, $db:ty, $claim:expr) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn migrate(&self) -> CoreResult<()> {
                Self::MIGRATOR.run(&self.pool).await.map_err(|e| match e {
                    sqlx::migrate::MigrateError::Execute(inner) => CoreError::from(inner),
                    other => CoreError::Internal(anyhow::Error::new(other).context("database migration failed")),
                })
            }

            async fn migration_status(&self) -> CoreResult<(usize, usize)> {
                use sqlx::migrate::Migrate;
                let known = Self::MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).count();
                let mut conn = self.pool.acquire().await?;
                // A database never migrated has no bookkeeping table: zero applied.
                let applied = conn.list_applied_migrations().await.map(|list| list.len()).unwrap_or(0);
                Ok((applied, known))
            }

            async fn ping(&self) -> CoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn create_user(&self, user: NewUser) -> CoreResult<UserRecord> {
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
                .bind(username_key(&user.username))
                .fetch_one(&self.pool)
                .await
                .map_err(|e| match CoreError::from(e) {
                    CoreError::Conflict(_) => CoreError::Conflict(format!("a user named {:?} already exists", user.username)),
                    other => other,
                })?;
                Ok(record)
            }

            async fn user(&self, id: i64) -> CoreResult<Option<UserRecord>> {
                Ok(sqlx::query_as::<$db, UserRecord>("SELECT * FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn user_by_username(&self, username: &str) -> CoreResult<Option<UserRecord>> {
                Ok(sqlx::query_as::<$db, UserRecord>("SELECT * FROM users WHERE username_key = $1")
                    .bind(username_key(username))
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn list_users(&self) -> CoreResult<Vec<UserRecord>> {
                Ok(sqlx::query_as::<$db, UserRecord>("SELECT * FROM users ORDER BY id").fetch_all(&self.pool).await?)
            }

            async fn count_users(&self) -> CoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
            }

            async fn set_user_role(&self, id: i64, role: Role, now: Timestamp) -> CoreResult<bool> {
                let done = sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(role.as_str())
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_user_disabled(&self, id: i64, disabled: bool, now: Timestamp) -> CoreResult<bool> {
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

            async fn set_password_hash(&self, id: i64, hash: &str, now: Timestamp) -> CoreResult<bool> {
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

            async fn upgrade_password_hash(&self, id: i64, hash: &str) -> CoreResult<()> {
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(id).bind(hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn record_login_failure(&self, id: i64, now: Timestamp) -> CoreResult<i32> {
                Ok(sqlx::query_scalar::<$db, i32>(
                    "UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at = $2 WHERE id = $1 RETURNING failed_logins",
                )
                .bind(id)
                .bind(now)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn clear_login_failures(&self, id: i64) -> CoreResult<()> {
                sqlx::query("UPDATE users SET failed_logins = 0 WHERE id = $1 AND failed_logins <> 0").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn create_session(&self, session: &SessionRecord) -> CoreResult<()> {
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

            async fn session(&self, id: &str) -> CoreResult<Option<SessionRecord>> {
                Ok(sqlx::query_as::<$db, SessionRecord>("SELECT * FROM sessions WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn touch_session(&self, id: &str, now: Timestamp) -> CoreResult<()> {
                sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id = $1").bind(id).bind(now).execute(&self.pool).await?;
                Ok(())
            }

            async fn revoke_session(&self, id: &str, reason: &str, now: Timestamp) -> CoreResult<bool> {
                let done = sqlx::query("UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .bind(reason)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_user_sessions(&self, user_id: i64, reason: &str, now: Timestamp) -> CoreResult<Vec<String>> {
                Ok(sqlx::query_scalar::<$db, String>(
                    "UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
                )
                .bind(user_id)
                .bind(now)
                .bind(reason)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_refresh_token(&self, session_id: &str, token_hash: &str, now: Timestamp, expires_at: Timestamp) -> CoreResult<()> {
                sqlx::query("INSERT INTO refresh_tokens (session_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(session_id)
                    .bind(token_hash)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn refresh_token(&self, token_hash: &str) -> CoreResult<Option<RefreshTokenRecord>> {
                Ok(sqlx::query_as::<$db, RefreshTokenRecord>("SELECT * FROM refresh_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn consume_refresh_token(&self, id: i64, now: Timestamp) -> CoreResult<bool> {
                let done = sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn config_entries(&self) -> CoreResult<Vec<ConfigEntry>> {
                Ok(sqlx::query_as::<$db, ConfigEntry>("SELECT * FROM system_config ORDER BY key").fetch_all(&self.pool).await?)
            }

            async fn config_entry(&self, key: &str) -> CoreResult<Option<ConfigEntry>> {
                Ok(sqlx::query_as::<$db, ConfigEntry>("SELECT * FROM system_config WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
            }

            async fn set_config_entry(&self, key: &str, value: &serde_json::Value, by: Option<i64>, now: Timestamp) -> CoreResult<()> {
                sqlx::query(
                    "INSERT INTO system_config (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                )
                .bind(key)
                .bind(sqlx::types::Json(value))
                .bind(now)
                .bind(by)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn append_audit(&self, entry: &NewAuditEntry, now: Timestamp) -> CoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>(
                    "INSERT INTO audit_log (at, actor_id, actor_name, action, target, outcome, ip, request_id, details) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(now)
                .bind(entry.actor_id)
                .bind(&entry.actor_name)
                .bind(&entry.action)
                .bind(&entry.target)
                .bind(&entry.outcome)
                .bind(&entry.ip)
                .bind(&entry.request_id)
                .bind(sqlx::types::Json(&entry.details))
                .fetch_one(&self.pool)
                .await?)
            }

            async fn audit_entries(&self, query: &LogQuery) -> CoreResult<Vec<AuditRecord>> {
                Ok(sqlx::query_as::<$db, AuditRecord>(
                    "SELECT * FROM audit_log WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(&query.kind)
                .bind(query.before_id)
                .bind(query.limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn append_error(&self, entry: &NewErrorEntry) -> CoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>(
                    "INSERT INTO error_log (at, level, source, message, request_id, user_id, context) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(entry.at)
                .bind(&entry.level)
                .bind(&entry.source)
                .bind(&entry.message)
                .bind(&entry.request_id)
                .bind(entry.user_id)
                .bind(sqlx::types::Json(&entry.context))
                .fetch_one(&self.pool)
                .await?)
            }

            async fn error_entries(&self, query: &LogQuery) -> CoreResult<Vec<ErrorRecord>> {
                Ok(sqlx::query_as::<$db, ErrorRecord>(
                    "SELECT * FROM error_log WHERE ($1 IS NULL OR level = $1) AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(&query.kind)
                .bind(query.before_id)
                .bind(query.limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_file(&self, file: &FileRecord) -> CoreResult<()> {
                sqlx::query(
                    "INSERT INTO files (id, sha256, size, media_type, original_name, uploaded_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&file.id)
                .bind(&file.sha256)
                .bind(file.size)
                .bind(&file.media_type)
                .bind(&file.original_name)
                .bind(file.uploaded_by)
                .bind(file.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn file(&self, id: &str) -> CoreResult<Option<FileRecord>> {
                Ok(sqlx::query_as::<$db, FileRecord>("SELECT * FROM files WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn list_files(&self, before: Option<&str>, limit: i64) -> CoreResult<Vec<FileRecord>> {
                Ok(sqlx::query_as::<$db, FileRecord>("SELECT * FROM files WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2")
                    .bind(before)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn delete_file(&self, id: &str) -> CoreResult<Option<i64>> {
                let mut tx = self.pool.begin().await?;
                let Some(sha256) = sqlx::query_scalar::<$db, String>("DELETE FROM files WHERE id = $1 RETURNING sha256")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    return Ok(None);
                };
                let remaining = sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM files WHERE sha256 = $1")
                    .bind(&sha256)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(remaining))
            }

            async fn enqueue_task(&self, task: &NewTask) -> CoreResult<TaskRecord> {
                let inserted = sqlx::query_as::<$db, TaskRecord>(
                    "INSERT INTO tasks (kind, payload, state, progress, attempts, max_attempts, timeout_ms, run_after, \
                     cancel_requested, created_by, idempotency_key, created_at, updated_at) \
                     VALUES ($1, $2, 'queued', 0, 0, $3, $4, $5, FALSE, $6, $8, $7, $7) RETURNING *",
                )
                .bind(&task.kind)
                .bind(sqlx::types::Json(&task.payload))
                .bind(task.max_attempts)
                .bind(task.timeout_ms)
                .bind(task.run_after)
                .bind(task.created_by)
                .bind(task.now)
                .bind(&task.idempotency_key)
                .fetch_one(&self.pool)
                .await;
                match (inserted, &task.idempotency_key) {
                    (Ok(record), _) => Ok(record),
                    // The key was used before (perhaps by a request whose answer was lost): that task.
                    (Err(sqlx::Error::Database(e)), Some(key)) if e.is_unique_violation() => {
                        Ok(sqlx::query_as::<$db, TaskRecord>(
                            "SELECT * FROM tasks WHERE idempotency_key = $1 AND created_by = $2",
                        )
                        .bind(key)
                        .bind(task.created_by)
                        .fetch_one(&self.pool)
                        .await?)
                    }
                    (Err(e), _) => Err(e.into()),
                }
            }

            async fn task(&self, id: i64) -> CoreResult<Option<TaskRecord>> {
                Ok(sqlx::query_as::<$db, TaskRecord>("SELECT * FROM tasks WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn list_tasks(&self, query: &TaskQuery) -> CoreResult<Vec<TaskRecord>> {
                Ok(sqlx::query_as::<$db, TaskRecord>(
                    "SELECT * FROM tasks WHERE ($1 IS NULL OR created_by = $1) AND ($2 IS NULL OR state = $2) \
                     AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
                )
                .bind(query.created_by)
                .bind(query.state.map(TaskState::as_str))
                .bind(query.before_id)
                .bind(query.limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn claim_task(&self, kinds: &[String], lease_token: &str, now: Timestamp, lease_until: Timestamp) -> CoreResult<Option<TaskRecord>> {
                let kinds = serde_json::to_string(kinds).map_err(anyhow::Error::from)?;
                Ok(sqlx::query_as::<$db, TaskRecord>($claim)
                    .bind(kinds)
                    .bind(lease_token)
                    .bind(now)
                    .bind(lease_until)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn heartbeat_task(
                &self,
                id: i64,
                lease_token: &str,
                progress: i32,
                message: Option<&str>,
                now: Timestamp,
                lease_until: Timestamp,
            ) -> CoreResult<Option<bool>> {
                Ok(sqlx::query_scalar::<$db, bool>(
                    "UPDATE tasks SET progress = $3, message = COALESCE($4, message), lease_until = $6, updated_at = $5 \
                     WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING cancel_requested",
                )
                .bind(id)
                .bind(lease_token)
                .bind(progress.clamp(0, 100))
                .bind(message)
                .bind(now)
                .bind(lease_until)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn finish_task(&self, id: i64, lease_token: &str, outcome: &TaskOutcome, now: Timestamp) -> CoreResult<bool> {
                let query = match outcome {
                    TaskOutcome::Succeeded { result } => sqlx::query(
                        "UPDATE tasks SET state = 'succeeded', progress = 100, result = $4, error = NULL, lease_token = NULL, \
                             lease_until = NULL, finished_at = $3, updated_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'",
                    )
                    .bind(id)
                    .bind(lease_token)
                    .bind(now)
                    .bind(sqlx::types::Json(result)),
                    TaskOutcome::Failed { error } => sqlx::query("UPDATE tasks SET state = 'failed', error = $4, lease_token = NULL, lease_until = NULL, \
                         finished_at = $3, updated_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'")
                    .bind(id)
                    .bind(lease_token)
                    .bind(now)
                    .bind(error),
                    TaskOutcome::Retry { error, run_after } => sqlx::query("UPDATE tasks SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, error = $4, \
                         run_after = $5, lease_token = NULL, lease_until = NULL, updated_at = $3, \
                         finished_at = CASE WHEN cancel_requested THEN $3 ELSE finished_at END WHERE id = $1 AND lease_token = $2 AND state = 'running'")
                    .bind(id)
                    .bind(lease_token)
                    .bind(now)
                    .bind(error)
                    .bind(*run_after),
                    TaskOutcome::Cancelled => sqlx::query("UPDATE tasks SET state = 'cancelled', lease_token = NULL, lease_until = NULL, finished_at = $3, updated_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'")
                    .bind(id)
                    .bind(lease_token)
                    .bind(now),
                    TaskOutcome::Released => sqlx::query("UPDATE tasks SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, \
                         attempts = attempts - 1, run_after = $3, lease_token = NULL, lease_until = NULL, updated_at = $3, \
                         finished_at = CASE WHEN cancel_requested THEN $3 ELSE finished_at END WHERE id = $1 AND lease_token = $2 AND state = 'running'")
                    .bind(id)
                    .bind(lease_token)
                    .bind(now),
                };
                Ok(query.execute(&self.pool).await?.rows_affected() == 1)
            }

            async fn cancel_task(&self, id: i64, now: Timestamp) -> CoreResult<Option<TaskRecord>> {
                Ok(sqlx::query_as::<$db, TaskRecord>(
                    "UPDATE tasks SET \
                       state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END, \
                       finished_at = CASE WHEN state = 'queued' THEN $2 ELSE finished_at END, \
                       cancel_requested = CASE WHEN state = 'running' THEN TRUE ELSE cancel_requested END, \
                       updated_at = CASE WHEN state IN ('queued', 'running') THEN $2 ELSE updated_at END \
                     WHERE id = $1 RETURNING *",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn tasks_updated_since(&self, since: Timestamp, limit: i64) -> CoreResult<Vec<TaskRecord>> {
                Ok(sqlx::query_as::<$db, TaskRecord>("SELECT * FROM tasks WHERE updated_at > $1 ORDER BY updated_at, id LIMIT $2")
                    .bind(since)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?)
            }
        }
    };
}

pub(crate) use impl_store;

/// The unique key of a user name: Unicode lower case, computed here because SQLite's `lower()` folds
/// ASCII only.
pub(crate) fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}
