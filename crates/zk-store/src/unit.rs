//! Units of work: writes that commit together or not at all.

use async_trait::async_trait;
use serde_json::Value;

use crate::error::StoreResult;
use crate::{FileRecord, NewAuditEntry, Role, Timestamp};

/// Writes that must land together: a row and the outbox entry that goes with it, a change and the
/// audit entry that records it. Begun by [`crate::Store::begin`] on one transaction; nobody else sees
/// any of it before [`UnitOfWork::commit`], and a unit dropped without a commit (an early return with
/// an error, a crash) is rolled back whole.
///
/// Each write runs the same statement as the store's method of the same name.
#[async_trait]
pub trait UnitOfWork: Send {
    async fn insert_file(&mut self, file: &FileRecord) -> StoreResult<()>;
    async fn set_config_entry(&mut self, key: &str, value: &Value, by: Option<i64>, now: Timestamp) -> StoreResult<()>;
    /// Adds a setting unless the key exists (an admin's value is never overwritten); whether it did.
    async fn add_config_entry(&mut self, key: &str, value: &Value, now: Timestamp) -> StoreResult<bool>;
    async fn append_audit(&mut self, entry: &NewAuditEntry, now: Timestamp) -> StoreResult<i64>;
    async fn set_user_role(&mut self, id: i64, role: Role, now: Timestamp) -> StoreResult<bool>;
    /// Makes every write of the unit visible at once.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// A unit of work on one backend's transaction.
pub(crate) struct Unit<DB: sqlx::Database> {
    pub(crate) tx: sqlx::Transaction<'static, DB>,
}

/// Implements [`UnitOfWork`] for `Unit<$db>`.
macro_rules! impl_unit_of_work {
    ($db:ty) => {
        #[async_trait::async_trait]
        impl $crate::UnitOfWork for $crate::unit::Unit<$db> {
            async fn insert_file(&mut self, file: &FileRecord) -> StoreResult<()> {
                $crate::files::insert_file!($db, &mut *self.tx, file)
            }

            async fn set_config_entry(
                &mut self,
                key: &str,
                value: &serde_json::Value,
                by: Option<i64>,
                now: Timestamp,
            ) -> StoreResult<()> {
                $crate::settings::set_config_entry!($db, &mut *self.tx, key, value, by, now)
            }

            async fn add_config_entry(
                &mut self,
                key: &str,
                value: &serde_json::Value,
                now: Timestamp,
            ) -> StoreResult<bool> {
                $crate::settings::add_config_entry!($db, &mut *self.tx, key, value, now)
            }

            async fn append_audit(&mut self, entry: &NewAuditEntry, now: Timestamp) -> StoreResult<i64> {
                $crate::logs::append_audit!($db, &mut *self.tx, entry, now)
            }

            async fn set_user_role(&mut self, id: i64, role: Role, now: Timestamp) -> StoreResult<bool> {
                $crate::accounts::set_user_role!($db, &mut *self.tx, id, role, now)
            }

            async fn commit(self: Box<Self>) -> StoreResult<()> {
                Ok(self.tx.commit().await?)
            }
        }
    };
}

pub(crate) use impl_unit_of_work;
