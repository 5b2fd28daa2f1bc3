//! `Beamlink.Term.decode/2`: `binary_to_term` with limits. The NIF checks the bytes with the
//! engine's `term::scan` (depth, decompressed size, structure, byte offsets) without building
//! anything; the Elixir side then builds the term with `:erlang.binary_to_term/2` itself —
//! BEAM's fastest builder, and a BIF that yields on large input, so building never holds a
//! scheduler. Only when BEAM refuses bytes the scan accepted does [`refusal`] look for the
//! reason and its offset.
//!
//! [`check`] runs on a normal scheduler and scans at most [`INLINE_TERMS`] terms there
//! (a few tenths of a millisecond; a binary's bytes are skipped, not read). A bigger or
//! compressed term gets the answer `:dirty`, and the Elixir side calls [`check_dirty`], on a
//! dirty CPU scheduler.

use beamlink::term::{DecodeError, Limits, Scanned};
use rustler::{Binary, Encoder, Env, NewBinary, Term};

use crate::atoms;
use crate::errors;
use crate::etf::{self, Atoms};
use crate::guard;

/// Terms a normal scheduler scans in one call.
const INLINE_TERMS: usize = 50_000;

/// `(max_size, max_depth, max_decompressed, existing_atoms)`; `:infinity` arrives as
/// `u64::MAX`.
type Options = (u64, u64, u64, bool);

fn limits((_, max_depth, max_decompressed, _): Options) -> Limits {
    Limits {
        max_depth: usize::try_from(max_depth).unwrap_or(usize::MAX),
        max_decompressed: usize::try_from(max_decompressed).unwrap_or(usize::MAX),
    }
}

/// `:ok` (the bytes are one acceptable term), `{:ok, plain}` (a compressed one, inflated),
/// `:dirty` (out of budget), or `{:error, {:decode, ...}}`.
fn check_with<'a>(env: Env<'a>, bin: Binary<'a>, opts: Options, budget: Option<usize>) -> Term<'a> {
    guard::nif(env, || {
        let max_size = opts.0;
        if bin.len() as u64 > max_size {
            let e =
                DecodeError::TooLarge { offset: 0, what: "input", size: bin.len() as u64, limit: max_size };
            return errors::error(env, errors::decode(env, &e, false));
        }
        let limits = limits(opts);
        let scanned = match budget {
            Some(n) => beamlink::term::scan_within(bin.as_slice(), &limits, n),
            None => beamlink::term::scan(bin.as_slice(), &limits).map(Some),
        };
        match scanned {
            Ok(None) => atoms::dirty().encode(env),
            Ok(Some(Scanned::Plain)) => atoms::ok().encode(env),
            Ok(Some(Scanned::Inflated(plain))) => {
                let mut out = NewBinary::new(env, plain.len());
                out.as_mut_slice().copy_from_slice(&plain);
                (atoms::ok(), Binary::from(out)).encode(env)
            }
            Err(e) => errors::error(env, errors::undecodable(env, &e.into())),
        }
    })
}

/// Checks a term quick to check here, or answers `:dirty` for [`check_dirty`].
#[rustler::nif]
fn check<'a>(env: Env<'a>, bin: Binary<'a>, opts: Options) -> Term<'a> {
    if bin.as_slice().get(1) == Some(&beamlink::term::tag::COMPRESSED) {
        return atoms::dirty().encode(env); // inflating is not bounded work
    }
    check_with(env, bin, opts, Some(INLINE_TERMS))
}

#[rustler::nif(schedule = "DirtyCpu")]
fn check_dirty<'a>(env: Env<'a>, bin: Binary<'a>, opts: Options) -> Term<'a> {
    check_with(env, bin, opts, None)
}

/// Why `binary_to_term` refused bytes the scan accepted (an atom that does not exist, a
/// duplicate map key, bad float text…): `{:decode, reason, offset, message}`. Rare, and it
/// decodes the whole input to find out, so it runs on a dirty scheduler.
#[rustler::nif(schedule = "DirtyCpu")]
fn refusal<'a>(env: Env<'a>, bin: Binary<'a>, opts: Options) -> Term<'a> {
    guard::nif(env, || {
        let atoms = if opts.3 { Atoms::Existing } else { Atoms::Create };
        let u = etf::why_refused(env, bin.as_slice(), atoms, &limits(opts));
        errors::undecodable(env, &u)
    })
}
