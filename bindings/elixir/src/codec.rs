//! `Beamlink.Term.decode/2`: `binary_to_term` with limits. The bytes are checked by the
//! engine's `term::scan` (depth, decompressed size, structure, with byte offsets) and then
//! built by BEAM's own `binary_to_term`.
//!
//! [`decode`] runs on a normal scheduler and does only work that is quick there: at most
//! [`INLINE_TERMS`] terms in at most [`INLINE_BYTES`] bytes, uncompressed (about half a
//! millisecond on one core). Anything bigger gets the answer `:dirty`, and the Elixir side
//! calls [`decode_dirty`], which runs on a dirty CPU scheduler, so no normal scheduler is held
//! for long whatever the input.

use beamlink::term::{DecodeError, Limits};
use rustler::{Binary, Encoder, Env, Term};

use crate::atoms;
use crate::errors;
use crate::etf::{self, Atoms};
use crate::guard;

/// Terms a normal scheduler scans and builds in one call.
const INLINE_TERMS: usize = 20_000;
/// Bytes a normal scheduler copies in one call (a large binary is one term but a long copy).
const INLINE_BYTES: usize = 2 * 1024 * 1024;

/// `(max_size, max_depth, max_decompressed, existing_atoms)`; `:infinity` arrives as
/// `u64::MAX`.
type Options = (u64, u64, u64, bool);

fn decode_with<'a>(
    env: Env<'a>,
    bin: Binary<'a>,
    (max_size, max_depth, max_decompressed, existing): Options,
    budget: Option<usize>,
) -> Term<'a> {
    guard::nif(env, || {
        if bin.len() as u64 > max_size {
            let e =
                DecodeError::TooLarge { offset: 0, what: "input", size: bin.len() as u64, limit: max_size };
            return errors::error(env, errors::decode(env, &e, false));
        }
        let limits = Limits {
            max_depth: usize::try_from(max_depth).unwrap_or(usize::MAX),
            max_decompressed: usize::try_from(max_decompressed).unwrap_or(usize::MAX),
        };
        let atoms = if existing { Atoms::Existing } else { Atoms::Create };
        match etf::decode_limited(env, bin.as_slice(), &limits, atoms, budget) {
            Ok(Some(t)) => (atoms::ok(), t).encode(env),
            Ok(None) => atoms::dirty().encode(env),
            Err(u) => errors::error(env, errors::undecodable(env, &u)),
        }
    })
}

/// Decodes a small term here, or answers `:dirty` for [`decode_dirty`].
#[rustler::nif]
fn decode<'a>(env: Env<'a>, bin: Binary<'a>, opts: Options) -> Term<'a> {
    let compressed = bin.as_slice().get(1) == Some(&beamlink::term::tag::COMPRESSED);
    if compressed || bin.len() > INLINE_BYTES {
        return atoms::dirty().encode(env);
    }
    decode_with(env, bin, opts, Some(INLINE_TERMS))
}

#[rustler::nif(schedule = "DirtyCpu")]
fn decode_dirty<'a>(env: Env<'a>, bin: Binary<'a>, opts: Options) -> Term<'a> {
    decode_with(env, bin, opts, None)
}
