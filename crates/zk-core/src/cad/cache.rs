//! The viewer's cache: recently opened drawings (the parsed model) and the scenes encoded from them,
//! kept within a byte budget (`CAD_CACHE_BYTES`) and evicted least recently used first, so that
//! picking, layout switches, exports and analyses of an open drawing do not read and parse it again.
//!
//! Sizes are estimates: a scene counts its encoded length exactly; the parsed model counts
//! [`model_bytes`] of its source (the reader's model measured about 1.2 × a DXF's size, see
//! `crates/zk-cad/ARCHITECTURE-cad.md`; a DWG's converted DXF is several times the DWG). A drawing
//! whose estimate alone is over the budget is served but not kept.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use super::Drawing;
use crate::error::CoreResult;

pub use crate::config::DEFAULT_CACHE_BYTES;

/// The estimated memory of a parsed drawing read from `source_bytes` of DXF (or DWG).
pub fn model_bytes(source_bytes: u64, dwg: bool) -> u64 {
    let factor = if dwg { 6 } else { 2 };
    source_bytes.saturating_mul(factor).saturating_add(64 * 1024)
}

/// A parsed drawing and the scenes encoded from it so far.
pub struct OpenDrawing {
    /// The content it was read from; a changed file is another drawing.
    pub sha256: String,
    pub drawing: Arc<Drawing>,
    model_bytes: u64,
    /// Encoded scenes by layout name as the drawing spells it. A std mutex: held only to look up
    /// or insert, never across an await.
    scenes: Mutex<HashMap<String, bytes::Bytes>>,
}

impl OpenDrawing {
    pub fn new(sha256: String, drawing: Drawing, model_bytes: u64) -> Self {
        Self { sha256, drawing: Arc::new(drawing), model_bytes, scenes: Mutex::new(HashMap::new()) }
    }

    pub fn scene(&self, layout: &str) -> Option<bytes::Bytes> {
        lock(&self.scenes).get(layout).cloned()
    }

    /// The model's estimate plus every scene's length.
    pub fn bytes(&self) -> u64 {
        self.model_bytes + lock(&self.scenes).values().map(|s| s.len() as u64).sum::<u64>()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DrawingCacheStats {
    pub drawings: usize,
    pub bytes: u64,
    pub budget: u64,
    pub hits: u64,
    pub misses: u64,
}

struct Entry {
    open: Arc<OpenDrawing>,
    /// The last use, in ticks of [`CacheState::tick`].
    used: u64,
}

#[derive(Default)]
struct CacheState {
    entries: HashMap<String, Entry>,
    tick: u64,
}

/// Opened drawings by drawing id.
pub struct DrawingCache {
    budget: u64,
    /// A std mutex: every operation under it is a map update, never an await or a parse.
    state: Mutex<CacheState>,
    /// One gate per drawing being loaded, so concurrent requests for a drawing parse it once.
    loads: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl DrawingCache {
    pub fn new(budget: u64) -> Self {
        Self {
            budget,
            state: Mutex::new(CacheState::default()),
            loads: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The drawing `id` opened from `sha256`, marked as just used.
    pub fn get(&self, id: &str, sha256: &str) -> Option<Arc<OpenDrawing>> {
        let mut state = lock(&self.state);
        state.tick += 1;
        let tick = state.tick;
        let entry = state.entries.get_mut(id).filter(|e| e.open.sha256 == sha256)?;
        entry.used = tick;
        Some(entry.open.clone())
    }

    /// The cached drawing, or `load`'s, which is then kept. Concurrent callers for one drawing wait
    /// for the first one's load instead of parsing it again.
    pub async fn get_or_load<F, Fut>(&self, id: &str, sha256: &str, load: F) -> CoreResult<Arc<OpenDrawing>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = CoreResult<OpenDrawing>>,
    {
        if let Some(hit) = self.get(id, sha256) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(hit);
        }
        let gate = lock(&self.loads).entry(id.to_owned()).or_default().clone();
        let result = {
            let _turn = gate.lock().await;
            match self.get(id, sha256) {
                Some(hit) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    Ok(hit)
                }
                None => {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    let loaded = load().await.map(Arc::new);
                    if let Ok(open) = &loaded {
                        self.insert(id, open.clone());
                    }
                    loaded
                }
            }
        };
        let mut loads = lock(&self.loads);
        // The map's and ours: nobody else waits at this gate.
        if Arc::strong_count(&gate) <= 2 {
            loads.remove(id);
        }
        result
    }

    /// Keeps an opened drawing (replacing an older one of the same id) and evicts others to fit.
    pub fn insert(&self, id: &str, open: Arc<OpenDrawing>) {
        if open.bytes() > self.budget {
            tracing::debug!(drawing = id, bytes = open.bytes(), budget = self.budget, "drawing too large to cache");
            lock(&self.state).entries.remove(id);
            return;
        }
        let mut state = lock(&self.state);
        state.tick += 1;
        let used = state.tick;
        state.entries.insert(id.to_owned(), Entry { open, used });
        self.evict(&mut state, id);
    }

    /// Keeps a scene encoded from `open`, when it still fits the budget.
    pub fn add_scene(&self, id: &str, open: &Arc<OpenDrawing>, layout: &str, scene: bytes::Bytes) {
        if open.bytes() + scene.len() as u64 > self.budget {
            return;
        }
        lock(&open.scenes).insert(layout.to_owned(), scene);
        let mut state = lock(&self.state);
        if state.entries.get(id).is_some_and(|e| Arc::ptr_eq(&e.open, open)) {
            self.evict(&mut state, id);
        }
    }

    pub fn remove(&self, id: &str) {
        lock(&self.state).entries.remove(id);
    }

    /// Drops the least recently used drawings (never `keep`) until the total fits the budget.
    fn evict(&self, state: &mut CacheState, keep: &str) {
        let mut total: u64 = state.entries.values().map(|e| e.open.bytes()).sum();
        while total > self.budget {
            let oldest = state
                .entries
                .iter()
                .filter(|(id, _)| id.as_str() != keep)
                .min_by_key(|(_, e)| e.used)
                .map(|(id, e)| (id.clone(), e.open.bytes()));
            let Some((id, bytes)) = oldest else { break };
            state.entries.remove(&id);
            total = total.saturating_sub(bytes);
            tracing::debug!(drawing = %id, bytes, "evicted from the drawing cache");
        }
    }

    pub fn stats(&self) -> DrawingCacheStats {
        let state = lock(&self.state);
        DrawingCacheStats {
            drawings: state.entries.len(),
            bytes: state.entries.values().map(|e| e.open.bytes()).sum(),
            budget: self.budget,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn open(sha: &str, bytes: u64) -> Arc<OpenDrawing> {
        Arc::new(OpenDrawing::new(sha.to_owned(), Drawing::default(), bytes))
    }

    #[test]
    fn least_recently_used_drawings_go_first_when_over_budget() {
        let cache = DrawingCache::new(1000);
        cache.insert("a", open("1", 400));
        cache.insert("b", open("2", 400));
        assert!(cache.get("a", "1").is_some(), "a is used again, so b is now the oldest");
        cache.insert("c", open("3", 400));
        assert!(cache.get("b", "2").is_none(), "b was evicted");
        assert!(cache.get("a", "1").is_some() && cache.get("c", "3").is_some());
        assert_eq!(cache.stats().bytes, 800);
    }

    #[test]
    fn a_changed_file_misses_and_an_oversized_drawing_is_not_kept() {
        let cache = DrawingCache::new(1000);
        cache.insert("a", open("1", 400));
        assert!(cache.get("a", "other hash").is_none(), "another content is another drawing");
        cache.insert("huge", open("9", 5000));
        assert!(cache.get("huge", "9").is_none());
        assert!(cache.get("a", "1").is_some(), "an oversized drawing evicts nothing");
    }

    #[test]
    fn scenes_count_against_the_budget() {
        let cache = DrawingCache::new(1000);
        let a = open("1", 300);
        cache.insert("a", a.clone());
        cache.insert("b", open("2", 300));
        cache.add_scene("a", &a, "Model", bytes::Bytes::from(vec![0; 500]));
        assert_eq!(a.scene("Model").map(|s| s.len()), Some(500));
        assert!(cache.get("b", "2").is_none(), "b made room for a's scene");
        cache.add_scene("a", &a, "Sheet", bytes::Bytes::from(vec![0; 900]));
        assert!(a.scene("Sheet").is_none(), "a scene that cannot fit is not kept");
    }

    #[tokio::test]
    async fn concurrent_loads_of_one_drawing_parse_it_once() {
        let cache = Arc::new(DrawingCache::new(1 << 20));
        let loads = Arc::new(AtomicU64::new(0));
        let mut waiting = Vec::new();
        for _ in 0..4 {
            let (cache, loads) = (cache.clone(), loads.clone());
            waiting.push(tokio::spawn(async move {
                cache
                    .get_or_load("a", "1", || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(OpenDrawing::new("1".into(), Drawing::default(), 10))
                    })
                    .await
                    .unwrap()
            }));
        }
        for handle in waiting {
            handle.await.unwrap();
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats().misses, 1);
        assert_eq!(cache.stats().hits, 3);
    }
}
