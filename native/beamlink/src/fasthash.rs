//! The hasher of the engine's own tables (processes, names, connections, pending spawns).
//!
//! Their keys are small (a process number, a reference, an atom, whose hash is kept in the
//! atom) and mostly made by this node, and every call looks several up: SipHash cost more than
//! the lookups themselves. A multiply-and-rotate hash, seeded at random once per process so
//! that no peer can predict where its keys land, replaces it.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

pub(crate) type FastMap<K, V> = HashMap<K, V, FastState>;
pub(crate) type FastSet<K> = HashSet<K, FastState>;

/// Builds [`FastHasher`]s with this process's seed.
#[derive(Clone, Copy)]
pub(crate) struct FastState(u64);

impl Default for FastState {
    fn default() -> FastState {
        static SEED: OnceLock<u64> = OnceLock::new();
        FastState(*SEED.get_or_init(rand::random))
    }
}

impl BuildHasher for FastState {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(self.0)
    }
}

pub(crate) struct FastHasher(u64);

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl FastHasher {
    #[inline(always)]
    fn add(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(K).rotate_left(26);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(w) ^ (bytes.len() as u64) << 56);
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.add(v as u64)
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.add(v as u64)
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.add(v)
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64)
    }
    #[inline]
    fn finish(&self) -> u64 {
        // The table indexes by the low bits and tags by the top seven: a last multiply
        // spreads every input bit upward, and folding the high half down spreads it back.
        let y = (self.0 ^ self.0 >> 32).wrapping_mul(K);
        y ^ y >> 32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_keys_spread_over_the_low_bits() {
        let s = FastState::default();
        let buckets: HashSet<u64> = (0u32..1024).map(|i| s.hash_one(i) & 1023).collect();
        assert!(buckets.len() > 600, "{} of 1024 buckets used", buckets.len());
        let tags: HashSet<u64> = (0u32..1024).map(|i| s.hash_one(i) >> 57).collect();
        assert!(tags.len() > 120, "{} of 128 tags used", tags.len());
    }
}
