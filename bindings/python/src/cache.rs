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
    /// The name's length and its first and last 8 bytes (zero-padded when shorter): for names
    /// of up to 16 bytes these are the whole name, so a lookup compares three words.
    len: usize,
    head: u64,
    tail: u64,
    name: Box<[u8]>,
    object: Py<PyAny>,
}

pub(crate) struct Cache {
    slots: UnsafeCell<Vec<Option<Slot>>>,
}

// Safety: every access goes through `get`/`put`, which take a `Python` token (the GIL).
unsafe impl Sync for Cache {}

/// Up to 8 bytes as a little-endian word, zero-padded.
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    match b.len() {
        8.. => u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
        4..=7 => {
            let lo = u32::from_le_bytes(b[..4].try_into().expect("4 bytes")) as u64;
            let hi = u32::from_le_bytes(b[b.len() - 4..].try_into().expect("4 bytes")) as u64;
            lo | hi << ((b.len() - 4) * 8)
        }
        _ => b.iter().rev().fold(0u64, |w, &x| w << 8 | x as u64),
    }
}

/// (head, tail) of a name.
#[inline(always)]
fn words(raw: &[u8]) -> (u64, u64) {
    let n = raw.len();
    if n <= 8 { (word(raw), 0) } else { (word(&raw[..8]), word(&raw[n - 8..])) }
}

impl Cache {
    pub(crate) const fn new() -> Cache {
        Cache { slots: UnsafeCell::new(Vec::new()) }
    }

    #[inline(always)]
    fn slot(n: usize, head: u64, tail: u64) -> usize {
        let h = (head ^ tail.rotate_left(23) ^ (n as u64) << 56).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 40) as usize & (SLOTS - 1)
    }

    /// A new reference to the cached object for `name`, if any.
    #[inline]
    pub(crate) fn get<'py>(&self, py: Python<'py>, name: &[u8]) -> Option<Bound<'py, PyAny>> {
        // Safety: GIL held (the token), no Python code runs while the borrow lives.
        let slots = unsafe { &*self.slots.get() };
        let n = name.len();
        let (head, tail) = words(name);
        match slots.get(Self::slot(n, head, tail)) {
            Some(Some(s))
                if s.len == n && s.head == head && s.tail == tail && (n <= 16 || &*s.name == name) =>
            {
                Some(s.object.bind(py).clone())
            }
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
            let (head, tail) = words(name);
            let new =
                Slot { len: name.len(), head, tail, name: name.into(), object: object.clone().unbind() };
            evicted = slots[Self::slot(name.len(), head, tail)].replace(new);
        }
        // Releasing the old object may run Python code (it cannot for atoms and strings, but
        // nothing here relies on that): outside the borrow.
        drop(evicted);
        let _ = py;
    }
}

pub(crate) static ATOMS: Cache = Cache::new();
pub(crate) static KEYS: Cache = Cache::new();

/// One `int` object per recently decoded integer outside CPython's own small-int range, by
/// its low bits: ids, counters and sizes repeat from message to message, and an `int` handed
/// out again costs a reference count instead of an allocation (and its release later). Ints
/// are immutable, so sharing one is invisible but for `is`.
pub(crate) struct IntCache {
    slots: UnsafeCell<Vec<(i64, Option<Py<PyAny>>)>>,
}

// Safety: as for `Cache`: every access takes a `Python` token (the GIL).
unsafe impl Sync for IntCache {}

const INT_SLOTS: usize = 8192;

impl IntCache {
    pub(crate) const fn new() -> IntCache {
        IntCache { slots: UnsafeCell::new(Vec::new()) }
    }

    /// A new reference to an `int` equal to `v`: the cached one, or a new one that replaces it.
    #[inline]
    pub(crate) fn get(&self, py: Python<'_>, v: i64) -> *mut pyo3::ffi::PyObject {
        // Safety: GIL held (the token); no Python code runs while the borrow lives (the
        // evicted object is released after it ends).
        let slots = unsafe { &mut *self.slots.get() };
        let i = v as u64 as usize & (INT_SLOTS - 1);
        if let Some((k, Some(o))) = slots.get(i)
            && *k == v
        {
            let p = o.as_ptr();
            // Safety: a live object; the new reference is the caller's.
            unsafe { pyo3::ffi::Py_INCREF(p) };
            return p;
        }
        // Safety: plain C API call.
        let p = unsafe { pyo3::ffi::PyLong_FromLongLong(v) };
        if p.is_null() {
            return p;
        }
        if slots.is_empty() {
            slots.resize_with(INT_SLOTS, || (0, None));
        }
        // Safety: `p` is a live object; the cache keeps its own reference.
        let keep = unsafe { Bound::from_borrowed_ptr(py, p) }.unbind();
        let evicted = std::mem::replace(&mut slots[i], (v, Some(keep)));
        drop(evicted);
        p
    }
}

pub(crate) static INTS: IntCache = IntCache::new();
