//! `Beamlink.Term.decode/2`: `binary_to_term` with limits. The bytes are checked by the
//! engine's `term::scan` (depth, decompressed size, structure, with byte offsets) and then
//! built by BEAM's own `binary_to_term`. Small inputs run on a normal scheduler; the Elixir
//! side sends large or compressed ones to [`decode_dirty`], on a dirty CPU scheduler, so no
//! normal scheduler is held for long.

use beamlink::term::{DecodeError, Limits};
use rustler::{Binary, Encoder, Env, Term};

use crate::atoms;
use crate::errors;
use crate::etf::{self, Atoms};
use crate::guard;

/// `(max_size, max_depth, max_decompressed, existing_atoms)`; `:infinity` arrives as
/// `u64::MAX`.
type Options = (u64, u64, u64, bool);

fn decode_with<'a>(
    env: Env<'a>,
    bin: Binary<'a>,
    (max_size, max_depth, max_decompressed, existing): Options,
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
        match etf::decode_limited(env, bin.as_slice(), &limits, atoms) {
            Ok(t) => (atoms::ok(), t).encode(env),
            Err(u) => errors::error(env, errors::undecodable(env, &u)),
        }
    })
}

#[rustler::nif]
fn decode<'a>(env: Env<'a>, bin: Binary<'a>, opts: Options) -> Term<'a> {
    decode_with(env, bin, opts)
}

#[rustler::nif(schedule = "DirtyCpu")]
fn decode_dirty<'a>(env: Env<'a>, bin: Binary<'a>, opts: Options) -> Term<'a> {
    decode_with(env, bin, opts)
}
