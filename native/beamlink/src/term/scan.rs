//! Checking an encoded term against [`Limits`] without building it.
//!
//! For callers that hand the bytes to another decoder afterwards: the Elixir binding gives
//! them to BEAM's own `binary_to_term`, which builds terms faster than anything outside the VM
//! can but bounds neither their depth nor the size a compressed term expands to. The scan walks
//! the encoding once, without recursion and without allocating per term, and stops at the
//! first byte that breaks a limit or the format, with its offset. It accepts everything
//! [`decode`](super::decode) accepts under the same limits, and leaves the few semantic checks
//! BEAM and the decoder differ on (float text, duplicate map keys, a bignum sign byte other
//! than 0 or 1, which BEAM reads as minus) to the receiving decoder.

use std::io::Read;

use super::decode::{DecodeError, Limits};
use super::tags::*;

/// zlib cannot expand data by more than about 1032:1; a size claim beyond that is a lie.
const ZLIB_MAX_RATIO: u64 = 1032;

/// A term [`scan`] found acceptable.
#[derive(Debug, PartialEq, Eq)]
pub enum Scanned {
    /// An uncompressed term: the input as it is.
    Plain,
    /// A compressed term. Here is its uncompressed equivalent (version byte, then the term),
    /// so that it need not be inflated twice.
    Inflated(Vec<u8>),
}

/// An atom met by [`scan_with`].
#[derive(Debug, Clone, Copy)]
pub struct AtomSeen<'a> {
    /// Offset of the atom's tag byte.
    pub offset: usize,
    /// The name as encoded: UTF-8 (already checked), or Latin-1 when `utf8` is false.
    pub name: &'a [u8],
    pub utf8: bool,
}

/// Checks that `bytes` is one complete term (version byte first, nothing after it) within
/// `limits`. Errors carry the offset where the scan stopped, counted as
/// [`DecodeError`] counts them (inside a compressed term: from the start of the inflated data).
///
/// ```
/// use beamlink::term::{Limits, Scanned, Term, encode, scan};
/// let mut t = Term::nil();
/// for _ in 0..100 {
///     t = Term::list([t]);
/// }
/// let bytes = encode(&t);
/// assert_eq!(scan(&bytes, &Limits::default()), Ok(Scanned::Plain));
/// let shallow = Limits { max_depth: 10, ..Limits::default() };
/// let err = scan(&bytes, &shallow).unwrap_err();
/// assert_eq!(err.offset(), 1 + 5 * 10 + 5); // the 11th LIST_EXT header
/// ```
pub fn scan(bytes: &[u8], limits: &Limits) -> Result<Scanned, DecodeError> {
    scan_with(bytes, limits, |_| true)
}

/// Like [`scan`], showing every atom (node names in pids, ports and references included) to
/// `atom`; when it returns false the scan stops with [`DecodeError::Invalid`] at that atom,
/// `what` being `"atom (not an existing atom)"`.
pub fn scan_with(
    bytes: &[u8],
    limits: &Limits,
    atom: impl FnMut(AtomSeen<'_>) -> bool,
) -> Result<Scanned, DecodeError> {
    let mut w = Walker { input: bytes, pos: 0, limits, atom };
    let v = w.u8()?;
    if v != VERSION_MAGIC {
        return Err(DecodeError::BadVersion { offset: 0, found: v });
    }
    if bytes.get(1) != Some(&COMPRESSED) {
        w.walk()?;
        return w.finish().map(|_| Scanned::Plain);
    }
    w.pos = 2;
    let at = w.pos;
    let size = w.u32()? as u64;
    let packed = &bytes[w.pos..];
    let limit =
        (limits.max_decompressed as u64).min((packed.len() as u64).saturating_mul(ZLIB_MAX_RATIO) + 64);
    if size > limit {
        return Err(DecodeError::TooLarge { offset: at, what: "decompressed term", size, limit });
    }
    let mut out = Vec::with_capacity(size as usize + 1);
    out.push(VERSION_MAGIC);
    let mut z = flate2::read::ZlibDecoder::new(packed);
    // One byte more than promised reveals a size field that lies low.
    (&mut z)
        .take(size + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Compression { offset: at, reason: e.to_string() })?;
    if out.len() as u64 != size + 1 {
        return Err(DecodeError::Compression {
            offset: at,
            reason: format!("expected {size} bytes, inflated {}", out.len() - 1),
        });
    }
    let used = w.pos + z.total_in() as usize;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes { offset: used, count: bytes.len() - used });
    }
    let Walker { limits, atom, .. } = w;
    let mut inner = Walker { input: &out[1..], pos: 0, limits, atom };
    inner.walk()?;
    inner.finish()?;
    Ok(Scanned::Inflated(out))
}

/// An open container: how many terms it still holds, and what to check when it closes.
struct Frame {
    left: usize,
    /// A list: its last term is the tail, which a `LIST_EXT` continues in this same frame.
    list: bool,
    /// For a fun with free variables: (offset of its tag, where its declared size ends).
    fun: Option<(usize, usize)>,
}

struct Walker<'a, 'l, F> {
    input: &'a [u8],
    pos: usize,
    limits: &'l Limits,
    atom: F,
}

impl<'a, F: FnMut(AtomSeen<'_>) -> bool> Walker<'a, '_, F> {
    /// Walks one term and everything in it. Nesting is counted as the decoder counts it: each
    /// tuple, list (however many `LIST_EXT`s it is split into), map, fun and export is a level.
    fn walk(&mut self) -> Result<(), DecodeError> {
        let mut open: Vec<Frame> = Vec::new();
        loop {
            let at = self.pos;
            let tag = self.u8()?;
            if tag == LIST_EXT
                && let Some(top) = open.last_mut()
                && top.list
                && top.left == 1
            {
                // The tail is another LIST_EXT: the same list goes on.
                let n = self.u32()? as usize;
                self.check_count(n, 1)?;
                top.left = n + 1;
                continue;
            }
            let frame = match tag {
                SMALL_TUPLE_EXT => {
                    let n = self.u8()? as usize;
                    self.container(open.len(), n, 1)?
                }
                LARGE_TUPLE_EXT => {
                    let n = self.u32()? as usize;
                    self.container(open.len(), n, 1)?
                }
                LIST_EXT => {
                    let n = self.u32()? as usize;
                    self.container(open.len(), n, 1)?;
                    Some(Frame { left: n + 1, list: true, fun: None })
                }
                MAP_EXT => {
                    let n = self.u32()? as usize;
                    self.container(open.len(), n.saturating_mul(2), 1)?
                }
                NEW_FUN_EXT => self.fun(at, open.len())?,
                EXPORT_EXT => {
                    self.atom()?;
                    self.atom()?;
                    // The arity is a term of its own: one level, as the decoder counts it.
                    self.enter(open.len())?;
                    let arity_at = self.pos;
                    let arity = match self.u8()? {
                        SMALL_INTEGER_EXT => self.u8()? as u32,
                        INTEGER_EXT => self.u32()?,
                        _ => u32::MAX,
                    };
                    if arity > 255 {
                        return Err(DecodeError::Invalid { offset: arity_at, what: "export arity" });
                    }
                    None
                }
                _ => {
                    self.leaf(tag, at)?;
                    None
                }
            };
            if let Some(f) = frame {
                open.push(f);
                continue;
            }
            // A term is complete: close every container it completes.
            loop {
                let Some(top) = open.last_mut() else { return Ok(()) };
                top.left -= 1;
                if top.left > 0 {
                    break;
                }
                if let Some((fun_at, end)) = open.pop().and_then(|f| f.fun)
                    && self.pos != end
                {
                    return Err(DecodeError::Invalid { offset: fun_at, what: "fun size" });
                }
            }
        }
    }

    /// A container of `n` terms of at least `min_bytes` each at nesting `depth`: a frame to
    /// open, or `None` when it is empty (and so already complete).
    fn container(&mut self, depth: usize, n: usize, min_bytes: usize) -> Result<Option<Frame>, DecodeError> {
        self.check_count(n, min_bytes)?;
        self.enter(depth)?;
        Ok((n > 0).then_some(Frame { left: n, list: false, fun: None }))
    }

    fn enter(&self, depth: usize) -> Result<(), DecodeError> {
        if depth + 1 > self.limits.max_depth {
            return Err(DecodeError::TooDeep { offset: self.pos, limit: self.limits.max_depth });
        }
        Ok(())
    }

    fn fun(&mut self, at: usize, depth: usize) -> Result<Option<Frame>, DecodeError> {
        let size = self.u32()? as usize;
        // The size counts itself but not the tag.
        if size < 4 || size - 4 > self.input.len() - self.pos {
            return Err(DecodeError::Invalid { offset: at, what: "fun size" });
        }
        let end = self.pos - 4 + size;
        self.take(1 + 16 + 4)?; // arity, uniq, index
        let num_free = self.u32()? as usize;
        self.check_count(num_free, 1)?;
        self.enter(depth)?;
        self.atom()?;
        self.integer("fun old index")?;
        self.integer("fun old uniq")?;
        let pid_at = self.pos;
        match self.u8()? {
            tag @ (NEW_PID_EXT | PID_EXT) => self.leaf(tag, pid_at)?,
            _ => return Err(DecodeError::Invalid { offset: pid_at, what: "fun pid" }),
        }
        if num_free > 0 {
            return Ok(Some(Frame { left: num_free, list: false, fun: Some((at, end)) }));
        }
        if self.pos != end {
            return Err(DecodeError::Invalid { offset: at, what: "fun size" });
        }
        Ok(None)
    }

    fn integer(&mut self, what: &'static str) -> Result<(), DecodeError> {
        let at = self.pos;
        match self.u8()? {
            tag @ (SMALL_INTEGER_EXT | INTEGER_EXT | SMALL_BIG_EXT) => self.leaf(tag, at),
            _ => Err(DecodeError::Invalid { offset: at, what }),
        }
    }

    /// Every tag that holds no other term.
    fn leaf(&mut self, tag: u8, at: usize) -> Result<(), DecodeError> {
        match tag {
            SMALL_INTEGER_EXT => self.skip(1),
            INTEGER_EXT => self.skip(4),
            SMALL_BIG_EXT | LARGE_BIG_EXT => {
                let n = if tag == SMALL_BIG_EXT { self.u8()? as usize } else { self.u32()? as usize };
                // Any sign byte: BEAM reads every non-zero one as minus.
                self.skip(1 + n)
            }
            NEW_FLOAT_EXT => {
                let bits = u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes"));
                if !f64::from_bits(bits).is_finite() {
                    return Err(DecodeError::Invalid { offset: at, what: "float (NaN or infinity)" });
                }
                Ok(())
            }
            FLOAT_EXT => self.skip(31),
            ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT | ATOM_CACHE_REF => {
                self.pos = at;
                self.atom()
            }
            NIL_EXT => Ok(()),
            STRING_EXT => {
                let n = self.u16()? as usize;
                self.skip(n)
            }
            BINARY_EXT => {
                let n = self.u32()? as usize;
                self.skip(n)
            }
            BIT_BINARY_EXT => {
                let n = self.u32()? as usize;
                let bits = self.u8()?;
                let ok = if n == 0 { bits == 0 || bits == 8 } else { (1..=8).contains(&bits) };
                if !ok {
                    return Err(DecodeError::Invalid { offset: at, what: "bitstring bit count" });
                }
                self.skip(n)
            }
            NEW_PID_EXT => {
                self.atom()?;
                self.skip(12)
            }
            PID_EXT => {
                self.atom()?;
                self.skip(9)
            }
            V4_PORT_EXT => {
                self.atom()?;
                self.skip(12)
            }
            NEW_PORT_EXT => {
                self.atom()?;
                self.skip(8)
            }
            PORT_EXT => {
                self.atom()?;
                self.skip(5)
            }
            NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT => {
                let n = self.u16()? as usize;
                if n == 0 || n > 5 {
                    return Err(DecodeError::Invalid { offset: at, what: "reference length" });
                }
                self.atom()?;
                self.skip(if tag == NEWER_REFERENCE_EXT { 4 } else { 1 })?;
                self.skip(4 * n)
            }
            REFERENCE_EXT => {
                self.atom()?;
                self.skip(5)
            }
            // Only the node that wrote it can interpret the rest; it runs to the end.
            LOCAL_EXT => {
                self.pos = self.input.len();
                Ok(())
            }
            COMPRESSED => Err(DecodeError::Invalid { offset: at, what: "nested compressed term" }),
            _ => Err(DecodeError::UnknownTag { offset: at, tag }),
        }
    }

    fn atom(&mut self) -> Result<(), DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        let (len, utf8) = match tag {
            SMALL_ATOM_UTF8_EXT => (self.u8()? as usize, true),
            ATOM_UTF8_EXT => (self.u16()? as usize, true),
            SMALL_ATOM_EXT => (self.u8()? as usize, false),
            ATOM_EXT => (self.u16()? as usize, false),
            // Cache references exist only inside distribution messages.
            ATOM_CACHE_REF => {
                let index = self.u8()?;
                return Err(DecodeError::AtomCacheMiss { offset: at, index });
            }
            _ => return Err(DecodeError::Invalid { offset: at, what: "atom" }),
        };
        let name = self.take(len)?;
        let too_long = if utf8 && !name.is_ascii() {
            let s = std::str::from_utf8(name)
                .map_err(|_| DecodeError::Invalid { offset: at, what: "UTF-8 in atom" })?;
            s.chars().count() > 255
        } else {
            len > 255
        };
        if too_long {
            return Err(DecodeError::Invalid { offset: at, what: "atom (over 255 characters)" });
        }
        if !(self.atom)(AtomSeen { offset: at, name, utf8 }) {
            return Err(DecodeError::Invalid { offset: at, what: "atom (not an existing atom)" });
        }
        Ok(())
    }

    /// Each term takes at least `min_bytes`, so a count beyond what is left is a lie.
    fn check_count(&self, n: usize, min_bytes: usize) -> Result<(), DecodeError> {
        let left = self.input.len() - self.pos;
        let need = n.saturating_mul(min_bytes);
        if need > left {
            return Err(DecodeError::UnexpectedEof { offset: self.pos, needed: need - left });
        }
        Ok(())
    }

    fn finish(&self) -> Result<(), DecodeError> {
        match self.input.len() - self.pos {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { offset: self.pos, count }),
        }
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

    #[inline]
    fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
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

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
}
