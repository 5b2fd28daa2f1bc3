//! The one place the bench makes an rpc: beamlink's own `Node::call` (erpc semantics).
//!
//! [`erpc_call`] is the minimal hand-written erpc the bench used before `Node::call` landed. It
//! stays as a baseline row for the echo: it encodes the arguments once, so it shows what
//! `Node::call`'s own argument handling costs on large payloads.

use std::time::Duration;

use beamlink::{Message, Node, Term};

pub async fn call(
    node: &Node,
    target: &str,
    m: &str,
    f: &str,
    args: Vec<Term>,
    timeout: Duration,
) -> Result<Term, String> {
    node.call(target, m, f, Term::List(args), timeout).await.map_err(|e| e.to_string())
}

/// What `erpc:call/5` puts on the wire (notes §6.3): SPAWN_REQUEST of `erpc:execute_call/4`
/// with a monitor; the result is the DOWN reason `{Res, return, V}` and the monitor reference
/// is the request reference.
pub async fn erpc_call(
    node: &Node,
    target: &str,
    m: &str,
    f: &str,
    args: Vec<Term>,
    timeout: Duration,
) -> Result<Term, String> {
    let me = node.spawn_process();
    let res = node.make_ref();
    let req = me
        .spawn_request(
            target,
            "erpc",
            "execute_call",
            Term::list([Term::Reference(res.clone()), Term::atom(m), Term::atom(f), Term::List(args)]),
            &[Term::atom("monitor")],
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    let (_, msg) = me
        .receive_map(timeout, |msg| match msg {
            Message::Down { reference, .. } if *reference == req => Some(()),
            Message::SpawnReply { request, result: Err(_), .. } if *request == req => Some(()),
            _ => None,
        })
        .await
        .ok_or_else(|| format!("{m}:{f} on {target}: timeout"))?;
    match &msg {
        Message::Down { reason, .. } => match reason.as_tuple() {
            Some([r, tag, value]) if *r == Term::Reference(res) && tag.is_atom("return") => Ok(value.clone()),
            _ => Err(format!("{m}:{f} on {target}: {msg:?}")),
        },
        other => Err(format!("{m}:{f} on {target}: {other:?}")),
    }
}
