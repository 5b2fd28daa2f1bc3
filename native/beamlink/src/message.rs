//! What travels to and from a local process: the messages and signals that arrive in its
//! mailbox, their payloads (kept encoded until asked for), and what can be sent.
//!
//! The bottom of the process layers: the mailbox, the routing table, the node and the process
//! handle all speak these types, and this module depends on none of them.

use bytes::Bytes;

use crate::connection::{decode_bare, decode_bare_with};
use crate::term::{self, DecodeError, Limits, Pid, Reference, Term};

/// A message payload as received: the encoded term (external term format without the version
/// byte). Decode it with [`Payload::term`], or hand the bytes on untouched.
#[derive(Clone, Debug, PartialEq)]
pub struct Payload(pub(crate) Bytes);

impl Payload {
    /// Decodes the term; binaries share the received buffer. What a connected node sends is
    /// decoded as BEAM decodes it, to any depth ([`Limits::trusted`]).
    pub fn term(&self) -> Result<Term, DecodeError> {
        decode_bare(&self.0)
    }

    /// Decodes the term within other limits, for a caller that wants the untrusted-input
    /// bounds ([`Limits::default`]) even for a connected node's bytes.
    pub fn term_with(&self, limits: Limits) -> Result<Term, DecodeError> {
        decode_bare_with(&self.0, limits)
    }

    /// The encoded term without the version byte.
    pub fn bare(&self) -> &Bytes {
        &self.0
    }

    /// The encoded term with the version byte, as `binary_to_term/1` and `ei` expect.
    pub fn to_etf(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.0.len() + 1);
        v.push(term::VERSION_MAGIC);
        v.extend_from_slice(&self.0);
        v
    }
}

/// What to send: a term to encode, or bytes already encoded (with or without the version byte,
/// as `term_to_binary/1`, `ei` or another encoder produced them).
#[derive(Clone, Debug)]
pub enum Outbound {
    Term(Term),
    Encoded(Bytes),
    /// One encoded term in pieces, sent one after the other: lets a caller wrap a large
    /// encoded value in a small envelope without copying it.
    Parts(Vec<Bytes>),
}

impl Outbound {
    /// Pre-encoded external term format. A leading version byte is stripped without copying;
    /// a compressed term is expanded, since distribution carries terms uncompressed.
    pub fn etf(bytes: impl Into<Bytes>) -> Result<Outbound, DecodeError> {
        let b: Bytes = bytes.into();
        match (b.first(), b.get(1)) {
            (Some(131), Some(80)) => Ok(Outbound::Term(term::decode(&b)?)),
            (Some(131), _) => Ok(Outbound::Encoded(b.slice(1..))),
            _ => Ok(Outbound::Encoded(b)),
        }
    }

    pub(crate) fn into_parts(self) -> Vec<Bytes> {
        match self {
            Outbound::Parts(p) => p,
            other => vec![other.into_bytes()],
        }
    }

    pub(crate) fn into_bytes(self) -> Bytes {
        match self {
            Outbound::Encoded(b) => b,
            Outbound::Parts(p) => Bytes::from(p.concat()),
            Outbound::Term(t) => {
                let mut v = Vec::with_capacity(64);
                term::encode_into(&t, &mut v);
                Bytes::from(v)
            }
        }
    }
}

impl From<Term> for Outbound {
    fn from(t: Term) -> Outbound {
        Outbound::Term(t)
    }
}

impl From<&Term> for Outbound {
    fn from(t: &Term) -> Outbound {
        Outbound::Term(t.clone())
    }
}

/// Something that arrived in a process's mailbox.
#[derive(Clone, Debug)]
pub enum Message {
    /// An ordinary message. `from` is known when the sender's node said (SEND_SENDER, REG_SEND).
    Send { from: Option<Pid>, payload: Payload },
    /// An exit signal: a linked process ended, or someone called `exit(Pid, Reason)`.
    /// beamlink processes always trap exits: the signal is a message, never a kill.
    /// A reason the peer sent in a form that cannot be decoded arrives as
    /// [`UNDECODABLE_REASON`].
    Exit { from: Pid, reason: Term },
    /// A monitored process (or name) is gone; `reason` is `noconnection` when its node went.
    /// `raw` is the reason as it arrived encoded, when the peer sent it as a payload
    /// (EXIT_PAYLOAD), so it can be handed on without re-encoding. When those bytes cannot be
    /// decoded, `reason` is [`UNDECODABLE_REASON`] and `raw.term()` says why.
    Down { reference: Reference, object: Term, reason: Term, raw: Option<Payload> },
    /// The answer to [`Process::spawn_request`]: the new pid, or the error reason.
    SpawnReply { request: Reference, result: Result<Pid, Term>, linked: bool, monitored: bool },
}

/// The atom standing for an exit or DOWN reason whose encoding could not be decoded (a peer
/// that sent malformed bytes): `'$beamlink_undecodable'`. A real reason can be this atom too,
/// so a caller that cares decodes [`Message::Down`]'s `raw` bytes for the error.
pub const UNDECODABLE_REASON: &str = "$beamlink_undecodable";

impl Message {
    /// Decodes an ordinary message's payload; `None` for signals.
    pub fn term(&self) -> Option<Result<Term, DecodeError>> {
        match self {
            Message::Send { payload, .. } => Some(payload.term()),
            _ => None,
        }
    }
}
