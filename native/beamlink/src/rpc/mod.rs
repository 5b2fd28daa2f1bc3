//! Calling functions on remote BEAM nodes: `erpc` and `rpc` semantics, asynchronous requests,
//! multicalls, remote spawns whose output comes back, a group leader serving the Erlang I/O
//! protocol, and cluster discovery.
//!
//! Every call runs in its own temporary local process, so any number can be in flight on one
//! connection and an abandoned call leaves nothing behind: dropping the process removes its
//! monitors (DEMONITOR_P goes to the peer) and late answers find no mailbox.

mod call;
mod discover;
mod error;
mod eval;
mod io_server;
mod multicall;
mod ping;
mod request;
mod rex;
mod spawn;

pub use error::CallError;
pub use eval::Language;
pub use io_server::{InputRequest, IoServer};
pub use request::RequestId;
pub use spawn::{Output, SpawnEvent, SpawnOptions, Spawned};

use bytes::Bytes;

use crate::term::{self, Term, tag};

/// Encodes `[items…, raw]` where `raw` is an already encoded term (no version byte), so
/// pre-encoded arguments reach the wire without being decoded.
pub(crate) fn list_with_raw(items: &[Term], raw: Bytes) -> crate::process::Outbound {
    let mut v = Vec::with_capacity(64);
    v.push(tag::LIST_EXT);
    v.extend_from_slice(&(items.len() as u32 + 1).to_be_bytes());
    for t in items {
        term::encode_into(t, &mut v);
    }
    // The raw element is passed on as it is: a large argument is never copied here.
    crate::process::Outbound::Parts(vec![Bytes::from(v), raw, Bytes::from_static(&[tag::NIL_EXT])])
}

/// Encodes a small tuple whose elements are already encoded.
pub(crate) fn tuple_of_encoded(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 2);
    v.push(tag::SMALL_TUPLE_EXT);
    v.push(parts.len() as u8);
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

pub(crate) fn enc(t: &Term) -> Vec<u8> {
    let mut v = Vec::new();
    term::encode_into(t, &mut v);
    v
}
