//! Encoding terms to the external term format, choosing the tags BEAM's `term_to_binary`
//! chooses so that the bytes match.
//!
//! Defaults follow OTP 26+ and the distribution protocol: UTF-8 atom tags
//! (`SMALL_ATOM_UTF8_EXT`), `V4_PORT_EXT`. [`EncodeOptions::otp25`] reproduces OTP 25's
//! `term_to_binary/1` instead (Latin-1 `ATOM_EXT` where the name allows it, `NEW_PORT_EXT`).

use std::io::Write;

use super::big::Big;
use super::order;
use super::tags::*;
use super::types::{Atom, Pid, Term};

/// How to encode. `minor_version` has the meaning it has in `term_to_binary/2`:
/// 0 writes floats as text (`FLOAT_EXT`), 1 writes Latin-1 atom tags where possible,
/// 2 (the default, as in OTP 26+) writes UTF-8 atom tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    pub minor_version: u8,
    /// zlib level 0..=9 to compress with, as `term_to_binary(T, [{compressed, Level}])`. As
    /// BEAM does, the uncompressed form is kept when compressing does not make it smaller.
    pub compressed: Option<u32>,
    /// Write ports as `V4_PORT_EXT` (OTP 26+) rather than `NEW_PORT_EXT` (OTP 25).
    pub v4_ports: bool,
    /// Sort map keys in term order, as `term_to_binary(T, [deterministic])` does.
    pub deterministic: bool,
}

impl Default for EncodeOptions {
    fn default() -> EncodeOptions {
        EncodeOptions { minor_version: 2, compressed: None, v4_ports: true, deterministic: false }
    }
}

impl EncodeOptions {
    /// What OTP 25's `term_to_binary/1` writes.
    pub fn otp25() -> EncodeOptions {
        EncodeOptions { minor_version: 1, v4_ports: false, ..EncodeOptions::default() }
    }
}

/// Encodes with the version byte 131, like `term_to_binary/1` on OTP 26+.
///
/// ```
/// use beamlink::term::{decode, encode, Term};
/// let t = Term::tuple([Term::atom("ok"), Term::from(42)]);
/// let bytes = encode(&t);
/// assert_eq!(bytes, [131, 104, 2, 119, 2, b'o', b'k', 97, 42]);
/// assert_eq!(decode(&bytes).unwrap(), t);
/// ```
pub fn encode(term: &Term) -> Vec<u8> {
    encode_with(term, &EncodeOptions::default())
}

/// Encodes with the version byte and the given options.
pub fn encode_with(term: &Term, opts: &EncodeOptions) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(VERSION_MAGIC);
    encode_into_with(term, opts, &mut out);
    if let Some(level) = opts.compressed
        && let Some(packed) = compress(&out[1..], level)
    {
        return packed;
    }
    out
}

/// Appends the term without the version byte (the form used after a distribution header).
pub fn encode_into(term: &Term, out: &mut Vec<u8>) {
    encode_into_with(term, &EncodeOptions::default(), out)
}

/// Appends the term without the version byte, with options (compression is ignored here).
pub fn encode_into_with(term: &Term, opts: &EncodeOptions, out: &mut Vec<u8>) {
    Encoder { opts, out, depth: 0 }.term(term)
}

/// Writers of single pieces for code that lays out a tuple itself (the control messages).
pub(crate) mod piece {
    use super::*;
    use crate::term::Reference;

    fn with(out: &mut Vec<u8>, f: impl FnOnce(&mut Encoder<'_>)) {
        f(&mut Encoder { opts: &EncodeOptions::default(), out, depth: 0 })
    }

    pub(crate) fn tuple_header(n: usize, out: &mut Vec<u8>) {
        debug_assert!(n < 256);
        out.extend_from_slice(&[SMALL_TUPLE_EXT, n as u8]);
    }

    pub(crate) fn int(i: i64, out: &mut Vec<u8>) {
        with(out, |e| e.int(i))
    }

    pub(crate) fn atom(a: &Atom, out: &mut Vec<u8>) {
        with(out, |e| e.atom(a))
    }

    pub(crate) fn pid(p: &Pid, out: &mut Vec<u8>) {
        with(out, |e| e.pid(p))
    }

    pub(crate) fn reference(r: &Reference, out: &mut Vec<u8>) {
        with(out, |e| e.reference(r))
    }
}

fn compress(body: &[u8], level: u32) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 2 + 16);
    out.push(VERSION_MAGIC);
    out.push(COMPRESSED);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::new(level.min(9)));
    z.write_all(body).ok()?;
    let out = z.finish().ok()?;
    (out.len() < body.len() + 1).then_some(out)
}

struct Encoder<'o> {
    opts: &'o EncodeOptions,
    out: &'o mut Vec<u8>,
    /// Nesting of the term being written, for [`nested`](super::deep::nested).
    depth: usize,
}

impl Encoder<'_> {
    /// Appends `N` bytes: a capacity check and fixed-size stores, no call.
    #[inline(always)]
    fn put<const N: usize>(&mut self, bytes: [u8; N]) {
        let len = self.out.len();
        if self.out.capacity() - len < N {
            self.grow(N);
        }
        // SAFETY: `N` bytes of spare capacity were just ensured.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.out.as_mut_ptr().add(len), N);
            self.out.set_len(len + N);
        }
    }

    /// Room for `n` more bytes, growing by at least half again (as `Vec` would, out of line).
    #[inline(never)]
    #[cold]
    fn grow(&mut self, n: usize) {
        let more = n.max(self.out.capacity() / 2).max(64);
        self.out.reserve(more);
    }

    #[inline(always)]
    fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    /// The common kinds are dispatched here; the rest live in `rare`, which keeps this
    /// function's frame (entered once per term) small.
    fn term(&mut self, t: &Term) {
        match t {
            Term::Int(i) => self.int(*i),
            Term::Atom(a) => self.atom(a),
            Term::Binary(b) => self.binary(b),
            Term::Tuple(items) => {
                if items.len() < 256 {
                    self.put([SMALL_TUPLE_EXT, items.len() as u8]);
                } else {
                    let n = (items.len() as u32).to_be_bytes();
                    self.put([LARGE_TUPLE_EXT, n[0], n[1], n[2], n[3]]);
                }
                self.items(items);
            }
            Term::List(items) => self.list(items, None),
            Term::Float(f) => self.float(*f),
            Term::Map(pairs) => self.map(pairs),
            _ => self.rare(t),
        }
    }

    /// The elements of a container, one level down: the commonest leaves without a call.
    #[inline(always)]
    fn items(&mut self, items: &[Term]) {
        self.depth += 1;
        for t in items {
            self.element(t);
        }
        self.depth -= 1;
    }

    #[inline(always)]
    fn element(&mut self, t: &Term) {
        match t {
            Term::Int(i) => self.int(*i),
            Term::Atom(a) => self.atom(a),
            _ => self.child(t),
        }
    }

    fn map(&mut self, pairs: &[(Term, Term)]) {
        let n = (pairs.len() as u32).to_be_bytes();
        self.put([MAP_EXT, n[0], n[1], n[2], n[3]]);
        self.depth += 1;
        if self.opts.deterministic {
            let mut sorted: Vec<&(Term, Term)> = pairs.iter().collect();
            sorted.sort_by(|a, b| order::compare(&a.0, &b.0));
            for (k, v) in sorted {
                self.element(k);
                self.element(v);
            }
        } else {
            for (k, v) in pairs {
                self.element(k);
                self.element(v);
            }
        }
        self.depth -= 1;
    }

    #[inline(always)]
    fn binary(&mut self, b: &[u8]) {
        let n = (b.len() as u32).to_be_bytes();
        self.out.reserve(5 + b.len());
        self.put([BINARY_EXT, n[0], n[1], n[2], n[3]]);
        self.bytes(b);
    }

    #[inline(never)]
    fn rare(&mut self, t: &Term) {
        match t {
            Term::Int(_)
            | Term::Atom(_)
            | Term::Binary(_)
            | Term::Tuple(_)
            | Term::List(_)
            | Term::Float(_)
            | Term::Map(_) => self.term(t),
            Term::BigInt(b) => self.bigint(b),
            Term::BitBinary { bytes, bits } => {
                if *bits == 0 || *bits >= 8 || bytes.is_empty() {
                    self.binary(bytes);
                } else {
                    let n = (bytes.len() as u32).to_be_bytes();
                    self.put([BIT_BINARY_EXT, n[0], n[1], n[2], n[3], *bits]);
                    let (last, head) = bytes.split_last().expect("non-empty");
                    self.bytes(head);
                    self.put([last & (0xffu8 << (8 - bits))]);
                }
            }
            Term::ImproperList(items, tail) => self.list(items, Some(tail)),
            Term::Pid(p) => self.pid(p),
            Term::Port(p) => {
                if self.opts.v4_ports || p.id > u32::MAX as u64 {
                    self.put([V4_PORT_EXT]);
                    self.atom(&p.node);
                    self.put(p.id.to_be_bytes());
                } else {
                    self.put([NEW_PORT_EXT]);
                    self.atom(&p.node);
                    self.put((p.id as u32).to_be_bytes());
                }
                self.put(p.creation.to_be_bytes());
            }
            Term::Reference(r) => self.reference(r),
            Term::Fun(f) => {
                self.put([NEW_FUN_EXT]);
                let size_at = self.out.len();
                self.put([0; 4]);
                self.put([f.arity]);
                self.put(f.uniq);
                self.put(f.index.to_be_bytes());
                self.put((f.free_vars.len() as u32).to_be_bytes());
                self.atom(&f.module);
                self.int(f.old_index as i64);
                // BEAM writes OldUniq as a signed 32-bit value.
                self.int(f.old_uniq as i32 as i64);
                self.pid(&f.pid);
                self.depth += 1;
                for v in &f.free_vars {
                    self.child(v);
                }
                self.depth -= 1;
                let size = (self.out.len() - size_at) as u32;
                self.out[size_at..size_at + 4].copy_from_slice(&size.to_be_bytes());
            }
            Term::Export(e) => {
                self.put([EXPORT_EXT]);
                self.atom(&e.module);
                self.atom(&e.function);
                self.put([SMALL_INTEGER_EXT, e.arity]);
            }
            Term::Local(b) => {
                self.put([LOCAL_EXT]);
                self.bytes(b);
            }
        }
    }

    #[inline(always)]
    fn int(&mut self, i: i64) {
        if (0..=255).contains(&i) {
            self.put([SMALL_INTEGER_EXT, i as u8]);
        } else if let Ok(v) = i32::try_from(i) {
            let b = v.to_be_bytes();
            self.put([INTEGER_EXT, b[0], b[1], b[2], b[3]]);
        } else {
            self.int64(i);
        }
    }

    #[inline(never)]
    fn int64(&mut self, i: i64) {
        let mag = i.unsigned_abs();
        let n = 8 - (mag.leading_zeros() / 8) as usize;
        self.put([SMALL_BIG_EXT, n as u8, (i < 0) as u8]);
        self.bytes(&mag.to_le_bytes()[..n]);
    }

    fn bigint(&mut self, b: &Big) {
        if let Ok(i) = i64::try_from(b) {
            return self.int(i);
        }
        if let Some(m) = b.small() {
            let n = 16 - (m.leading_zeros() / 8) as usize;
            self.put([SMALL_BIG_EXT, n as u8, b.is_negative() as u8]);
            let len = self.out.len();
            self.put(m.to_le_bytes());
            // SAFETY: the first `n` of the 16 bytes just written are the magnitude.
            unsafe { self.out.set_len(len + n) };
            return;
        }
        let n = b.magnitude_len();
        if n < 256 {
            self.put([SMALL_BIG_EXT, n as u8, b.is_negative() as u8]);
        } else {
            let len = (n as u32).to_be_bytes();
            self.put([LARGE_BIG_EXT, len[0], len[1], len[2], len[3], b.is_negative() as u8]);
        }
        b.write_magnitude(self.out);
    }

    #[inline(always)]
    fn float(&mut self, f: f64) {
        if self.opts.minor_version == 0 {
            return self.float_text(f);
        }
        let b = f.to_bits().to_be_bytes();
        self.put([NEW_FLOAT_EXT, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    }

    #[inline(never)]
    fn float_text(&mut self, f: f64) {
        self.put([FLOAT_EXT]);
        let text = c_exp20(f);
        let mut field = [0u8; 31];
        let n = text.len().min(31);
        field[..n].copy_from_slice(&text.as_bytes()[..n]);
        self.put(field);
    }

    #[inline(always)]
    fn atom(&mut self, a: &Atom) {
        if self.opts.minor_version >= 2
            && let Some((wire, n)) = a.small_utf8_ext()
        {
            if n <= 16 {
                // Tag, length and a short name in two 8-byte stores; the zeros past `n` are
                // overwritten by what follows (or cut off).
                let len = self.out.len();
                self.put::<16>(wire[..16].try_into().expect("16 bytes"));
                // SAFETY: `len + n <= len + 16`, all written just now.
                unsafe { self.out.set_len(len + n) };
            } else {
                self.bytes(&wire[..n]);
            }
            return;
        }
        self.atom_other(a)
    }

    #[inline(never)]
    fn atom_other(&mut self, a: &Atom) {
        let s = a.as_str();
        if self.opts.minor_version < 2 && s.chars().all(|c| (c as u32) < 256) {
            // Latin-1: one byte per character, always the 2-byte-length tag, as BEAM does.
            self.put([ATOM_EXT]);
            let start = self.out.len();
            self.put([0, 0]);
            for c in s.chars() {
                self.put([c as u32 as u8]);
            }
            let n = (self.out.len() - start - 2) as u16;
            self.out[start..start + 2].copy_from_slice(&n.to_be_bytes());
            return;
        }
        let b = s.as_bytes();
        if b.len() < 256 {
            self.put([SMALL_ATOM_UTF8_EXT, b.len() as u8]);
        } else {
            let n = (b.len().min(u16::MAX as usize) as u16).to_be_bytes();
            self.put([ATOM_UTF8_EXT, n[0], n[1]]);
        }
        self.bytes(&b[..b.len().min(u16::MAX as usize)]);
    }

    fn reference(&mut self, r: &super::types::Reference) {
        let n = (r.ids.len() as u16).to_be_bytes();
        self.put([NEWER_REFERENCE_EXT, n[0], n[1]]);
        self.atom(&r.node);
        self.put(r.creation.to_be_bytes());
        for id in &r.ids {
            self.put(id.to_be_bytes());
        }
    }

    fn pid(&mut self, p: &Pid) {
        self.put([NEW_PID_EXT]);
        self.atom(&p.node);
        let (i, s, c) = (p.id.to_be_bytes(), p.serial.to_be_bytes(), p.creation.to_be_bytes());
        self.put([i[0], i[1], i[2], i[3], s[0], s[1], s[2], s[3], c[0], c[1], c[2], c[3]]);
    }

    /// An element of a container, one level down.
    #[inline(always)]
    fn child(&mut self, t: &Term) {
        let depth = self.depth;
        super::deep::nested(depth, || self.term(t))
    }

    fn list(&mut self, items: &[Term], tail: Option<&Term>) {
        if items.is_empty() {
            match tail {
                None => self.put([NIL_EXT]),
                Some(t) => self.term(t),
            }
            return;
        }
        if tail.is_none() && items.len() <= u16::MAX as usize {
            let bytes = items.iter().all(|t| matches!(t, Term::Int(0..=255)));
            if bytes {
                let n = (items.len() as u16).to_be_bytes();
                self.put([STRING_EXT, n[0], n[1]]);
                self.out.extend(items.iter().map(|t| match t {
                    Term::Int(i) => *i as u8,
                    _ => unreachable!(),
                }));
                return;
            }
        }
        let n = (items.len() as u32).to_be_bytes();
        self.put([LIST_EXT, n[0], n[1], n[2], n[3]]);
        self.items(items);
        self.depth += 1;
        match tail {
            None => self.put([NIL_EXT]),
            Some(t) => self.child(t),
        }
        self.depth -= 1;
    }
}

/// C's `printf("%.20e", f)`, which `FLOAT_EXT` holds.
fn c_exp20(f: f64) -> String {
    let s = format!("{f:.20e}");
    let (mantissa, exp) = s.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}
