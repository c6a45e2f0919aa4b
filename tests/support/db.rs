//! Fresh, throw-away databases on both backends: the store crate's own test helpers.

pub use zk_store::testing::{DEFAULT_PG_ADMIN_URL, TestDatabase, each_backend, each_database};
