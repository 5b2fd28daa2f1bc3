//! Node handles: a resource holding an engine [`Node`] and a handle on the shared engine
//! runtime (the last handle dropped stops the engine threads), plus ping, the connected
//! nodes, and node up/down events.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use beamlink::cookie::Cookie;
use beamlink::runtime::{Cancel, Runtime};
use beamlink::tls::{TlsConfig, TlsConfigError, TlsVersion};
use beamlink::{Node, NodeEvent};
use rustler::{Atom, Binary, Encoder, Env, LocalPid, Monitor, NifMap, OwnedEnv, Resource, ResourceArc, Term};
use tokio::sync::broadcast::error::RecvError;

use crate::atoms;
use crate::errors;
use crate::etf::Atoms;
use crate::guard;
use crate::process::Proxies;
use crate::reply;

/// The longest wait the engine is asked for (`:infinity` on the Elixir side): far beyond any
/// real call, well within what its timers can represent.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// A timeout in milliseconds from Elixir (`:infinity` arrives as `u64::MAX`).
pub(crate) fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms).min(LONGEST)
}

/// A node handle. Its owner (the `Beamlink.Node` server that started it) is monitored: when
/// it dies the node is closed, whoever still holds the handle.
pub(crate) struct NodeRes {
    pub node: Node,
    /// `Some` until dropped; dropped on a thread of its own (see `Drop`).
    rt: Option<Runtime>,
    pub atoms: Atoms,
    pub proxies: Proxies,
    closed: AtomicBool,
    /// Event subscriptions to stop on close.
    subscriptions: Mutex<Vec<Cancel>>,
}

#[rustler::resource_impl]
impl Resource for NodeRes {
    fn down<'a>(&'a self, _env: Env<'a>, _pid: LocalPid, _mon: Monitor) {
        self.close();
    }
}

impl NodeRes {
    pub fn rt(&self) -> &Runtime {
        self.rt.as_ref().expect("the runtime handle lives until the resource is dropped")
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes every connection, leaves epmd, ends the beamlink processes of Elixir owners and
    /// stops event subscriptions. Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.node.shutdown();
        self.proxies.end_all();
        let subs = std::mem::take(&mut *self.subscriptions.lock().unwrap_or_else(|p| p.into_inner()));
        for s in subs {
            s.cancel();
        }
    }
}

impl Drop for NodeRes {
    fn drop(&mut self) {
        self.close();
        // The resource is freed by a garbage collection on a scheduler thread; if this was
        // the last runtime handle, stopping the engine threads waits for them, which must not
        // happen on a scheduler.
        if let Some(rt) = self.rt.take() {
            let _ = std::thread::Builder::new().name("beamlink-stop".into()).spawn(move || drop(rt));
        }
    }
}

/// How to start a node (a map from `Beamlink.Node`).
#[derive(NifMap)]
pub(crate) struct StartOptions<'a> {
    name: String,
    cookie: Option<Binary<'a>>,
    long_names: bool,
    hidden: bool,
    /// `nil`: outbound only; a port (0 picks one): listen and publish in epmd.
    listen: Option<u16>,
    connect_timeout: u64,
    net_ticktime: u64,
    existing_atoms: bool,
    /// `nil`: plain TCP distribution.
    tls: Option<TlsOptions>,
}

/// TLS distribution settings, as `Beamlink.Node` normalised them: either an OTP
/// `ssl_dist_optfile`, or the PEM files with the few options the engine has setters for.
#[derive(NifMap)]
pub(crate) struct TlsOptions {
    ssl_dist_optfile: Option<String>,
    certfile: Option<String>,
    keyfile: Option<String>,
    cacertfile: Option<String>,
    /// `"tlsv1.2"` / `"tlsv1.3"`; empty: both.
    versions: Vec<String>,
    check_host_name: bool,
    fail_if_no_peer_cert: bool,
}

impl TlsOptions {
    /// Reads the files (on an engine thread: this is file I/O).
    fn load(self) -> Result<TlsConfig, TlsConfigError> {
        if let Some(optfile) = self.ssl_dist_optfile {
            return TlsConfig::from_optfile(optfile);
        }
        let missing = |what: &'static str| TlsConfigError::Missing { what, origin: "the tls options".into() };
        let cert = self.certfile.ok_or_else(|| missing("certfile"))?;
        let ca = self.cacertfile.ok_or_else(|| missing("cacertfile"))?;
        // As in OTP: without a keyfile, the key is read from the certfile.
        let key = self.keyfile.unwrap_or_else(|| cert.clone());
        let mut versions = Vec::new();
        for v in &self.versions {
            versions.push(match v.as_str() {
                "tlsv1.2" => TlsVersion::Tls12,
                "tlsv1.3" => TlsVersion::Tls13,
                other => return Err(TlsConfigError::Invalid(format!("unsupported TLS version {other}"))),
            });
        }
        let mut cfg = TlsConfig::from_pem_files(cert, key, ca)?
            .check_host_name(self.check_host_name)
            .require_client_certificate(self.fail_if_no_peer_cert);
        if !versions.is_empty() {
            cfg = cfg.versions(&versions);
        }
        Ok(cfg)
    }
}

/// Starts a node; the caller (its owner) receives `{:"$beamlink", tag, {:ok, handle}}` or
/// `{:"$beamlink", tag, {:error, {:node, kind, message}}}`.
#[rustler::nif]
fn node_start<'a>(env: Env<'a>, opts: StartOptions<'a>) -> Term<'a> {
    guard::nif(env, || {
        let rt = match Runtime::shared() {
            Ok(rt) => rt,
            Err(e) => {
                let detail =
                    (atoms::node(), atoms::shutdown(), format!("cannot start the engine runtime: {e}"));
                return errors::error(env, detail.encode(env));
            }
        };
        let mut builder = beamlink::Node::builder(opts.name)
            .long_names(opts.long_names)
            .hidden(opts.hidden)
            .connect_timeout(millis(opts.connect_timeout))
            .net_ticktime(millis(opts.net_ticktime));
        if let Some(c) = opts.cookie {
            match std::str::from_utf8(c.as_slice()) {
                Ok(s) => builder = builder.cookie(Cookie::new(s)),
                Err(_) => {
                    let detail = (atoms::node(), atoms::bad_cookie(), "the cookie is not UTF-8 text");
                    return errors::error(env, detail.encode(env));
                }
            }
        }
        if let Some(port) = opts.listen {
            builder = builder.listen(port);
        }
        let atoms = if opts.existing_atoms { Atoms::Existing } else { Atoms::Create };
        let owner = env.pid();
        let handle_rt = rt.clone();
        let tls = opts.tls;
        // Starting may read ~/.erlang.cookie and the TLS files: all of it on an engine thread.
        let start = async move {
            match tls {
                Some(t) => builder.tls(t.load()?).start().await,
                None => builder.start().await,
            }
        };
        let tag = reply::start_on_engine(env, &rt, start, move |e, started| match started {
            Ok(node) => {
                let res = ResourceArc::new(NodeRes {
                    node,
                    rt: Some(handle_rt),
                    atoms,
                    proxies: Proxies::default(),
                    closed: AtomicBool::new(false),
                    subscriptions: Mutex::new(Vec::new()),
                });
                // From an engine thread: no caller environment.
                if res.monitor(None, &owner).is_none() {
                    res.close();
                }
                (atoms::ok(), res).encode(e)
            }
            Err(err) => errors::error(e, errors::node(e, &err)),
        });
        (atoms::ok(), tag).encode(env)
    })
}

/// Closes the node (see [`NodeRes::close`]).
#[rustler::nif]
fn node_close(res: ResourceArc<NodeRes>) -> Atom {
    res.close();
    atoms::ok()
}

/// The node's full name, as an atom.
#[rustler::nif]
fn node_name<'a>(env: Env<'a>, res: ResourceArc<NodeRes>) -> Term<'a> {
    guard::nif(env, || match Atom::from_str(env, res.node.name().as_str()) {
        Ok(a) => a.encode(env),
        Err(_) => atoms::none().encode(env),
    })
}

/// The nodes connected now, sorted.
#[rustler::nif]
fn nodes<'a>(env: Env<'a>, res: ResourceArc<NodeRes>) -> Term<'a> {
    guard::nif(env, || {
        let names: Vec<Atom> =
            res.node.nodes().iter().filter_map(|n| Atom::from_str(env, n.as_str()).ok()).collect();
        names.encode(env)
    })
}

/// `net_adm:ping/1`: the result (`:pong` or `:pang`) arrives as a message.
#[rustler::nif]
fn ping<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, node: String, timeout: u64) -> Term<'a> {
    guard::nif(env, || {
        if res.is_closed() {
            return errors::error(env, errors::closed(env));
        }
        let n = res.node.clone();
        let work = async move { n.ping_timeout(&node, millis(timeout)).await.is_ok() };
        let tag = reply::start(env, res.rt(), work, |e, pong| {
            if pong { atoms::pong() } else { atoms::pang() }.encode(e)
        });
        (atoms::ok(), tag).encode(env)
    })
}

/// Sends node events to `pid` from now on, as `{:"$beamlink_node", :up, node, nil}` and
/// `{:"$beamlink_node", :down, node, reason}`, until the node is closed.
#[rustler::nif]
fn subscribe<'a>(env: Env<'a>, res: ResourceArc<NodeRes>, pid: LocalPid) -> Term<'a> {
    guard::nif(env, || {
        if res.is_closed() {
            return errors::error(env, errors::closed(env));
        }
        let mut events = res.node.subscribe();
        let forward = async move {
            let mut msg = OwnedEnv::new();
            loop {
                let event = match events.recv().await {
                    Ok(ev) => ev,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                };
                let sent = msg.send_and_clear(&pid, |e| {
                    let (kind, node, reason) = match &event {
                        NodeEvent::Up { node } => (atoms::up(), node, None),
                        NodeEvent::Down { node, reason } => (atoms::down(), node, Some(reason.as_str())),
                    };
                    let node = Atom::from_str(e, node.as_str()).unwrap_or_else(|_| atoms::none());
                    (atoms::beamlink_node(), kind, node, reason).encode(e)
                });
                if sent.is_err() {
                    return; // the subscriber is gone
                }
            }
        };
        let cancel = res.rt().spawn(forward).on_complete(|_| {});
        res.subscriptions.lock().unwrap_or_else(|p| p.into_inner()).push(cancel);
        atoms::ok().encode(env)
    })
}
