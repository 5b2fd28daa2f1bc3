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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    match run(bytes, limits, usize::MAX, atom) {
        Ok(s) => Ok(s),
        Err(Stop::Error(e)) => Err(e),
        Err(Stop::Budget) => unreachable!("no budget to run out of"),
    }
}

/// Like [`scan`], giving up (`Ok(None)`) once more than `max_terms` terms have been seen: for
/// a caller that must bound the time it spends here (the Elixir binding scans on a normal
/// scheduler only what is quick to scan, and moves bigger terms to a dirty one).
///
/// ```
/// use beamlink::term::{Limits, Scanned, Term, encode, scan_within};
/// let bytes = encode(&Term::list((0..100).map(|i| Term::from(i * 1000))));
/// assert_eq!(scan_within(&bytes, &Limits::default(), 1000), Ok(Some(Scanned::Plain)));
/// assert_eq!(scan_within(&bytes, &Limits::default(), 50), Ok(None));
/// ```
pub fn scan_within(bytes: &[u8], limits: &Limits, max_terms: usize) -> Result<Option<Scanned>, DecodeError> {
    match run(bytes, limits, max_terms, |_| true) {
        Ok(s) => Ok(Some(s)),
        Err(Stop::Error(e)) => Err(e),
        Err(Stop::Budget) => Ok(None),
    }
}

/// Why a walk stopped early.
enum Stop {
    Error(DecodeError),
    /// More terms than the budget allowed.
    Budget,
}

impl From<DecodeError> for Stop {
    fn from(e: DecodeError) -> Stop {
        Stop::Error(e)
    }
}

fn run(
    bytes: &[u8],
    limits: &Limits,
    budget: usize,
    atom: impl FnMut(AtomSeen<'_>) -> bool,
) -> Result<Scanned, Stop> {
    let mut w = Walker { input: bytes, pos: 0, limits, atom, budget };
    let v = w.u8()?;
    if v != VERSION_MAGIC {
        return Err(DecodeError::BadVersion { offset: 0, found: v }.into());
    }
    if bytes.get(1) != Some(&COMPRESSED) {
        w.walk()?;
        w.finish()?;
        return Ok(Scanned::Plain);
    }
    w.pos = 2;
    let at = w.pos;
    let size = w.u32()? as u64;
    let packed = &bytes[w.pos..];
    let limit =
        (limits.max_decompressed as u64).min((packed.len() as u64).saturating_mul(ZLIB_MAX_RATIO) + 64);
    if size > limit {
        return Err(DecodeError::TooLarge { offset: at, what: "decompressed term", size, limit }.into());
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
        }
        .into());
    }
    let used = w.pos + z.total_in() as usize;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes { offset: used, count: bytes.len() - used }.into());
    }
    let Walker { limits, atom, budget, .. } = w;
    let mut inner = Walker { input: &out[1..], pos: 0, limits, atom, budget };
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
    /// Terms that may still be seen.
    budget: usize,
}

impl<'a, F: FnMut(AtomSeen<'_>) -> bool> Walker<'a, '_, F> {
    /// Walks one term and everything in it. Nesting is counted as the decoder counts it: each
    /// tuple, list (however many `LIST_EXT`s it is split into), map, fun and export is a level.
    fn walk(&mut self) -> Result<(), Stop> {
        let mut open: Vec<Frame> = Vec::new();
        loop {
            if let Some(top) = open.last_mut() {
                self.leaves(top);
                if top.left == 0 {
                    if self.close(&mut open)? {
                        return Ok(());
                    }
                    continue;
                }
            }
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
            self.spend()?;
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
                        return Err(DecodeError::Invalid { offset: arity_at, what: "export arity" }.into());
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
            // A leaf (or an empty container) is complete.
            match open.last_mut() {
                None => return Ok(()),
                Some(top) => {
                    top.left -= 1;
                    if top.left == 0 && self.close(&mut open)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Closes the top container, which holds no more terms, and every container that
    /// completes with it. True when the outermost term is complete.
    fn close(&self, open: &mut Vec<Frame>) -> Result<bool, Stop> {
        loop {
            let done = open.pop().expect("a container to close");
            if let Some((fun_at, end)) = done.fun
                && self.pos != end
            {
                return Err(DecodeError::Invalid { offset: fun_at, what: "fun size" }.into());
            }
            match open.last_mut() {
                None => return Ok(true),
                Some(parent) => {
                    parent.left -= 1;
                    if parent.left > 0 {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Takes a run of the commonest leaves of the open container (small integers, integers,
    /// `[]`, short atoms, binaries) without going round the main loop. Stops at anything else,
    /// at a list's tail (which may continue the list) and at anything malformed, leaving it to
    /// the main loop.
    #[inline(always)]
    fn leaves(&mut self, top: &mut Frame) {
        let keep = top.list as usize;
        while top.left > keep && self.budget > 0 {
            let p = self.pos;
            match self.input.get(p..p + 5) {
                Some([SMALL_INTEGER_EXT, ..]) => self.pos = p + 2,
                Some([INTEGER_EXT, ..]) => self.pos = p + 5,
                Some([NIL_EXT, ..]) => self.pos = p + 1,
                Some([BINARY_EXT, a, b, c, d]) => {
                    let n = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
                    if n > self.input.len() - p - 5 {
                        return;
                    }
                    self.pos = p + 5 + n;
                }
                Some([SMALL_ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT, ..]) => {
                    if self.atom().is_err() {
                        self.pos = p;
                        return;
                    }
                }
                _ => return,
            }
            top.left -= 1;
            self.budget -= 1;
        }
    }

    #[inline(always)]
    fn spend(&mut self) -> Result<(), Stop> {
        if self.budget == 0 {
            return Err(Stop::Budget);
        }
        self.budget -= 1;
        Ok(())
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
