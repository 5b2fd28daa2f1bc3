//! Engine errors as tagged tuples; `Beamlink.Error.from_native/1` turns each kind into its
//! exception struct. A reason or stacktrace that cannot be built under the handle's atom
//! policy turns the whole error into a `decode` error.

use beamlink::term::DecodeError;
use beamlink::{CallError, NodeError};
use rustler::{Atom, Encoder, Env, Term};

use crate::atoms;
use crate::etf::{self, Atoms, Undecodable};

/// `{kind, ...}` for a failed call.
pub(crate) fn call<'a>(env: Env<'a>, e: &CallError, atoms: Atoms) -> Term<'a> {
    match call_terms(env, e, atoms) {
        Ok(t) => t,
        Err(u) => undecodable(env, &u),
    }
}

fn call_terms<'a>(env: Env<'a>, e: &CallError, atoms: Atoms) -> Result<Term<'a>, Undecodable> {
    let t = |x| etf::engine(env, x, atoms);
    Ok(match e {
        CallError::Error { reason, stacktrace } => (atoms::raised(), t(reason)?, t(stacktrace)?).encode(env),
        CallError::Exit { reason, signal } => (atoms::exited(), t(reason)?, *signal).encode(env),
        CallError::Throw { value } => (atoms::thrown(), t(value)?).encode(env),
        CallError::Undef { module, function, arity, stacktrace } => {
            (atoms::undef(), atom(env, module), atom(env, function), *arity, t(stacktrace)?).encode(env)
        }
        CallError::NoConnection { node, detail } => (atoms::noconnection(), node, detail).encode(env),
        CallError::Timeout { node, after } => (atoms::timeout(), node, after.as_millis() as u64).encode(env),
        CallError::SpawnFailed { node, reason } => (atoms::spawn_failed(), node, t(reason)?).encode(env),
        CallError::BadRpc { reason } => (atoms::badrpc(), t(reason)?).encode(env),
        CallError::Decode(d) => decode(env, d, false),
    })
}

/// An atom the caller named itself (a module or function it called), so it may be created.
fn atom(env: Env<'_>, name: &str) -> Atom {
    Atom::from_str(env, name).unwrap_or_else(|_| atoms::undef())
}

/// `{:decode, reason, offset, message}`.
pub(crate) fn decode<'a>(env: Env<'a>, e: &DecodeError, unknown_atom: bool) -> Term<'a> {
    let reason = match e {
        DecodeError::Invalid { .. } if unknown_atom => atoms::unknown_atom(),
        DecodeError::UnexpectedEof { .. } => atoms::truncated(),
        DecodeError::BadVersion { .. } => atoms::bad_version(),
        DecodeError::UnknownTag { .. } => atoms::unknown_tag(),
        DecodeError::Invalid { .. } => atoms::invalid(),
        DecodeError::TooDeep { .. } => atoms::too_deep(),
        DecodeError::TooLarge { .. } => atoms::too_large(),
        DecodeError::AtomCacheMiss { .. } => atoms::atom_cache_ref(),
        DecodeError::Compression { .. } => atoms::compression(),
        DecodeError::TrailingBytes { .. } => atoms::trailing_bytes(),
    };
    (atoms::decode(), reason, e.offset(), e.to_string()).encode(env)
}

pub(crate) fn undecodable<'a>(env: Env<'a>, u: &Undecodable) -> Term<'a> {
    decode(env, &u.error, u.unknown_atom)
}

/// `{:node, kind, message}` for a failure at the node level.
pub(crate) fn node<'a>(env: Env<'a>, e: &NodeError) -> Term<'a> {
    let kind = match e {
        NodeError::Name(_) => atoms::bad_name(),
        // A TLS configuration the engine refused: like a bad cookie, a setting to fix.
        NodeError::Cookie(_) | NodeError::Tls(_) => atoms::bad_cookie(),
        NodeError::Epmd(_) => atoms::epmd(),
        NodeError::Connect { .. } | NodeError::NoConnection { .. } => atoms::noconnection(),
        NodeError::NameInUse { .. } => atoms::name_in_use(),
        NodeError::Listen(_) => atoms::listen(),
        NodeError::Shutdown => atoms::shutdown(),
    };
    (atoms::node(), kind, e.to_string()).encode(env)
}

/// `{:node, :closed, message}`: the handle was closed.
pub(crate) fn closed(env: Env<'_>) -> Term<'_> {
    (atoms::node(), atoms::closed(), "the beamlink node was stopped").encode(env)
}

/// `{:error, detail}`.
pub(crate) fn error<'a>(env: Env<'a>, detail: Term<'a>) -> Term<'a> {
    (atoms::error(), detail).encode(env)
}
