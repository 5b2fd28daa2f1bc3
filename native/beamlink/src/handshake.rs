//! The version 6 distribution handshake, both roles, as an explicit state machine.
//!
//! Every message is a struct with `encode` (body without the `u16` length) and `decode`. The
//! two drivers, [`initiate`] and [`accept`], walk an enum of states ([`State`]) and name the
//! state in every error. After `Ok`, the stream is in the connected state (`u32` framing);
//! the handshake reads exactly its own messages, so no byte of the connected state is lost.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use beamlink::cookie::Cookie;
//! use beamlink::handshake::{connect, HandshakeConfig};
//! use beamlink::name::NodeName;
//! let me = NodeName::local_short("client")?;
//! let cfg = HandshakeConfig::new(me, Cookie::from_home()?, 4);
//! let peer: NodeName = "foo@vm".parse()?;
//! let (stream, negotiated) = connect(&cfg, &peer).await?;
//! println!("connected to {} with {:?}", negotiated.peer_name, negotiated.flags);
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::time::Duration;

use md5::{Digest as _, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::cookie::Cookie;
use crate::epmd::{self, EpmdError};
pub use crate::flags::DistFlags;
use crate::name::NodeName;
use crate::tls::{TlsContext, TlsError};
use crate::transport::Transport;

/// OTP's `net_setuptime` default: each handshake step must finish within it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(7);

/// `MD5(cookie ++ decimal(challenge))`, the answer to a challenge.
///
/// ```
/// use beamlink::{cookie::Cookie, handshake::digest};
/// let d = digest(1234567890, &Cookie::new("probecookie"));
/// assert_eq!(d[..4], [0x4f, 0x61, 0xfe, 0x7a]);
/// ```
pub fn digest(challenge: u32, cookie: &Cookie) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(cookie.expose().as_bytes());
    h.update(challenge.to_string().as_bytes());
    h.finalize().into()
}

// ---------------------------------------------------------------------------------------------
// Messages

/// Why a handshake message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

fn derr<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(msg.into()))
}

/// Reads big-endian fields off a message body.
struct Fields<'a> {
    b: &'a [u8],
    what: &'static str,
}

impl<'a> Fields<'a> {
    fn new(b: &'a [u8], tag: u8, what: &'static str) -> Result<Self, DecodeError> {
        match b.first() {
            Some(t) if *t == tag => Ok(Fields { b: &b[1..], what }),
            Some(t) => derr(format!("{what}: tag {t:?} ({}), expected {:?}", *t as char, tag as char)),
            None => derr(format!("{what}: empty message")),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.b.len() < n {
            return derr(format!("{}: truncated", self.what));
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn name(&mut self, len: usize) -> Result<String, DecodeError> {
        let b = self.take(len)?;
        // OTP turns names into atoms byte by byte (Latin-1).
        Ok(b.iter().map(|&c| c as char).collect())
    }
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    // Latin-1 on the wire; names are validated ASCII before they get here.
    out.extend(name.chars().map(|c| c as u32 as u8));
}

/// `'N'`: the initiator's name, flags and creation (OTP 23+ form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendName {
    pub flags: DistFlags,
    pub creation: u32,
    /// `alive@host`, or only the host when `flags` has NAME_ME.
    pub name: String,
}

impl SendName {
    pub const TAG: u8 = b'N';
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![Self::TAG];
        b.extend_from_slice(&self.flags.0.to_be_bytes());
        b.extend_from_slice(&self.creation.to_be_bytes());
        b.extend_from_slice(&(self.name.len() as u16).to_be_bytes());
        put_name(&mut b, &self.name);
        b
    }
    /// Trailing bytes are ignored, as the protocol asks.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut f = Fields::new(b, Self::TAG, "send_name")?;
        let flags = DistFlags(f.u64()?);
        let creation = f.u32()?;
        let n = f.u16()? as usize;
        Ok(SendName { flags, creation, name: f.name(n)? })
    }
}

/// `'n'`: the pre-23 send_name, still sent by OTP 23/24 that could not ask epmd. Only decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendNameOld {
    pub version: u16,
    /// The low 32 bits; the high ones come in a [`Complement`].
    pub flags: DistFlags,
    pub name: String,
}

impl SendNameOld {
    pub const TAG: u8 = b'n';
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![Self::TAG];
        b.extend_from_slice(&self.version.to_be_bytes());
        b.extend_from_slice(&(self.flags.0 as u32).to_be_bytes());
        put_name(&mut b, &self.name);
        b
    }
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut f = Fields::new(b, Self::TAG, "old send_name")?;
        let version = f.u16()?;
        let flags = DistFlags(f.u32()? as u64);
        let rest = f.b.len();
        Ok(SendNameOld { version, flags, name: f.name(rest)? })
    }
}

/// `'s'`: the acceptor's verdict on a send_name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Go on; the acceptor drops its own attempt toward us.
    OkSimultaneous,
    /// The acceptor keeps its own attempt (or our name is illegal): give up.
    Nok,
    NotAllowed,
    /// The acceptor already has a connection to our name; answer with [`AliveAnswer`].
    Alive,
    /// The dynamic name and creation assigned to a NAME_ME initiator.
    Named {
        name: String,
        creation: u32,
    },
}

impl Status {
    pub const TAG: u8 = b's';
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![Self::TAG];
        let text: &[u8] = match self {
            Status::Ok => b"ok",
            Status::OkSimultaneous => b"ok_simultaneous",
            Status::Nok => b"nok",
            Status::NotAllowed => b"not_allowed",
            Status::Alive => b"alive",
            Status::Named { name, creation } => {
                b.extend_from_slice(b"named:");
                b.extend_from_slice(&(name.len() as u16).to_be_bytes());
                put_name(&mut b, name);
                b.extend_from_slice(&creation.to_be_bytes());
                return b;
            }
        };
        b.extend_from_slice(text);
        b
    }
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut f = Fields::new(b, Self::TAG, "status")?;
        if f.b.starts_with(b"named:") {
            f.take(6)?;
            let n = f.u16()? as usize;
            let name = f.name(n)?;
            let creation = f.u32()?;
            return Ok(Status::Named { name, creation });
        }
        Ok(match f.b {
            b"ok" => Status::Ok,
            b"ok_simultaneous" => Status::OkSimultaneous,
            b"nok" => Status::Nok,
            b"not_allowed" => Status::NotAllowed,
            b"alive" => Status::Alive,
            other => {
                return derr(format!("status: unknown {:?}", String::from_utf8_lossy(other)));
            }
        })
    }
}

/// `'s' "true"` / `'s' "false"`: after [`Status::Alive`], whether to replace the old connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AliveAnswer(pub bool);

impl AliveAnswer {
    pub fn encode(&self) -> Vec<u8> {
        if self.0 { b"strue".to_vec() } else { b"sfalse".to_vec() }
    }
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        match b {
            b"strue" => Ok(AliveAnswer(true)),
            b"sfalse" => Ok(AliveAnswer(false)),
            other => derr(format!("alive answer: {:?}", String::from_utf8_lossy(other))),
        }
    }
}

/// `'N'` from the acceptor: its flags, challenge, creation and full name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub flags: DistFlags,
    pub challenge: u32,
    pub creation: u32,
    pub name: String,
}

impl Challenge {
    pub const TAG: u8 = b'N';
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![Self::TAG];
        b.extend_from_slice(&self.flags.0.to_be_bytes());
        b.extend_from_slice(&self.challenge.to_be_bytes());
        b.extend_from_slice(&self.creation.to_be_bytes());
        b.extend_from_slice(&(self.name.len() as u16).to_be_bytes());
        put_name(&mut b, &self.name);
        b
    }
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut f = Fields::new(b, Self::TAG, "challenge")?;
        let flags = DistFlags(f.u64()?);
        let challenge = f.u32()?;
        let creation = f.u32()?;
        let n = f.u16()? as usize;
        Ok(Challenge { flags, challenge, creation, name: f.name(n)? })
    }
}

/// `'c'`: the high flag bits and creation, after an old `'n'` send_name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Complement {
    pub flags_high: u32,
    pub creation: u32,
}

impl Complement {
    pub const TAG: u8 = b'c';
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![Self::TAG];
        b.extend_from_slice(&self.flags_high.to_be_bytes());
        b.extend_from_slice(&self.creation.to_be_bytes());
        b
    }
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut f = Fields::new(b, Self::TAG, "complement")?;
        Ok(Complement { flags_high: f.u32()?, creation: f.u32()? })
    }
}

/// `'r'`: the initiator's own challenge and its answer to the acceptor's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengeReply {
    pub challenge: u32,
    pub digest: [u8; 16],
}

impl ChallengeReply {
    pub const TAG: u8 = b'r';
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![Self::TAG];
        b.extend_from_slice(&self.challenge.to_be_bytes());
        b.extend_from_slice(&self.digest);
        b
    }
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut f = Fields::new(b, Self::TAG, "challenge_reply")?;
        let challenge = f.u32()?;
        let digest = f.take(16)?.try_into().unwrap();
        Ok(ChallengeReply { challenge, digest })
    }
}

/// `'a'`: the acceptor's answer to the initiator's challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengeAck {
    pub digest: [u8; 16],
}

impl ChallengeAck {
    pub const TAG: u8 = b'a';
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![Self::TAG];
        b.extend_from_slice(&self.digest);
        b
    }
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut f = Fields::new(b, Self::TAG, "challenge_ack")?;
        Ok(ChallengeAck { digest: f.take(16)?.try_into().unwrap() })
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration, results, errors

/// Who we are during a handshake.
#[derive(Clone, Debug)]
pub struct HandshakeConfig {
    pub name: NodeName,
    pub cookie: Cookie,
    /// Flags we offer; PUBLISHED is set or cleared from `hidden`.
    pub flags: DistFlags,
    /// epmd's creation when registered, else any value ≥ 4.
    pub creation: u32,
    /// Limit for each handshake step (OTP's `net_setuptime`).
    pub timeout: Duration,
    pub hidden: bool,
    /// As initiator, answer `true` to an `alive` status (the acceptor keeps a stale connection
    /// under our name, e.g. from before a crash) instead of giving up with
    /// [`HandshakeError::AlreadyConnected`].
    pub replace_stale: bool,
    /// As acceptor, the only peer names let in (`net_kernel:allow/1`); others get
    /// `not_allowed`. `None` lets every name in.
    pub allow: Option<std::sync::Arc<std::collections::HashSet<String>>>,
    /// TLS distribution (`-proto_dist inet_tls`): [`connect`] wraps the TCP connection in TLS
    /// before the handshake. `None` is plain TCP.
    pub tls: Option<TlsContext>,
}

impl HandshakeConfig {
    /// A hidden node with [`DistFlags::beamlink_default`] and a 7 s step timeout.
    pub fn new(name: NodeName, cookie: Cookie, creation: u32) -> HandshakeConfig {
        HandshakeConfig {
            name,
            cookie,
            flags: DistFlags::beamlink_default(),
            creation,
            timeout: DEFAULT_TIMEOUT,
            hidden: true,
            replace_stale: true,
            allow: None,
            tls: None,
        }
    }

    /// Whether the allow list lets `peer` in.
    pub fn allows(&self, peer: &str) -> bool {
        self.allow.as_ref().is_none_or(|a| a.contains(peer))
    }

    /// The flags that go on the wire.
    pub fn offered_flags(&self) -> DistFlags {
        if self.hidden {
            self.flags.without(DistFlags::PUBLISHED)
        } else {
            self.flags.with(DistFlags::PUBLISHED)
        }
    }
}

/// The outcome of a successful handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub peer_name: String,
    /// What the peer offered (digest bit not expanded).
    pub peer_flags: DistFlags,
    pub peer_creation: u32,
    /// What both sides have: use these to pick encodings.
    pub flags: DistFlags,
    /// Our full name: the configured one, or the one the acceptor assigned for NAME_ME.
    pub our_name: String,
    /// Our creation (changes only with NAME_ME).
    pub our_creation: u32,
    /// As acceptor: we answered `ok_simultaneous`, so our own pending attempt toward this peer
    /// must be dropped. As initiator: the acceptor dropped its attempt toward us.
    pub won_simultaneous: bool,
    /// As acceptor: we answered `alive`, the peer said `true`; the old connection must go.
    pub replaces_connection: bool,
}

/// What the node layer knows about a peer that is connecting to us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simultaneous {
    /// No connection and no attempt of ours toward this name.
    None,
    /// We are ourselves connecting to it right now: names decide who wins.
    Pending,
    /// We already have a connection to it: answer `alive`.
    Connected,
}

/// The steps of both roles; errors say which one failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    SendName,
    RecvStatus,
    SendAliveAnswer,
    RecvChallenge,
    SendChallengeReply,
    RecvChallengeAck,
    RecvName,
    SendStatus,
    RecvAliveAnswer,
    SendChallenge,
    RecvComplement,
    RecvChallengeReply,
    SendChallengeAck,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            State::SendName => "sending our name",
            State::RecvStatus => "waiting for the status",
            State::SendAliveAnswer => "answering the 'alive' status",
            State::RecvChallenge => "waiting for the challenge",
            State::SendChallengeReply => "sending the challenge reply",
            State::RecvChallengeAck => "waiting for the challenge ack",
            State::RecvName => "waiting for the peer's name",
            State::SendStatus => "sending the status",
            State::RecvAliveAnswer => "waiting for the answer to 'alive'",
            State::SendChallenge => "sending the challenge",
            State::RecvComplement => "waiting for the complement",
            State::RecvChallengeReply => "waiting for the challenge reply",
            State::SendChallengeAck => "sending the challenge ack",
        };
        f.write_str(s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("{peer} refused the connection (not_allowed): missing mandatory flags or not in its allow list")]
    NotAllowed { peer: String },
    #[error(
        "{peer} refused the connection (nok): it keeps its own simultaneous attempt, or our name is illegal to it"
    )]
    Refused { peer: String },
    #[error("cookie mismatch with {peer}: {detail}")]
    BadCookie { peer: String, detail: &'static str },
    #[error("{peer} already has a connection from a node named like us")]
    AlreadyConnected { peer: String },
    #[error("cannot speak with {peer}: {detail}")]
    VersionMismatch { peer: String, detail: String },
    #[error("we dialed {expected} but {got} answered")]
    WrongPeer { expected: String, got: String },
    #[error("peer closed the connection while {state}")]
    PeerClosed { state: State },
    #[error("timed out after {after:?} while {state}")]
    Timeout { state: State, after: Duration },
    #[error(
        "the peer speaks TLS (seen while {state}): it runs -proto_dist inet_tls; configure TLS to reach it"
    )]
    TlsPeer { state: State },
    #[error("protocol error while {state}: {detail}")]
    Protocol { state: State, detail: String },
    #[error("I/O error while {state}: {source}")]
    Io {
        state: State,
        #[source]
        source: io::Error,
    },
}

// ---------------------------------------------------------------------------------------------
// Framing

/// How handshake messages are framed on the stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    /// A 2-byte length, as over plain TCP (`inet_tcp_dist`).
    #[default]
    U16,
    /// A 4-byte length: OTP's `inet_tls_dist` sets `{packet, 4}` on the TLS socket from the
    /// start, so inside TLS the handshake is framed like the connected state.
    U32,
}

/// The largest handshake message taken with 4-byte framing (the longest real one, a
/// send_name with a 255-byte name, is under 300 bytes).
const MAX_MSG_U32: usize = 64 * 1024;

async fn write_msg<S: AsyncWrite + Unpin>(
    s: &mut S,
    framing: Framing,
    state: State,
    limit: Duration,
    body: &[u8],
) -> Result<(), HandshakeError> {
    let mut buf = Vec::with_capacity(body.len() + 4);
    match framing {
        Framing::U16 => buf.extend_from_slice(&(body.len() as u16).to_be_bytes()),
        Framing::U32 => buf.extend_from_slice(&(body.len() as u32).to_be_bytes()),
    }
    buf.extend_from_slice(body);
    let fut = async {
        s.write_all(&buf).await?;
        s.flush().await
    };
    match timeout(limit, fut).await {
        Err(_) => Err(HandshakeError::Timeout { state, after: limit }),
        Ok(Err(e)) => Err(io_err(state, e)),
        Ok(Ok(())) => Ok(()),
    }
}

async fn read_msg<S: AsyncRead + Unpin>(
    s: &mut S,
    framing: Framing,
    state: State,
    limit: Duration,
) -> Result<Vec<u8>, HandshakeError> {
    enum Read {
        Msg(Vec<u8>),
        Tls,
        TooLong(usize),
    }
    let fut = async {
        let len = match framing {
            Framing::U16 => {
                let mut len = [0u8; 2];
                s.read_exact(&mut len).await?;
                // A TLS record (handshake 0x16 or alert 0x15, version 3.x) where a length
                // should be: the peer is a TLS node. No handshake message is near 0x1500 bytes.
                if matches!(len, [0x15 | 0x16, 0x03]) {
                    return Ok(Read::Tls);
                }
                u16::from_be_bytes(len) as usize
            }
            Framing::U32 => {
                let mut len = [0u8; 4];
                s.read_exact(&mut len).await?;
                let len = u32::from_be_bytes(len) as usize;
                if len > MAX_MSG_U32 {
                    return Ok(Read::TooLong(len));
                }
                len
            }
        };
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).await?;
        Ok::<_, io::Error>(Read::Msg(body))
    };
    match timeout(limit, fut).await {
        Err(_) => Err(HandshakeError::Timeout { state, after: limit }),
        Ok(Err(e)) => Err(io_err(state, e)),
        Ok(Ok(Read::Tls)) => Err(HandshakeError::TlsPeer { state }),
        Ok(Ok(Read::TooLong(n))) => {
            Err(HandshakeError::Protocol { state, detail: format!("a handshake message of {n} bytes") })
        }
        Ok(Ok(Read::Msg(b))) => Ok(b),
    }
}

fn io_err(state: State, e: io::Error) -> HandshakeError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionAborted => HandshakeError::PeerClosed { state },
        _ => HandshakeError::Io { state, source: e },
    }
}

fn decoded<T>(state: State, r: Result<T, DecodeError>) -> Result<T, HandshakeError> {
    r.map_err(|e| HandshakeError::Protocol { state, detail: e.0 })
}

/// Checks the peer offers what we cannot do without.
fn check_peer_flags(peer: &str, flags: DistFlags) -> Result<(), HandshakeError> {
    check_flags_within(peer, flags, !0)
}

/// Like [`check_peer_flags`] for the bits in `mask` only: an old `'n'` send_name carries the
/// low 32 bits, the rest comes later in the complement.
fn check_flags_within(peer: &str, flags: DistFlags, mask: u64) -> Result<(), HandshakeError> {
    let have = DistFlags(flags.expand_digest().0 | !mask);
    if !have.contains(DistFlags::HANDSHAKE_23) {
        return Err(HandshakeError::VersionMismatch {
            peer: peer.to_string(),
            detail: "it does not speak the OTP 23+ handshake (no HANDSHAKE_23 flag)".into(),
        });
    }
    let missing = DistFlags::MANDATORY_26.without(have);
    if missing != DistFlags::EMPTY {
        return Err(HandshakeError::VersionMismatch {
            peer: peer.to_string(),
            detail: format!("it lacks mandatory flags {:?}", missing),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Initiator

enum Initiator {
    SendName,
    RecvStatus,
    SendAliveAnswer,
    RecvChallenge { our_name: String, our_creation: u32, won: bool },
    SendReply { our_name: String, our_creation: u32, won: bool, peer: Challenge },
    RecvAck { our_name: String, our_creation: u32, won: bool, peer: Challenge, ours: u32 },
}

/// Runs the initiator side on a connected stream to `peer` (the name we dialed; the acceptor's
/// challenge must carry exactly that name).
///
/// ```no_run
/// # async fn demo(cfg: beamlink::handshake::HandshakeConfig) -> Result<(), Box<dyn std::error::Error>> {
/// let peer: beamlink::name::NodeName = "foo@localhost".parse()?;
/// let mut s = tokio::net::TcpStream::connect(("localhost", 40000)).await?;
/// let n = beamlink::handshake::initiate(&mut s, &cfg, &peer).await?;
/// # Ok(()) }
/// ```
pub async fn initiate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    cfg: &HandshakeConfig,
    peer: &NodeName,
) -> Result<Negotiated, HandshakeError> {
    initiate_framed(stream, cfg, peer, Framing::U16).await
}

/// Like [`initiate`] with the given framing ([`Framing::U32`] inside TLS).
pub async fn initiate_framed<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    cfg: &HandshakeConfig,
    peer: &NodeName,
    f: Framing,
) -> Result<Negotiated, HandshakeError> {
    let peer_str = peer.to_string();
    let t = cfg.timeout;
    let offered = cfg.offered_flags();
    let name_me = offered.contains(DistFlags::NAME_ME);
    let mut state = Initiator::SendName;
    let mut won_status = false;
    let mut named: Option<(String, u32)> = None;
    loop {
        state = match state {
            Initiator::SendName => {
                let msg = SendName {
                    flags: offered,
                    creation: cfg.creation,
                    name: if name_me { cfg.name.host.clone() } else { cfg.name.to_string() },
                };
                write_msg(stream, f, State::SendName, t, &msg.encode()).await?;
                Initiator::RecvStatus
            }
            Initiator::RecvStatus => {
                let b = read_msg(stream, f, State::RecvStatus, t).await?;
                let next_challenge = |won: bool, named: &Option<(String, u32)>| {
                    let (our_name, our_creation) =
                        named.clone().unwrap_or_else(|| (cfg.name.to_string(), cfg.creation));
                    Initiator::RecvChallenge { our_name, our_creation, won }
                };
                match decoded(State::RecvStatus, Status::decode(&b))? {
                    Status::Ok => next_challenge(false, &named),
                    Status::OkSimultaneous => {
                        won_status = true;
                        next_challenge(true, &named)
                    }
                    Status::Named { name, creation } if name_me => {
                        named = Some((name, creation));
                        next_challenge(false, &named)
                    }
                    Status::Named { .. } => {
                        return Err(HandshakeError::Protocol {
                            state: State::RecvStatus,
                            detail: "'named:' status although we did not ask for a name".into(),
                        });
                    }
                    Status::Nok => return Err(HandshakeError::Refused { peer: peer_str }),
                    Status::NotAllowed => {
                        return Err(HandshakeError::NotAllowed { peer: peer_str });
                    }
                    Status::Alive => Initiator::SendAliveAnswer,
                }
            }
            Initiator::SendAliveAnswer => {
                let ans = AliveAnswer(cfg.replace_stale);
                write_msg(stream, f, State::SendAliveAnswer, t, &ans.encode()).await?;
                if !cfg.replace_stale {
                    return Err(HandshakeError::AlreadyConnected { peer: peer_str });
                }
                Initiator::RecvChallenge {
                    our_name: cfg.name.to_string(),
                    our_creation: cfg.creation,
                    won: won_status,
                }
            }
            Initiator::RecvChallenge { our_name, our_creation, won } => {
                let b = read_msg(stream, f, State::RecvChallenge, t).await?;
                let ch = decoded(State::RecvChallenge, Challenge::decode(&b))?;
                if ch.name != peer_str {
                    return Err(HandshakeError::WrongPeer { expected: peer_str, got: ch.name });
                }
                check_peer_flags(&peer_str, ch.flags)?;
                Initiator::SendReply { our_name, our_creation, won, peer: ch }
            }
            Initiator::SendReply { our_name, our_creation, won, peer } => {
                let ours = rand::random::<u32>();
                let reply = ChallengeReply { challenge: ours, digest: digest(peer.challenge, &cfg.cookie) };
                write_msg(stream, f, State::SendChallengeReply, t, &reply.encode()).await?;
                Initiator::RecvAck { our_name, our_creation, won, peer, ours }
            }
            Initiator::RecvAck { our_name, our_creation, won, peer, ours } => {
                let b = match read_msg(stream, f, State::RecvChallengeAck, t).await {
                    // OTP closes without a word when our digest is wrong.
                    Err(HandshakeError::PeerClosed { .. }) => {
                        return Err(HandshakeError::BadCookie {
                            peer: peer_str,
                            detail: "the peer closed the connection after our challenge reply, \
                                     which is how it rejects a wrong digest",
                        });
                    }
                    other => other?,
                };
                let ack = decoded(State::RecvChallengeAck, ChallengeAck::decode(&b))?;
                if ack.digest != digest(ours, &cfg.cookie) {
                    return Err(HandshakeError::BadCookie {
                        peer: peer_str,
                        detail: "the peer's answer to our challenge is wrong",
                    });
                }
                return Ok(Negotiated {
                    flags: offered.expand_digest() & peer.flags.expand_digest(),
                    peer_name: peer.name,
                    peer_flags: peer.flags,
                    peer_creation: peer.creation,
                    our_name,
                    our_creation,
                    won_simultaneous: won,
                    replaces_connection: false,
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Acceptor

enum Acceptor {
    RecvName,
    SendStatus { peer: Peer, status: Status },
    RecvAliveAnswer { peer: Peer },
    SendChallenge { peer: Peer },
    RecvComplement { peer: Peer, ours: u32 },
    RecvReply { peer: Peer, ours: u32 },
    SendAck { peer: Peer, theirs: u32 },
}

/// 13 characters from `[0-9A-Z]`, like the names OTP makes up for NAME_ME peers.
fn dynamic_alive() -> String {
    (0..13)
        .map(|_| {
            let i = rand::random_range(0..36u8);
            (if i < 10 { b'0' + i } else { b'A' + i - 10 }) as char
        })
        .collect()
}

struct Peer {
    name: String,
    flags: DistFlags,
    creation: u32,
    old_send_name: bool,
    won: bool,
    replaces: bool,
}

/// Runs the acceptor side on a freshly accepted stream, treating every peer as new
/// ([`Simultaneous::None`]). Use [`accept_with`] when connections are tracked.
///
/// ```no_run
/// # async fn demo(cfg: beamlink::handshake::HandshakeConfig) -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let (mut s, _) = listener.accept().await?;
/// let n = beamlink::handshake::accept(&mut s, &cfg).await?;
/// println!("{} connected", n.peer_name);
/// # Ok(()) }
/// ```
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    cfg: &HandshakeConfig,
) -> Result<Negotiated, HandshakeError> {
    accept_with(stream, cfg, &|_| Simultaneous::None).await
}

/// Like [`accept`], asking `known(peer_name)` whether we already have a connection or a pending
/// attempt toward the peer. On a pending attempt the greater name wins, as in OTP: if the
/// peer's name is greater we answer `ok_simultaneous` ([`Negotiated::won_simultaneous`]: drop
/// our attempt), else `nok` and this handshake fails with [`HandshakeError::Refused`].
pub async fn accept_with<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    cfg: &HandshakeConfig,
    known: &(dyn Fn(&str) -> Simultaneous + Sync),
) -> Result<Negotiated, HandshakeError> {
    accept_framed(stream, cfg, known, Framing::U16).await
}

/// Like [`accept_with`] with the given framing ([`Framing::U32`] inside TLS).
pub async fn accept_framed<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    cfg: &HandshakeConfig,
    known: &(dyn Fn(&str) -> Simultaneous + Sync),
    f: Framing,
) -> Result<Negotiated, HandshakeError> {
    let t = cfg.timeout;
    let offered = cfg.offered_flags();
    let our_name = cfg.name.to_string();
    let mut state = Acceptor::RecvName;
    loop {
        state = match state {
            Acceptor::RecvName => {
                let b = read_msg(stream, f, State::RecvName, t).await?;
                let (mut peer, version) = match b.first() {
                    Some(&SendNameOld::TAG) => {
                        let m = decoded(State::RecvName, SendNameOld::decode(&b))?;
                        let p = Peer {
                            name: m.name,
                            flags: m.flags,
                            creation: 0,
                            old_send_name: true,
                            won: false,
                            replaces: false,
                        };
                        (p, Some(m.version))
                    }
                    _ => {
                        let m = decoded(State::RecvName, SendName::decode(&b))?;
                        let p = Peer {
                            name: m.name,
                            flags: m.flags,
                            creation: m.creation,
                            old_send_name: false,
                            won: false,
                            replaces: false,
                        };
                        (p, None)
                    }
                };
                if version.is_some_and(|v| v != 5 && v != 6) {
                    return Err(HandshakeError::VersionMismatch {
                        peer: peer.name,
                        detail: format!("distribution version {}", version.unwrap_or_default()),
                    });
                }
                let mask = if peer.old_send_name { 0xffff_ffff } else { !0 };
                let status = if check_flags_within(&peer.name, peer.flags, mask).is_err() {
                    Status::NotAllowed
                } else if peer.flags.contains(DistFlags::NAME_ME) {
                    // The peer sent only its host, checked like any host before it names a node.
                    match NodeName::new(&dynamic_alive(), &peer.name) {
                        Ok(n) if cfg.allows(&n.to_string()) => {
                            peer.name = n.to_string();
                            peer.creation = rand::random_range(4..u32::MAX);
                            Status::Named { name: peer.name.clone(), creation: peer.creation }
                        }
                        Ok(_) => Status::NotAllowed,
                        Err(_) => Status::Nok,
                    }
                } else if NodeName::parse_any(&peer.name).is_ok() && !cfg.allows(&peer.name) {
                    Status::NotAllowed
                } else {
                    match NodeName::parse_any(&peer.name) {
                        Err(crate::name::NameError::MissingHost { .. })
                        | Err(crate::name::NameError::EmptyHost { .. }) => {
                            // OTP closes without a status here.
                            return Err(HandshakeError::Protocol {
                                state: State::RecvName,
                                detail: format!("peer name {:?} has no host part", peer.name),
                            });
                        }
                        // Also for non-ASCII hosts, which OTP would take (see name.rs).
                        Err(_) => Status::Nok,
                        Ok(_) => match known(&peer.name) {
                            Simultaneous::None => Status::Ok,
                            Simultaneous::Connected => Status::Alive,
                            // Byte order is atom order for Latin-1 names.
                            Simultaneous::Pending if peer.name.as_str() > our_name.as_str() => {
                                peer.won = true;
                                Status::OkSimultaneous
                            }
                            Simultaneous::Pending => Status::Nok,
                        },
                    }
                };
                Acceptor::SendStatus { peer, status }
            }
            Acceptor::SendStatus { peer, status } => {
                write_msg(stream, f, State::SendStatus, t, &status.encode()).await?;
                match status {
                    Status::Nok => return Err(HandshakeError::Refused { peer: peer.name }),
                    Status::NotAllowed => {
                        let mask = if peer.old_send_name { 0xffff_ffff } else { !0 };
                        check_flags_within(&peer.name, peer.flags, mask)?;
                        return Err(HandshakeError::NotAllowed { peer: peer.name });
                    }
                    Status::Alive => Acceptor::RecvAliveAnswer { peer },
                    _ => Acceptor::SendChallenge { peer },
                }
            }
            Acceptor::RecvAliveAnswer { mut peer } => {
                let b = read_msg(stream, f, State::RecvAliveAnswer, t).await?;
                let AliveAnswer(go_on) = decoded(State::RecvAliveAnswer, AliveAnswer::decode(&b))?;
                if !go_on {
                    return Err(HandshakeError::AlreadyConnected { peer: peer.name });
                }
                peer.replaces = true;
                Acceptor::SendChallenge { peer }
            }
            Acceptor::SendChallenge { peer } => {
                let ours = rand::random::<u32>();
                let ch = Challenge {
                    flags: offered,
                    challenge: ours,
                    creation: cfg.creation,
                    name: our_name.clone(),
                };
                write_msg(stream, f, State::SendChallenge, t, &ch.encode()).await?;
                if peer.old_send_name {
                    Acceptor::RecvComplement { peer, ours }
                } else {
                    Acceptor::RecvReply { peer, ours }
                }
            }
            Acceptor::RecvComplement { mut peer, ours } => {
                let b = read_msg(stream, f, State::RecvComplement, t).await?;
                let c = decoded(State::RecvComplement, Complement::decode(&b))?;
                peer.flags = DistFlags(peer.flags.0 | ((c.flags_high as u64) << 32));
                peer.creation = c.creation;
                check_peer_flags(&peer.name, peer.flags)?;
                Acceptor::RecvReply { peer, ours }
            }
            Acceptor::RecvReply { peer, ours } => {
                let b = read_msg(stream, f, State::RecvChallengeReply, t).await?;
                let r = decoded(State::RecvChallengeReply, ChallengeReply::decode(&b))?;
                if r.digest != digest(ours, &cfg.cookie) {
                    // Like OTP: no answer, the caller drops the stream.
                    return Err(HandshakeError::BadCookie {
                        peer: peer.name,
                        detail: "the peer's answer to our challenge is wrong",
                    });
                }
                Acceptor::SendAck { peer, theirs: r.challenge }
            }
            Acceptor::SendAck { peer, theirs } => {
                let ack = ChallengeAck { digest: digest(theirs, &cfg.cookie) };
                write_msg(stream, f, State::SendChallengeAck, t, &ack.encode()).await?;
                return Ok(Negotiated {
                    flags: offered.expand_digest() & peer.flags.expand_digest(),
                    peer_name: peer.name,
                    peer_flags: peer.flags,
                    peer_creation: peer.creation,
                    our_name,
                    our_creation: cfg.creation,
                    won_simultaneous: peer.won,
                    replaces_connection: peer.replaces,
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Connecting

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("epmd on {host} has no node named {alive:?}")]
    NodeNotFound { alive: String, host: String },
    #[error(transparent)]
    Epmd(#[from] EpmdError),
    #[error("cannot connect to {peer} at {host}:{port}: {source}")]
    Connect {
        peer: String,
        host: String,
        port: u16,
        #[source]
        source: io::Error,
    },
    #[error("handshake with {peer} failed: {source}")]
    Handshake {
        peer: String,
        #[source]
        source: HandshakeError,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Looks `peer` up in the epmd on its host, connects (TCP_NODELAY), wraps the connection in
/// TLS when `cfg.tls` says so, and runs [`initiate`]. `cfg.timeout` bounds the epmd lookup as
/// it bounds each later step.
pub async fn connect(
    cfg: &HandshakeConfig,
    peer: &NodeName,
) -> Result<(Transport, Negotiated), ConnectError> {
    let info = epmd::Client::from_env(peer.host.clone())
        .with_timeout(cfg.timeout)
        .port_please(&peer.alive)
        .await?
        .ok_or_else(|| ConnectError::NodeNotFound { alive: peer.alive.clone(), host: peer.host.clone() })?;
    connect_port(cfg, peer, info.port).await
}

/// Connects to the first address of `host` that accepts.
async fn connect_any(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}"));
    for a in crate::resolve::addresses(host, port).await? {
        match TcpStream::connect(a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Like [`connect`] for a node listening on a known port (no epmd, e.g. `-erl_epmd_port`).
pub async fn connect_port(
    cfg: &HandshakeConfig,
    peer: &NodeName,
    port: u16,
) -> Result<(Transport, Negotiated), ConnectError> {
    let peer_str = peer.to_string();
    let conn_err =
        |source| ConnectError::Connect { peer: peer_str.clone(), host: peer.host.clone(), port, source };
    let stream = match timeout(cfg.timeout, connect_any(&peer.host, port)).await {
        Err(_) => {
            return Err(conn_err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")));
        }
        Ok(r) => r.map_err(conn_err)?,
    };
    stream.set_nodelay(true).map_err(conn_err)?;
    let (mut stream, framing) = match &cfg.tls {
        None => (Transport::Tcp(stream), Framing::U16),
        Some(tls) => {
            let tls = tls.connect(stream, &peer_str, &peer.host, cfg.timeout).await?;
            (Transport::stream(tls), Framing::U32)
        }
    };
    match initiate_framed(&mut stream, cfg, peer, framing).await {
        Ok(n) => Ok((stream, n)),
        // Over TLS 1.3 a server judges our certificate after our side of the TLS handshake is
        // done: its verdict arrives as the first read of the distribution handshake.
        Err(HandshakeError::Io { source, .. })
            if TlsError::from_io(&source, &peer_str, &peer.host).is_some() =>
        {
            Err(ConnectError::Tls(TlsError::from_io(&source, &peer_str, &peer.host).expect("checked")))
        }
        Err(source) => Err(ConnectError::Handshake { peer: peer_str, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02X}")).collect()
    }

    #[test]
    fn digest_vectors_from_real_nodes() {
        // erlang:md5(["probecookie" | integer_to_list(1234567890)]) and friends, on OTP 25.
        assert_eq!(hex(&digest(1234567890, &Cookie::new("probecookie"))), "4F61FE7A7DA48E7A099D604A7DF6922D");
        assert_eq!(hex(&digest(4294967295, &Cookie::new("probecookie"))), "97A1FE88484B323E1560ED7FB3771ADE");
        assert_eq!(
            hex(&digest(3735928559, &Cookie::new("beamlink_test_cookie"))),
            "6B1171AF92895600673361BFD5884606"
        );
    }

    #[test]
    fn send_name_roundtrip_and_layout() {
        let m = SendName { flags: DistFlags(0x0000000d07df7fbd), creation: 0x6b03888a, name: "a@vm".into() };
        let b = m.encode();
        assert_eq!(hex(&b), "4E0000000D07DF7FBD6B03888A00046140766D");
        assert_eq!(SendName::decode(&b), Ok(m.clone()));
        // Trailing bytes must be ignored.
        let mut longer = b.clone();
        longer.extend_from_slice(b"xx");
        assert_eq!(SendName::decode(&longer), Ok(m));
        assert!(SendName::decode(&b[..10]).is_err());
        assert!(SendName::decode(b"sok").is_err());
    }

    #[test]
    fn old_send_name_roundtrip() {
        let m = SendNameOld { version: 5, flags: DistFlags(0x07df7fbd), name: "old@vm".into() };
        assert_eq!(SendNameOld::decode(&m.encode()), Ok(m));
    }

    #[test]
    fn status_roundtrip() {
        for s in [
            Status::Ok,
            Status::OkSimultaneous,
            Status::Nok,
            Status::NotAllowed,
            Status::Alive,
            Status::Named { name: "2DCNKS6CDV18B@vm".into(), creation: 3504107694 },
        ] {
            assert_eq!(Status::decode(&s.encode()), Ok(s));
        }
        assert_eq!(Status::Ok.encode(), b"sok");
        assert!(Status::decode(b"swhat").is_err());
        assert_eq!(AliveAnswer::decode(b"strue"), Ok(AliveAnswer(true)));
        assert_eq!(AliveAnswer(false).encode(), b"sfalse");
    }

    #[test]
    fn challenge_messages_roundtrip() {
        let c = Challenge {
            flags: DistFlags(0x2d07df7fbd),
            challenge: 0xdeadbeef,
            creation: 7,
            name: "b@vm".into(),
        };
        assert_eq!(Challenge::decode(&c.encode()), Ok(c));
        let r = ChallengeReply { challenge: 1, digest: [7; 16] };
        assert_eq!(r.encode().len(), 21);
        assert_eq!(ChallengeReply::decode(&r.encode()), Ok(r));
        let a = ChallengeAck { digest: [9; 16] };
        assert_eq!(a.encode().len(), 17);
        assert_eq!(ChallengeAck::decode(&a.encode()), Ok(a));
        let k = Complement { flags_high: 0xd, creation: 5 };
        assert_eq!(Complement::decode(&k.encode()), Ok(k));
    }

    fn cfg(name: &str, cookie: &str) -> HandshakeConfig {
        HandshakeConfig::new(name.parse().unwrap(), Cookie::new(cookie), 42)
    }

    #[tokio::test]
    async fn both_roles_against_each_other() {
        let (mut a, mut b) = tokio::io::duplex(4096);
        let ca = cfg("a@vm", "c");
        let cb = cfg("b@vm", "c");
        let peer: NodeName = "b@vm".parse().unwrap();
        let (ra, rb) = tokio::join!(initiate(&mut a, &ca, &peer), accept(&mut b, &cb));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(ra.peer_name, "b@vm");
        assert_eq!(rb.peer_name, "a@vm");
        assert_eq!(rb.peer_creation, 42);
        assert_eq!(ra.flags, DistFlags::beamlink_default().expand_digest());
    }

    #[tokio::test]
    async fn four_byte_framing_as_inside_tls() {
        let (mut a, mut b) = tokio::io::duplex(4096);
        let ca = cfg("a@vm", "c");
        let cb = cfg("b@vm", "c");
        let peer: NodeName = "b@vm".parse().unwrap();
        let (ra, rb) = tokio::join!(
            initiate_framed(&mut a, &ca, &peer, Framing::U32),
            accept_framed(&mut b, &cb, &|_| Simultaneous::None, Framing::U32)
        );
        assert_eq!(ra.unwrap().peer_name, "b@vm");
        assert_eq!(rb.unwrap().peer_name, "a@vm");
        // A 4-byte length beyond any handshake message is refused before it is read.
        let (mut a, mut b) = tokio::io::duplex(4096);
        tokio::io::AsyncWriteExt::write_all(&mut a, &[0x7f, 0xff, 0xff, 0xff]).await.unwrap();
        let e = accept_framed(&mut b, &cb, &|_| Simultaneous::None, Framing::U32).await.unwrap_err();
        assert!(matches!(e, HandshakeError::Protocol { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_tls_record_where_a_length_should_be_is_named() {
        // A ClientHello to a plain acceptor, and a TLS alert to a plain initiator.
        let cb = cfg("b@vm", "c");
        let (mut a, mut b) = tokio::io::duplex(4096);
        tokio::io::AsyncWriteExt::write_all(&mut a, &[0x16, 0x03, 0x01, 0x00, 0xc8, 0x01]).await.unwrap();
        let e = accept(&mut b, &cb).await.unwrap_err();
        assert!(matches!(e, HandshakeError::TlsPeer { state: State::RecvName }), "{e}");
        let (mut a, mut b) = tokio::io::duplex(4096);
        let peer: NodeName = "b@vm".parse().unwrap();
        let ca = cfg("a@vm", "c");
        let (r, _) = tokio::join!(initiate(&mut a, &ca, &peer), async {
            tokio::io::AsyncWriteExt::write_all(&mut b, &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a])
                .await
                .unwrap();
        });
        assert!(matches!(r, Err(HandshakeError::TlsPeer { state: State::RecvStatus })), "{r:?}");
    }

    #[tokio::test]
    async fn wrong_cookie_both_sides_see_it() {
        let (mut a, mut b) = tokio::io::duplex(4096);
        let ca = cfg("a@vm", "one");
        let cb = cfg("b@vm", "two");
        let peer: NodeName = "b@vm".parse().unwrap();
        let (ra, rb) = tokio::join!(initiate(&mut a, &ca, &peer), async {
            let r = accept(&mut b, &cb).await;
            drop(b); // as OTP does: close without answering
            r
        });
        assert!(matches!(ra, Err(HandshakeError::BadCookie { .. })), "{ra:?}");
        let e = rb.unwrap_err();
        assert!(matches!(e, HandshakeError::BadCookie { .. }));
        assert!(!e.to_string().contains("two"));
    }

    #[tokio::test]
    async fn simultaneous_names_decide() {
        for (ours, theirs, ok) in [("a@vm", "b@vm", true), ("b@vm", "a@vm", false)] {
            let (mut x, mut y) = tokio::io::duplex(4096);
            let ci = cfg(theirs, "c");
            let ca = cfg(ours, "c");
            let peer: NodeName = ours.parse().unwrap();
            let (ri, ra) = tokio::join!(initiate(&mut x, &ci, &peer), async {
                let r = accept_with(&mut y, &ca, &|_| Simultaneous::Pending).await;
                drop(y);
                r
            });
            if ok {
                assert!(ri.unwrap().won_simultaneous);
                assert!(ra.unwrap().won_simultaneous);
            } else {
                assert!(matches!(ri, Err(HandshakeError::Refused { .. })));
                assert!(matches!(ra, Err(HandshakeError::Refused { .. })));
            }
        }
    }

    #[tokio::test]
    async fn alive_then_replace() {
        let (mut x, mut y) = tokio::io::duplex(4096);
        let ci = cfg("a@vm", "c");
        let ca = cfg("b@vm", "c");
        let peer: NodeName = "b@vm".parse().unwrap();
        let (ri, ra) = tokio::join!(
            initiate(&mut x, &ci, &peer),
            accept_with(&mut y, &ca, &|_| Simultaneous::Connected)
        );
        ri.unwrap();
        assert!(ra.unwrap().replaces_connection);
    }

    #[tokio::test]
    async fn name_me_gets_a_name() {
        let (mut x, mut y) = tokio::io::duplex(4096);
        let mut ci = cfg("x@vm", "c");
        ci.flags.insert(DistFlags::NAME_ME);
        let ca = cfg("b@vm", "c");
        let peer: NodeName = "b@vm".parse().unwrap();
        let (ri, ra) = tokio::join!(initiate(&mut x, &ci, &peer), accept(&mut y, &ca));
        let (ri, ra) = (ri.unwrap(), ra.unwrap());
        assert!(ri.our_name.ends_with("@vm") && ri.our_name != "x@vm");
        assert_eq!(ri.our_name, ra.peer_name);
        assert_eq!(ri.our_creation, ra.peer_creation);
    }

    #[tokio::test]
    async fn missing_mandatory_flags_not_allowed() {
        let (mut x, mut y) = tokio::io::duplex(4096);
        let mut ci = cfg("a@vm", "c");
        ci.flags = DistFlags::MANDATORY_25;
        let ca = cfg("b@vm", "c");
        let peer: NodeName = "b@vm".parse().unwrap();
        let (ri, ra) = tokio::join!(initiate(&mut x, &ci, &peer), accept(&mut y, &ca));
        assert!(matches!(ri, Err(HandshakeError::NotAllowed { .. })), "{ri:?}");
        assert!(matches!(ra, Err(HandshakeError::VersionMismatch { .. })), "{ra:?}");
    }

    async fn send<S: AsyncWrite + Unpin>(s: &mut S, body: &[u8]) {
        write_msg(s, Framing::U16, State::SendName, DEFAULT_TIMEOUT, body).await.unwrap();
    }

    async fn recv<S: AsyncRead + Unpin>(s: &mut S) -> Vec<u8> {
        read_msg(s, Framing::U16, State::RecvStatus, DEFAULT_TIMEOUT).await.unwrap()
    }

    #[tokio::test]
    async fn acceptor_takes_old_send_name_and_complement() {
        // What an OTP 23/24 node that could not ask epmd sends.
        let (mut x, mut y) = tokio::io::duplex(4096);
        let ca = cfg("b@vm", "c");
        let full = DistFlags::beamlink_default();
        let peer_side = async {
            let old =
                SendNameOld { version: 5, flags: DistFlags(full.0 & 0xffff_ffff), name: "old@vm".into() };
            send(&mut x, &old.encode()).await;
            assert_eq!(Status::decode(&recv(&mut x).await), Ok(Status::Ok));
            let ch = Challenge::decode(&recv(&mut x).await).unwrap();
            let comp = Complement { flags_high: (full.0 >> 32) as u32, creation: 77 };
            send(&mut x, &comp.encode()).await;
            let reply = ChallengeReply { challenge: 5, digest: digest(ch.challenge, &Cookie::new("c")) };
            send(&mut x, &reply.encode()).await;
            let ack = ChallengeAck::decode(&recv(&mut x).await).unwrap();
            assert_eq!(ack.digest, digest(5, &Cookie::new("c")));
        };
        let (_, r) = tokio::join!(peer_side, accept(&mut y, &ca));
        let n = r.unwrap();
        assert_eq!(n.peer_name, "old@vm");
        assert_eq!(n.peer_creation, 77);
        assert_eq!(n.peer_flags, full);
    }

    #[tokio::test]
    async fn acceptor_answers_nok_to_bad_alive_and_closes_on_no_host() {
        let ca = cfg("b@vm", "c");
        let (mut x, mut y) = tokio::io::duplex(4096);
        let bad = SendName { flags: DistFlags::beamlink_default(), creation: 9, name: "a.b@vm".into() };
        let (_, r) = tokio::join!(
            async {
                send(&mut x, &bad.encode()).await;
                assert_eq!(Status::decode(&recv(&mut x).await), Ok(Status::Nok));
            },
            accept(&mut y, &ca)
        );
        assert!(matches!(r, Err(HandshakeError::Refused { .. })), "{r:?}");

        let (mut x, mut y) = tokio::io::duplex(4096);
        let nohost = SendName { name: "justalive".into(), ..bad };
        send(&mut x, &nohost.encode()).await;
        let r = accept(&mut y, &ca).await;
        assert!(matches!(r, Err(HandshakeError::Protocol { state: State::RecvName, .. })), "{r:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn silent_peer_times_out() {
        let (mut x, _y) = tokio::io::duplex(4096);
        let ci = cfg("a@vm", "c");
        let peer: NodeName = "b@vm".parse().unwrap();
        let r = initiate(&mut x, &ci, &peer).await;
        assert!(matches!(r, Err(HandshakeError::Timeout { state: State::RecvStatus, .. })), "{r:?}");
    }
}
