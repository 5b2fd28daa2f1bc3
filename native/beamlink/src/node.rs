//! The local node: its identity, its processes and registered names, one connection per remote
//! node (opened on demand, reopened after the remote restarts), the routing of every control
//! message, node up/down events, and optionally a listener that makes it a hidden "C node".

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use crate::connection::{
    Connection, ConnectionConfig, ConnectionError, DEFAULT_MAX_MESSAGE, DEFAULT_MAX_QUEUED, Handler,
    Incoming, decode_bare,
};
use crate::control::Control;
use crate::cookie::{Cookie, CookieError};
use crate::epmd::{self, EpmdError, Registration};
use crate::fasthash::{FastMap, FastSet};
use crate::flags::DistFlags;
use crate::guard::{self, Guard};
use crate::handshake::{self, ConnectError, Framing, HandshakeConfig, HandshakeError, Simultaneous};
use crate::mailbox::Mailbox;
use crate::message::{Message, Outbound, Payload};
use crate::name::{NameError, NodeName};
use crate::registry::{Monitor, RegisterError, Registry, Spawning, Watcher};
use crate::term::{Atom, Pid, Reference, Term};
use crate::tls::{TlsConfig, TlsConfigError};
use crate::transport::Transport;

/// What to spawn, for [`Node::spawn_request`].
pub(crate) struct SpawnSpec<'a> {
    pub module: Atom,
    pub function: Atom,
    pub args: Outbound,
    pub options: &'a [Term],
    pub group_leader: Pid,
    /// A successful reply stays out of the mailbox (the caller waits for the DOWN only).
    pub quiet: bool,
}

/// Placeholder target of a spawn monitor until the spawn reply names the process.
const SPAWN_PENDING: &str = "$beamlink_spawn_pending";

/// The length of an encoded list without decoding it (the `Arity` of a spawn request is not
/// checked by OTP, so a cheap answer is enough; 0 for anything but a list).
fn list_len_hint(bytes: &[u8]) -> u32 {
    match bytes {
        [108, a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
        [107, a, b, ..] => u16::from_be_bytes([*a, *b]) as u32,
        _ => 0,
    }
}

/// What can go wrong at the node level. Every variant names the node or name concerned.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("invalid node name: {0}")]
    Name(#[from] NameError),
    #[error(transparent)]
    Cookie(#[from] CookieError),
    #[error(transparent)]
    Epmd(#[from] EpmdError),
    #[error("cannot connect to {node}: {source}")]
    Connect {
        node: String,
        #[source]
        source: ConnectError,
    },
    #[error("no connection to {node}")]
    NoConnection { node: String },
    #[error("the name {name} is already registered")]
    NameInUse { name: String },
    #[error("cannot listen: {0}")]
    Listen(std::io::Error),
    #[error("TLS settings: {0}")]
    Tls(#[from] TlsConfigError),
    #[error("the node has shut down")]
    Shutdown,
}

/// Node up/down notifications (`net_kernel:monitor_nodes/1`).
#[derive(Debug, Clone, PartialEq)]
pub enum NodeEvent {
    Up { node: Atom },
    Down { node: Atom, reason: String },
}

/// How to build a [`Node`].
#[derive(Debug, Clone)]
pub struct NodeBuilder {
    name: String,
    long_names: bool,
    cookie: Option<Cookie>,
    hidden: bool,
    listen: Option<u16>,
    bind: Option<IpAddr>,
    net_ticktime: Duration,
    connect_timeout: Duration,
    handshake_timeout: Duration,
    max_handshakes: usize,
    max_message: usize,
    max_queued: usize,
    allow: Option<Vec<String>>,
    flags: DistFlags,
    tls: Option<TlsConfig>,
}

impl NodeBuilder {
    /// The cookie to use (default: `~/.erlang.cookie`, as `erl` reads it).
    pub fn cookie(mut self, cookie: impl Into<Cookie>) -> Self {
        self.cookie = Some(cookie.into());
        self
    }

    /// Long names (`name@host.domain`, like `erl -name`) instead of short ones.
    pub fn long_names(mut self, yes: bool) -> Self {
        self.long_names = yes;
        self
    }

    /// Visible instead of hidden (default hidden, like a C node).
    pub fn hidden(mut self, yes: bool) -> Self {
        self.hidden = yes;
        self
    }

    /// Accept connections on `port` (0 picks one) and publish the name in epmd.
    pub fn listen(mut self, port: u16) -> Self {
        self.listen = Some(port);
        self
    }

    /// OTP's `net_ticktime` (default 60 s): ticks go out every quarter of it, and a peer silent
    /// for longer is disconnected.
    pub fn net_ticktime(mut self, t: Duration) -> Self {
        self.net_ticktime = t;
        self
    }

    /// Limit for connecting and each handshake step (default 7 s, OTP's `net_setuptime`).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// The address to listen on (OTP's `inet_dist_use_interface`). The default is every
    /// address, IPv4 and IPv6 (`::` with IPv4-mapped addresses, so nodes of
    /// `-proto_dist inet_tcp` and `inet6_tcp` both reach us; `0.0.0.0` where the host has no
    /// IPv6). An address given here is bound as the system binds it: `0.0.0.0` is IPv4 only,
    /// `::1` the IPv6 loopback only.
    pub fn bind(mut self, addr: IpAddr) -> Self {
        self.bind = Some(addr);
        self
    }

    /// As a listening node: a peer must finish its whole handshake within this time from the
    /// moment it connects, or be dropped (default 7 s).
    pub fn handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = t;
        self
    }

    /// As a listening node: handshakes that may run at once (default
    /// [`guard::DEFAULT_MAX_HANDSHAKES`]); connections past it are closed at once.
    pub fn max_handshakes(mut self, n: usize) -> Self {
        self.max_handshakes = n;
        self
    }

    /// Largest message accepted from a peer, and the bound on its fragmented messages in
    /// progress together (default [`DEFAULT_MAX_MESSAGE`], 512 MiB). A peer announcing more is
    /// disconnected before the memory is taken.
    pub fn max_message(mut self, bytes: usize) -> Self {
        self.max_message = bytes;
        self
    }

    /// Bytes that may wait for a peer that does not read before its connection is closed
    /// (default [`DEFAULT_MAX_QUEUED`], 1 GiB).
    pub fn max_queued(mut self, bytes: usize) -> Self {
        self.max_queued = bytes;
        self
    }

    /// As a listening node: let only these peers in (`net_kernel:allow/1`); others are
    /// answered `not_allowed`.
    pub fn allow<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.allow = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Capability flags to offer (default [`DistFlags::beamlink_default`]).
    pub fn flags(mut self, flags: DistFlags) -> Self {
        self.flags = flags;
        self
    }

    /// TLS distribution, as OTP's `-proto_dist inet_tls`: every connection, made or accepted,
    /// runs in TLS with these settings (see [`crate::tls`]). The PEM files a node already has
    /// are one call away:
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), beamlink::NodeError> {
    /// use beamlink::{Node, tls::TlsConfig};
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem", "ca.pem")?;
    /// let node = Node::builder("hoge@localhost").tls(tls).start().await?;
    /// # Ok(()) }
    /// ```
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    pub async fn start(self) -> Result<Node, NodeError> {
        let name = if self.name.contains('@') {
            let kind =
                if self.long_names { crate::name::NameKind::Long } else { crate::name::NameKind::Short };
            NodeName::parse(&self.name, kind)?
        } else if self.long_names {
            NodeName::local_long(&self.name)?
        } else {
            NodeName::local_short(&self.name)?
        };
        let cookie = match self.cookie {
            Some(c) => c,
            None => Cookie::from_home()?,
        };
        let tls = self.tls.as_ref().map(TlsConfig::context).transpose()?;
        if self.listen.is_some() && tls.as_ref().is_some_and(|t| !t.accepts()) {
            return Err(TlsConfigError::Invalid(
                "a listening TLS node needs a server certificate and key".into(),
            )
            .into());
        }
        let mut listener = None;
        let mut registration = None;
        // Outside epmd, creation only has to differ between incarnations: pick one at random.
        let mut creation = rand::random::<u32>() | 4;
        if let Some(port) = self.listen {
            let (l, reg) = bind_and_publish(self.bind, &name.alive, port, self.hidden).await?;
            creation = reg.creation();
            registration = Some(reg);
            listener = Some(l);
        }
        let mut hs = HandshakeConfig::new(name.clone(), cookie, creation);
        hs.flags = self.flags;
        hs.hidden = self.hidden;
        hs.timeout = self.connect_timeout;
        hs.allow = self.allow.map(|a| Arc::new(a.into_iter().collect()));
        hs.tls = tls;
        let (events, _) = broadcast::channel(256);
        let inner = Arc::new(Inner {
            name: Atom::new(name.to_string()),
            creation,
            handshake: hs,
            conn_cfg: ConnectionConfig {
                net_ticktime: self.net_ticktime,
                max_message: self.max_message,
                max_queued: self.max_queued,
            },
            guard: Guard::new(self.max_handshakes),
            bind: self.bind,
            handshake_timeout: self.handshake_timeout,
            next_ref: AtomicU64::new(1),
            next_unlink: AtomicU64::new(1),
            registry: Registry::new(),
            conns: Mutex::default(),
            connecting: Mutex::default(),
            events,
            registration: Mutex::new(registration),
            cancelled_spawns: Mutex::default(),
        });
        let node = Node { inner };
        if let Some(l) = listener {
            let weak = Arc::downgrade(&node.inner);
            tokio::spawn(accept_loop(l, weak));
        }
        Ok(node)
    }
}

/// A beamlink node: a peer in a BEAM cluster. Cheap to clone and safe to share across tasks
/// and threads; all clones are the same node.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use beamlink::Node;
/// let node = Node::builder("hoge").cookie("mycookie").start().await?;
/// if node.ping("fuga@localhost").await {
///     println!("pong; connected to {:?}", node.nodes());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Node({})", self.inner.name.as_str())
    }
}

pub(crate) struct Inner {
    name: Atom,
    creation: u32,
    handshake: HandshakeConfig,
    conn_cfg: ConnectionConfig,
    guard: Guard,
    bind: Option<IpAddr>,
    handshake_timeout: Duration,
    next_ref: AtomicU64,
    next_unlink: AtomicU64,
    /// The local processes and their names.
    registry: Registry,
    conns: Mutex<FastMap<Atom, Connection>>,
    connecting: Mutex<FastMap<Atom, Arc<tokio::sync::Mutex<()>>>>,
    events: broadcast::Sender<NodeEvent>,
    registration: Mutex<Option<Registration>>,
    /// Spawn requests cancelled before their reply came: the process the reply names is
    /// killed on arrival.
    cancelled_spawns: Mutex<FastSet<Reference>>,
}

impl Node {
    /// Starts building a node called `name` (`"hoge"` → `hoge@<this host>`, or a full
    /// `"hoge@localhost"`).
    pub fn builder(name: impl Into<String>) -> NodeBuilder {
        NodeBuilder {
            name: name.into(),
            long_names: false,
            cookie: None,
            hidden: true,
            listen: None,
            bind: None,
            net_ticktime: Duration::from_secs(60),
            connect_timeout: handshake::DEFAULT_TIMEOUT,
            handshake_timeout: handshake::DEFAULT_TIMEOUT,
            max_handshakes: guard::DEFAULT_MAX_HANDSHAKES,
            max_message: DEFAULT_MAX_MESSAGE,
            max_queued: DEFAULT_MAX_QUEUED,
            allow: None,
            flags: DistFlags::beamlink_default(),
            tls: None,
        }
    }

    /// This node's full name, `alive@host`.
    pub fn name(&self) -> &Atom {
        &self.inner.name
    }

    pub fn creation(&self) -> u32 {
        self.inner.creation
    }

    /// The port this node listens on when it was built with [`NodeBuilder::listen`].
    pub fn port(&self) -> Option<u16> {
        self.inner.registration.lock().unwrap().as_ref().map(|r| r.port())
    }

    /// Starts accepting connections on `port` (0 picks one) and publishes the name in epmd, on
    /// a node built without [`NodeBuilder::listen`]; returns the port. A node that already
    /// listens returns its port. The node keeps the creation it started with, so the pids it
    /// handed out stay valid (epmd's creation matters only to nodes that take it as theirs).
    ///
    /// Publishing late lets a short-lived client make its epmd registration while it
    /// connects to its peer instead of before:
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), beamlink::NodeError> {
    /// let node = beamlink::Node::builder("hoge").cookie("secret").start().await?;
    /// let (port, conn) = tokio::join!(node.listen(0), node.connect("fuga@localhost"));
    /// println!("reachable on {}, connected: {}", port?, conn.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn listen(&self, port: u16) -> Result<u16, NodeError> {
        if let Some(p) = self.port() {
            return Ok(p);
        }
        let hs = &self.inner.handshake;
        let (listener, reg) = bind_and_publish(self.inner.bind, &hs.name.alive, port, hs.hidden).await?;
        let port = reg.port();
        {
            let mut slot = self.inner.registration.lock().unwrap();
            if let Some(other) = slot.as_ref() {
                // A concurrent call won; ours is dropped, which leaves epmd again.
                return Ok(other.port());
            }
            *slot = Some(reg);
        }
        tokio::spawn(accept_loop(listener, Arc::downgrade(&self.inner)));
        Ok(port)
    }

    /// Connected nodes (`nodes(connected)`).
    pub fn nodes(&self) -> Vec<Atom> {
        let mut v: Vec<Atom> = self.inner.conns.lock().unwrap().keys().cloned().collect();
        v.sort();
        v
    }

    /// Local processes alive now (each with its mailbox): what a leak would make grow. Every
    /// call, ping and spawn uses one for its duration.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) {
    /// let before = node.process_count();
    /// let _ = node.ping("fuga@localhost").await;
    /// assert_eq!(node.process_count(), before);
    /// # }
    /// ```
    pub fn process_count(&self) -> usize {
        self.inner.registry.len()
    }

    /// Node up/down events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.inner.events.subscribe()
    }

    /// A new local process's pid and mailbox (the [`Process`](crate::Process) handle is built
    /// on it by [`spawn_process`](Self::spawn_process)).
    pub(crate) fn new_process(&self) -> (Pid, Arc<Mailbox>) {
        let (id, mailbox) = self.inner.registry.spawn();
        (self.inner.local_pid(id), mailbox)
    }

    /// A new unique reference of this node.
    pub fn make_ref(&self) -> Reference {
        let n = self.inner.next_ref.fetch_add(1, Ordering::Relaxed);
        Reference {
            node: self.inner.name.clone(),
            creation: self.inner.creation,
            ids: vec![(n & 0x3ffff) as u32, (n >> 18) as u32, (n >> 50) as u32 ^ rand::random::<u32>()],
        }
    }

    /// Connects to `node` unless already connected. Concurrent calls share one attempt.
    pub async fn connect(&self, node: &str) -> Result<Connection, NodeError> {
        let key = Atom::new(node);
        if let Some(c) = self.live_connection(&key) {
            return Ok(c);
        }
        let gate = {
            let mut g = self.inner.connecting.lock().unwrap();
            g.entry(key.clone()).or_default().clone()
        };
        let _held = gate.lock().await;
        if let Some(c) = self.live_connection(&key) {
            return Ok(c);
        }
        let peer = NodeName::parse_any(node)?;
        match handshake::connect(&self.inner.handshake, &peer).await {
            Ok((stream, negotiated)) => {
                Ok(self.inner.adopt(stream, Atom::new(&negotiated.peer_name), negotiated.flags))
            }
            // Both sides connected at once and the peer's attempt won (it answered `nok`): the
            // connection is the one our listener is accepting; wait for it.
            Err(ConnectError::Handshake { source: HandshakeError::Refused { .. }, .. })
                if self.inner.registration.lock().unwrap().is_some() =>
            {
                // Subscribe first, then look: an Up that lands in between is not missed.
                let mut events = self.inner.events.subscribe();
                let accepted = async {
                    loop {
                        if let Some(c) = self.live_connection(&key) {
                            return Some(c);
                        }
                        if let Err(broadcast::error::RecvError::Closed) = events.recv().await {
                            return None;
                        }
                    }
                };
                tokio::time::timeout(self.inner.handshake.timeout, accepted)
                    .await
                    .ok()
                    .flatten()
                    .ok_or_else(|| NodeError::NoConnection { node: node.to_string() })
            }
            Err(source) => Err(NodeError::Connect { node: node.to_string(), source }),
        }
    }

    fn live_connection(&self, node: &Atom) -> Option<Connection> {
        self.inner.conns.lock().unwrap().get(node).filter(|c| !c.is_closed()).cloned()
    }

    /// Closes the connection to `node` (`erlang:disconnect_node/1`).
    pub fn disconnect(&self, node: &str) -> bool {
        match self.inner.conns.lock().unwrap().get(&Atom::new(node)) {
            Some(c) => {
                c.close();
                true
            }
            None => false,
        }
    }

    /// Closes every connection and leaves epmd. Processes stay usable for local messages.
    pub fn shutdown(&self) {
        let conns: Vec<Connection> = self.inner.conns.lock().unwrap().values().cloned().collect();
        for c in conns {
            c.close();
        }
        self.inner.registration.lock().unwrap().take();
    }

    /// Registers `pid` (a local process) under `name`.
    pub fn register(&self, name: &str, pid: &Pid) -> Result<(), NodeError> {
        let name = Atom::new(name);
        let no_process = || NodeError::NoConnection { node: pid.node.as_str().to_string() };
        if pid.node != self.inner.name {
            return Err(no_process());
        }
        match self.inner.registry.register(name.clone(), pid.id) {
            Ok(()) => Ok(()),
            Err(RegisterError::NameInUse) => Err(NodeError::NameInUse { name: name.as_str().to_string() }),
            Err(RegisterError::NoProcess) => Err(no_process()),
        }
    }

    /// The local pid registered under `name`.
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        let id = self.inner.registry.whereis(&Atom::new(name))?;
        Some(self.inner.local_pid(id))
    }

    fn is_local(&self, pid: &Pid) -> bool {
        pid.node == self.inner.name && pid.creation == self.inner.creation
    }

    pub(crate) async fn send_from(
        &self,
        from: Option<&Pid>,
        to: &Pid,
        msg: Outbound,
    ) -> Result<(), NodeError> {
        if self.is_local(to) {
            let payload = Payload(msg.into_bytes());
            self.inner.registry.deliver(to.id, Message::Send { from: from.cloned(), payload });
            return Ok(());
        }
        let conn = self.connect(to.node.as_str()).await?;
        let control = Control::Send { from: from.cloned(), to: to.clone() };
        conn.send_parts(&control, msg.into_parts())
            .map_err(|_| NodeError::NoConnection { node: to.node.as_str().to_string() })
    }

    pub(crate) async fn send_named_from(
        &self,
        from: &Pid,
        node: &str,
        name: &Atom,
        msg: Outbound,
    ) -> Result<(), NodeError> {
        if node == self.inner.name.as_str() {
            if let Some(id) = self.inner.registry.whereis(name) {
                self.inner.registry.deliver(
                    id,
                    Message::Send { from: Some(from.clone()), payload: Payload(msg.into_bytes()) },
                );
            }
            return Ok(());
        }
        let conn = self.connect(node).await?;
        conn.send_parts(&Control::RegSend { from: from.clone(), to: name.clone() }, msg.into_parts())
            .map_err(|_| NodeError::NoConnection { node: node.to_string() })
    }

    /// Sends a message to a pid without a sender process.
    pub async fn send(&self, to: &Pid, msg: impl Into<Outbound>) -> Result<(), NodeError> {
        self.send_from(None, to, msg.into()).await
    }

    pub(crate) async fn link(&self, us: &Pid, them: &Pid) -> Result<(), NodeError> {
        if !self.inner.registry.with(us.id, |p| p.links.insert(them.clone())).unwrap_or(false) {
            return Ok(());
        }
        if self.is_local(them) {
            let alive = self.inner.registry.with(them.id, |p| {
                p.links.insert(us.clone());
            });
            if alive.is_none() {
                self.inner.registry.with(us.id, |p| p.links.remove(them));
                self.inner
                    .registry
                    .deliver(us.id, Message::Exit { from: them.clone(), reason: Term::atom("noproc") });
            }
            return Ok(());
        }
        let conn = self.connect(them.node.as_str()).await?;
        conn.send(&Control::Link { from: us.clone(), to: them.clone() }, None)
            .map_err(|_| NodeError::NoConnection { node: them.node.as_str().to_string() })
    }

    pub(crate) async fn unlink(&self, us: &Pid, them: &Pid) -> Result<(), NodeError> {
        if !self.inner.registry.with(us.id, |p| p.links.remove(them)).unwrap_or(false) {
            return Ok(());
        }
        if self.is_local(them) {
            self.inner.registry.with(them.id, |p| p.links.remove(us));
            return Ok(());
        }
        // OTP 26+ speaks only the UNLINK_ID protocol; the old UNLINK kills OTP 28 connections.
        let id = self.inner.next_unlink.fetch_add(1, Ordering::Relaxed);
        let conn = self.connect(them.node.as_str()).await?;
        conn.send(&Control::UnlinkId { id, from: us.clone(), to: them.clone() }, None)
            .map_err(|_| NodeError::NoConnection { node: them.node.as_str().to_string() })
    }

    pub(crate) async fn monitor(&self, us: &Pid, target: Term, node: &Atom) -> Result<Reference, NodeError> {
        let reference = self.make_ref();
        if node == &self.inner.name {
            let id = match &target {
                Term::Pid(p) => Some(p.id),
                Term::Atom(a) => self.inner.registry.whereis(a),
                _ => None,
            };
            let ok = id.and_then(|id| {
                self.inner.registry.with(id, |p| {
                    p.watchers.push(Watcher {
                        reference: reference.clone(),
                        watcher: us.clone(),
                        object: target.clone(),
                    })
                })
            });
            if ok.is_none() {
                self.inner.registry.deliver(
                    us.id,
                    Message::Down {
                        reference: reference.clone(),
                        object: target,
                        reason: Term::atom("noproc"),
                        raw: None,
                    },
                );
            } else {
                self.inner.registry.with(us.id, |p| {
                    p.monitors.push(Monitor { reference: reference.clone(), node: node.clone(), target })
                });
            }
            return Ok(reference);
        }
        let conn = self.connect(node.as_str()).await?;
        self.inner.registry.with(us.id, |p| {
            p.monitors.push(Monitor {
                reference: reference.clone(),
                node: node.clone(),
                target: target.clone(),
            })
        });
        conn.send(&Control::Monitor { from: us.clone(), target, reference: reference.clone() }, None)
            .map_err(|_| NodeError::NoConnection { node: node.as_str().to_string() })?;
        Ok(reference)
    }

    pub(crate) async fn demonitor(&self, us: &Pid, reference: &Reference) -> Result<(), NodeError> {
        let Some(Some(Monitor { node, target, .. })) =
            self.inner.registry.with(us.id, |p| p.monitors.take(|m| m.reference == *reference))
        else {
            return Ok(());
        };
        if target.is_atom(SPAWN_PENDING) {
            // The spawn reply has not come: there is no pid to name yet. Dropping our record is
            // enough; the DOWN that may still come finds no monitor and is ignored.
            return Ok(());
        }
        if node == self.inner.name {
            if let Term::Pid(p) = &target {
                self.inner.registry.with(p.id, |e| e.watchers.retain(|w| w.reference != *reference));
            }
            return Ok(());
        }
        if let Some(conn) = self.live_connection(&node) {
            let _ = conn
                .send(&Control::Demonitor { from: us.clone(), target, reference: reference.clone() }, None);
        }
        Ok(())
    }

    pub(crate) async fn exit2(&self, us: &Pid, to: &Pid, reason: Term) -> Result<(), NodeError> {
        if self.is_local(to) {
            self.inner.registry.deliver(to.id, Message::Exit { from: us.clone(), reason });
            return Ok(());
        }
        let conn = self.connect(to.node.as_str()).await?;
        conn.send_term(&Control::Exit2 { from: us.clone(), to: to.clone(), reason: None }, &reason)
            .map_err(|_| NodeError::NoConnection { node: to.node.as_str().to_string() })
    }

    pub(crate) async fn spawn_request(
        &self,
        us: &Pid,
        node: &Atom,
        req: SpawnSpec<'_>,
    ) -> Result<Reference, NodeError> {
        let SpawnSpec { module, function, args, options, group_leader, quiet } = req;
        let args = args.into_parts();
        let arity = args.first().map_or(0, |a| list_len_hint(a));
        let conn = self.connect(node.as_str()).await?;
        let req_id = self.make_ref();
        let monitored = options.iter().any(|o| o.is_atom("monitor"));
        self.inner.registry.with(us.id, |p| {
            p.spawning.push(Spawning { request: req_id.clone(), node: node.clone(), quiet });
            if monitored {
                // The DOWN for a spawn monitor carries the request reference.
                let target = Term::atom(SPAWN_PENDING);
                p.monitors.push(Monitor { reference: req_id.clone(), node: node.clone(), target });
            }
        });
        let control = Control::SpawnRequest {
            req_id: req_id.clone(),
            from: us.clone(),
            group_leader,
            mfa: (module, function, arity),
            options: Term::List(options.to_vec()),
        };
        conn.send_parts(&control, args)
            .map_err(|_| NodeError::NoConnection { node: node.as_str().to_string() })?;
        Ok(req_id)
    }

    /// Stops what spawn request `req` of process `us` started, without waiting: the monitor
    /// is removed and the spawned process gets exit signal `kill`. When the spawn reply has
    /// not come yet, the process it names is killed on arrival.
    pub(crate) fn cancel_spawn(&self, us: &Pid, req: &Reference) {
        let Some((monitor, _)) = self.inner.registry.with(us.id, |p| {
            (p.monitors.take(|m| m.reference == *req), p.spawning.take(|s| s.request == *req))
        }) else {
            return;
        };
        match &monitor {
            Some(Monitor { node, target: Term::Pid(target), .. }) => {
                if let Some(c) = self.live_connection(node) {
                    let demonitor = Control::Demonitor {
                        from: us.clone(),
                        target: Term::Pid(target.clone()),
                        reference: req.clone(),
                    };
                    let _ = c.send(&demonitor, None);
                    let kill = Control::Exit2 { from: us.clone(), to: target.clone(), reason: None };
                    let _ = c.send_term(&kill, &Term::atom("kill"));
                }
            }
            _ => {
                self.inner.cancelled_spawns.lock().unwrap().insert(req.clone());
            }
        }
    }

    pub(crate) fn process_ended(&self, pid: &Pid, reason: Term) {
        let Some(entry) = self.inner.registry.remove(pid.id) else { return };
        for other in entry.links {
            if self.is_local(&other) {
                self.inner.registry.with(other.id, |p| p.links.remove(pid));
                self.inner
                    .registry
                    .deliver(other.id, Message::Exit { from: pid.clone(), reason: reason.clone() });
            } else if let Some(c) = self.live_connection(&other.node) {
                let _ = c.send_term(
                    &Control::Exit { from: pid.clone(), to: other.clone(), reason: None },
                    &reason,
                );
            }
        }
        for Watcher { reference, watcher, object } in entry.watchers {
            if self.is_local(&watcher) {
                self.inner.registry.deliver(
                    watcher.id,
                    Message::Down { reference, object, reason: reason.clone(), raw: None },
                );
            } else if let Some(c) = self.live_connection(&watcher.node) {
                let ctl = Control::MonitorExit { object, to: watcher.clone(), reference, reason: None };
                let _ = c.send_term(&ctl, &reason);
            }
        }
        for Monitor { reference, node, target } in entry.monitors.into_vec() {
            if node != self.inner.name
                && let Some(c) = self.live_connection(&node)
            {
                let _ = c.send(&Control::Demonitor { from: pid.clone(), target, reference }, None);
            }
        }
    }
}

impl Inner {
    fn local_pid(&self, id: u32) -> Pid {
        Pid { node: self.name.clone(), id, serial: 0, creation: self.creation }
    }

    fn is_ours(&self, pid: &Pid) -> bool {
        pid.node == self.name
    }

    /// Takes a handshaken stream into service, replacing any older connection to the peer.
    fn adopt(self: &Arc<Self>, stream: impl Into<Transport>, peer: Atom, flags: DistFlags) -> Connection {
        let handler: Arc<dyn Handler> = Arc::new(NodeHandler(Arc::downgrade(self)));
        let conn = Connection::start(stream, peer.clone(), flags, self.conn_cfg, handler);
        let old = self.conns.lock().unwrap().insert(peer.clone(), conn.clone());
        if let Some(old) = old {
            old.close();
        }
        let _ = self.events.send(NodeEvent::Up { node: peer });
        conn
    }

    fn dispatch(&self, conn: &Connection, msg: Incoming) {
        let Incoming { control, payload } = msg;
        let reason_of = |inline: Option<Term>, payload: &Option<Bytes>| -> Term {
            inline.unwrap_or_else(|| {
                // A reason we cannot decode must not pass for a real one (it used to read as
                // `badarg`): the callers that have the raw bytes report the decode error.
                payload
                    .as_ref()
                    .and_then(|p| decode_bare(p).ok())
                    .unwrap_or_else(|| Term::atom(crate::message::UNDECODABLE_REASON))
            })
        };
        match control {
            Control::Send { from, to } => {
                if self.is_ours(&to)
                    && let Some(p) = payload
                {
                    self.registry.deliver(to.id, Message::Send { from, payload: Payload(p) });
                }
            }
            Control::RegSend { from, to } => {
                let Some(p) = payload else { return };
                let id = self.registry.whereis(&to);
                match id {
                    Some(id) => {
                        self.registry.deliver(id, Message::Send { from: Some(from), payload: Payload(p) });
                    }
                    None if to.as_str() == "net_kernel" => self.answer_net_kernel(conn, &p),
                    // Unknown names (logger_proxy reports, for instance) are dropped, as OTP does.
                    None => {}
                }
            }
            Control::AliasSend { .. } => {}
            Control::Link { from, to } => {
                if !self.is_ours(&to) {
                    return;
                }
                if self.registry.with(to.id, |p| p.links.insert(from.clone())).is_none() {
                    let _ = conn.send_term(
                        &Control::Exit { from: to, to: from, reason: None },
                        &Term::atom("noproc"),
                    );
                }
            }
            Control::UnlinkId { id, from, to } => {
                // The ack must precede any other signal from `to` to `from`.
                let _ = conn.send(&Control::UnlinkIdAck { id, from: to.clone(), to: from.clone() }, None);
                self.registry.with(to.id, |p| p.links.remove(&from));
            }
            Control::UnlinkIdAck { .. } => {}
            Control::Exit { from, to, reason } => {
                let reason = reason_of(reason, &payload);
                let linked = self.registry.with(to.id, |p| p.links.remove(&from)).unwrap_or(false);
                if linked {
                    self.registry.deliver(to.id, Message::Exit { from, reason });
                }
            }
            Control::Exit2 { from, to, reason } => {
                let reason = reason_of(reason, &payload);
                self.registry.deliver(to.id, Message::Exit { from, reason });
            }
            Control::Monitor { from, target, reference } => {
                let id = match &target {
                    Term::Pid(p) if self.is_ours(p) => Some(p.id),
                    Term::Atom(a) => self.registry.whereis(a),
                    _ => None,
                };
                let ok = id.and_then(|id| {
                    self.registry.with(id, |p| {
                        p.watchers.push(Watcher {
                            reference: reference.clone(),
                            watcher: from.clone(),
                            object: target.clone(),
                        })
                    })
                });
                // net_adm:ping monitors net_kernel around its call; we answer that call
                // ourselves, so the monitor is accepted and never fires.
                let net_kernel = target.is_atom("net_kernel");
                if ok.is_none() && !net_kernel {
                    let ctl = Control::MonitorExit { object: target, to: from, reference, reason: None };
                    let _ = conn.send_term(&ctl, &Term::atom("noproc"));
                }
            }
            Control::Demonitor { target, reference, .. } => {
                let id = match &target {
                    Term::Pid(p) if self.is_ours(p) => Some(p.id),
                    Term::Atom(a) => self.registry.whereis(a),
                    _ => None,
                };
                if let Some(id) = id {
                    self.registry.with(id, |p| p.watchers.retain(|w| w.reference != reference));
                }
            }
            Control::MonitorExit { object, to, reference, reason } => {
                let raw = if reason.is_none() { payload.clone().map(Payload) } else { None };
                let reason = reason_of(reason, &payload);
                let known = self
                    .registry
                    .with(to.id, |p| p.monitors.take(|m| m.reference == reference).is_some())
                    .unwrap_or(false);
                if known {
                    self.registry.deliver(to.id, Message::Down { reference, object, reason, raw });
                }
            }
            Control::SpawnReply { req_id, to, flags, result } => {
                let result = match &result {
                    Term::Pid(p) => Ok(p.clone()),
                    _ => Err(result),
                };
                if self.cancelled_spawns.lock().unwrap().remove(&req_id) {
                    if let Ok(pid) = result {
                        let kill = Control::Exit2 { from: to, to: pid, reason: None };
                        let _ = conn.send_term(&kill, &Term::atom("kill"));
                    }
                    return;
                }
                let pending = self
                    .registry
                    .with(to.id, |p| {
                        let was = match p.spawning.take(|s| s.request == req_id) {
                            Some(s) => !(s.quiet && result.is_ok()),
                            None => false,
                        };
                        if let Ok(pid) = &result {
                            if flags & 1 != 0 {
                                p.links.insert(pid.clone());
                            }
                            // DEMONITOR_P must name the real process, or the peer keeps the
                            // monitor (it looks the placeholder up as a registered name).
                            if let Some(m) = p.monitors.find_mut(|m| m.reference == req_id) {
                                m.target = Term::Pid(pid.clone());
                            }
                        } else {
                            p.monitors.take(|m| m.reference == req_id);
                        }
                        was
                    })
                    .unwrap_or(false);
                if pending {
                    self.registry.deliver(
                        to.id,
                        Message::SpawnReply {
                            request: req_id,
                            result,
                            linked: flags & 1 != 0,
                            monitored: flags & 2 != 0,
                        },
                    );
                }
            }
            Control::SpawnRequest { req_id, from, .. } => {
                // beamlink runs no Erlang code: refuse as a node without the function would.
                let ctl = Control::SpawnReply { req_id, to: from, flags: 0, result: Term::atom("notsup") };
                let _ = conn.send(&ctl, None);
            }
            Control::GroupLeader { .. } | Control::Other(_) => {}
        }
    }

    /// Answers `net_adm:ping/1` from other nodes: `{'$gen_call', {From, Tag}, {is_auth, _}}`.
    fn answer_net_kernel(&self, conn: &Connection, payload: &Bytes) {
        let Ok(Term::Tuple(ref t)) = decode_bare(payload) else { return };
        if t.len() != 3 || !t[0].is_atom("$gen_call") {
            return;
        }
        let (from, tag) = match t[1].as_tuple() {
            Some([Term::Pid(from), tag]) => (from.clone(), tag.clone()),
            _ => return,
        };
        let is_auth = matches!(t[2].as_tuple(), Some([a, _]) if a.is_atom("is_auth"));
        let answer = if is_auth { Term::atom("yes") } else { Term::atom("error") };
        let _ = conn.send_term(&Control::Send { from: None, to: from }, &Term::tuple([tag, answer]));
    }

    fn connection_closed(&self, conn: &Connection, why: ConnectionError) {
        let peer = conn.peer().clone();
        {
            let mut conns = self.conns.lock().unwrap();
            match conns.get(&peer) {
                Some(c) if c.id() == conn.id() => {
                    conns.remove(&peer);
                }
                // A newer connection replaced this one: its processes are not affected.
                _ => return,
            }
        }
        let noconnection = Term::atom("noconnection");
        let mut signals: Vec<(u32, Message)> = Vec::new();
        self.registry.for_each(|id, p| {
            let gone: Vec<Pid> = p.links.iter().filter(|l| l.node == peer).cloned().collect();
            for l in gone {
                p.links.remove(&l);
                signals.push((id, Message::Exit { from: l, reason: noconnection.clone() }));
            }
            for m in p.monitors.take_all(|m| m.node == peer) {
                let down = Message::Down {
                    reference: m.reference,
                    object: m.target,
                    reason: noconnection.clone(),
                    raw: None,
                };
                signals.push((id, down));
            }
            for s in p.spawning.take_all(|s| s.node == peer) {
                let reply = Message::SpawnReply {
                    request: s.request,
                    result: Err(noconnection.clone()),
                    linked: false,
                    monitored: false,
                };
                signals.push((id, reply));
            }
            p.watchers.retain(|w| w.watcher.node != peer);
        });
        for (id, m) in signals {
            self.registry.deliver(id, m);
        }
        let _ = self.events.send(NodeEvent::Down { node: peer, reason: why.to_string() });
    }

    fn simultaneous(&self, peer: &str) -> Simultaneous {
        let key = Atom::new(peer);
        if self.conns.lock().unwrap().get(&key).is_some_and(|c| !c.is_closed()) {
            return Simultaneous::Connected;
        }
        match self.connecting.lock().unwrap().get(&key) {
            Some(gate) if gate.try_lock().is_err() => Simultaneous::Pending,
            _ => Simultaneous::None,
        }
    }
}

struct NodeHandler(Weak<Inner>);

impl Handler for NodeHandler {
    fn incoming(&self, conn: &Connection, msg: Incoming) {
        if let Some(inner) = self.0.upgrade() {
            inner.dispatch(conn, msg);
        }
    }

    fn closed(&self, conn: &Connection, why: ConnectionError) {
        if let Some(inner) = self.0.upgrade() {
            inner.connection_closed(conn, why);
        }
    }
}

/// Binds the distribution port and registers `alive` at it in the local epmd.
async fn bind_and_publish(
    bind: Option<IpAddr>,
    alive: &str,
    port: u16,
    hidden: bool,
) -> Result<(TcpListener, Registration), NodeError> {
    let l = match bind {
        Some(ip) => TcpListener::bind((ip, port)).await.map_err(NodeError::Listen)?,
        None => match dual_stack(port) {
            Ok(l) => l,
            Err(e) => {
                log::debug!("no IPv6 listener ({e}): listening on IPv4 only");
                TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).await.map_err(NodeError::Listen)?
            }
        },
    };
    let port = l.local_addr().map_err(NodeError::Listen)?.port();
    let reg = epmd::Client::from_env("localhost").register(alive, port, hidden).await?;
    Ok((l, reg))
}

/// A listener on `[::]:port` that takes IPv4 too (whatever `net.ipv6.bindv6only` says).
fn dual_stack(port: u16) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV6, Type::STREAM, None)?;
    s.set_only_v6(false)?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), port).into())?;
    s.listen(1024)?;
    TcpListener::from_std(s.into())
}

/// Accepts connections for as long as the node lives. A failed `accept` (descriptors exhausted,
/// say) is retried after a pause that doubles up to a second, instead of at once.
async fn accept_loop(listener: TcpListener, node: Weak<Inner>) {
    let mut pause = Duration::from_millis(10);
    loop {
        let accepted = listener.accept().await;
        let Some(inner) = node.upgrade() else { return };
        if inner.registration.lock().unwrap().is_none() {
            return;
        }
        let (stream, addr) = match accepted {
            Ok((s, a)) => {
                pause = Duration::from_millis(10);
                // An IPv4 peer on the dual-stack listener shows as ::ffff:a.b.c.d.
                (s, SocketAddr::new(a.ip().to_canonical(), a.port()))
            }
            Err(e) => {
                log::warn!(target: "beamlink::security", "{}: accept failed ({e}); retrying in {pause:?}", inner.name);
                drop(inner);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let permit = match inner.guard.admit(addr.ip()) {
            Ok(p) => p,
            Err(why) => {
                log::warn!(target: "beamlink::security", "{}: connection from {addr} closed: {why}", inner.name);
                continue;
            }
        };
        tokio::spawn(accept_one(inner, stream, addr, permit));
    }
}

/// Why an incoming connection did not become a node connection.
enum AcceptError {
    Tls(crate::tls::TlsError),
    Handshake(HandshakeError),
}

/// The TLS handshake when the node runs TLS, then the distribution handshake.
async fn handshake_in(
    inner: &Arc<Inner>,
    stream: tokio::net::TcpStream,
    addr: SocketAddr,
) -> Result<(Transport, handshake::Negotiated), AcceptError> {
    let weak = Arc::downgrade(inner);
    let known = move |peer: &str| weak.upgrade().map_or(Simultaneous::None, |i| i.simultaneous(peer));
    let (mut stream, framing) = match &inner.handshake.tls {
        None => (Transport::Tcp(stream), Framing::U16),
        Some(tls) => {
            let tls = tls.accept(stream, &addr.to_string()).await.map_err(AcceptError::Tls)?;
            (Transport::stream(tls), Framing::U32)
        }
    };
    match handshake::accept_framed(&mut stream, &inner.handshake, &known, framing).await {
        Ok(n) => Ok((stream, n)),
        Err(HandshakeError::Io { source, .. })
            if crate::tls::TlsError::from_io(&source, &addr.to_string(), "").is_some() =>
        {
            Err(AcceptError::Tls(
                crate::tls::TlsError::from_io(&source, &addr.to_string(), "").expect("checked"),
            ))
        }
        Err(e) => Err(AcceptError::Handshake(e)),
    }
}

/// One incoming handshake (TLS and distribution), bounded by the handshake deadline as a
/// whole.
async fn accept_one(
    inner: Arc<Inner>,
    stream: tokio::net::TcpStream,
    addr: SocketAddr,
    permit: guard::Permit,
) {
    let _ = stream.set_nodelay(true);
    let deadline = inner.handshake_timeout;
    let result = tokio::time::timeout(deadline, handshake_in(&inner, stream, addr)).await;
    drop(permit);
    match result {
        Ok(Ok((stream, n))) => {
            inner.guard.good_cookie(addr.ip());
            inner.adopt(stream, Atom::new(&n.peer_name), n.flags);
        }
        Ok(Err(AcceptError::Tls(e))) => {
            log::warn!(target: "beamlink::security", "{}: TLS connection from {addr} refused: {e}", inner.name);
        }
        Ok(Err(AcceptError::Handshake(HandshakeError::BadCookie { peer, .. }))) => {
            // The cookie itself is never logged; the name is the peer's claim.
            log::warn!(
                target: "beamlink::security",
                "{}: connection attempt from {peer} at {addr} rejected: wrong cookie",
                inner.name
            );
            inner.guard.bad_cookie(addr.ip());
        }
        Ok(Err(AcceptError::Handshake(e))) => {
            log::info!(target: "beamlink::security", "{}: handshake with {addr} failed: {e}", inner.name);
        }
        Err(_) => {
            log::info!(
                target: "beamlink::security",
                "{}: handshake with {addr} not finished within {deadline:?}: dropped",
                inner.name
            );
        }
    }
}
