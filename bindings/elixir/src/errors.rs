//! Engine errors as tagged tuples; `Beamlink.Error.from_native/1` turns each kind into its
//! exception struct. A reason or stacktrace that cannot be built under the handle's atom
//! policy turns the whole error into a `decode` error.

use beamlink::handshake::ConnectError;
use beamlink::term::DecodeError;
use beamlink::tls::{TlsError, Whose};
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
        CallError::NoConnection { node, detail, .. } => match e.connect_error() {
            // Connecting failed: keep the typed reason (`:tls` and why, for a TLS handshake).
            Some(cause) => unreachable(env, node, cause),
            None => (atoms::noconnection(), node, detail).encode(env),
        },
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

/// The TLS handshake failure behind a node error, if that is what it is.
pub(crate) fn tls_failure(e: &NodeError) -> Option<&TlsError> {
    match e {
        NodeError::Connect { source: ConnectError::Tls(t), .. } => Some(t),
        _ => None,
    }
}

/// Why a TLS handshake failed, as `Beamlink.NoConnectionError` and `Beamlink.NodeError` carry
/// it in `reason`: `{problem, whose}` for a certificate one side refused (`:theirs`: we
/// refused the peer's; `:ours`: the peer refused ours), a bare atom otherwise.
pub(crate) fn tls_reason<'a>(env: Env<'a>, e: &TlsError) -> Term<'a> {
    let whose = |w: &Whose| match w {
        Whose::Theirs => atoms::theirs(),
        Whose::Ours => atoms::ours(),
    };
    match e {
        TlsError::UnknownCa { whose: w, .. } => (atoms::unknown_ca(), whose(w)).encode(env),
        TlsError::Expired { whose: w, .. } => (atoms::expired(), whose(w)).encode(env),
        TlsError::NotYetValid { whose: w, .. } => (atoms::not_yet_valid(), whose(w)).encode(env),
        TlsError::BadCertificate { whose: w, .. } => (atoms::bad_certificate(), whose(w)).encode(env),
        TlsError::WrongHostName { .. } => atoms::wrong_host_name().encode(env),
        TlsError::NoCertificate { .. } => atoms::no_certificate().encode(env),
        TlsError::NotTls { .. } => atoms::not_tls().encode(env),
        TlsError::Timeout { .. } => atoms::timeout().encode(env),
        TlsError::Refused { .. } => atoms::refused().encode(env),
        TlsError::Failed { .. } => atoms::failed().encode(env),
    }
}

/// A call that could not reach `node`: `{:noconnection, node, message}`, with `:tls` and the
/// reason when the TLS handshake failed.
pub(crate) fn unreachable<'a>(env: Env<'a>, node: &str, e: &NodeError) -> Term<'a> {
    let detail = e.to_string();
    match tls_failure(e) {
        Some(t) => (atoms::noconnection(), node, detail, atoms::tls(), tls_reason(env, t)).encode(env),
        None => (atoms::noconnection(), node, detail).encode(env),
    }
}

/// `{:node, kind, message}` for a failure at the node level (`{:node, :tls, message, reason}`
/// when a TLS handshake failed).
pub(crate) fn node<'a>(env: Env<'a>, e: &NodeError) -> Term<'a> {
    if let Some(t) = tls_failure(e) {
        return (atoms::node(), atoms::tls(), e.to_string(), tls_reason(env, t)).encode(env);
    }
    let kind = match e {
        NodeError::Name(_) => atoms::bad_name(),
        NodeError::Cookie(_) => atoms::bad_cookie(),
        // TLS settings the engine refused (a file missing or unreadable, a key that does not
        // fit the certificate, an optfile option it cannot honour).
        NodeError::Tls(_) => atoms::tls_config(),
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
