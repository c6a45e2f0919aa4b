//! The SQL both backends share.
//!
//! SQLite and PostgreSQL accept the same text for every statement here (`$n` parameters, `RETURNING`,
//! `lower()` indexes), so each area's statements are written once, in the area's file, and
//! [`impl_store!`] instantiates all of them for each backend's pool. What differs lives in the backend
//! modules: connection setup, migrations and the task-claim statement (`FOR UPDATE SKIP LOCKED` exists
//! only in PostgreSQL).

/// Implements [`crate::Store`] and every area's trait for `$store`, whose `pool` field is a
/// `sqlx::Pool<$db>`, and [`crate::UnitOfWork`] for its transactions. `$claim` is the backend's
/// task-claim statement, binding kinds (JSON array), lease token, now, lease end; `$sync_claim` its
/// sync-outbox claim, binding token, now, lease end.
macro_rules! impl_store {
    ($store:ty, $db:ty, $claim:expr, $sync_claim:expr) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn migrate(&self) -> StoreResult<()> {
                Self::MIGRATOR.run(&self.pool).await.map_err(|e| match e {
                    sqlx::migrate::MigrateError::Execute(inner) => StoreError::from(inner),
                    other => StoreError::Internal(anyhow::Error::new(other).context("database migration failed")),
                })
            }

            async fn migration_status(&self) -> StoreResult<(usize, usize)> {
                use sqlx::migrate::Migrate;
                let known = Self::MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).count();
                let mut conn = self.pool.acquire().await?;
                // A database never migrated has no bookkeeping table: zero applied.
                let applied = conn.list_applied_migrations().await.map(|list| list.len()).unwrap_or(0);
                Ok((applied, known))
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            fn pool_stats(&self) -> $crate::PoolStats {
                $crate::PoolStats {
                    size: self.pool.size(),
                    idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
                    max: self.pool.options().get_max_connections(),
                }
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn begin(&self) -> StoreResult<Box<dyn $crate::UnitOfWork>> {
                Ok(Box::new($crate::unit::Unit { tx: self.pool.begin().await? }))
            }
        }

        $crate::accounts::impl_account_store!($store, $db);
        $crate::settings::impl_settings_store!($store, $db);
        $crate::logs::impl_log_store!($store, $db);
        $crate::files::impl_file_store!($store, $db);
        $crate::tasks::impl_task_store!($store, $db, $claim);
        $crate::agents::impl_agent_store!($store, $db);
        $crate::conversations::impl_conversation_store!($store, $db);
        $crate::cad::impl_cad_store!($store, $db);
        $crate::sync::impl_sync_store!($store, $db, $sync_claim);
        $crate::unit::impl_unit_of_work!($db);
    };
}

pub(crate) use impl_store;
