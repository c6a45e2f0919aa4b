//! A small key-value cache in front of the database (sessions, users, system config).
//!
//! Redis when configured, so that several server instances share invalidations; otherwise an
//! in-process map. The cache is only ever an accelerator: every miss, timeout or Redis outage falls
//! through to the database, so Redis down means slower, never broken. When Redis is configured but
//! down we deliberately do *not* fall back to the in-process map: another instance could not
//! invalidate it, and a revoked session must not stay valid there.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;

use crate::secret::{Secret, redact_url};

/// Every Redis call gives up after this long and counts as a miss.
const REDIS_OP_TIMEOUT: Duration = Duration::from_millis(300);
/// After a failed connection attempt, wait this long before the next one.
const REDIS_RECONNECT_AFTER: Duration = Duration::from_secs(5);
const MEMORY_MAX_ENTRIES: usize = 50_000;

#[async_trait]
pub trait CacheBackend: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// Whether every instance sharing the database also shares this cache, so that a `delete` here
    /// reaches all of them. An in-process map is seen by its own process only.
    fn shared_across_instances(&self) -> bool;
    async fn get(&self, key: &str) -> Result<Option<String>, String>;
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), String>;
    async fn delete(&self, key: &str) -> Result<(), String>;
    async fn ping(&self) -> Result<(), String>;
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
}

/// The cache the services use: a backend plus hit/miss/error counters.
pub struct Cache {
    backend: Box<dyn CacheBackend>,
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
}

impl Cache {
    pub fn new(backend: Box<dyn CacheBackend>) -> Self {
        Self { backend, hits: AtomicU64::new(0), misses: AtomicU64::new(0), errors: AtomicU64::new(0) }
    }

    pub fn in_memory() -> Self {
        Self::new(Box::new(MemoryCache::default()))
    }

    /// Redis at `url` (checked lazily: an unreachable Redis is not a startup error). Every key starts
    /// with `prefix`, so deployments sharing one Redis keep apart.
    pub fn redis(url: &Secret, prefix: &str) -> Result<Self, String> {
        Ok(Self::new(Box::new(RedisCache::new(url, prefix)?)))
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// See [`CacheBackend::shared_across_instances`].
    pub fn shared_across_instances(&self) -> bool {
        self.backend.shared_across_instances()
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    pub async fn get(&self, key: &str) -> Option<String> {
        match self.backend.get(key).await {
            Ok(Some(value)) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(value)
            }
            Ok(None) => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(error) => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                self.note_error("get", &error);
                None
            }
        }
    }

    /// A typed value stored as JSON; an undecodable entry is a miss.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get(key).await.and_then(|text| serde_json::from_str(&text).ok())
    }

    pub async fn set_json<T: Serialize>(&self, key: &str, value: &T, ttl: Duration) {
        if let Ok(text) = serde_json::to_string(value) {
            self.set(key, &text, ttl).await;
        }
    }

    pub async fn set(&self, key: &str, value: &str, ttl: Duration) {
        if let Err(error) = self.backend.set(key, value, ttl).await {
            self.note_error("set", &error);
        }
    }

    pub async fn delete(&self, key: &str) {
        if let Err(error) = self.backend.delete(key).await {
            self.note_error("delete", &error);
        }
    }

    pub async fn ping(&self) -> Result<(), String> {
        self.backend.ping().await
    }

    fn note_error(&self, op: &str, error: &str) {
        let count = self.errors.fetch_add(1, Ordering::Relaxed);
        // The first error and then one in a hundred: an outage must not flood the log.
        if count.is_multiple_of(100) {
            tracing::warn!(op, error, "cache unavailable; falling through to the database");
        }
    }
}

/// The in-process cache: a bounded map with expiry.
#[derive(Default)]
pub struct MemoryCache {
    // A std mutex: every critical section is a few map operations, never held across an await.
    entries: Mutex<HashMap<String, (String, Instant)>>,
}

#[async_trait]
impl CacheBackend for MemoryCache {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn shared_across_instances(&self) -> bool {
        false
    }

    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((value, expires)) if *expires > Instant::now() => Ok(Some(value.clone())),
            Some(_) => {
                entries.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), String> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MEMORY_MAX_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= MEMORY_MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.to_owned(), (value.to_owned(), Instant::now() + ttl));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Ok(())
    }

    async fn ping(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Redis through a multiplexed connection that reconnects by itself once established.
pub struct RedisCache {
    client: redis::Client,
    display: String,
    prefix: String,
    // A tokio mutex: connecting awaits, and only one task should try at a time.
    connection: tokio::sync::Mutex<RedisConnection>,
}

#[derive(Default)]
struct RedisConnection {
    manager: Option<redis::aio::ConnectionManager>,
    last_attempt: Option<Instant>,
}

impl RedisCache {
    pub fn new(url: &Secret, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url.expose().as_str()).map_err(|e| format!("REDIS_URL is not usable: {e}"))?;
        Ok(Self {
            client,
            display: redact_url(url.expose()),
            prefix: prefix.to_owned(),
            connection: tokio::sync::Mutex::new(RedisConnection::default()),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn manager(&self) -> Result<redis::aio::ConnectionManager, String> {
        let mut slot = self.connection.lock().await;
        if let Some(manager) = &slot.manager {
            return Ok(manager.clone());
        }
        if slot.last_attempt.is_some_and(|t| t.elapsed() < REDIS_RECONNECT_AFTER) {
            return Err(format!("redis at {} is unreachable", self.display));
        }
        slot.last_attempt = Some(Instant::now());
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_OP_TIMEOUT))
            .set_response_timeout(Some(REDIS_OP_TIMEOUT))
            .set_number_of_retries(1);
        let manager = tokio::time::timeout(
            REDIS_OP_TIMEOUT * 2,
            redis::aio::ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| format!("redis at {} did not answer", self.display))?
        .map_err(|e| format!("redis at {}: {e}", self.display))?;
        slot.manager = Some(manager.clone());
        Ok(manager)
    }

    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, String> {
        let mut manager = self.manager().await?;
        match tokio::time::timeout(REDIS_OP_TIMEOUT, command.query_async::<T>(&mut manager)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err("redis did not answer in time".to_owned()),
        }
    }
}

#[async_trait]
impl CacheBackend for RedisCache {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn shared_across_instances(&self) -> bool {
        true
    }

    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.run(redis::cmd("GET").arg(self.key(key)).clone()).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), String> {
        let millis = ttl.as_millis().max(1) as u64;
        self.run(redis::cmd("SET").arg(self.key(key)).arg(value).arg("PX").arg(millis).clone()).await
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        self.run::<i64>(redis::cmd("DEL").arg(self.key(key)).clone()).await.map(|_| ())
    }

    async fn ping(&self) -> Result<(), String> {
        self.run::<String>(redis::cmd("PING")).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_cache_counts_hits_and_misses_and_expires() {
        let cache = Cache::in_memory();
        assert_eq!(cache.get("a").await, None);
        cache.set("a", "1", Duration::from_secs(60)).await;
        assert_eq!(cache.get("a").await.as_deref(), Some("1"));
        cache.set("b", "2", Duration::from_millis(1)).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(cache.get("b").await, None, "an expired entry is a miss");
        cache.delete("a").await;
        assert_eq!(cache.get("a").await, None);
        assert_eq!(cache.stats(), CacheStats { hits: 1, misses: 3, errors: 0 });
    }

    #[tokio::test]
    async fn unreachable_redis_is_a_miss_not_a_failure() {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let cache = Cache::redis(&Secret::new("redis://127.0.0.1:1/".to_owned()), "zk:").expect("valid URL");
        cache.set("k", "v", Duration::from_secs(1)).await;
        assert_eq!(cache.get("k").await, None);
        assert!(cache.ping().await.is_err());
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (0, 1));
        assert!(stats.errors >= 2, "errors are counted: {stats:?}");
    }
}
