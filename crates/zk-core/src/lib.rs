//! The core of ZK-Agent: every service the desktop window, the local server and the CLI share.
//!
//! Architecture invariants (see ARCHITECTURE.md):
//! - zk-core knows nothing of HTTP routing or Tauri; front doors call [`Core`]'s services.
//! - Only the `zk-store` crate speaks SQL; services go through its traits (re-exported as [`store`]).
//! - Time comes from a [`clock::Clock`], so expiry, backoff and lock-outs are testable exactly.
//! - Secrets travel as [`secret::Secret`], whose `Debug` and `Display` never show the value.

pub mod accounts;
pub mod admin;
pub mod agents;
pub mod app;
pub mod audit;
pub mod cache;
pub mod cad;
pub mod chat;
pub mod clock;
pub mod config;
pub mod error;
pub mod files;
pub mod folder_watch;
pub mod health;
pub mod keystore;
#[cfg(test)]
mod layout;
pub mod logging;
pub mod lost_database;
pub mod metrics;
pub mod request;
pub mod running;
pub mod secret;
pub mod sync;
pub mod tasks;
pub mod upstream;

/// Everything persisted, from the `zk-store` crate; front doors reach it through the core.
pub use zk_store as store;

pub use app::Core;
pub use error::{CoreError, CoreResult};
pub use running::Running;
