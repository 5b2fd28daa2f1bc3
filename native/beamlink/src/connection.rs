//! One established distribution connection: framing, the distribution header (with atom cache
//! references and fragments) on the way in, batching and fragmenting on the way out, and ticks
//! both ways.
//!
//! A connection is two tasks over a [`Transport`]. The reader turns packets into [`Incoming`]
//! messages and hands them to the node's [`Handler`] in arrival order. On plain TCP, sending is
//! done by the caller itself when the socket is idle (a non-blocking write, no task hand-off:
//! that is what keeps a round trip short); otherwise (and always over TLS) the message joins a
//! queue that the writer task drains, packing every small message that is ready into one
//! `write` and sending large messages as 64 KiB fragments interleaved with the rest, so one big
//! message never holds up the small ones behind it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncReadExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Notify, watch};
use tokio::time::timeout;

use crate::control::Control;
use crate::flags::DistFlags;
use crate::term::{self, Atom, DecodeError, Decoder, Limits, Term};
use crate::transport::{Transport, WriteHalf};

/// Messages larger than this are sent in fragments when the peer supports them (as OTP does).
pub const FRAGMENT_SIZE: usize = 64 * 1024;
/// The writer stops packing small messages into one write beyond this many bytes.
const BATCH_BYTES: usize = 256 * 1024;
/// Fragments written per round of the writer while large messages are in flight.
const LARGE_ROUND_BYTES: usize = 1024 * 1024;
/// Fragmented messages one peer may have in progress at once (OTP has one per sending process;
/// a peer opening sequences without end is not a real node).
const MAX_PARTIAL: usize = 4096;
/// A packet body is read in steps of at most this much, so memory follows the bytes received.
const READ_STEP: usize = 1024 * 1024;

/// Default for [`ConnectionConfig::max_message`].
pub const DEFAULT_MAX_MESSAGE: usize = 512 * 1024 * 1024;
/// Default for [`ConnectionConfig::max_queued`].
pub const DEFAULT_MAX_QUEUED: usize = 1024 * 1024 * 1024;

/// Timing and memory limits of a connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionConfig {
    /// OTP's `net_ticktime`: a peer silent for this long is considered gone.
    pub net_ticktime: Duration,
    /// Largest message accepted from the peer, whole (one packet) or reassembled from
    /// fragments; it also bounds all fragmented messages in progress together. A peer that
    /// announces or sends more is disconnected before the memory is taken.
    pub max_message: usize,
    /// Bytes that may wait to be sent to a peer that does not read. Past it the connection is
    /// closed ([`ConnectionError::Overloaded`]); a message bigger than the limit is still sent
    /// when nothing else waits.
    pub max_queued: usize,
}

impl Default for ConnectionConfig {
    fn default() -> ConnectionConfig {
        ConnectionConfig {
            net_ticktime: Duration::from_secs(60),
            max_message: DEFAULT_MAX_MESSAGE,
            max_queued: DEFAULT_MAX_QUEUED,
        }
    }
}

/// A message as it came off the wire: the control tuple and, for send-type operations, the
/// payload term still encoded (external term format without the version byte), so bindings
/// can hand it over without decoding it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub control: Control,
    pub payload: Option<Bytes>,
}

impl Incoming {
    /// Decodes the payload (binaries share the received buffer).
    pub fn payload_term(&self) -> Result<Option<Term>, DecodeError> {
        self.payload.as_ref().map(decode_bare).transpose()
    }
}

/// Decodes a term without version byte, sharing binaries with `bytes`, as BEAM decodes what a
/// connected node sends: with [`Limits::trusted`] (the peer passed the cookie handshake, and a
/// reply as deep as BEAM builds must come back).
pub fn decode_bare(bytes: &Bytes) -> Result<Term, DecodeError> {
    decode_bare_with(bytes, Limits::trusted())
}

/// [`decode_bare`] with other limits.
pub fn decode_bare_with(bytes: &Bytes, limits: Limits) -> Result<Term, DecodeError> {
    let mut d = Decoder::shared(bytes).with_limits(limits);
    let t = d.term()?;
    d.finish()?;
    Ok(t)
}

/// Why a connection ended.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectionError {
    #[error("connection to {peer} closed by the peer")]
    PeerClosed { peer: String },
    #[error("{peer} sent nothing for {silent:?} (net_ticktime): considered down")]
    TickTimeout { peer: String, silent: Duration },
    #[error("{peer} broke the protocol: {violation}")]
    Malformed { peer: String, violation: Violation },
    #[error("{peer} does not read: {queued} bytes wait to be sent (limit {limit})")]
    Overloaded { peer: String, queued: usize, limit: usize },
    #[error("I/O error on the connection to {peer}: {detail}")]
    Io { peer: String, detail: String },
    #[error("connection to {peer} closed locally")]
    ClosedLocally { peer: String },
}

/// What a peer did wrong, in the packet that ended its connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("a packet of {size} bytes (limit {limit})")]
    PacketTooLarge { size: usize, limit: usize },
    #[error("fragmented messages of more than {limit} bytes in progress")]
    ReassemblyTooLarge { limit: usize },
    #[error("unknown packet type {0:?}")]
    UnknownPacketType(Vec<u8>),
    #[error("a pass-through ('p') packet although the distribution header was negotiated")]
    PassThroughAfterHeader,
    #[error("a distribution header although none was negotiated")]
    HeaderNotNegotiated,
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("atom cache entry is not UTF-8")]
    AtomNotUtf8,
    #[error("atom cache reference to empty slot {0}")]
    EmptyAtomCacheSlot(usize),
    #[error("more than {MAX_PARTIAL} fragmented messages in progress")]
    TooManySequences,
    #[error("fragment of unknown sequence {0}")]
    UnknownSequence(u64),
    #[error("first fragment of sequence {0}, which is already in progress")]
    DuplicateSequence(u64),
    #[error("fragment {got} of sequence {seq}, expected {expected}")]
    FragmentOutOfOrder { seq: u64, got: u64, expected: u64 },
    #[error("control message: {0}")]
    Control(String),
    #[error("payload: {0}")]
    Payload(String),
}

/// What the node does with a connection's traffic. Called from the connection's reader task.
pub trait Handler: Send + Sync + 'static {
    fn incoming(&self, conn: &Connection, msg: Incoming);
    fn closed(&self, conn: &Connection, why: ConnectionError);
}

enum Outgoing {
    Msg(OutMsg),
    /// Bytes of packets already framed (the rest of a direct write that did not finish).
    Raw(Vec<u8>),
}

struct OutMsg {
    head: Vec<u8>,
    /// The payload term in pieces (possibly none): large binaries are passed on, not copied.
    payload: Vec<Bytes>,
    /// Signals from one sender must arrive in the order sent, so a sender's messages wait
    /// behind its own large message, while other senders' messages overtake it.
    sender: u64,
}

fn sender_key(control: &Control) -> u64 {
    let from = match control {
        Control::Send { from, .. } => from.as_ref(),
        Control::RegSend { from, .. }
        | Control::AliasSend { from, .. }
        | Control::Link { from, .. }
        | Control::Exit { from, .. }
        | Control::Exit2 { from, .. }
        | Control::Monitor { from, .. }
        | Control::Demonitor { from, .. }
        | Control::SpawnRequest { from, .. }
        | Control::UnlinkId { from, .. }
        | Control::UnlinkIdAck { from, .. }
        | Control::GroupLeader { from, .. } => Some(from),
        Control::MonitorExit { object: Term::Pid(p), .. } => Some(p),
        Control::MonitorExit { .. } | Control::SpawnReply { .. } | Control::Other(_) => None,
    };
    from.map_or(u64::MAX, |p| (p.id as u64) << 32 | p.serial as u64)
}

/// Counters of what went over a connection, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    /// Packets received, ticks excluded.
    pub packets_in: AtomicU64,
    /// Fragment packets received (first fragments and continuations).
    pub fragments_in: AtomicU64,
    /// Atom cache references read from distribution headers.
    pub atom_cache_refs_in: AtomicU64,
    /// Packets sent, fragments counted one by one, ticks excluded.
    pub packets_out: AtomicU64,
    /// `write` calls made for them: fewer than packets when batching works.
    pub writes: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub packets_in: u64,
    pub fragments_in: u64,
    pub atom_cache_refs_in: u64,
    pub packets_out: u64,
    pub writes: u64,
}

struct Shared {
    stats: Stats,
    peer: Atom,
    id: u64,
    flags: DistFlags,
    out: Mutex<OutState>,
    /// Wakes the writer task; `notify_one` keeps a permit, so no wake-up is lost.
    wake_writer: Notify,
    closed: AtomicBool,
    close: watch::Sender<bool>,
    /// Packets handled by the reader: a new one allows one more direct write.
    received: AtomicU64,
    max_queued: usize,
    /// Set when the queue limit closed the connection: the reason the handler hears.
    overloaded: Mutex<Option<ConnectionError>>,
}

/// Who may write to the socket. Callers write directly only when `!busy` and the queue is
/// empty, under the lock, so bytes of different packets never interleave; and only once per
/// packet received (or per spell of the writer going idle): when one batch of replies wakes
/// many callers, the first writes at once and the others queue behind it, so the writer
/// sends them all with one `write` instead of one system call each.
struct OutState {
    /// False once the connection is closed: nothing more is accepted.
    open: bool,
    /// Plain TCP only: the socket, for callers' direct writes.
    direct: Option<Arc<OwnedWriteHalf>>,
    queue: VecDeque<Outgoing>,
    /// Bytes in `queue` and in large messages not yet cut into fragments.
    queued: usize,
    /// The writer task has taken queued messages (or large ones are still in flight).
    busy: bool,
    /// The [`Shared::received`] count when a caller last wrote directly; `u64::MAX` when the
    /// writer went idle since.
    direct_at: u64,
}

/// A handle on a live connection. Cheap to clone; sending never blocks (the writer task owns
/// the socket).
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Connection({}, #{})", self.shared.peer.as_str(), self.shared.id)
    }
}

impl Connection {
    /// Starts the reader and writer tasks on an established (handshaken) stream: a
    /// `TcpStream` or any [`Transport`].
    pub fn start(
        stream: impl Into<Transport>,
        peer: Atom,
        flags: DistFlags,
        cfg: ConnectionConfig,
        handler: Arc<dyn Handler>,
    ) -> Connection {
        let (rd, mut wr, direct) = stream.into().split();
        let (close, _) = watch::channel(false);
        let conn = Connection {
            shared: Arc::new(Shared {
                stats: Stats::default(),
                peer,
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                flags,
                out: Mutex::new(OutState {
                    open: true,
                    direct,
                    queue: VecDeque::new(),
                    queued: 0,
                    busy: false,
                    direct_at: u64::MAX,
                }),
                max_queued: cfg.max_queued,
                overloaded: Mutex::new(None),
                wake_writer: Notify::new(),
                closed: AtomicBool::new(false),
                close,
                received: AtomicU64::new(0),
            }),
        };
        let fragments = flags.contains(DistFlags::FRAGMENTS);
        let tick = cfg.net_ticktime / 4;
        let w = conn.clone();
        tokio::spawn(async move {
            let mut closing = w.shared.close.subscribe();
            let res = tokio::select! {
                r = write_loop(&mut wr, &w.shared, tick, fragments) => r,
                _ = closing.wait_for(|c| *c) => Ok(()),
            };
            if res.is_err() {
                w.close();
            }
        });
        let r = conn.clone();
        tokio::spawn(async move {
            let mut closing = r.shared.close.subscribe();
            let why = tokio::select! {
                e = read_loop(rd, &r, &cfg, &*handler) => e,
                _ = closing.wait_for(|c| *c) => r.shared.overloaded.lock().unwrap().take()
                    .unwrap_or_else(|| ConnectionError::ClosedLocally { peer: r.peer().as_str().to_string() }),
            };
            r.close();
            handler.closed(&r, why);
        });
        conn
    }

    pub fn peer(&self) -> &Atom {
        &self.shared.peer
    }

    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.shared.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            packets_in: get(&s.packets_in),
            fragments_in: get(&s.fragments_in),
            atom_cache_refs_in: get(&s.atom_cache_refs_in),
            packets_out: get(&s.packets_out),
            writes: get(&s.writes),
        }
    }

    /// Identifies this connection among successive ones to the same peer.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// The flags both sides agreed on.
    pub fn flags(&self) -> DistFlags {
        self.shared.flags
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// Closes the connection; the handler's `closed` runs once both tasks stop.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        // Dropping our handle on the write half lets the socket close once the writer is gone.
        let mut st = self.shared.out.lock().unwrap();
        st.open = false;
        if let Some(socket) = st.direct.take()
            && !st.busy
            && !st.queue.is_empty()
            && self.shared.overloaded.lock().unwrap().is_none()
        {
            // What callers queued for an idle writer that has not taken it yet still leaves, as
            // far as the socket takes it now: a call's cancel (its exit signal) sent just
            // before its node shuts down is not lost. Not after the queue limit closed the
            // connection: that peer does not read. A packet cut short here ends with the
            // connection, which the peer drops whole.
            let fragments = self.shared.flags.contains(DistFlags::FRAGMENTS);
            let (mut buf, mut large) = (Vec::new(), VecDeque::new());
            for m in st.queue.drain(..) {
                match m {
                    Outgoing::Raw(bytes) => buf.extend_from_slice(&bytes),
                    Outgoing::Msg(m) => {
                        queue(m, &mut buf, &mut large, fragments);
                    }
                }
            }
            st.queued = 0;
            let _ = socket.try_write(&buf);
        }
        drop(st);
        self.shared.close.send_replace(true);
    }

    /// Queues a control message with an optional payload (bare encoded term, no version byte).
    pub fn send(&self, control: &Control, payload: Option<Bytes>) -> Result<(), ConnectionClosed> {
        self.send_parts(control, payload.into_iter().collect())
    }

    /// Like [`send`](Self::send) with the payload given in pieces whose concatenation is the
    /// encoded term, so a caller can wrap a large encoded argument without copying it.
    pub fn send_parts(&self, control: &Control, payload: Vec<Bytes>) -> Result<(), ConnectionClosed> {
        if self.is_closed() {
            return Err(ConnectionClosed);
        }
        let mut head = Vec::with_capacity(64);
        if self.uses_header() {
            head.extend_from_slice(&[term::VERSION_MAGIC, 68, 0]);
        } else {
            head.extend_from_slice(&[112, term::VERSION_MAGIC]);
        }
        control.encode_into(&mut head);
        if !payload.is_empty() && !self.uses_header() {
            head.push(term::VERSION_MAGIC);
        }
        let sender = sender_key(control);
        let len = head.len() + payload.iter().map(|p| p.len()).sum::<usize>();
        let mut st = self.shared.out.lock().unwrap();
        if !st.open {
            return Err(ConnectionClosed);
        }
        self.shared.stats.packets_out.fetch_add(1, Ordering::Relaxed);
        let received = self.shared.received.load(Ordering::Relaxed);
        let direct = st
            .direct
            .clone()
            .filter(|_| !st.busy && st.queue.is_empty() && len <= FRAGMENT_SIZE && st.direct_at != received);
        if let Some(socket) = direct {
            st.direct_at = received;
            let mut frame = Vec::with_capacity(4 + len);
            frame.extend_from_slice(&(len as u32).to_be_bytes());
            frame.extend_from_slice(&head);
            for p in &payload {
                frame.extend_from_slice(p);
            }
            let written = match socket.try_write(&frame) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                Err(_) => return Err(ConnectionClosed),
            };
            self.shared.stats.writes.fetch_add((written > 0) as u64, Ordering::Relaxed);
            if written == frame.len() {
                return Ok(());
            }
            frame.drain(..written);
            st.queued += frame.len();
            st.queue.push_back(Outgoing::Raw(frame));
        } else {
            if st.queued > 0 && st.queued + len > self.shared.max_queued {
                let why = ConnectionError::Overloaded {
                    peer: self.peer().as_str().to_string(),
                    queued: st.queued + len,
                    limit: self.shared.max_queued,
                };
                drop(st);
                *self.shared.overloaded.lock().unwrap() = Some(why);
                self.close();
                return Err(ConnectionClosed);
            }
            st.queued += len;
            st.queue.push_back(Outgoing::Msg(OutMsg { head, payload, sender }));
        }
        drop(st);
        self.shared.wake_writer.notify_one();
        Ok(())
    }

    /// Like [`send`](Self::send) with a payload given as a term.
    pub fn send_term(&self, control: &Control, payload: &Term) -> Result<(), ConnectionClosed> {
        let mut buf = Vec::with_capacity(64);
        term::encode_into(payload, &mut buf);
        // A large payload grown by doubling may hold up to twice its length; what waits in the
        // queue should cost what the queue limit counts.
        if buf.capacity() - buf.len() > 4096.max(buf.len() / 4) {
            buf.shrink_to_fit();
        }
        self.send(control, Some(Bytes::from(buf)))
    }

    /// Pass-through framing is used only when neither the atom-cache header nor fragments
    /// were negotiated; mixing the two modes makes OTP drop the connection.
    fn uses_header(&self) -> bool {
        self.shared.flags.intersects(DistFlags::DIST_HDR_ATOM_CACHE.with(DistFlags::FRAGMENTS))
    }
}

/// The connection is gone; nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is closed")]
pub struct ConnectionClosed;

/// A large message being sent in fragments.
struct Fragmenting {
    sender: u64,
    /// Later messages of the same sender, sent once this one is complete.
    then: VecDeque<OutMsg>,
    seq: u64,
    /// Fragments left including the next one; the last one sent is number 1.
    left: u64,
    first: bool,
    head: Vec<u8>,
    body: VecDeque<Bytes>,
}

static NEXT_SEQ: AtomicU64 = AtomicU64::new(1);

async fn write_loop(
    socket: &mut WriteHalf,
    shared: &Shared,
    tick: Duration,
    fragments: bool,
) -> std::io::Result<()> {
    // Grown on first use: an idle connection holds no batch buffer (it was 320 KiB each).
    let mut buf: Vec<u8> = Vec::new();
    let mut large: VecDeque<Fragmenting> = VecDeque::new();
    let mut writes_seen = 0;
    loop {
        let taken: Vec<Outgoing> = {
            let mut st = shared.out.lock().unwrap();
            if st.queue.is_empty() && large.is_empty() {
                st.busy = false;
                st.direct_at = u64::MAX;
                Vec::new()
            } else {
                st.busy = true;
                st.queue.drain(..).collect()
            }
        };
        if taken.is_empty() && large.is_empty() {
            let woken = tokio::time::timeout(tick, shared.wake_writer.notified()).await.is_ok();
            if woken {
                // Callers made ready by the same batch of replies run first and queue too,
                // so they leave in one write.
                tokio::task::yield_now().await;
            } else {
                // Nothing written for a tick interval (by us or directly): tell the peer we live.
                let writes = shared.stats.writes.load(Ordering::Relaxed);
                if writes == writes_seen {
                    let mut st = shared.out.lock().unwrap();
                    st.queued += 4;
                    st.queue.push_back(Outgoing::Raw(vec![0, 0, 0, 0]));
                }
                writes_seen = writes;
            }
            continue;
        }
        // Bytes of queued messages copied into `buf` this round, no longer counted as queued.
        let mut moved = 0;
        for m in taken {
            match m {
                Outgoing::Raw(bytes) => {
                    moved += bytes.len();
                    buf.extend_from_slice(&bytes);
                }
                Outgoing::Msg(m) => moved += queue(m, &mut buf, &mut large, fragments),
            }
            if buf.len() >= BATCH_BYTES {
                unqueue(shared, std::mem::take(&mut moved));
                write_all(socket, &buf, &shared.stats).await?;
                buf.clear();
            }
        }
        // Fragments of every large message in turn keep them all moving; a round stops at
        // LARGE_ROUND_BYTES so small messages queued meanwhile wait for one write at most.
        while buf.len() < LARGE_ROUND_BYTES && large.iter().any(|f| f.left > 0) {
            for f in large.iter_mut().filter(|f| f.left > 0) {
                moved += next_fragment(f, &mut buf);
                shared.stats.packets_out.fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut released = VecDeque::new();
        large.retain_mut(|f| {
            if f.left == 0 {
                released.append(&mut f.then);
                false
            } else {
                true
            }
        });
        for m in released {
            moved += queue(m, &mut buf, &mut large, fragments);
        }
        unqueue(shared, moved);
        if !buf.is_empty() {
            write_all(socket, &buf, &shared.stats).await?;
            buf.clear();
        }
        if buf.capacity() > 4 * (BATCH_BYTES + FRAGMENT_SIZE) {
            buf.shrink_to(BATCH_BYTES + FRAGMENT_SIZE);
        }
    }
}

fn unqueue(shared: &Shared, moved: usize) {
    if moved > 0 {
        let mut st = shared.out.lock().unwrap();
        st.queued = st.queued.saturating_sub(moved);
    }
}

async fn write_all(socket: &mut WriteHalf, buf: &[u8], stats: &Stats) -> std::io::Result<()> {
    let writes = socket.write_all(buf).await?;
    stats.writes.fetch_add(writes, Ordering::Relaxed);
    Ok(())
}

/// Frames `m` into `buf`, or sets it aside to go in fragments. Returns the message bytes
/// copied into `buf`.
fn queue(m: OutMsg, buf: &mut Vec<u8>, large: &mut VecDeque<Fragmenting>, fragments: bool) -> usize {
    if let Some(f) = large.iter_mut().find(|f| f.sender == m.sender) {
        f.then.push_back(m);
        return 0;
    }
    let body_len: usize = m.payload.iter().map(|p| p.len()).sum();
    if fragments && m.head.len() + body_len > FRAGMENT_SIZE && m.head.starts_with(&[131, 68]) {
        let body: VecDeque<Bytes> = m.payload.into_iter().filter(|p| !p.is_empty()).collect();
        let n = (body_len.max(1) as u64).div_ceil(FRAGMENT_SIZE as u64);
        large.push_back(Fragmenting {
            sender: m.sender,
            then: VecDeque::new(),
            seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
            left: n,
            first: true,
            // Drop "131 68"; the fragment header replaces it, keeping NumAtomCacheRefs and Ctrl.
            head: m.head[2..].to_vec(),
            body,
        });
        // The two bytes of "131 68" the fragments do not carry.
        return 2;
    }
    let len = m.head.len() + body_len;
    buf.extend_from_slice(&(len as u32).to_be_bytes());
    buf.extend_from_slice(&m.head);
    for p in m.payload {
        buf.extend_from_slice(&p);
    }
    len
}

/// Frames the next fragment of `f` into `buf`; returns the message bytes it carries.
fn next_fragment(f: &mut Fragmenting, buf: &mut Vec<u8>) -> usize {
    // The last fragment takes whatever is left; the others exactly FRAGMENT_SIZE bytes.
    let left: usize = f.body.iter().map(|b| b.len()).sum();
    let take = if f.left <= 1 { left } else { left.min(FRAGMENT_SIZE) };
    let header_len = 2 + 16 + if f.first { f.head.len() } else { 0 };
    let carried = take + if f.first { f.head.len() } else { 0 };
    buf.extend_from_slice(&((header_len + take) as u32).to_be_bytes());
    buf.push(131);
    buf.push(if f.first { 69 } else { 70 });
    buf.extend_from_slice(&f.seq.to_be_bytes());
    buf.extend_from_slice(&f.left.to_be_bytes());
    if f.first {
        buf.extend_from_slice(&f.head);
        f.first = false;
    }
    let mut need = take;
    while need > 0 {
        let front = f.body.front_mut().expect("bytes left");
        let n = front.len().min(need);
        buf.extend_from_slice(&front.split_to(n));
        if front.is_empty() {
            f.body.pop_front();
        }
        need -= n;
    }
    f.left -= 1;
    carried
}

/// A fragmented message being reassembled.
struct Reassembly {
    control: Control,
    next: u64,
    payload: Vec<u8>,
    atoms: Vec<Option<Atom>>,
}

/// What the reader keeps between packets: the atom cache and the messages in fragments.
pub(crate) struct ReadState {
    /// Per-connection atom cache: 8 segments of 256, filled by headers with NewCacheEntry.
    cache: Vec<Option<Atom>>,
    partial: HashMap<u64, Reassembly>,
    /// Payload bytes held by `partial`, all sequences together.
    partial_bytes: usize,
    /// The distribution header was negotiated (else only pass-through packets are valid).
    header: bool,
    max_message: usize,
}

impl ReadState {
    pub(crate) fn new(header: bool, max_message: usize) -> ReadState {
        ReadState { cache: vec![None; 2048], partial: HashMap::new(), partial_bytes: 0, header, max_message }
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    rd: R,
    conn: &Connection,
    cfg: &ConnectionConfig,
    handler: &dyn Handler,
) -> ConnectionError {
    let peer = conn.peer().as_str().to_string();
    let mut rd = BufReader::with_capacity(128 * 1024, rd);
    let mut state = ReadState::new(conn.uses_header(), cfg.max_message);
    // Allow a little slack over net_ticktime, as OTP does before declaring a peer dead.
    let silence = cfg.net_ticktime + cfg.net_ticktime / 4;
    let io_error = |peer: String, e: std::io::Error| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => ConnectionError::PeerClosed { peer },
        _ => ConnectionError::Io { peer, detail: e.to_string() },
    };
    loop {
        let len = match timeout(silence, rd.read_u32()).await {
            Err(_) => return ConnectionError::TickTimeout { peer, silent: silence },
            Ok(Err(e)) => return io_error(peer, e),
            Ok(Ok(n)) => n as usize,
        };
        if len == 0 {
            continue;
        }
        if len > cfg.max_message {
            let violation = Violation::PacketTooLarge { size: len, limit: cfg.max_message };
            return ConnectionError::Malformed { peer, violation };
        }
        // Memory follows what arrives, never the length announced; and every step must arrive
        // within the tick time, however long the packet claims to be (a peer that stops in the
        // middle of a packet is as silent as one that stops between packets).
        let mut body: Vec<u8> = Vec::new();
        while body.len() < len {
            let step = (len - body.len()).min(READ_STEP);
            grow(&mut body, step, len);
            let mut chunk = (&mut rd).take(step as u64);
            match timeout(silence, chunk.read_to_end(&mut body)).await {
                Err(_) => return ConnectionError::TickTimeout { peer, silent: silence },
                Ok(Ok(0)) => return ConnectionError::PeerClosed { peer },
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return io_error(peer, e),
            }
        }
        let stats = &conn.shared.stats;
        stats.packets_in.fetch_add(1, Ordering::Relaxed);
        if body.len() >= 2 && body[0] == 131 && (body[1] == 69 || body[1] == 70) {
            stats.fragments_in.fetch_add(1, Ordering::Relaxed);
        }
        if body.len() >= 3 && body[0] == 131 && (body[1] == 68 || body[1] == 69) {
            // NumAtomCacheRefs sits right after the tag (68) or after SeqId and FragId (69).
            let at = if body[1] == 68 { 2 } else { 18 };
            if let Some(&n) = body.get(at) {
                stats.atom_cache_refs_in.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        match parse_packet(Bytes::from(body), &mut state) {
            Ok(Some(msg)) => {
                conn.shared.received.fetch_add(1, Ordering::Relaxed);
                handler.incoming(conn, msg)
            }
            Ok(None) => {}
            Err(violation) => return ConnectionError::Malformed { peer, violation },
        }
    }
}

/// Parses one packet (without its length). Returns `None` for a fragment that does not
/// complete a message. Public to the crate's fuzz targets through [`crate::fuzzing`].
pub(crate) fn parse_packet(body: Bytes, st: &mut ReadState) -> Result<Option<Incoming>, Violation> {
    let ctl = |x: &dyn std::fmt::Display| Violation::Control(x.to_string());
    match (body.first(), body.get(1)) {
        (Some(112), _) if st.header => Err(Violation::PassThroughAfterHeader),
        (Some(112), _) => {
            let rest = body.slice(1..);
            let mut d = Decoder::shared(&rest);
            let control = d.versioned_term().map_err(|x| ctl(&x))?;
            let control = Control::from_term(control).map_err(|x| ctl(&x))?;
            let at = d.position();
            let payload = if at < rest.len() {
                if rest[at] != term::VERSION_MAGIC {
                    return Err(Violation::Payload("no version byte".into()));
                }
                Some(rest.slice(at + 1..))
            } else {
                None
            };
            Ok(Some(Incoming { control, payload }))
        }
        (Some(131), Some(68..=70)) if !st.header => Err(Violation::HeaderNotNegotiated),
        (Some(131), Some(68)) => {
            let mut rest = body.slice(2..);
            let atoms = read_atom_cache_header(&mut rest, &mut st.cache)?;
            let (control, payload) = split_control(&rest, &atoms)?;
            Ok(Some(Incoming { control, payload }))
        }
        (Some(131), Some(69)) => {
            let mut rest = body.slice(2..);
            if rest.len() < 16 {
                return Err(Violation::Truncated("fragment header"));
            }
            let seq = rest.get_u64();
            let frag = rest.get_u64();
            let atoms = read_atom_cache_header(&mut rest, &mut st.cache)?;
            let (control, payload) = split_control(&rest, &atoms)?;
            let payload = payload.map(|p| p.to_vec()).unwrap_or_default();
            if frag <= 1 {
                return Ok(Some(finish(control, payload, &atoms)?));
            }
            if st.partial.len() >= MAX_PARTIAL {
                return Err(Violation::TooManySequences);
            }
            if st.partial.contains_key(&seq) {
                return Err(Violation::DuplicateSequence(seq));
            }
            st.hold(payload.len())?;
            st.partial.insert(seq, Reassembly { control, next: frag - 1, payload, atoms });
            Ok(None)
        }
        (Some(131), Some(70)) => {
            let mut rest = body.slice(2..);
            if rest.len() < 16 {
                return Err(Violation::Truncated("fragment header"));
            }
            let seq = rest.get_u64();
            let frag = rest.get_u64();
            let Some(r) = st.partial.get(&seq) else { return Err(Violation::UnknownSequence(seq)) };
            if frag != r.next {
                return Err(Violation::FragmentOutOfOrder { seq, got: frag, expected: r.next });
            }
            st.hold(rest.len())?;
            let r = st.partial.get_mut(&seq).expect("present");
            grow(&mut r.payload, rest.len(), st.max_message);
            r.payload.extend_from_slice(&rest);
            r.next -= 1;
            if frag == 1 {
                let r = st.partial.remove(&seq).expect("present");
                st.partial_bytes -= r.payload.len();
                return Ok(Some(finish(r.control, r.payload, &r.atoms)?));
            }
            Ok(None)
        }
        _ => Err(Violation::UnknownPacketType(body[..body.len().min(2)].to_vec())),
    }
}

/// Makes room for `more` bytes in `v`, doubling as a `Vec` does but never past `cap` (the
/// packet's length, or the message limit): what a peer's bytes cost stays under twice what it
/// sent and under the limit, where plain doubling could reach twice the limit.
fn grow(v: &mut Vec<u8>, more: usize, cap: usize) {
    if v.capacity() - v.len() >= more {
        return;
    }
    let target = (v.capacity() * 2).min(cap).max(v.len() + more);
    v.reserve_exact(target - v.len());
}

impl ReadState {
    /// Counts `n` more bytes held for reassembly, refusing past the message limit.
    fn hold(&mut self, n: usize) -> Result<(), Violation> {
        if self.partial_bytes + n > self.max_message {
            return Err(Violation::ReassemblyTooLarge { limit: self.max_message });
        }
        self.partial_bytes += n;
        Ok(())
    }
}

fn finish(control: Control, payload: Vec<u8>, atoms: &[Option<Atom>]) -> Result<Incoming, Violation> {
    let payload = if payload.is_empty() { None } else { Some(standalone(Bytes::from(payload), atoms)?) };
    Ok(Incoming { control, payload })
}

/// Reads the control term; the rest is the payload. A payload that refers to this packet's
/// atom cache entries is re-encoded so it stands on its own.
fn split_control(rest: &Bytes, atoms: &[Option<Atom>]) -> Result<(Control, Option<Bytes>), Violation> {
    let mut d = Decoder::shared(rest).with_atom_cache(atoms);
    let control = Control::decode(&mut d).map_err(|x| Violation::Control(x.to_string()))?;
    let at = d.position();
    let payload = if at < rest.len() { Some(rest.slice(at..)) } else { None };
    Ok((control, payload))
}

fn standalone(payload: Bytes, atoms: &[Option<Atom>]) -> Result<Bytes, Violation> {
    if atoms.is_empty() {
        return Ok(payload);
    }
    let mut d = Decoder::shared(&payload).with_atom_cache(atoms).with_limits(Limits::trusted());
    let t = d.term().map_err(|x| Violation::Payload(x.to_string()))?;
    let mut out = Vec::with_capacity(payload.len() + 64);
    term::encode_into(&t, &mut out);
    Ok(Bytes::from(out))
}

/// Reads `NumAtomCacheRefs` and the entries that follow (erts `dist.c`, "atom cache"), updating
/// the connection's cache, and returns this packet's reference table.
fn read_atom_cache_header(
    rest: &mut Bytes,
    cache: &mut [Option<Atom>],
) -> Result<Vec<Option<Atom>>, Violation> {
    if rest.is_empty() {
        return Err(Violation::Truncated("NumAtomCacheRefs"));
    }
    let n = rest.get_u8() as usize;
    if n == 0 {
        return Ok(Vec::new());
    }
    let flag_bytes = n / 2 + 1;
    if rest.len() < flag_bytes {
        return Err(Violation::Truncated("atom cache flags"));
    }
    let flags = rest.split_to(flag_bytes);
    let nibble = |i: usize| (flags[i / 2] >> (4 * (i % 2))) & 0x0f;
    let long_atoms = nibble(n) & 1 != 0;
    let mut refs = Vec::with_capacity(n);
    for i in 0..n {
        let f = nibble(i);
        let segment = (f & 7) as usize;
        if rest.is_empty() {
            return Err(Violation::Truncated("atom cache entry"));
        }
        let index = segment * 256 + rest.get_u8() as usize;
        if f & 8 != 0 {
            let len = if long_atoms {
                if rest.len() < 2 {
                    return Err(Violation::Truncated("atom length"));
                }
                rest.get_u16() as usize
            } else {
                if rest.is_empty() {
                    return Err(Violation::Truncated("atom length"));
                }
                rest.get_u8() as usize
            };
            if rest.len() < len {
                return Err(Violation::Truncated("atom text"));
            }
            let text = rest.split_to(len);
            let s = std::str::from_utf8(&text).map_err(|_| Violation::AtomNotUtf8)?;
            cache[index] = Some(Atom::new(s));
        }
        match &cache[index] {
            Some(a) => refs.push(Some(a.clone())),
            None => return Err(Violation::EmptyAtomCacheSlot(index)),
        }
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::Pid;

    fn pid() -> Pid {
        Pid { node: Atom::new("a@b"), id: 1, serial: 0, creation: 1 }
    }

    #[test]
    fn atom_cache_header_with_new_and_old_entries() {
        let mut cache = vec![None; 2048];
        // Two refs: #0 new in segment 1 index 5 "hello", #1 new in segment 0 index 7 "x".
        // flags: nibble0 = 8|1, nibble1 = 8|0, nibble2 (header flags) = 0.
        let mut pkt = vec![2u8, 0x89, 0x00];
        pkt.extend_from_slice(&[5, 5]);
        pkt.extend_from_slice(b"hello");
        pkt.extend_from_slice(&[7, 1, b'x']);
        pkt.extend_from_slice(&[104, 2, 82, 0, 82, 1]);
        let mut b = Bytes::from(pkt);
        let refs = read_atom_cache_header(&mut b, &mut cache).unwrap();
        assert_eq!(refs.len(), 2);
        let mut d = Decoder::new(&b).with_atom_cache(&refs);
        assert_eq!(d.term().unwrap(), Term::tuple([Term::atom("hello"), Term::atom("x")]));
        // A later packet refers to the cached entry without the text.
        let mut b = Bytes::from(vec![1u8, 0x01, 5]);
        let refs = read_atom_cache_header(&mut b, &mut cache).unwrap();
        assert_eq!(refs[0].as_ref().unwrap().as_str(), "hello");
        // An old entry that was never sent is an error, not a panic.
        let mut b = Bytes::from(vec![1u8, 0x02, 9]);
        assert!(read_atom_cache_header(&mut b, &mut cache).is_err());
    }

    #[test]
    fn fragments_reassemble_across_interleaved_sequences() {
        let ctrl = Control::Send { from: None, to: pid() };
        let payload: Vec<u8> = {
            let mut v = Vec::new();
            term::encode_into(&Term::binary(vec![7u8; 200_000]), &mut v);
            v
        };
        let mut head = vec![131, 68, 0];
        term::encode_into(&ctrl.to_term(), &mut head);
        let mut fa = Fragmenting {
            sender: 1,
            then: VecDeque::new(),
            seq: 1,
            left: 4,
            first: true,
            head: head[2..].to_vec(),
            body: VecDeque::from([Bytes::from(payload.clone())]),
        };
        let mut fb = Fragmenting {
            sender: 2,
            then: VecDeque::new(),
            seq: 2,
            left: 4,
            first: true,
            head: head[2..].to_vec(),
            body: VecDeque::from([Bytes::from(payload.clone())]),
        };
        let mut st = ReadState::new(true, DEFAULT_MAX_MESSAGE);
        let mut done = Vec::new();
        for _ in 0..4 {
            for f in [&mut fa, &mut fb] {
                let mut buf = Vec::new();
                next_fragment(f, &mut buf);
                let body = Bytes::from(buf[4..].to_vec());
                if let Some(m) = parse_packet(body, &mut st).unwrap() {
                    done.push(m);
                }
            }
        }
        assert_eq!(done.len(), 2);
        for m in done {
            assert_eq!(m.control, ctrl);
            assert_eq!(m.payload.unwrap().as_ref(), payload.as_slice());
        }
    }

    #[test]
    fn endless_fragment_sequences_are_refused() {
        let ctrl = Control::Send { from: None, to: pid() };
        let mut first = vec![131, 69];
        let mut st = ReadState::new(true, DEFAULT_MAX_MESSAGE);
        let mut refused = None;
        for seq in 0..(MAX_PARTIAL as u64 + 1) {
            first.truncate(2);
            first.extend_from_slice(&seq.to_be_bytes());
            first.extend_from_slice(&2u64.to_be_bytes());
            first.push(0);
            term::encode_into(&ctrl.to_term(), &mut first);
            first.push(106);
            if let Err(e) = parse_packet(Bytes::from(first.clone()), &mut st) {
                refused = Some((seq, e));
                break;
            }
        }
        let (seq, e) = refused.expect("refused");
        assert_eq!(seq, MAX_PARTIAL as u64);
        assert_eq!(e, Violation::TooManySequences);
    }

    /// Collects what a connection delivers, for the tests below.
    struct Collect(tokio::sync::mpsc::UnboundedSender<Result<Incoming, String>>);

    impl Handler for Collect {
        fn incoming(&self, _: &Connection, msg: Incoming) {
            let _ = self.0.send(Ok(msg));
        }
        fn closed(&self, _: &Connection, why: ConnectionError) {
            let _ = self.0.send(Err(why.to_string()));
        }
    }

    /// Two connections over an in-memory pipe, as over TLS: no direct writes, every packet
    /// through the writer task, small ones and a fragmented one both ways, then a close.
    #[tokio::test]
    async fn a_stream_transport_carries_small_and_fragmented_messages() {
        let (a, b) = tokio::io::duplex(16 * 1024);
        let flags = DistFlags::beamlink_default().expand_digest();
        let cfg = ConnectionConfig::default();
        let (ta, mut ra) = tokio::sync::mpsc::unbounded_channel();
        let (tb, mut rb) = tokio::sync::mpsc::unbounded_channel();
        let ca =
            Connection::start(Transport::stream(a), Atom::new("b@vm"), flags, cfg, Arc::new(Collect(ta)));
        let cb =
            Connection::start(Transport::stream(b), Atom::new("a@vm"), flags, cfg, Arc::new(Collect(tb)));
        let big = Term::binary(vec![5u8; 3 * FRAGMENT_SIZE + 17]);
        let to = Control::Send { from: None, to: pid() };
        for i in 0..10 {
            ca.send_term(&to, &Term::Int(i)).unwrap();
        }
        ca.send_term(&to, &big).unwrap();
        cb.send_term(&to, &Term::atom("back")).unwrap();
        for i in 0..10 {
            let m = rb.recv().await.unwrap().unwrap();
            assert_eq!(m.payload_term().unwrap(), Some(Term::Int(i)));
        }
        let m = rb.recv().await.unwrap().unwrap();
        assert_eq!(m.payload_term().unwrap(), Some(big));
        assert!(cb.stats().fragments_in >= 4, "{:?}", cb.stats());
        let m = ra.recv().await.unwrap().unwrap();
        assert_eq!(m.payload_term().unwrap(), Some(Term::atom("back")));
        ca.close();
        assert!(ca.send_term(&to, &Term::Int(0)).is_err());
        let why = rb.recv().await.unwrap().unwrap_err();
        assert!(why.contains("closed by the peer"), "{why}");
        assert!(ra.recv().await.unwrap().unwrap_err().contains("closed locally"));
    }

    /// Over TCP, a caller writes directly to an idle socket, but only once per packet received:
    /// a burst of sends (the callers one batch of replies wakes) leaves in few writes.
    #[tokio::test]
    async fn a_burst_of_sends_is_batched_into_few_writes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let flags = DistFlags::beamlink_default().expand_digest();
        let cfg = ConnectionConfig::default();
        let (ta, _ra) = tokio::sync::mpsc::unbounded_channel();
        let (tb, mut rb) = tokio::sync::mpsc::unbounded_channel();
        let ca = Connection::start(client.unwrap(), Atom::new("b@vm"), flags, cfg, Arc::new(Collect(ta)));
        let _cb = Connection::start(server.unwrap().0, Atom::new("a@vm"), flags, cfg, Arc::new(Collect(tb)));
        let to = Control::Send { from: None, to: pid() };
        // The first send finds the socket idle and writes it at once.
        ca.send_term(&to, &Term::Int(-1)).unwrap();
        assert_eq!(ca.stats().writes, 1);
        for i in 0..100 {
            ca.send_term(&to, &Term::Int(i)).unwrap();
        }
        for i in -1..100 {
            let m = rb.recv().await.unwrap().unwrap();
            assert_eq!(m.payload_term().unwrap(), Some(Term::Int(i)));
        }
        let s = ca.stats();
        assert_eq!(s.packets_out, 101);
        assert!(s.writes <= 3, "{s:?}");
    }

    /// A message queued for the writer (the socket was just written directly) and the
    /// connection closed at once: the message still leaves.
    #[tokio::test]
    async fn what_is_queued_when_the_connection_closes_still_leaves() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let flags = DistFlags::beamlink_default().expand_digest();
        let cfg = ConnectionConfig::default();
        let (ta, _ra) = tokio::sync::mpsc::unbounded_channel();
        let (tb, mut rb) = tokio::sync::mpsc::unbounded_channel();
        let ca = Connection::start(client.unwrap(), Atom::new("b@vm"), flags, cfg, Arc::new(Collect(ta)));
        let _cb = Connection::start(server.unwrap().0, Atom::new("a@vm"), flags, cfg, Arc::new(Collect(tb)));
        // The writer task settles into its idle wait first, as on a live connection.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        let to = Control::Send { from: None, to: pid() };
        ca.send_term(&to, &Term::Int(1)).unwrap();
        ca.send_term(&to, &Term::Int(2)).unwrap();
        assert_eq!(ca.stats().writes, 1, "the second waits for the writer");
        ca.close();
        for i in 1..=2 {
            let m = rb.recv().await.unwrap().unwrap();
            assert_eq!(m.payload_term().unwrap(), Some(Term::Int(i)));
        }
    }

    #[test]
    fn garbage_packets_are_errors() {
        let mut st = ReadState::new(true, DEFAULT_MAX_MESSAGE);
        for junk in [&[1u8, 2, 3][..], &[131, 68], &[131, 68, 0, 104], &[112, 131, 97], &[131, 70, 0, 0]] {
            assert!(parse_packet(Bytes::copy_from_slice(junk), &mut st).is_err(), "{junk:?}");
        }
    }
}
