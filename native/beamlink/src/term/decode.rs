//! Decoding the external term format from untrusted bytes.
//!
//! Every length read from the input is checked against the bytes that remain before anything
//! is allocated, nesting is bounded, and a compressed term may not claim more than zlib could
//! possibly produce from its input, so a hostile peer cannot make us allocate more than it
//! sent (times zlib's maximum ratio). Errors carry the byte offset where decoding stopped.

use std::io::Read;

use bytes::Bytes;

use super::big::Big;
use super::tags::*;
use super::types::{Atom, ExportFun, Fun, Pid, Port, Reference, Term};

/// Why a byte sequence is not a valid term. Offsets count from the start of the input given
/// to the decoder (inside a compressed term: from the start of the decompressed data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unexpected end of input at byte {offset}: {needed} more bytes needed")]
    UnexpectedEof { offset: usize, needed: usize },
    #[error("expected version byte 131 at byte {offset}, found {found}")]
    BadVersion { offset: usize, found: u8 },
    #[error("unknown tag {tag} at byte {offset}")]
    UnknownTag { offset: usize, tag: u8 },
    #[error("invalid {what} at byte {offset}")]
    Invalid { offset: usize, what: &'static str },
    #[error("terms nested deeper than {limit} at byte {offset}")]
    TooDeep { offset: usize, limit: usize },
    #[error("{what} of {size} bytes at byte {offset} exceeds the limit of {limit}")]
    TooLarge { offset: usize, what: &'static str, size: u64, limit: u64 },
    #[error("atom cache reference {index} at byte {offset} has no entry")]
    AtomCacheMiss { offset: usize, index: u8 },
    #[error("corrupt compressed term at byte {offset}: {reason}")]
    Compression { offset: usize, reason: String },
    #[error("{count} unexpected bytes after the term at byte {offset}")]
    TrailingBytes { offset: usize, count: usize },
}

impl DecodeError {
    /// The byte offset at which the problem was found.
    pub fn offset(&self) -> usize {
        match self {
            DecodeError::UnexpectedEof { offset, .. }
            | DecodeError::BadVersion { offset, .. }
            | DecodeError::UnknownTag { offset, .. }
            | DecodeError::Invalid { offset, .. }
            | DecodeError::TooDeep { offset, .. }
            | DecodeError::TooLarge { offset, .. }
            | DecodeError::AtomCacheMiss { offset, .. }
            | DecodeError::Compression { offset, .. }
            | DecodeError::TrailingBytes { offset, .. } => *offset,
        }
    }
}

/// Bounds the decoder enforces. The defaults are for untrusted bytes;
/// [`Limits::trusted`] is for what an authenticated node sends, which may be as deep as BEAM
/// allows (any depth). Memory is bounded either way: nothing is reserved beyond the input's
/// size, and deep nesting continues on heap-allocated stack segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of tuples, lists, maps and funs.
    pub max_depth: usize,
    /// Maximum size a compressed term may expand to.
    pub max_decompressed: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_depth: 1024, max_decompressed: 1 << 30 }
    }
}

impl Limits {
    /// What BEAM itself accepts from a connected node: no depth limit.
    ///
    /// ```
    /// use beamlink::term::{Decoder, Limits, Term, encode};
    /// let mut t = Term::nil();
    /// for _ in 0..5000 {
    ///     t = Term::list([t]);
    /// }
    /// let bytes = encode(&t);
    /// assert!(Decoder::new(&bytes).versioned_term().is_err()); // deeper than 1024
    /// let back = Decoder::new(&bytes).with_limits(Limits::trusted()).versioned_term().unwrap();
    /// assert_eq!(back, t);
    /// ```
    pub fn trusted() -> Limits {
        Limits { max_depth: usize::MAX, ..Limits::default() }
    }
}

/// zlib cannot expand data by more than about 1032:1; a size claim beyond that is a lie.
const ZLIB_MAX_RATIO: u64 = 1032;

/// Decodes one complete term that starts with the version byte 131 (what `term_to_binary`
/// returns). Binaries in the result are copied out of `bytes`; use [`decode_shared`] to share.
///
/// ```
/// use beamlink::term::{decode, Term};
/// let t = decode(&[131, 104, 2, 119, 2, b'o', b'k', 97, 42]).unwrap();
/// assert_eq!(t, Term::tuple([Term::atom("ok"), Term::from(42)]));
/// ```
pub fn decode(bytes: &[u8]) -> Result<Term, DecodeError> {
    let mut d = Decoder::new(bytes);
    let t = d.versioned_term()?;
    d.finish()?;
    Ok(t)
}

/// Like [`decode`], but binaries in the result are slices of `bytes` (no copy).
pub fn decode_shared(bytes: &Bytes) -> Result<Term, DecodeError> {
    let mut d = Decoder::shared(bytes);
    let t = d.versioned_term()?;
    d.finish()?;
    Ok(t)
}

/// A cursor over external-term-format bytes.
///
/// The connection layer uses it directly: terms after a distribution header carry no version
/// byte and may use `ATOM_CACHE_REF`s, resolved through [`Decoder::with_atom_cache`].
///
/// ```
/// use beamlink::term::{Atom, Decoder, Term};
/// let cache = [Some(Atom::new("hello"))];
/// let mut d = Decoder::new(&[82, 0, 106]).with_atom_cache(&cache);
/// assert_eq!(d.term().unwrap(), Term::atom("hello"));
/// assert_eq!(d.term().unwrap(), Term::nil());
/// assert!(d.remaining().is_empty());
/// ```
pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    shared: Option<&'a Bytes>,
    atom_cache: &'a [Option<Atom>],
    limits: Limits,
    depth: usize,
    /// Elements still allowed to be reserved ahead of decoding them. A count is only checked
    /// against the bytes left, and nested containers each see nearly all of them, so without
    /// one budget for the whole input k levels could reserve k times what was sent.
    prealloc: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(input: &'a [u8]) -> Decoder<'a> {
        Decoder {
            input,
            pos: 0,
            shared: None,
            atom_cache: &[],
            limits: Limits::default(),
            depth: 0,
            prealloc: input.len(),
        }
    }

    /// A decoder whose binaries share `input`'s buffer.
    pub fn shared(input: &'a Bytes) -> Decoder<'a> {
        let mut d = Decoder::new(input.as_ref());
        d.shared = Some(input);
        d
    }

    /// Resolves `ATOM_CACHE_REF index` to `cache[index]`.
    pub fn with_atom_cache(mut self, cache: &'a [Option<Atom>]) -> Decoder<'a> {
        self.atom_cache = cache;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Decoder<'a> {
        self.limits = limits;
        self
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> &'a [u8] {
        &self.input[self.pos..]
    }

    /// Fails if input is left over.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.pos == self.input.len() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { offset: self.pos, count: self.input.len() - self.pos })
        }
    }

    /// Reads the version byte 131 and then a term, expanding a compressed term.
    pub fn versioned_term(&mut self) -> Result<Term, DecodeError> {
        let at = self.pos;
        let v = self.u8()?;
        if v != VERSION_MAGIC {
            return Err(DecodeError::BadVersion { offset: at, found: v });
        }
        if self.peek() == Some(COMPRESSED) {
            self.pos += 1;
            return self.compressed();
        }
        self.term()
    }

    /// Reads one term without a version byte.
    pub fn term(&mut self) -> Result<Term, DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            // The commonest leaves are decoded here, without a call.
            SMALL_INTEGER_EXT => Ok(Term::Int(self.u8()? as i64)),
            INTEGER_EXT => Ok(Term::Int(self.u32()? as i32 as i64)),
            SMALL_ATOM_UTF8_EXT | ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_EXT | ATOM_CACHE_REF => {
                self.pos = at;
                self.atom().map(Term::Atom)
            }
            NIL_EXT => Ok(Term::List(Vec::new())),
            BINARY_EXT => {
                let n = self.u32()? as usize;
                Ok(Term::Binary(self.bytes(n)?))
            }
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT | LIST_EXT | MAP_EXT | EXPORT_EXT | NEW_FUN_EXT => {
                // A deep term would exhaust a small thread stack (a 2 MiB tokio worker, frames
                // of an unoptimised build): past a shallow depth, nesting continues on
                // heap-allocated stack segments when the stack runs low.
                let depth = self.depth;
                super::deep::nested(depth, || self.nested(tag, at))
            }
            _ => self.leaf(tag, at),
        }
    }

    /// An element of a container: the commonest leaves without a call, anything else
    /// through [`term`](Self::term).
    #[inline(always)]
    fn item(&mut self) -> Result<Term, DecodeError> {
        match self.common_leaf() {
            Some(t) => Ok(t),
            None => self.term(),
        }
    }

    /// Decodes `n` elements onto `items`, each written straight into the vector.
    #[inline(always)]
    fn push_items(&mut self, items: &mut Vec<Term>, n: usize) -> Result<(), DecodeError> {
        for _ in 0..n {
            if items.len() == items.capacity() {
                items.reserve(1);
            }
            let len = items.len();
            // SAFETY: `len < capacity`; the slot is written before the length covers it.
            unsafe {
                let slot = items.as_mut_ptr().add(len);
                if !self.common_leaf_into(slot) {
                    slot.write(self.term()?);
                }
                items.set_len(len + 1);
            }
        }
        Ok(())
    }

    /// [`common_leaf`](Self::common_leaf) written to `slot`; `false` if there was none.
    ///
    /// # Safety
    /// `slot` must be valid for a write; what it held is overwritten without a drop.
    #[inline(always)]
    unsafe fn common_leaf_into(&mut self, slot: *mut Term) -> bool {
        let input = self.input;
        let p = self.pos;
        // Integers first and apart: they are the bulk of large lists.
        if let Some(&[tag, a, b, c, d]) = input.get(p..p + 5) {
            if tag == SMALL_INTEGER_EXT {
                self.pos = p + 2;
                unsafe { slot.write(Term::Int(a as i64)) };
                return true;
            }
            if tag == INTEGER_EXT {
                self.pos = p + 5;
                unsafe { slot.write(Term::Int(i32::from_be_bytes([a, b, c, d]) as i64)) };
                return true;
            }
        }
        match self.common_leaf() {
            Some(t) => {
                unsafe { slot.write(t) };
                true
            }
            None => false,
        }
    }

    /// Small and 32-bit integers, known atoms under the UTF-8 tag, floats, binaries and `[]`,
    /// decoded in line; `None` (nothing consumed) for anything else, including anything
    /// malformed, which [`term`](Self::term) then reports.
    #[inline(always)]
    fn common_leaf(&mut self) -> Option<Term> {
        let input = self.input;
        let p = self.pos;
        match *input.get(p)? {
            SMALL_INTEGER_EXT => {
                let b = *input.get(p + 1)?;
                self.pos = p + 2;
                Some(Term::Int(b as i64))
            }
            INTEGER_EXT => {
                let w: [u8; 4] = input.get(p + 1..p + 5)?.try_into().ok()?;
                self.pos = p + 5;
                Some(Term::Int(i32::from_be_bytes(w) as i64))
            }
            SMALL_ATOM_UTF8_EXT => {
                let end = p + 2 + *input.get(p + 1)? as usize;
                let a = Atom::lookup(input.get(p + 2..end)?)?;
                self.pos = end;
                Some(Term::Atom(a))
            }
            NEW_FLOAT_EXT => {
                let w: [u8; 8] = input.get(p + 1..p + 9)?.try_into().ok()?;
                let f = f64::from_bits(u64::from_be_bytes(w));
                if !f.is_finite() {
                    return None;
                }
                self.pos = p + 9;
                Some(Term::Float(f))
            }
            BINARY_EXT => {
                let w: [u8; 4] = input.get(p + 1..p + 5)?.try_into().ok()?;
                let n = u32::from_be_bytes(w) as usize;
                let start = p + 5;
                let bytes = input.get(start..start.checked_add(n)?)?;
                self.pos = start + n;
                Some(Term::Binary(match self.shared {
                    Some(b) => b.slice(start..start + n),
                    None => Bytes::copy_from_slice(bytes),
                }))
            }
            NIL_EXT => {
                self.pos = p + 1;
                Some(Term::List(Vec::new()))
            }
            _ => None,
        }
    }

    fn nested(&mut self, tag: u8, at: usize) -> Result<Term, DecodeError> {
        match tag {
            SMALL_TUPLE_EXT => {
                let n = self.u8()? as usize;
                self.tuple(n)
            }
            LARGE_TUPLE_EXT => {
                let n = self.u32()? as usize;
                self.tuple(n)
            }
            LIST_EXT => self.list(),
            MAP_EXT => self.map(),
            EXPORT_EXT => self.export(),
            _ => self.fun(at),
        }
    }

    #[inline(never)]
    fn export(&mut self) -> Result<Term, DecodeError> {
        let module = self.atom()?;
        let function = self.atom()?;
        let arity_at = self.pos;
        // The arity is a whole term, so an export can nest exports: count it as depth.
        self.enter()?;
        let arity = self.term()?;
        self.depth -= 1;
        match arity {
            Term::Int(a @ 0..=255) => {
                Ok(Term::Export(Box::new(ExportFun { module, function, arity: a as u8 })))
            }
            _ => Err(DecodeError::Invalid { offset: arity_at, what: "export arity" }),
        }
    }

    /// Every tag that does not nest.
    #[inline(never)]
    fn leaf(&mut self, tag: u8, at: usize) -> Result<Term, DecodeError> {
        match tag {
            SMALL_INTEGER_EXT => Ok(Term::Int(self.u8()? as i64)),
            INTEGER_EXT => Ok(Term::Int(self.u32()? as i32 as i64)),
            SMALL_BIG_EXT => {
                let n = self.u8()? as usize;
                self.big(n)
            }
            LARGE_BIG_EXT => {
                let n = self.u32()? as usize;
                self.big(n)
            }
            NEW_FLOAT_EXT => {
                let f = f64::from_bits(self.u64()?);
                self.finite(f, at)
            }
            FLOAT_EXT => {
                let raw = self.take(31)?;
                let end = raw.iter().position(|&b| b == 0).unwrap_or(31);
                let text = std::str::from_utf8(&raw[..end])
                    .map_err(|_| DecodeError::Invalid { offset: at, what: "float text" })?;
                let f: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| DecodeError::Invalid { offset: at, what: "float text" })?;
                self.finite(f, at)
            }
            ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT | ATOM_CACHE_REF => {
                self.pos = at;
                self.atom().map(Term::Atom)
            }
            NIL_EXT => Ok(Term::List(Vec::new())),
            STRING_EXT => {
                let n = self.u16()? as usize;
                let bytes = self.take(n)?;
                Ok(Term::List(bytes.iter().map(|&b| Term::Int(b as i64)).collect()))
            }
            BINARY_EXT => {
                let n = self.u32()? as usize;
                Ok(Term::Binary(self.bytes(n)?))
            }
            BIT_BINARY_EXT => {
                let n = self.u32()? as usize;
                let bits = self.u8()?;
                self.bit_binary(n, bits, at)
            }
            NEW_PID_EXT | PID_EXT => self.pid_body(tag).map(Term::Pid),
            V4_PORT_EXT | NEW_PORT_EXT | PORT_EXT => {
                let node = self.atom()?;
                let id = if tag == V4_PORT_EXT { self.u64()? } else { self.u32()? as u64 };
                let creation = if tag == PORT_EXT { self.u8()? as u32 } else { self.u32()? };
                Ok(Term::Port(Port { node, id, creation }))
            }
            NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT | REFERENCE_EXT => {
                self.reference_body(tag, at).map(Term::Reference)
            }
            LOCAL_EXT => {
                // Only the node that wrote it can interpret the rest; it runs to the end.
                let rest = self.input.len() - self.pos;
                Ok(Term::Local(self.bytes(rest)?))
            }
            COMPRESSED => Err(DecodeError::Invalid { offset: at, what: "nested compressed term" }),
            _ => Err(DecodeError::UnknownTag { offset: at, tag }),
        }
    }

    fn pid_body(&mut self, tag: u8) -> Result<Pid, DecodeError> {
        let node = self.atom()?;
        let id = self.u32()?;
        let serial = self.u32()?;
        let creation = if tag == NEW_PID_EXT { self.u32()? } else { self.u8()? as u32 };
        Ok(Pid { node, id, serial, creation })
    }

    fn reference_body(&mut self, tag: u8, at: usize) -> Result<Reference, DecodeError> {
        if tag == REFERENCE_EXT {
            let node = self.atom()?;
            let id = self.u32()?;
            let creation = self.u8()? as u32;
            return Ok(Reference { node, creation, ids: vec![id] });
        }
        let n = self.u16()? as usize;
        if n == 0 || n > 5 {
            return Err(DecodeError::Invalid { offset: at, what: "reference length" });
        }
        let node = self.atom()?;
        let creation = if tag == NEWER_REFERENCE_EXT { self.u32()? } else { self.u8()? as u32 };
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            ids.push(self.u32()?);
        }
        Ok(Reference { node, creation, ids })
    }

    /// The next term if it is a pid; `None` (position unspecified) otherwise or if malformed.
    pub(crate) fn pid(&mut self) -> Option<Pid> {
        match self.u8().ok()? {
            tag @ (NEW_PID_EXT | PID_EXT) => self.pid_body(tag).ok(),
            _ => None,
        }
    }

    /// The next term if it is a reference; `None` (position unspecified) otherwise.
    pub(crate) fn reference(&mut self) -> Option<Reference> {
        let at = self.pos;
        match self.u8().ok()? {
            tag @ (NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT | REFERENCE_EXT) => {
                self.reference_body(tag, at).ok()
            }
            _ => None,
        }
    }

    /// The next term if it is an integer that fits `i64`; `None` otherwise.
    pub(crate) fn int(&mut self) -> Option<i64> {
        match self.common_leaf()? {
            Term::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The arity of the next term if it is a tuple of up to 255 elements; `None` otherwise.
    pub(crate) fn small_tuple(&mut self) -> Option<usize> {
        match self.input.get(self.pos..self.pos + 2)? {
            [SMALL_TUPLE_EXT, n] => {
                self.pos += 2;
                Some(*n as usize)
            }
            _ => None,
        }
    }

    /// Moves back (or on) to `pos`, a position this decoder was at.
    pub(crate) fn rewind(&mut self, pos: usize) {
        self.pos = pos;
    }

    fn compressed(&mut self) -> Result<Term, DecodeError> {
        let at = self.pos;
        let size = self.u32()? as u64;
        let packed = &self.input[self.pos..];
        let limit = (self.limits.max_decompressed as u64)
            .min((packed.len() as u64).saturating_mul(ZLIB_MAX_RATIO) + 64);
        if size > limit {
            return Err(DecodeError::TooLarge { offset: at, what: "decompressed term", size, limit });
        }
        let mut out = Vec::with_capacity(size as usize);
        let mut z = flate2::read::ZlibDecoder::new(packed);
        // One byte more than promised reveals a size field that lies low.
        (&mut z)
            .take(size + 1)
            .read_to_end(&mut out)
            .map_err(|e| DecodeError::Compression { offset: at, reason: e.to_string() })?;
        if out.len() as u64 != size {
            return Err(DecodeError::Compression {
                offset: at,
                reason: format!("expected {size} bytes, inflated {}", out.len()),
            });
        }
        self.pos += z.total_in() as usize;
        let out = Bytes::from(out);
        let mut inner = Decoder::shared(&out).with_atom_cache(self.atom_cache).with_limits(self.limits);
        inner.depth = self.depth;
        let t = inner.term()?;
        inner.finish()?;
        Ok(t)
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(DecodeError::TooDeep { offset: self.pos, limit: self.limits.max_depth });
        }
        Ok(())
    }

    fn reserve(&mut self, n: usize) -> usize {
        let n = n.min(self.prealloc);
        self.prealloc -= n;
        n
    }

    /// Each element takes at least one byte, so a count beyond what is left is a lie.
    fn check_count(&self, n: usize, min_bytes_each: usize) -> Result<(), DecodeError> {
        let left = self.input.len() - self.pos;
        if n.saturating_mul(min_bytes_each) > left {
            return Err(DecodeError::UnexpectedEof {
                offset: self.pos,
                needed: n.saturating_mul(min_bytes_each) - left,
            });
        }
        Ok(())
    }

    fn tuple(&mut self, n: usize) -> Result<Term, DecodeError> {
        self.check_count(n, 1)?;
        self.enter()?;
        let mut items = Vec::with_capacity(self.reserve(n));
        self.push_items(&mut items, n)?;
        self.depth -= 1;
        Ok(Term::Tuple(items))
    }

    fn list(&mut self) -> Result<Term, DecodeError> {
        let n = self.u32()? as usize;
        self.check_count(n, 1)?;
        self.enter()?;
        let mut items = Vec::with_capacity(self.reserve(n));
        self.push_items(&mut items, n)?;
        // A LIST_EXT tail continues this list: read it into the same vector rather than
        // recursing, or k chained tails would copy the elements after them k times.
        while self.peek() == Some(LIST_EXT) {
            self.pos += 1;
            let n = self.u32()? as usize;
            self.check_count(n, 1)?;
            let more = self.reserve(n);
            items.reserve(more);
            self.push_items(&mut items, n)?;
        }
        let tail = self.term()?;
        self.depth -= 1;
        // A list is a list however the wire split it: fold list tails into one.
        Ok(Term::cons(items, tail))
    }

    fn map(&mut self) -> Result<Term, DecodeError> {
        let at = self.pos - 1;
        let n = self.u32()? as usize;
        self.check_count(n, 2)?;
        self.enter()?;
        let mut pairs = Vec::with_capacity(self.reserve(n));
        for _ in 0..n {
            let k = self.item()?;
            let v = self.item()?;
            pairs.push((k, v));
        }
        self.depth -= 1;
        if has_duplicate_keys(&pairs) {
            return Err(DecodeError::Invalid { offset: at, what: "map (duplicate keys)" });
        }
        Ok(Term::Map(pairs))
    }

    fn fun(&mut self, at: usize) -> Result<Term, DecodeError> {
        let size = self.u32()? as usize;
        // Size counts itself but not the tag.
        if size < 4 || size - 4 > self.input.len() - self.pos {
            return Err(DecodeError::Invalid { offset: at, what: "fun size" });
        }
        let end = self.pos - 4 + size;
        let arity = self.u8()?;
        let mut uniq = [0u8; 16];
        uniq.copy_from_slice(self.take(16)?);
        let index = self.u32()?;
        let num_free = self.u32()? as usize;
        self.check_count(num_free, 1)?;
        // Old index, old uniq and pid are whole terms that may be funs again: count the fun
        // as one level from here, not only around its free variables.
        self.enter()?;
        let module = self.atom()?;
        let old_index = self.small_u32("fun old index")?;
        let old_uniq = self.small_u32("fun old uniq")?;
        let pid_at = self.pos;
        let pid = match self.term()? {
            Term::Pid(ref p) => p.clone(),
            _ => return Err(DecodeError::Invalid { offset: pid_at, what: "fun pid" }),
        };
        let mut free_vars = Vec::with_capacity(self.reserve(num_free));
        for _ in 0..num_free {
            free_vars.push(self.term()?);
        }
        self.depth -= 1;
        if self.pos != end {
            return Err(DecodeError::Invalid { offset: at, what: "fun size" });
        }
        Ok(Term::Fun(Box::new(Fun { arity, uniq, index, module, old_index, old_uniq, pid, free_vars })))
    }

    fn small_u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let at = self.pos;
        match self.term()? {
            Term::Int(i) => {
                // OldUniq is written as a signed 32-bit integer; keep its bit pattern.
                if let Ok(v) = u32::try_from(i) {
                    Ok(v)
                } else if let Ok(v) = i32::try_from(i) {
                    Ok(v as u32)
                } else {
                    Err(DecodeError::Invalid { offset: at, what })
                }
            }
            _ => Err(DecodeError::Invalid { offset: at, what }),
        }
    }

    fn big(&mut self, n: usize) -> Result<Term, DecodeError> {
        let at = self.pos;
        let sign = self.u8()?;
        let mag = self.take(n)?;
        if sign > 1 {
            return Err(DecodeError::Invalid { offset: at, what: "bignum sign" });
        }
        // Zero padding can make a small number look big: normalise, as the Term rules require.
        if n <= 16 {
            let v = le_u128(mag);
            if sign == 0 {
                if let Ok(i) = i64::try_from(v) {
                    return Ok(Term::Int(i));
                }
            } else if v <= 1u128 << 63 {
                return Ok(Term::Int((v as i64).wrapping_neg()));
            }
            return Ok(Term::BigInt(Big::from_magnitude(sign == 1, v)));
        }
        Ok(Term::from(Big::from_le_bytes(sign == 1, mag)))
    }

    fn bit_binary(&mut self, n: usize, bits: u8, at: usize) -> Result<Term, DecodeError> {
        if n == 0 {
            if bits == 0 || bits == 8 {
                return Ok(Term::Binary(Bytes::new()));
            }
            return Err(DecodeError::Invalid { offset: at, what: "bitstring bit count" });
        }
        if bits == 0 || bits > 8 {
            return Err(DecodeError::Invalid { offset: at, what: "bitstring bit count" });
        }
        let bytes = self.bytes(n)?;
        if bits == 8 {
            return Ok(Term::Binary(bytes));
        }
        let mask = 0xffu8 << (8 - bits);
        if bytes[n - 1] & !mask == 0 {
            return Ok(Term::BitBinary { bytes, bits });
        }
        // Bits past the end carry no meaning; clear them so equal bitstrings compare equal.
        let mut owned = bytes.to_vec();
        owned[n - 1] &= mask;
        Ok(Term::BitBinary { bytes: Bytes::from(owned), bits })
    }

    fn finite(&self, f: f64, at: usize) -> Result<Term, DecodeError> {
        if f.is_finite() {
            Ok(Term::Float(f))
        } else {
            Err(DecodeError::Invalid { offset: at, what: "float (NaN or infinity)" })
        }
    }

    /// An atom in any of its encodings, including a cache reference.
    #[inline(always)]
    pub fn atom(&mut self) -> Result<Atom, DecodeError> {
        // The commonest case, a known name under the tag OTP 26+ writes, without a call.
        let p = self.pos;
        if let Some(&[SMALL_ATOM_UTF8_EXT, len]) = self.input.get(p..p + 2) {
            let end = p + 2 + len as usize;
            if let Some(a) = self.input.get(p + 2..end).and_then(Atom::lookup) {
                self.pos = end;
                return Ok(a);
            }
        }
        self.any_atom()
    }

    #[inline(never)]
    fn any_atom(&mut self) -> Result<Atom, DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        let (len, utf8) = match tag {
            SMALL_ATOM_UTF8_EXT => (self.u8()? as usize, true),
            ATOM_UTF8_EXT => (self.u16()? as usize, true),
            SMALL_ATOM_EXT => (self.u8()? as usize, false),
            ATOM_EXT => (self.u16()? as usize, false),
            ATOM_CACHE_REF => {
                let index = self.u8()?;
                return match self.atom_cache.get(index as usize) {
                    Some(Some(a)) => Ok(a.clone()),
                    _ => Err(DecodeError::AtomCacheMiss { offset: at, index }),
                };
            }
            _ => return Err(DecodeError::Invalid { offset: at, what: "atom" }),
        };
        let raw = self.take(len)?;
        // A known name is valid UTF-8: found, it needs no check but the length.
        if (utf8 || raw.is_ascii())
            && raw.len() <= 255
            && let Some(a) = Atom::lookup(raw)
        {
            return Ok(a);
        }
        if utf8 || raw.is_ascii() {
            let s = std::str::from_utf8(raw)
                .map_err(|_| DecodeError::Invalid { offset: at, what: "UTF-8 in atom" })?;
            if s.len() > 255 && s.chars().count() > 255 {
                return Err(DecodeError::Invalid { offset: at, what: "atom (over 255 characters)" });
            }
            Ok(Atom::new(s))
        } else {
            // Latin-1: every byte is the code point of the same value, so bytes are characters.
            if raw.len() > 255 {
                return Err(DecodeError::Invalid { offset: at, what: "atom (over 255 characters)" });
            }
            Ok(Atom::new(raw.iter().map(|&b| b as char).collect::<String>()))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let left = self.input.len() - self.pos;
        if n > left {
            return Err(DecodeError::UnexpectedEof { offset: self.pos, needed: n - left });
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        let start = self.pos;
        let s = self.take(n)?;
        Ok(match self.shared {
            Some(b) => b.slice(start..start + n),
            None => Bytes::copy_from_slice(s),
        })
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, DecodeError> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(DecodeError::UnexpectedEof { offset: self.pos, needed: 1 }),
        }
    }

    #[inline]
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
}

/// A little-endian number of at most 16 bytes, read with at most two 8-byte loads.
#[inline(always)]
fn le_u128(b: &[u8]) -> u128 {
    let n = b.len();
    let at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    if n > 8 {
        // The high word overlaps the low one; shift the overlap out.
        (at(0) as u128) | ((at(n - 8) >> ((16 - n) * 8)) as u128) << 64
    } else if n == 8 {
        at(0) as u128
    } else {
        b.iter().rev().fold(0u128, |v, &x| v << 8 | x as u128)
    }
}

fn has_duplicate_keys(pairs: &[(Term, Term)]) -> bool {
    if pairs.len() < 2 {
        return false;
    }
    if pairs.len() <= 8 {
        return pairs.iter().enumerate().any(|(i, (k, _))| pairs[..i].iter().any(|(j, _)| same_key(j, k)));
    }
    // Equal keys hash equally; only keys whose hashes collide are compared for real.
    let mut hashed: Vec<(u64, usize)> =
        pairs.iter().enumerate().map(|(i, (k, _))| (key_hash(k), i)).collect();
    hashed.sort_unstable();
    let mut start = 0;
    while start < hashed.len() {
        let mut end = start + 1;
        while end < hashed.len() && hashed[end].0 == hashed[start].0 {
            end += 1;
        }
        let run = &hashed[start..end];
        if run.len() > 1
            && run
                .iter()
                .enumerate()
                .any(|(i, (_, k))| run[..i].iter().any(|(_, j)| same_key(&pairs[*j].0, &pairs[*k].0)))
        {
            return true;
        }
        start = end;
    }
    false
}

/// A structural hash consistent with [`same_key`]: keys that are one map key hash alike.
fn key_hash(t: &Term) -> u64 {
    fn mix(h: u64, v: u64) -> u64 {
        (h ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(29)
    }
    fn bytes(mut h: u64, b: &[u8]) -> u64 {
        for chunk in b.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            h = mix(h, u64::from_le_bytes(w));
        }
        mix(h, b.len() as u64)
    }
    match t {
        Term::Int(i) => mix(1, *i as u64),
        Term::BigInt(b) => mix(bytes(2, &b.to_le_bytes()), b.is_negative() as u64),
        Term::Float(f) => mix(3, f.to_bits()),
        Term::Atom(a) => bytes(4, a.as_str().as_bytes()),
        Term::Binary(b) => bytes(5, b),
        Term::BitBinary { bytes: b, bits } => mix(bytes(6, b), *bits as u64),
        Term::Tuple(items) => items.iter().fold(7, |h, x| mix(h, key_hash(x))),
        Term::List(items) => items.iter().fold(8, |h, x| mix(h, key_hash(x))),
        Term::ImproperList(items, tail) => {
            mix(items.iter().fold(9, |h, x| mix(h, key_hash(x))), key_hash(tail))
        }
        // Pair order does not make a map: combine pairs with an order-free sum.
        Term::Map(ps) => ps.iter().fold(10u64, |h, (k, v)| h.wrapping_add(mix(key_hash(k), key_hash(v)))),
        Term::Pid(p) => mix(mix(bytes(11, p.node.as_str().as_bytes()), p.id as u64), p.serial as u64),
        Term::Port(p) => mix(bytes(12, p.node.as_str().as_bytes()), p.id),
        Term::Reference(r) => {
            r.ids.iter().fold(bytes(13, r.node.as_str().as_bytes()), |h, i| mix(h, *i as u64))
        }
        Term::Fun(f) => mix(bytes(14, &f.uniq), f.index as u64),
        Term::Export(e) => mix(
            bytes(bytes(15, e.module.as_str().as_bytes()), e.function.as_str().as_bytes()),
            e.arity as u64,
        ),
        Term::Local(b) => bytes(16, b),
    }
}

/// Whether two keys are one map key: the common kinds at once, the rest through [`exact_key`].
#[inline]
fn same_key(a: &Term, b: &Term) -> bool {
    match (a, b) {
        (Term::Atom(x), Term::Atom(y)) => x == y,
        (Term::Int(x), Term::Int(y)) => x == y,
        (Term::Binary(x), Term::Binary(y)) => x == y,
        // Different kinds are never one key: integers are normalised (an `Int` is never equal
        // to a `BigInt`), `1` and `1.0` are different keys, and a bitstring is never a binary.
        _ if std::mem::discriminant(a) != std::mem::discriminant(b) => false,
        _ => exact_key(a, b),
    }
}

/// Whether two keys are one map key. `==` on terms follows OTP 25, where `0.0 =:= -0.0`; OTP 27
/// and later tell them apart and send `#{0.0 => a, -0.0 => b}`, which must decode. Equal terms
/// differing only in the sign of a zero differ in their canonical encoding.
#[inline(never)]
fn exact_key(a: &Term, b: &Term) -> bool {
    if a != b {
        return false;
    }
    let canonical = super::encode::EncodeOptions { deterministic: true, ..Default::default() };
    super::encode::encode_with(a, &canonical) == super::encode::encode_with(b, &canonical)
}
