//! Terms across the boundary, in external term format both ways.
//!
//! Inbound (Elixir → engine): the Elixir side encodes with `:erlang.term_to_binary/1` (BEAM's
//! own encoder, a yielding BIF); the bytes go to the engine as they are ([`outbound`]), a large
//! binary without being copied. Outbound (engine → Elixir): BEAM's own `binary_to_term` builds
//! the term in the message's environment on the engine thread ([`build`]), under the handle's
//! atom policy ([`Atoms`]).

use beamlink::process::{Outbound, Payload};
use beamlink::term::{self, DecodeError, Limits, Scanned};
use bytes::Bytes;
use rustler::{Binary, Env, OwnedEnv, Term};

/// Whether terms from the network may create atoms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Atoms {
    /// As distribution does: a connected node is trusted with the atom table.
    Create,
    /// Only atoms that exist already: a term naming a new one is refused as undecodable
    /// (`unknown_atom`), so no peer can fill the atom table.
    Existing,
}

/// Why bytes could not be turned into a term.
#[derive(Debug)]
pub(crate) struct Undecodable {
    pub error: DecodeError,
    /// The error is an atom that does not exist (under [`Atoms::Existing`]).
    pub unknown_atom: bool,
}

impl From<DecodeError> for Undecodable {
    fn from(error: DecodeError) -> Undecodable {
        let unknown_atom = matches!(error, DecodeError::Invalid { what: NOT_EXISTING, .. });
        Undecodable { error, unknown_atom }
    }
}

/// What `term::scan_with` calls an atom its visitor refused.
const NOT_EXISTING: &str = "atom (not an existing atom)";

/// Builds the term `bytes` (version byte first) encodes, in `env`. `bytes` must hold exactly
/// one term.
pub(crate) fn build<'a>(env: Env<'a>, bytes: &[u8], atoms: Atoms) -> Result<Term<'a>, Undecodable> {
    binary_to_term(env, bytes, atoms).ok_or_else(|| why_refused(env, bytes, atoms, &Limits::trusted()))
}

/// BEAM's own decoder; `None` if it refuses the bytes or leaves some over.
fn binary_to_term<'a>(env: Env<'a>, bytes: &[u8], atoms: Atoms) -> Option<Term<'a>> {
    let built = match atoms {
        Atoms::Existing => env.binary_to_term(bytes),
        // SAFETY: `binary_to_term` without the safe flag only differs in creating atoms,
        // which is what this policy asks for; it still checks the bytes.
        Atoms::Create => unsafe { env.binary_to_term_trusted(bytes) },
    };
    built.filter(|(_, used)| *used == bytes.len()).map(|(t, _)| t)
}

/// A received message or reply payload (no version byte) as a term in `env`.
pub(crate) fn payload<'a>(env: Env<'a>, p: &Payload, atoms: Atoms) -> Result<Term<'a>, Undecodable> {
    build(env, &p.to_etf(), atoms)
}

/// An engine term as a term in `env`.
pub(crate) fn engine<'a>(env: Env<'a>, t: &term::Term, atoms: Atoms) -> Result<Term<'a>, Undecodable> {
    build(env, &term::encode(t), atoms)
}

/// An Elixir term as an engine term (pids, references and node names the Elixir side holds).
pub(crate) fn from_elixir(t: Term<'_>) -> Result<term::Term, DecodeError> {
    let bytes = t.to_binary();
    let mut d = term::Decoder::new(bytes.as_slice()).with_limits(Limits::trusted());
    let v = d.versioned_term()?;
    d.finish()?;
    Ok(v)
}

/// Bytes from `:erlang.term_to_binary/1` as something the engine sends. Large ones stay where
/// BEAM put them (held by an owned environment) instead of being copied.
pub(crate) fn outbound(env: Env<'_>, bin: Binary<'_>) -> Result<Outbound, DecodeError> {
    const COPY_BELOW: usize = 64 * 1024;
    if bin.len() < COPY_BELOW {
        return Outbound::etf(Bytes::copy_from_slice(bin.as_slice()));
    }
    let held = OwnedEnv::new();
    let saved = held.save(bin.to_term(env));
    let (ptr, len) = held.run(|e| {
        let b: Binary = saved.load(e).decode().expect("saved a binary");
        (b.as_slice().as_ptr(), b.len())
    });
    Outbound::etf(Bytes::from_owner(HeldBinary { _env: held, ptr, len }))
}

/// A binary kept alive by the owned environment it was saved in.
struct HeldBinary {
    _env: OwnedEnv,
    ptr: *const u8,
    len: usize,
}

// SAFETY: the bytes are immutable and live as long as the environment holding the binary
// term, which this struct owns and never clears; environments may move between threads.
unsafe impl Send for HeldBinary {}
unsafe impl Sync for HeldBinary {}

impl AsRef<[u8]> for HeldBinary {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: see above; `ptr`/`len` describe the saved binary's bytes.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Checks `bytes` against `limits` and builds the term with BEAM's `binary_to_term`, which
/// is faster at building terms than anything outside the VM but checks no limits itself.
/// With `budget`, gives up (`Ok(None)`) before building when the term has more terms than
/// that.
pub(crate) fn decode_limited<'a>(
    env: Env<'a>,
    bytes: &[u8],
    limits: &Limits,
    atoms: Atoms,
    budget: Option<usize>,
) -> Result<Option<Term<'a>>, Undecodable> {
    let scanned = match budget {
        Some(n) => term::scan_within(bytes, limits, n)?,
        None => Some(term::scan(bytes, limits)?),
    };
    let inflated = match scanned {
        None => return Ok(None),
        Some(Scanned::Plain) => None,
        Some(Scanned::Inflated(plain)) => Some(plain),
    };
    let plain = inflated.as_deref().unwrap_or(bytes);
    match binary_to_term(env, plain, atoms) {
        Some(t) => Ok(Some(t)),
        None => Err(why_refused(env, plain, atoms, limits)),
    }
}

/// What `why_refused` says when nothing but BEAM itself objects.
const REFUSED: &str = "term (binary_to_term refused it)";

/// `binary_to_term` says only no: find where and why, for the error's offset.
fn why_refused(env: Env<'_>, bytes: &[u8], atoms: Atoms, limits: &Limits) -> Undecodable {
    if atoms == Atoms::Existing
        && let Err(e) = term::scan_with(bytes, limits, |a| atom_exists(env, a))
    {
        return e.into();
    }
    let mut d = term::Decoder::new(bytes).with_limits(*limits);
    match d.versioned_term().and_then(|_| d.finish()) {
        Err(e) => e.into(),
        Ok(()) => DecodeError::Invalid { offset: 0, what: REFUSED }.into(),
    }
}

/// Whether the atom exists, asked of BEAM itself (a one-atom term decoded in safe mode).
fn atom_exists(env: Env<'_>, a: term::AtomSeen<'_>) -> bool {
    let mut one = Vec::with_capacity(a.name.len() + 4);
    one.push(term::VERSION_MAGIC);
    one.push(if a.utf8 { term::tag::ATOM_UTF8_EXT } else { term::tag::ATOM_EXT });
    one.extend_from_slice(&(a.name.len() as u16).to_be_bytes());
    one.extend_from_slice(a.name);
    env.binary_to_term(&one).is_some()
}
