//! Name lookups for layers, linetypes, text styles and blocks while reading.
//!
//! DXF names are case-insensitive. An entity names its layer in the raw bytes of the file, so the
//! first lookup is by those exact bytes (borrowed from the input, no copy, no decoding); only a
//! miss folds case and decodes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: names are short and not attacker-chosen in a way that matters here (a malicious file
/// can at worst slow its own lookups), and SipHash costs more than the rest of a lookup.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(crate) type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

#[derive(Default)]
pub(crate) struct NameMap<'a> {
    exact: FnvMap<&'a [u8], u32>,
    folded: FnvMap<Vec<u8>, u32>,
}

impl<'a> NameMap<'a> {
    pub fn get(&mut self, raw: &'a [u8]) -> Option<u32> {
        if let Some(&id) = self.exact.get(raw) {
            return Some(id);
        }
        let id = *self.folded.get(&raw.to_ascii_uppercase())?;
        self.exact.insert(raw, id);
        Some(id)
    }

    pub fn insert(&mut self, raw: &'a [u8], id: u32) {
        self.folded.insert(raw.to_ascii_uppercase(), id);
        self.exact.insert(raw, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_ascii_case() {
        let mut names = NameMap::default();
        names.insert(b"Walls", 3);
        assert_eq!(names.get(b"WALLS"), Some(3));
        assert_eq!(names.get(b"walls"), Some(3));
        assert_eq!(names.get(b"doors"), None);
    }
}
