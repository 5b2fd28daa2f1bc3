//! Remote spawns whose output comes back: `Node.spawn/2,4` from a VM that is not distributed.
//!
//! The engine's group leader serves the spawned process's I/O; its text streams to a small
//! Elixir process (the *forwarder*, started by `Beamlink.spawn`) as
//! `{:"$beamlink_output", pid, text}`, and the exit as `{:"$beamlink_exit", pid, reason}`.
//! The forwarder writes the text to the caller's group leader, so remote output appears on
//! the local console as with `Node.spawn`.

use std::time::Duration;

use beamlink::rpc::{SpawnEvent, SpawnOptions, Spawned};
use beamlink::term::Term as EngineTerm;
use rustler::{Binary, Encoder, Env, LocalPid, OwnedEnv, ResourceArc, Term};

use crate::atoms;
use crate::errors;
use crate::etf::{self, Atoms};
use crate::guard;
use crate::node::{NodeRes, millis};
use crate::reply;

/// Spawns `module:function(args…)` on `node` (an anonymous function is `erlang:apply(Fun,
/// [])`). `{:ok, pid}` arrives once the remote node has spawned it; then the output and the
/// exit go to `forwarder`.
#[rustler::nif]
#[allow(clippy::too_many_arguments)]
fn spawn<'a>(
    env: Env<'a>,
    res: ResourceArc<NodeRes>,
    node: String,
    module: String,
    function: String,
    args_etf: Binary<'a>,
    forwarder: LocalPid,
    timeout: u64,
) -> Term<'a> {
    guard::nif(env, || {
        if res.is_closed() {
            return errors::error(env, errors::closed(env));
        }
        let args = match etf::outbound(env, args_etf) {
            Ok(a) => a,
            Err(e) => return errors::error(env, errors::decode(env, &e, false)),
        };
        let n = res.node.clone();
        let atoms = res.atoms;
        let rt = res.rt().clone();
        let options = SpawnOptions { timeout: millis(timeout), ..SpawnOptions::default() };
        let work = async move { n.spawn(&node, &module, &function, args, options).await };
        let tag = reply::start(env, res.rt(), work, move |e, spawned| match spawned {
            Ok(sp) => match etf::engine(e, &EngineTerm::Pid(sp.pid.clone()), atoms) {
                Ok(pid) => {
                    let stream = stream(sp, forwarder, atoms);
                    rt.spawn(stream).on_complete(|_| {});
                    (atoms::ok(), pid).encode(e)
                }
                Err(u) => errors::error(e, errors::undecodable(e, &u)),
            },
            Err(f) => errors::error(e, errors::call(e, &f, atoms)),
        });
        (atoms::ok(), tag).encode(env)
    })
}

/// Streams output and exit to the forwarder until the process exits or the forwarder is gone.
async fn stream(mut sp: Spawned, to: LocalPid, atoms: Atoms) {
    let mut msg = OwnedEnv::new();
    let pid = EngineTerm::Pid(sp.pid.clone());
    loop {
        let event = match sp.next_event(Duration::from_secs(3600)).await {
            Ok(Some(ev)) => ev,
            Ok(None) => continue,
            // Only when a late monitor cannot be set up: the node is gone.
            Err(_) => SpawnEvent::Exit(EngineTerm::atom("noconnection")),
        };
        let last = matches!(event, SpawnEvent::Exit(_));
        let sent = msg.send_and_clear(&to, |e| {
            let pid = etf::engine(e, &pid, atoms).unwrap_or_else(|_| atoms::none().encode(e));
            match &event {
                SpawnEvent::Output(text) => (atoms::beamlink_output(), pid, text.as_str()).encode(e),
                SpawnEvent::Exit(reason) => {
                    let reason = etf::engine(e, reason, atoms).unwrap_or_else(|u| errors::undecodable(e, &u));
                    (atoms::beamlink_exit(), pid, reason).encode(e)
                }
            }
        });
        if last || sent.is_err() {
            return;
        }
    }
}
