//! Where agents' API keys come from, as the agents service sees it.
//!
//! The key store (OS keychain, or an encrypted file where there is none) holds keys entered in the
//! app under an entry named by the agent's stable uid; an agent may instead name an environment
//! variable. Keys never enter the database, exports or logs.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{CoreError, CoreResult};
use crate::keystore::KeyStore;
use crate::secret::Secret;

#[async_trait]
pub trait AgentKeys: Send + Sync + 'static {
    /// Why keys cannot be stored right now (no keychain and no passphrase), or `None` when they can.
    async fn unavailable_reason(&self) -> Option<String>;
    async fn set(&self, entry: &str, key: &Secret) -> CoreResult<()>;
    async fn get(&self, entry: &str) -> CoreResult<Option<Secret>>;
    async fn delete(&self, entry: &str) -> CoreResult<()>;
}

/// The key store entry of an agent.
pub fn entry_for(agent_uid: &str) -> String {
    crate::keystore::entry_for_agent(agent_uid)
}

/// The real thing: the OS keychain, or the encrypted file where there is none.
#[async_trait]
impl AgentKeys for KeyStore {
    async fn unavailable_reason(&self) -> Option<String> {
        let status = self.status().await;
        (!status.available || status.locked).then(|| {
            status.reason.unwrap_or_else(|| "the key store cannot store keys; see `zk-agent doctor`".to_owned())
        })
    }

    async fn set(&self, entry: &str, key: &Secret) -> CoreResult<()> {
        KeyStore::set(self, entry, key).await.map_err(CoreError::from)
    }

    async fn get(&self, entry: &str) -> CoreResult<Option<Secret>> {
        KeyStore::get(self, entry).await.map_err(CoreError::from)
    }

    async fn delete(&self, entry: &str) -> CoreResult<()> {
        KeyStore::delete(self, entry).await.map_err(CoreError::from)
    }
}

/// Keys held in this process only: tests, and runs that opted out of persistent keys.
#[derive(Default)]
pub struct MemoryKeys {
    // A plain mutex: every operation is a map access, never held across an await.
    keys: Mutex<HashMap<String, Secret>>,
}

#[async_trait]
impl AgentKeys for MemoryKeys {
    async fn unavailable_reason(&self) -> Option<String> {
        None
    }

    async fn set(&self, entry: &str, key: &Secret) -> CoreResult<()> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).insert(entry.to_owned(), key.clone());
        Ok(())
    }

    async fn get(&self, entry: &str) -> CoreResult<Option<Secret>> {
        Ok(self.keys.lock().unwrap_or_else(|p| p.into_inner()).get(entry).cloned())
    }

    async fn delete(&self, entry: &str) -> CoreResult<()> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).remove(entry);
        Ok(())
    }
}
