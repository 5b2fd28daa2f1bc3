//! Elixir processes as beamlink processes.
//!
//! A VM that is not distributed has `nonode@nohost` pids, which no remote node can address. An
//! Elixir process that wants to be reachable gets a beamlink process of its own on the node,
//! its *proxy*, created on first use (`Beamlink.pid/1`, `register`, `send`, `link`,
//! `monitor`): a pid of the beamlink node that remote nodes can send to, link to and monitor,
//! and under which names registered through beamlink live. Everything that arrives for the
//! proxy is forwarded to its owner as an ordinary message: a message as it was sent, an exit
//! signal as `{:EXIT, from, reason}`, a monitor's DOWN as `{:DOWN, ref, :process, object,
//! reason}`. Beamlink processes trap exits, so a linked remote's crash reaches the owner as a
//! message and never kills it. The proxy ends when its owner ends: `Beamlink.Node` monitors
//! owners and calls [`proxy_end`] with the owner's exit reason, which links and monitors on
//! the other side then see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamlink::NodeError;
use beamlink::process::{Message, Process};
use beamlink::term::Term as EngineTerm;
use rustler::{Atom, Binary, Encoder, Env, LocalPid, OwnedEnv, ResourceArc, Term};
use tokio::sync::oneshot;

use crate::atoms;
use crate::errors;
use crate::etf::{self, Atoms};
use crate::guard;
use crate::node::NodeRes;
use crate::reply;

/// Monitors of registered names, by reference: the node each name lives on. BEAM names such a
/// monitor's object `{name, node}` in its DOWN; the peer sends only the name.
/// (An async lock: setting a monitor up holds it across the request, so that the forwarder
/// cannot handle the DOWN before the monitor is on record.)
type NamedMonitors = Arc<tokio::sync::Mutex<HashMap<beamlink::term::Reference, String>>>;

/// The beamlink process of one Elixir process.
pub(crate) struct Proxy {
    process: Arc<Process>,
    named: NamedMonitors,
    /// Ends the forwarding task, with the exit reason links and monitors will see.
    stop: Mutex<Option<oneshot::Sender<Option<EngineTerm>>>>,
}

impl Proxy {
    fn end(&self, reason: Option<EngineTerm>) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = stop.send(reason);
        }
    }
}

/// The proxies of a node, by owner.
#[derive(Default)]
pub(crate) struct Proxies {
    by_owner: Mutex<HashMap<LocalPid, Arc<Proxy>>>,
}

impl Proxies {
    fn get(&self, owner: &LocalPid) -> Option<Arc<Proxy>> {
        self.by_owner.lock().unwrap_or_else(|p| p.into_inner()).get(owner).cloned()
    }

    /// Ends every proxy (the node is closing).
    pub(crate) fn end_all(&self) {
        let all: Vec<Arc<Proxy>> =
            self.by_owner.lock().unwrap_or_else(|p| p.into_inner()).drain().map(|(_, p)| p).collect();
        // Each forwarder ends its process once told to stop.
        for p in all {
            p.end(None);
        }
    }
}

/// Forwards what arrives for `process` to `owner` until told to stop, then ends the process
/// with the reason given.
async fn forward(
    process: Arc<Process>,
    owner: LocalPid,
    atoms: Atoms,
    named: NamedMonitors,
    mut stop: oneshot::Receiver<Option<EngineTerm>>,
) {
    let mut msg = OwnedEnv::new();
    let reason = loop {
        tokio::select! {
            r = &mut stop => break r.ok().flatten(),
            m = process.receive() => {
                let Some(mut m) = m else { continue };
                if let Message::Down { reference, object: object @ EngineTerm::Atom(_), .. } = &mut m
                    && let Some(node) = named.lock().await.remove(reference)
                {
                    *object = EngineTerm::tuple([object.take(), EngineTerm::atom(node)]);
                }
                if deliver(&mut msg, &owner, m, atoms).is_err() {
                    break None; // the owner is gone
                }
            }
        }
    };
    // An operation on the process may still hold it (a send waiting for a connection): the
    // process ends when the last holder lets go; with the reason if that is us.
    let mut p = process;
    for _ in 0..1000 {
        match Arc::try_unwrap(p) {
            Ok(proc) => {
                match reason {
                    Some(r) => proc.exit(r),
                    None => drop(proc),
                }
                return;
            }
            Err(shared) => {
                p = shared;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// One arrival as the owner sees it.
fn deliver(
    msg: &mut OwnedEnv,
    owner: &LocalPid,
    m: Message,
    atoms: Atoms,
) -> Result<(), rustler::env::SendError> {
    if matches!(m, Message::SpawnReply { .. }) {
        return Ok(()); // proxies make no spawn requests
    }
    msg.send_and_clear(owner, |e| match arrival(e, &m, atoms) {
        Ok(t) => t,
        Err(u) => (atoms::beamlink_undecodable(), errors::undecodable(e, &u)).encode(e),
    })
}

fn arrival<'a>(e: Env<'a>, m: &Message, atoms: Atoms) -> Result<Term<'a>, etf::Undecodable> {
    Ok(match m {
        Message::Send { payload, .. } => etf::payload(e, payload, atoms)?,
        Message::Exit { from, reason } => {
            let from = etf::engine(e, &EngineTerm::Pid(from.clone()), atoms)?;
            (atoms::exit_tag(), from, etf::engine(e, reason, atoms)?).encode(e)
        }
        Message::Down { reference, object, reason, raw } => {
            let r = etf::engine(e, &EngineTerm::Reference(reference.clone()), atoms)?;
            let reason = match raw {
                Some(p) => etf::payload(e, p, atoms)?,
                None => etf::engine(e, reason, atoms)?,
            };
            let object = etf::engine(e, object, atoms)?;
            (atoms::down_tag(), r, atoms::process(), object, reason).encode(e)
        }
        Message::SpawnReply { .. } => atoms::none().encode(e),
    })
}

/// The beamlink pid of `owner`, creating its proxy if it has none. Called by `Beamlink.Node`,
/// which monitors the owner.
#[rustler::nif]
fn proxy_create<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, owner: LocalPid) -> Term<'a> {
    guard::nif(env, || {
        if res.is_closed() {
            return errors::error(env, errors::closed(env));
        }
        let mut map = res.proxies.by_owner.lock().unwrap_or_else(|p| p.into_inner());
        let proxy = match map.get(&owner) {
            Some(p) => p.clone(),
            None => {
                let process = Arc::new(res.node.spawn_process());
                let named = NamedMonitors::default();
                let (stop, stopped) = oneshot::channel();
                let work = forward(process.clone(), owner, res.atoms, named.clone(), stopped);
                // Detached: it ends when told to stop (or its owner is gone).
                drop(res.rt().spawn(work).on_complete(|_| {}));
                let p = Arc::new(Proxy { process, named, stop: Mutex::new(Some(stop)) });
                map.insert(owner, p.clone());
                p
            }
        };
        drop(map);
        match pid_term(env, &proxy, res.atoms) {
            Ok(t) => (atoms::ok(), t).encode(env),
            Err(u) => errors::error(env, errors::undecodable(env, &u)),
        }
    })
}

fn pid_term<'a>(env: Env<'a>, proxy: &Proxy, atoms: Atoms) -> Result<Term<'a>, etf::Undecodable> {
    // The node's own name: creating its atom is always allowed.
    let _ = Atom::from_str(env, proxy.process.pid().node.as_str());
    etf::engine(env, &EngineTerm::Pid(proxy.process.pid().clone()), atoms)
}

/// The caller's beamlink pid: `{:ok, pid}`, or `:none` when it has no proxy yet.
#[rustler::nif]
fn proxy_lookup<'a>(env: Env<'a>, res: ResourceArc<NodeRes>) -> Term<'a> {
    guard::nif(env, || match res.proxies.get(&env.pid()) {
        Some(p) => match pid_term(env, &p, res.atoms) {
            Ok(t) => (atoms::ok(), t).encode(env),
            Err(u) => errors::error(env, errors::undecodable(env, &u)),
        },
        None => atoms::none().encode(env),
    })
}

/// Ends `owner`'s proxy with `reason` (`:erlang.term_to_binary` of the owner's exit reason).
#[rustler::nif]
fn proxy_end<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, owner: LocalPid, reason: Binary<'a>) -> Term<'a> {
    guard::nif(env, || {
        let proxy = res.proxies.by_owner.lock().unwrap_or_else(|p| p.into_inner()).remove(&owner);
        if let Some(p) = proxy {
            let reason =
                beamlink::term::decode(reason.as_slice()).unwrap_or_else(|_| EngineTerm::atom("normal"));
            p.end(Some(reason));
        }
        atoms::ok().encode(env)
    })
}

/// The caller's proxy, or the error to return.
fn caller_proxy<'a>(env: Env<'a>, res: &NodeRes) -> Result<Arc<Proxy>, Term<'a>> {
    if res.is_closed() {
        return Err(errors::error(env, errors::closed(env)));
    }
    res.proxies.get(&env.pid()).ok_or_else(|| errors::error(env, atoms::none().encode(env)))
}

/// A node-level failure of a message operation: no connection is a `noconnection` error like
/// a call's (with the reason when a TLS handshake failed), anything else a node error.
fn op_error<'a>(env: Env<'a>, e: &NodeError) -> Term<'a> {
    let detail = match e {
        NodeError::Connect { node, .. } | NodeError::NoConnection { node } => {
            errors::unreachable(env, node, e)
        }
        other => errors::node(env, other),
    };
    errors::error(env, detail)
}

/// Registers the caller's proxy under `name` on the beamlink node.
#[rustler::nif]
fn register<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, name: String) -> Term<'a> {
    guard::nif(env, || {
        let proxy = match caller_proxy(env, &res) {
            Ok(p) => p,
            Err(e) => return e,
        };
        match res.node.register(&name, proxy.process.pid()) {
            Ok(()) => atoms::ok().encode(env),
            Err(e) => errors::error(env, errors::node(env, &e)),
        }
    })
}

/// Where a message goes.
enum Dest {
    Pid(beamlink::term::Pid),
    Named { name: String, node: String },
}

fn dest(env: Env<'_>, res: &NodeRes, t: Term<'_>) -> Option<Dest> {
    if t.is_pid() {
        return etf::from_elixir(t).ok()?.as_pid().cloned().map(Dest::Pid);
    }
    if t.is_atom() {
        let name = t.atom_to_string().ok()?;
        return Some(Dest::Named { name, node: res.node.name().as_str().to_string() });
    }
    let (name, node): (Atom, Atom) = t.decode().ok()?;
    let _ = env;
    Some(Dest::Named {
        name: name.to_term(t.get_env()).atom_to_string().ok()?,
        node: node.to_term(t.get_env()).atom_to_string().ok()?,
    })
}

fn bad_argument<'a>(env: Env<'a>, what: &str) -> Term<'a> {
    let detail = (atoms::node(), atoms::invalid(), what);
    errors::error(env, detail.encode(env))
}

/// Sends `msg` (`:erlang.term_to_binary/1` of it) from the caller's proxy to a pid, a
/// `{name, node}` or a name on the beamlink node itself. `:ok` arrives once it is handed to
/// the connection.
#[rustler::nif]
fn send<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, to: Term<'a>, msg: Binary<'a>) -> Term<'a> {
    guard::nif(env, || {
        let proxy = match caller_proxy(env, &res) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let Some(to) = dest(env, &res, to) else {
            return bad_argument(env, "a destination is a pid, an atom or a {name, node} tuple");
        };
        let msg = match etf::outbound(env, msg) {
            Ok(m) => m,
            Err(e) => return errors::error(env, errors::decode(env, &e, false)),
        };
        let p = proxy.process.clone();
        let work = async move {
            match to {
                Dest::Pid(pid) => p.send(&pid, msg).await,
                Dest::Named { name, node } => p.send_named(&node, &name, msg).await,
            }
        };
        let tag = reply::start(env, res.rt(), work, |e, r| match r {
            Ok(()) => atoms::ok().encode(e),
            Err(err) => op_error(e, &err),
        });
        (atoms::ok(), tag).encode(env)
    })
}

fn pid_arg(t: Term<'_>) -> Option<beamlink::term::Pid> {
    etf::from_elixir(t).ok()?.as_pid().cloned()
}

/// Links the caller's proxy to `pid`.
#[rustler::nif]
fn link<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, pid: Term<'a>) -> Term<'a> {
    pid_op(env, &res, pid, |p, pid| Box::pin(async move { p.link(&pid).await }))
}

#[rustler::nif]
fn unlink<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, pid: Term<'a>) -> Term<'a> {
    pid_op(env, &res, pid, |p, pid| Box::pin(async move { p.unlink(&pid).await }))
}

type OpFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), NodeError>> + Send>>;

fn pid_op<'a>(
    env: Env<'a>,
    res: &NodeRes,
    pid: Term<'a>,
    op: impl FnOnce(Arc<Process>, beamlink::term::Pid) -> OpFuture,
) -> Term<'a> {
    guard::nif(env, || {
        let proxy = match caller_proxy(env, res) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let Some(pid) = pid_arg(pid) else { return bad_argument(env, "not a pid") };
        let work = op(proxy.process.clone(), pid);
        let tag = reply::start(env, res.rt(), work, |e, r| match r {
            Ok(()) => atoms::ok().encode(e),
            Err(err) => op_error(e, &err),
        });
        (atoms::ok(), tag).encode(env)
    })
}

/// Monitors a pid or a `{name, node}` from the caller's proxy; `{:ok, ref}` arrives, and
/// later `{:DOWN, ref, :process, object, reason}`.
#[rustler::nif]
fn monitor<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, target: Term<'a>) -> Term<'a> {
    guard::nif(env, || {
        let proxy = match caller_proxy(env, &res) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let Some(target) = dest(env, &res, target) else {
            return bad_argument(env, "a monitor target is a pid or a {name, node} tuple");
        };
        let p = proxy.process.clone();
        let atoms = res.atoms;
        let named = proxy.named.clone();
        let work = async move {
            match target {
                Dest::Pid(pid) => p.monitor(&pid).await,
                Dest::Named { name, node } => {
                    // Connected first, so the lock is held only while the request goes out.
                    p.node().connect(&node).await?;
                    let mut names = named.lock().await;
                    let r = p.monitor_named(&node, &name).await;
                    if let Ok(reference) = &r {
                        names.insert(reference.clone(), node);
                    }
                    r
                }
            }
        };
        let tag = reply::start(env, res.rt(), work, move |e, r| match r {
            Ok(reference) => match etf::engine(e, &EngineTerm::Reference(reference), atoms) {
                Ok(t) => (atoms::ok(), t).encode(e),
                Err(u) => errors::error(e, errors::undecodable(e, &u)),
            },
            Err(err) => op_error(e, &err),
        });
        (atoms::ok(), tag).encode(env)
    })
}

/// Removes a monitor made with [`monitor`]; no DOWN comes for it afterwards.
#[rustler::nif]
fn demonitor<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, reference: Term<'a>) -> Term<'a> {
    guard::nif(env, || {
        let proxy = match caller_proxy(env, &res) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let r = match etf::from_elixir(reference) {
            Ok(EngineTerm::Reference(ref r)) => r.clone(),
            _ => return bad_argument(env, "not a reference"),
        };
        let p = proxy.process.clone();
        let work = async move { p.demonitor(&r).await };
        let tag = reply::start(env, res.rt(), work, |e, r| match r {
            Ok(()) => atoms::ok().encode(e),
            Err(err) => op_error(e, &err),
        });
        (atoms::ok(), tag).encode(env)
    })
}

/// Sends the exit signal `exit(pid, reason)` from the caller's proxy.
#[rustler::nif]
fn exit<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, pid: Term<'a>, reason: Binary<'a>) -> Term<'a> {
    let Ok(reason) = beamlink::term::decode(reason.as_slice()) else {
        return bad_argument(env, "reason is not encoded");
    };
    pid_op(env, &res, pid, move |p, pid| Box::pin(async move { p.exit_signal(&pid, reason).await }))
}

/// The beamlink pid registered under `name` on the node, or `nil`.
#[rustler::nif]
fn whereis<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, name: String) -> Term<'a> {
    guard::nif(env, || match res.node.whereis(&name) {
        Some(pid) => etf::engine(env, &EngineTerm::Pid(pid), res.atoms)
            .unwrap_or_else(|u| errors::error(env, errors::undecodable(env, &u))),
        None => rustler::types::atom::nil().encode(env),
    })
}
