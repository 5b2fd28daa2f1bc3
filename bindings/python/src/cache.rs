//! Process-wide caches of Python objects the decoder hands out again and again: one `Atom`
//! object per atom name, and one `str` per short map-key binary (Elixir maps with string keys
//! repeat the same keys in every element). Direct-mapped and bounded; a colliding name simply
//! replaces the older entry.
//!
//! The caches are only touched with the GIL held (the wheel is abi3, never free-threaded), and
//! no Python code runs while an entry is borrowed: objects are created before the slot is
//! taken, and an evicted object is released after.

use std::cell::UnsafeCell;

use pyo3::prelude::*;

const SLOTS: usize = 4096;
/// Longer keys are rare and cost more to compare than to create.
pub(crate) const MAX_KEY_LEN: usize = 64;

struct Slot {
    name: Box<[u8]>,
    object: Py<PyAny>,
}

pub(crate) struct Cache {
    slots: UnsafeCell<Vec<Option<Slot>>>,
}

// Safety: every access goes through `get`/`put`, which take a `Python` token (the GIL).
unsafe impl Sync for Cache {}

impl Cache {
    pub(crate) const fn new() -> Cache {
        Cache { slots: UnsafeCell::new(Vec::new()) }
    }

    #[inline]
    fn slot(raw: &[u8]) -> usize {
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            w[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(w)
        };
        let n = raw.len();
        let (head, tail) = if n <= 8 { (word(raw), 0) } else { (word(&raw[..8]), word(&raw[n - 8..])) };
        let h = (head ^ tail.rotate_left(23) ^ (n as u64) << 56).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 40) as usize & (SLOTS - 1)
    }

    /// A new reference to the cached object for `name`, if any.
    #[inline]
    pub(crate) fn get<'py>(&self, py: Python<'py>, name: &[u8]) -> Option<Bound<'py, PyAny>> {
        // Safety: GIL held (the token), no Python code runs while the borrow lives.
        let slots = unsafe { &*self.slots.get() };
        match slots.get(Self::slot(name)) {
            Some(Some(s)) if &*s.name == name => Some(s.object.bind(py).clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, py: Python<'_>, name: &[u8], object: &Bound<'_, PyAny>) {
        let evicted;
        {
            // Safety: as in `get`; the clone below only increments a reference count.
            let slots = unsafe { &mut *self.slots.get() };
            if slots.is_empty() {
                slots.resize_with(SLOTS, || None);
            }
            let new = Slot { name: name.into(), object: object.clone().unbind() };
            evicted = slots[Self::slot(name)].replace(new);
        }
        // Releasing the old object may run Python code (it cannot for atoms and strings, but
        // nothing here relies on that): outside the borrow.
        drop(evicted);
        let _ = py;
    }
}

pub(crate) static ATOMS: Cache = Cache::new();
pub(crate) static KEYS: Cache = Cache::new();
