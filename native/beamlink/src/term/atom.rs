//! Atoms, interned once per distinct name.
//!
//! An [`Atom`] is one pointer to its name's entry in a process-wide table, as in BEAM: copying
//! or dropping one touches no counter, two atoms are equal when their pointers are, and the
//! decoder turns the bytes of a known atom into an atom with a lookup in a lock-free cache.
//! Entries are never freed, so the table is bounded ([`MAX_INTERNED`] names,
//! [`MAX_INTERNED_BYTES`] of text): past either bound, a new name becomes a reference-counted
//! atom of its own, so a peer sending endless distinct atoms costs memory only while they live.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Distinct names the table holds at most (BEAM's default atom limit).
pub const MAX_INTERNED: usize = 1 << 20;
/// Bytes of names the table holds at most.
pub const MAX_INTERNED_BYTES: usize = 64 << 20;

/// An Erlang atom. Copying one is a pointer copy.
///
/// ```
/// use beamlink::term::Atom;
/// let a = Atom::new("ok");
/// assert_eq!(a.as_str(), "ok");
/// assert_eq!(a, "ok");
/// assert_eq!(a, Atom::new(String::from("ok")));
/// ```
pub struct Atom(NonNull<Entry>);

/// A name and what is derived from it once. Entries in the table live for the whole process;
/// one outside it (the table was full) is freed with its last atom.
struct Entry {
    /// The atom as the encoder writes it, `SMALL_ATOM_UTF8_EXT`, length, name (the first two
    /// bytes are meaningless for names of 256 bytes or more), then zeros up to at least 16
    /// bytes so that a short atom is written with two 8-byte stores.
    wire: Box<[u8]>,
    len: usize,
    hash: u64,
    /// References to an entry outside the table; unused (0) for interned entries.
    refs: AtomicUsize,
}

impl Entry {
    fn new(name: &str, refs: usize) -> Entry {
        let len = name.len();
        let mut wire = Vec::with_capacity((len + 2).max(16));
        wire.extend_from_slice(&[super::tags::SMALL_ATOM_UTF8_EXT, len as u8]);
        wire.extend_from_slice(name.as_bytes());
        wire.resize((len + 2).max(16), 0);
        Entry { wire: wire.into_boxed_slice(), len, hash: full_hash(name), refs: AtomicUsize::new(refs) }
    }

    #[inline(always)]
    fn text(&self) -> &str {
        // SAFETY: `wire[2..2 + len]` is the UTF-8 name `Entry::new` was given.
        unsafe { std::str::from_utf8_unchecked(self.wire.get_unchecked(2..2 + self.len)) }
    }
}

/// Pointer tag of an atom outside the table (entries are 8-aligned, so the low bit is free).
const COUNTED: usize = 1;

// SAFETY: an entry is immutable but for its atomic reference count.
unsafe impl Send for Atom {}
unsafe impl Sync for Atom {}

impl Atom {
    /// Makes an atom from a UTF-8 name. Names longer than 255 characters cannot be sent to a
    /// BEAM node; the encoder reports that as an error rather than truncating.
    pub fn new(name: impl AsRef<str>) -> Atom {
        let name = name.as_ref();
        match cached(name.as_bytes()) {
            Some(e) => Atom::interned(e),
            None => intern(name),
        }
    }

    /// The atom named by `raw` if it is already interned: no UTF-8 check, no lock, no
    /// allocation. The decoder's fast path.
    #[inline]
    pub(crate) fn lookup(raw: &[u8]) -> Option<Atom> {
        cached(raw).map(Atom::interned)
    }

    pub fn as_str(&self) -> &str {
        self.entry().text()
    }

    /// The atom as `SMALL_ATOM_UTF8_EXT` (tag, length, name) when the name is under 256
    /// bytes, followed by zeros up to at least 16 bytes: a name of up to 14 bytes can be
    /// written by copying 16 bytes and keeping the first `len + 2`.
    #[inline(always)]
    pub(crate) fn small_utf8_ext(&self) -> Option<(&[u8], usize)> {
        let e = self.entry();
        (e.len < 256).then(|| (&e.wire[..], e.len + 2))
    }

    #[inline(always)]
    fn interned(e: &'static Entry) -> Atom {
        Atom(NonNull::from(e))
    }

    /// Whether this atom is outside the table (reference-counted).
    #[inline(always)]
    pub(crate) fn is_counted(&self) -> bool {
        self.0.as_ptr().addr() & COUNTED != 0
    }

    #[inline(always)]
    fn entry(&self) -> &Entry {
        // SAFETY: the pointer (tag removed) is to a live entry: interned ones are never freed,
        // and a counted one is kept by this atom's reference.
        unsafe { &*self.0.as_ptr().map_addr(|a| a & !COUNTED) }
    }
}

impl Clone for Atom {
    #[inline(always)]
    fn clone(&self) -> Atom {
        if self.is_counted() {
            self.entry().refs.fetch_add(1, Ordering::Relaxed);
        }
        Atom(self.0)
    }
}

impl Drop for Atom {
    #[inline(always)]
    fn drop(&mut self) {
        if self.is_counted() {
            release(self.0);
        }
    }
}

#[inline(never)]
fn release(tagged: NonNull<Entry>) {
    let ptr = tagged.as_ptr().map_addr(|a| a & !COUNTED);
    // SAFETY: see `Atom::entry`; the last reference frees the entry it was made from.
    unsafe {
        if (*ptr).refs.fetch_sub(1, Ordering::Release) == 1 {
            std::sync::atomic::fence(Ordering::Acquire);
            drop(Box::from_raw(ptr));
        }
    }
}

impl PartialEq for Atom {
    #[inline]
    fn eq(&self, other: &Atom) -> bool {
        // Interned names are unique, and a counted atom's name was not in the table when it
        // was made, which stays full: only two counted atoms need their text compared.
        self.0 == other.0 || (self.is_counted() && other.is_counted() && self.as_str() == other.as_str())
    }
}

impl Eq for Atom {}

impl Hash for Atom {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.entry().hash);
    }
}

impl PartialOrd for Atom {
    fn partial_cmp(&self, other: &Atom) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Atom {
    /// By name (code point order, as BEAM compares atoms).
    fn cmp(&self, other: &Atom) -> std::cmp::Ordering {
        if self.0 == other.0 { std::cmp::Ordering::Equal } else { self.as_str().cmp(other.as_str()) }
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atom({:?})", self.as_str())
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Atom {
        Atom::new(s)
    }
}

impl From<String> for Atom {
    fn from(s: String) -> Atom {
        Atom::new(s)
    }
}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl AsRef<str> for Atom {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// A direct-mapped cache of interned entries in front of the table. Entries are permanent, so
/// a racing overwrite costs at most a trip to the table; readers need no lock.
const CACHE_SLOTS: usize = 4096;
static CACHE: [AtomicPtr<Entry>; CACHE_SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; CACHE_SLOTS];

/// A constant-time slot from the length and at most two 8-byte loads (names that share both
/// ends collide and replace each other, which costs only a lookup in the table).
#[inline(always)]
fn slot(raw: &[u8]) -> usize {
    let (head, tail) = ends(raw);
    let h = (head ^ tail.rotate_left(23) ^ (raw.len() as u64) << 56).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 52) as usize & (CACHE_SLOTS - 1)
}

/// Two words that together hold every byte of a name of up to 16 bytes (they overlap when it
/// is shorter), and its first and last eight bytes otherwise. Short names read without a call.
#[inline(always)]
fn ends(raw: &[u8]) -> (u64, u64) {
    let n = raw.len();
    let u64_at = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().expect("4 bytes")) as u64;
    if n >= 8 {
        (u64_at(0), u64_at(n - 8))
    } else if n >= 4 {
        (u32_at(0), u32_at(n - 4))
    } else if n > 0 {
        (raw[0] as u64 | (raw[n / 2] as u64) << 8 | (raw[n - 1] as u64) << 16, 0)
    } else {
        (0, 0)
    }
}

/// Whether two names are the same bytes; names of up to 16 bytes compare without a call.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && if a.len() <= 16 { ends(a) == ends(b) } else { a == b }
}

#[inline(always)]
fn cached(raw: &[u8]) -> Option<&'static Entry> {
    let p = CACHE[slot(raw)].load(Ordering::Acquire);
    // SAFETY: only pointers to interned (never freed) entries are stored in the cache.
    let e = unsafe { p.as_ref()? };
    same_bytes(e.text().as_bytes(), raw).then_some(e)
}

struct Table {
    names: std::collections::HashMap<&'static str, &'static Entry>,
    bytes: usize,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

/// The full hash of a name, kept in its entry for [`Hash`] (FNV-1a).
fn full_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

#[inline(never)]
fn intern(name: &str) -> Atom {
    let mut guard = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let table = guard.get_or_insert_with(|| Table { names: Default::default(), bytes: 0 });
    let entry = match table.names.get(name) {
        Some(e) => *e,
        None if table.names.len() < MAX_INTERNED && table.bytes + name.len() <= MAX_INTERNED_BYTES => {
            let e: &'static Entry = Box::leak(Box::new(Entry::new(name, 0)));
            table.names.insert(e.text(), e);
            table.bytes += name.len();
            e
        }
        None => {
            drop(guard);
            let ptr = NonNull::from(Box::leak(Box::new(Entry::new(name, 1))));
            return Atom(ptr.map_addr(|a| a | COUNTED));
        }
    };
    CACHE[slot(name.as_bytes())].store(entry as *const Entry as *mut Entry, Ordering::Release);
    Atom::interned(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(name: &str) -> Atom {
        Atom(NonNull::from(Box::leak(Box::new(Entry::new(name, 1)))).map_addr(|a| a | COUNTED))
    }

    #[test]
    fn one_entry_per_name() {
        let a = Atom::new("interned_once");
        let b = Atom::new(String::from("interned_once"));
        assert_eq!(a.0, b.0);
        assert_eq!(Atom::lookup(b"interned_once").map(|x| x.0), Some(a.0));
        assert_ne!(a, Atom::new("interned_twice"));
    }

    #[test]
    fn counted_atoms_compare_hash_and_free_like_interned_ones() {
        use std::collections::hash_map::DefaultHasher;
        let h = |a: &Atom| {
            let mut s = DefaultHasher::new();
            a.hash(&mut s);
            s.finish()
        };
        let a = counted("outside");
        let b = a.clone();
        let c = counted("outside");
        assert!(a.is_counted());
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(h(&a), h(&c));
        assert_eq!(a.cmp(&c), std::cmp::Ordering::Equal);
        assert!(a < Atom::new("p"));
        assert_ne!(a, Atom::new("other"));
        assert_eq!(a.entry().refs.load(Ordering::Relaxed), 2);
        drop(b);
        assert_eq!(a.entry().refs.load(Ordering::Relaxed), 1);
        drop((a, c));
    }

    #[test]
    fn atoms_cross_threads() {
        let names: Vec<String> = (0..200).map(|i| format!("threaded_{i}")).collect();
        let made: Vec<Vec<Atom>> = (0..4)
            .map(|_| {
                let names = names.clone();
                std::thread::spawn(move || names.iter().map(Atom::new).collect())
            })
            .map(|h| h.join().unwrap())
            .collect();
        for atoms in &made[1..] {
            assert_eq!(atoms, &made[0]);
        }
    }
}
