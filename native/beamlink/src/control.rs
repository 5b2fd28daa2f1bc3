//! Distribution control messages: the tuple that starts every non-tick packet, typed.
//!
//! Only the operations beamlink acts on get variants; trace-token forms (`*_TT`) are decoded
//! into their plain forms with the token dropped, as a node without seq_trace would.

use crate::term::{self, Atom, DecodeError, Decoder, Pid, Reference, Term, piece};

/// Operation codes (erts `dist.h`).
pub mod op {
    pub const LINK: i64 = 1;
    pub const SEND: i64 = 2;
    pub const EXIT: i64 = 3;
    pub const UNLINK: i64 = 4;
    pub const REG_SEND: i64 = 6;
    pub const GROUP_LEADER: i64 = 7;
    pub const EXIT2: i64 = 8;
    pub const SEND_TT: i64 = 12;
    pub const EXIT_TT: i64 = 13;
    pub const REG_SEND_TT: i64 = 16;
    pub const EXIT2_TT: i64 = 18;
    pub const MONITOR_P: i64 = 19;
    pub const DEMONITOR_P: i64 = 20;
    pub const MONITOR_P_EXIT: i64 = 21;
    pub const SEND_SENDER: i64 = 22;
    pub const SEND_SENDER_TT: i64 = 23;
    pub const PAYLOAD_EXIT: i64 = 24;
    pub const PAYLOAD_EXIT_TT: i64 = 25;
    pub const PAYLOAD_EXIT2: i64 = 26;
    pub const PAYLOAD_EXIT2_TT: i64 = 27;
    pub const PAYLOAD_MONITOR_P_EXIT: i64 = 28;
    pub const SPAWN_REQUEST: i64 = 29;
    pub const SPAWN_REQUEST_TT: i64 = 30;
    pub const SPAWN_REPLY: i64 = 31;
    pub const SPAWN_REPLY_TT: i64 = 32;
    pub const ALIAS_SEND: i64 = 33;
    pub const ALIAS_SEND_TT: i64 = 34;
    pub const UNLINK_ID: i64 = 35;
    pub const UNLINK_ID_ACK: i64 = 36;
    pub const ALTACT_SIG_SEND: i64 = 37;
}

/// `ALTACT_SIG_SEND` flag: the target is an alias.
const ALTACT_ALIAS: i64 = 4;
/// `ALTACT_SIG_SEND` flag: the signal is an exit signal, not a message.
const ALTACT_EXIT: i64 = 16;
/// `ALTACT_SIG_SEND` flag: a trace token follows.
const ALTACT_TOKEN: i64 = 2;

/// A control message. Variants that are followed by a payload term on the wire say so.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    Link {
        from: Pid,
        to: Pid,
    },
    /// + message. `from` is known only with SEND_SENDER.
    Send {
        from: Option<Pid>,
        to: Pid,
    },
    /// + message.
    RegSend {
        from: Pid,
        to: Atom,
    },
    /// + message, to an alias reference.
    AliasSend {
        from: Pid,
        alias: Reference,
    },
    /// A link broke. `reason` is inline (EXIT) or was the payload (PAYLOAD_EXIT).
    Exit {
        from: Pid,
        to: Pid,
        reason: Option<Term>,
    },
    /// `exit/2` from a remote process.
    Exit2 {
        from: Pid,
        to: Pid,
        reason: Option<Term>,
    },
    /// The remote monitors `target` (a pid of ours or a name registered on our node).
    Monitor {
        from: Pid,
        target: Term,
        reference: Reference,
    },
    Demonitor {
        from: Pid,
        target: Term,
        reference: Reference,
    },
    /// DOWN: `object` is the pid or name that was monitored.
    MonitorExit {
        object: Term,
        to: Pid,
        reference: Reference,
        reason: Option<Term>,
    },
    /// + argument list.
    SpawnRequest {
        req_id: Reference,
        from: Pid,
        group_leader: Pid,
        mfa: (Atom, Atom, u32),
        options: Term,
    },
    SpawnReply {
        req_id: Reference,
        to: Pid,
        flags: i64,
        result: Term,
    },
    UnlinkId {
        id: u64,
        from: Pid,
        to: Pid,
    },
    UnlinkIdAck {
        id: u64,
        from: Pid,
        to: Pid,
    },
    GroupLeader {
        from: Pid,
        to: Pid,
    },
    /// An operation we do not act on (kept for logging).
    Other(Term),
}

impl Control {
    /// Whether a payload term follows this control message on the wire.
    pub fn has_payload(&self) -> bool {
        match self {
            Control::Send { .. }
            | Control::RegSend { .. }
            | Control::AliasSend { .. }
            | Control::SpawnRequest { .. } => true,
            Control::Exit { reason, .. } | Control::Exit2 { reason, .. } => reason.is_none(),
            Control::MonitorExit { reason, .. } => reason.is_none(),
            _ => false,
        }
    }

    /// Builds the control tuple. Exit-type messages whose reason is `None` are written in their
    /// PAYLOAD form (the reason follows as the payload), which EXIT_PAYLOAD peers expect.
    pub fn to_term(&self) -> Term {
        let i = |v: i64| Term::Int(v);
        let pid = |p: &Pid| Term::Pid(p.clone());
        let r = |r: &Reference| Term::Reference(r.clone());
        let empty = || Term::atom("");
        match self {
            Control::Link { from, to } => Term::Tuple(vec![i(op::LINK), pid(from), pid(to)]),
            Control::Send { from: Some(f), to } => Term::Tuple(vec![i(op::SEND_SENDER), pid(f), pid(to)]),
            Control::Send { from: None, to } => Term::Tuple(vec![i(op::SEND), empty(), pid(to)]),
            Control::RegSend { from, to } => {
                Term::Tuple(vec![i(op::REG_SEND), pid(from), empty(), Term::Atom(to.clone())])
            }
            Control::AliasSend { from, alias } => Term::Tuple(vec![i(op::ALIAS_SEND), pid(from), r(alias)]),
            Control::Exit { from, to, reason: Some(reason) } => {
                Term::Tuple(vec![i(op::EXIT), pid(from), pid(to), reason.clone()])
            }
            Control::Exit { from, to, reason: None } => {
                Term::Tuple(vec![i(op::PAYLOAD_EXIT), pid(from), pid(to)])
            }
            Control::Exit2 { from, to, reason: Some(reason) } => {
                Term::Tuple(vec![i(op::EXIT2), pid(from), pid(to), reason.clone()])
            }
            Control::Exit2 { from, to, reason: None } => {
                Term::Tuple(vec![i(op::PAYLOAD_EXIT2), pid(from), pid(to)])
            }
            Control::Monitor { from, target, reference } => {
                Term::Tuple(vec![i(op::MONITOR_P), pid(from), target.clone(), r(reference)])
            }
            Control::Demonitor { from, target, reference } => {
                Term::Tuple(vec![i(op::DEMONITOR_P), pid(from), target.clone(), r(reference)])
            }
            Control::MonitorExit { object, to, reference, reason: Some(reason) } => Term::Tuple(vec![
                i(op::MONITOR_P_EXIT),
                object.clone(),
                pid(to),
                r(reference),
                reason.clone(),
            ]),
            Control::MonitorExit { object, to, reference, reason: None } => {
                Term::Tuple(vec![i(op::PAYLOAD_MONITOR_P_EXIT), object.clone(), pid(to), r(reference)])
            }
            Control::SpawnRequest { req_id, from, group_leader, mfa, options } => Term::Tuple(vec![
                i(op::SPAWN_REQUEST),
                r(req_id),
                pid(from),
                pid(group_leader),
                Term::Tuple(vec![
                    Term::Atom(mfa.0.clone()),
                    Term::Atom(mfa.1.clone()),
                    Term::Int(mfa.2 as i64),
                ]),
                options.clone(),
            ]),
            Control::SpawnReply { req_id, to, flags, result } => {
                Term::Tuple(vec![i(op::SPAWN_REPLY), r(req_id), pid(to), i(*flags), result.clone()])
            }
            Control::UnlinkId { id, from, to } => {
                Term::Tuple(vec![i(op::UNLINK_ID), Term::from(*id), pid(from), pid(to)])
            }
            Control::UnlinkIdAck { id, from, to } => {
                Term::Tuple(vec![i(op::UNLINK_ID_ACK), Term::from(*id), pid(from), pid(to)])
            }
            Control::GroupLeader { from, to } => Term::Tuple(vec![i(op::GROUP_LEADER), pid(from), pid(to)]),
            Control::Other(t) => t.clone(),
        }
    }

    /// Writes the control tuple, the bytes `encode_into(&self.to_term())` writes, without
    /// building the term.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let head = |n: usize, code: i64, out: &mut Vec<u8>| {
            piece::tuple_header(n, out);
            piece::int(code, out);
        };
        let pid = piece::pid;
        let reference = piece::reference;
        let empty = |out: &mut Vec<u8>| out.extend_from_slice(&[term::tag::SMALL_ATOM_UTF8_EXT, 0]);
        match self {
            Control::Link { from, to } => {
                head(3, op::LINK, out);
                pid(from, out);
                pid(to, out);
            }
            Control::Send { from: Some(f), to } => {
                head(3, op::SEND_SENDER, out);
                pid(f, out);
                pid(to, out);
            }
            Control::Send { from: None, to } => {
                head(3, op::SEND, out);
                empty(out);
                pid(to, out);
            }
            Control::RegSend { from, to } => {
                head(4, op::REG_SEND, out);
                pid(from, out);
                empty(out);
                piece::atom(to, out);
            }
            Control::AliasSend { from, alias } => {
                head(3, op::ALIAS_SEND, out);
                pid(from, out);
                reference(alias, out);
            }
            Control::Exit { from, to, reason } | Control::Exit2 { from, to, reason } => {
                let exit2 = matches!(self, Control::Exit2 { .. });
                let code = match (exit2, reason.is_some()) {
                    (false, true) => op::EXIT,
                    (false, false) => op::PAYLOAD_EXIT,
                    (true, true) => op::EXIT2,
                    (true, false) => op::PAYLOAD_EXIT2,
                };
                head(3 + reason.is_some() as usize, code, out);
                pid(from, out);
                pid(to, out);
                if let Some(r) = reason {
                    term::encode_into(r, out);
                }
            }
            Control::Monitor { from, target, reference: r }
            | Control::Demonitor { from, target, reference: r } => {
                let code =
                    if matches!(self, Control::Monitor { .. }) { op::MONITOR_P } else { op::DEMONITOR_P };
                head(4, code, out);
                pid(from, out);
                term::encode_into(target, out);
                reference(r, out);
            }
            Control::MonitorExit { object, to, reference: r, reason } => {
                let code = if reason.is_some() { op::MONITOR_P_EXIT } else { op::PAYLOAD_MONITOR_P_EXIT };
                head(4 + reason.is_some() as usize, code, out);
                term::encode_into(object, out);
                pid(to, out);
                reference(r, out);
                if let Some(reason) = reason {
                    term::encode_into(reason, out);
                }
            }
            Control::SpawnRequest { req_id, from, group_leader, mfa, options } => {
                head(6, op::SPAWN_REQUEST, out);
                reference(req_id, out);
                pid(from, out);
                pid(group_leader, out);
                piece::tuple_header(3, out);
                piece::atom(&mfa.0, out);
                piece::atom(&mfa.1, out);
                piece::int(mfa.2 as i64, out);
                term::encode_into(options, out);
            }
            Control::SpawnReply { req_id, to, flags, result } => {
                head(5, op::SPAWN_REPLY, out);
                reference(req_id, out);
                pid(to, out);
                piece::int(*flags, out);
                term::encode_into(result, out);
            }
            Control::UnlinkId { id, from, to } | Control::UnlinkIdAck { id, from, to } => {
                let code =
                    if matches!(self, Control::UnlinkId { .. }) { op::UNLINK_ID } else { op::UNLINK_ID_ACK };
                head(4, code, out);
                term::encode_into(&Term::from(*id), out);
                pid(from, out);
                pid(to, out);
            }
            Control::GroupLeader { from, to } => {
                head(3, op::GROUP_LEADER, out);
                pid(from, out);
                pid(to, out);
            }
            Control::Other(t) => term::encode_into(t, out),
        }
    }

    /// Reads a control tuple straight from its encoding, as
    /// [`from_term`](Self::from_term)`(d.term()?)` would but without building the tuple; an
    /// operation it does not read directly (or anything malformed) goes through `from_term`,
    /// so the result and the errors are the same.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Control, ReadError> {
        let start = d.position();
        if let Some(c) = Self::decode_direct(d) {
            return Ok(c);
        }
        d.rewind(start);
        let t = d.term().map_err(ReadError::Decode)?;
        Control::from_term(t).map_err(ReadError::Control)
    }

    /// The operations a node sends in the course of calls, messages, links and monitors.
    fn decode_direct(d: &mut Decoder<'_>) -> Option<Control> {
        let n = d.small_tuple()?;
        let code = d.int()?;
        let want = match code {
            // The size of these depends on their flags: `from_term` checks them.
            op::ALTACT_SIG_SEND => return None,
            _ => arity(code, &[])?,
        };
        if n != want {
            return None;
        }
        Some(match code {
            op::LINK => Control::Link { from: d.pid()?, to: d.pid()? },
            op::SEND => {
                d.term().ok()?;
                Control::Send { from: None, to: d.pid()? }
            }
            op::SEND_SENDER => Control::Send { from: Some(d.pid()?), to: d.pid()? },
            op::REG_SEND => {
                let from = d.pid()?;
                d.term().ok()?;
                Control::RegSend { from, to: d.atom().ok()? }
            }
            op::ALIAS_SEND => Control::AliasSend { from: d.pid()?, alias: d.reference()? },
            op::EXIT => Control::Exit { from: d.pid()?, to: d.pid()?, reason: Some(d.term().ok()?) },
            op::PAYLOAD_EXIT => Control::Exit { from: d.pid()?, to: d.pid()?, reason: None },
            op::EXIT2 => Control::Exit2 { from: d.pid()?, to: d.pid()?, reason: Some(d.term().ok()?) },
            op::PAYLOAD_EXIT2 => Control::Exit2 { from: d.pid()?, to: d.pid()?, reason: None },
            op::MONITOR_P => {
                Control::Monitor { from: d.pid()?, target: d.term().ok()?, reference: d.reference()? }
            }
            op::DEMONITOR_P => {
                Control::Demonitor { from: d.pid()?, target: d.term().ok()?, reference: d.reference()? }
            }
            op::MONITOR_P_EXIT => Control::MonitorExit {
                object: d.term().ok()?,
                to: d.pid()?,
                reference: d.reference()?,
                reason: Some(d.term().ok()?),
            },
            op::PAYLOAD_MONITOR_P_EXIT => Control::MonitorExit {
                object: d.term().ok()?,
                to: d.pid()?,
                reference: d.reference()?,
                reason: None,
            },
            op::SPAWN_REPLY => Control::SpawnReply {
                req_id: d.reference()?,
                to: d.pid()?,
                flags: d.int()?,
                result: d.term().ok()?,
            },
            op::GROUP_LEADER => Control::GroupLeader { from: d.pid()?, to: d.pid()? },
            _ => return None,
        })
    }

    /// Reads a control tuple. Anything malformed is an error naming what was wrong.
    pub fn from_term(t: Term) -> Result<Control, ControlError> {
        let items = match &t {
            Term::Tuple(items) if !items.is_empty() => t.into_items().expect("a tuple"),
            _ => return Err(ControlError::NotATuple(t)),
        };
        let code = items[0].as_int().ok_or(ControlError::BadField("operation"))?;
        // erts drops a connection whose control tuple has the wrong size for its operation
        // (dist.c, "invalid_message"); extra fields are not ignored.
        if let Some(want) = arity(code, &items)
            && want != items.len()
        {
            return Err(ControlError::Arity { op: code, got: items.len(), want });
        }
        let f = Fields(&items);
        Ok(match code {
            op::LINK => Control::Link { from: f.pid(1)?, to: f.pid(2)? },
            op::SEND | op::SEND_TT => Control::Send { from: None, to: f.pid(2)? },
            op::SEND_SENDER | op::SEND_SENDER_TT => Control::Send { from: Some(f.pid(1)?), to: f.pid(2)? },
            op::REG_SEND | op::REG_SEND_TT => Control::RegSend { from: f.pid(1)?, to: f.atom(3)? },
            op::ALIAS_SEND | op::ALIAS_SEND_TT => {
                Control::AliasSend { from: f.pid(1)?, alias: f.reference(2)? }
            }
            op::EXIT => Control::Exit { from: f.pid(1)?, to: f.pid(2)?, reason: Some(f.any(3)?) },
            op::EXIT_TT => Control::Exit { from: f.pid(1)?, to: f.pid(2)?, reason: Some(f.any(4)?) },
            op::PAYLOAD_EXIT | op::PAYLOAD_EXIT_TT => {
                Control::Exit { from: f.pid(1)?, to: f.pid(2)?, reason: None }
            }
            op::EXIT2 => Control::Exit2 { from: f.pid(1)?, to: f.pid(2)?, reason: Some(f.any(3)?) },
            op::EXIT2_TT => Control::Exit2 { from: f.pid(1)?, to: f.pid(2)?, reason: Some(f.any(4)?) },
            op::PAYLOAD_EXIT2 | op::PAYLOAD_EXIT2_TT => {
                Control::Exit2 { from: f.pid(1)?, to: f.pid(2)?, reason: None }
            }
            op::MONITOR_P => {
                Control::Monitor { from: f.pid(1)?, target: f.any(2)?, reference: f.reference(3)? }
            }
            op::DEMONITOR_P => {
                Control::Demonitor { from: f.pid(1)?, target: f.any(2)?, reference: f.reference(3)? }
            }
            op::MONITOR_P_EXIT => Control::MonitorExit {
                object: f.any(1)?,
                to: f.pid(2)?,
                reference: f.reference(3)?,
                reason: Some(f.any(4)?),
            },
            op::PAYLOAD_MONITOR_P_EXIT => Control::MonitorExit {
                object: f.any(1)?,
                to: f.pid(2)?,
                reference: f.reference(3)?,
                reason: None,
            },
            op::SPAWN_REQUEST | op::SPAWN_REQUEST_TT => {
                let mfa = match f.any(4)? {
                    Term::Tuple(ref m) if m.len() == 3 => match (&m[0], &m[1], &m[2]) {
                        (Term::Atom(a), Term::Atom(b), Term::Int(n)) if *n >= 0 => {
                            (a.clone(), b.clone(), *n as u32)
                        }
                        _ => return Err(ControlError::BadField("spawn mfa")),
                    },
                    _ => return Err(ControlError::BadField("spawn mfa")),
                };
                Control::SpawnRequest {
                    req_id: f.reference(1)?,
                    from: f.pid(2)?,
                    group_leader: f.pid(3)?,
                    mfa,
                    options: f.any(5)?,
                }
            }
            op::SPAWN_REPLY | op::SPAWN_REPLY_TT => Control::SpawnReply {
                req_id: f.reference(1)?,
                to: f.pid(2)?,
                flags: f.any(3)?.as_int().ok_or(ControlError::BadField("spawn reply flags"))?,
                result: f.any(4)?,
            },
            op::UNLINK_ID => Control::UnlinkId { id: f.u64(1)?, from: f.pid(2)?, to: f.pid(3)? },
            op::UNLINK_ID_ACK => Control::UnlinkIdAck { id: f.u64(1)?, from: f.pid(2)?, to: f.pid(3)? },
            op::GROUP_LEADER => Control::GroupLeader { from: f.pid(1)?, to: f.pid(2)? },
            op::ALTACT_SIG_SEND => {
                let flags = f.any(1)?.as_int().ok_or(ControlError::BadField("altact flags"))?;
                let from = f.pid(2)?;
                if flags & ALTACT_ALIAS != 0 && flags & ALTACT_EXIT == 0 {
                    Control::AliasSend { from, alias: f.reference(3)? }
                } else if flags & ALTACT_EXIT == 0 {
                    match f.any(3)? {
                        Term::Pid(ref to) => Control::Send { from: Some(from), to: to.clone() },
                        Term::Atom(ref to) => Control::RegSend { from, to: to.clone() },
                        _ => Control::Other(Term::Tuple(items.clone())),
                    }
                } else {
                    Control::Other(Term::Tuple(items.clone()))
                }
            }
            _ => Control::Other(Term::Tuple(items.clone())),
        })
    }
}

/// The tuple size erts requires for a known operation (`None`: unknown operation, or one
/// whose size depends on its flags and is checked by field access).
fn arity(code: i64, items: &[Term]) -> Option<usize> {
    Some(match code {
        op::LINK | op::SEND | op::UNLINK | op::GROUP_LEADER | op::SEND_SENDER => 3,
        op::PAYLOAD_EXIT | op::PAYLOAD_EXIT2 | op::ALIAS_SEND => 3,
        op::EXIT | op::REG_SEND | op::EXIT2 | op::SEND_TT | op::MONITOR_P | op::DEMONITOR_P => 4,
        op::SEND_SENDER_TT | op::PAYLOAD_EXIT_TT | op::PAYLOAD_EXIT2_TT => 4,
        op::PAYLOAD_MONITOR_P_EXIT | op::ALIAS_SEND_TT | op::UNLINK_ID | op::UNLINK_ID_ACK => 4,
        op::EXIT_TT | op::REG_SEND_TT | op::EXIT2_TT | op::MONITOR_P_EXIT | op::SPAWN_REPLY => 5,
        op::SPAWN_REQUEST | op::SPAWN_REPLY_TT => 6,
        op::SPAWN_REQUEST_TT => 7,
        // {37, Flags, SenderPid, Alias/Pid/Name} plus a token when the flags say so.
        op::ALTACT_SIG_SEND => match items.get(1).and_then(Term::as_int) {
            Some(flags) if flags & ALTACT_TOKEN != 0 => 5,
            _ => 4,
        },
        _ => return None,
    })
}

/// Why [`Control::decode`] failed: the bytes are not a term, or the term is not a control
/// message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Decode(DecodeError),
    #[error(transparent)]
    Control(ControlError),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    #[error("control message for operation {op} has {got} elements, expected {want}")]
    Arity { op: i64, got: usize, want: usize },
    #[error("control message is not a tuple: {0:?}")]
    NotATuple(Term),
    #[error("control message has a bad or missing {0}")]
    BadField(&'static str),
}

struct Fields<'a>(&'a [Term]);

impl Fields<'_> {
    fn any(&self, i: usize) -> Result<Term, ControlError> {
        self.0.get(i).cloned().ok_or(ControlError::BadField("field"))
    }
    fn pid(&self, i: usize) -> Result<Pid, ControlError> {
        match self.0.get(i) {
            Some(Term::Pid(p)) => Ok(p.clone()),
            _ => Err(ControlError::BadField("pid")),
        }
    }
    fn atom(&self, i: usize) -> Result<Atom, ControlError> {
        match self.0.get(i) {
            Some(Term::Atom(a)) => Ok(a.clone()),
            _ => Err(ControlError::BadField("atom")),
        }
    }
    fn reference(&self, i: usize) -> Result<Reference, ControlError> {
        match self.0.get(i) {
            Some(Term::Reference(r)) => Ok(r.clone()),
            _ => Err(ControlError::BadField("reference")),
        }
    }
    fn u64(&self, i: usize) -> Result<u64, ControlError> {
        match self.0.get(i) {
            Some(Term::Int(v)) if *v >= 0 => Ok(*v as u64),
            Some(Term::BigInt(b)) => u64::try_from(b).map_err(|_| ControlError::BadField("id")),
            _ => Err(ControlError::BadField("id")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(id: u32) -> Pid {
        Pid { node: Atom::new("a@b"), id, serial: 0, creation: 1 }
    }

    fn reference() -> Reference {
        Reference { node: Atom::new("a@b"), creation: 1, ids: vec![1, 2, 3] }
    }

    #[test]
    fn every_variant_round_trips_through_its_tuple() {
        let all = vec![
            Control::Link { from: pid(1), to: pid(2) },
            Control::Send { from: None, to: pid(2) },
            Control::Send { from: Some(pid(1)), to: pid(2) },
            Control::RegSend { from: pid(1), to: Atom::new("rex") },
            Control::AliasSend { from: pid(1), alias: reference() },
            Control::Exit { from: pid(1), to: pid(2), reason: Some(Term::atom("normal")) },
            Control::Exit { from: pid(1), to: pid(2), reason: None },
            Control::Exit2 { from: pid(1), to: pid(2), reason: Some(Term::atom("kill")) },
            Control::Exit2 { from: pid(1), to: pid(2), reason: None },
            Control::Monitor { from: pid(1), target: Term::atom("rex"), reference: reference() },
            Control::Demonitor { from: pid(1), target: Term::Pid(pid(3)), reference: reference() },
            Control::MonitorExit {
                object: Term::Pid(pid(3)),
                to: pid(1),
                reference: reference(),
                reason: Some(Term::atom("noproc")),
            },
            Control::MonitorExit {
                object: Term::atom("x"),
                to: pid(1),
                reference: reference(),
                reason: None,
            },
            Control::SpawnRequest {
                req_id: reference(),
                from: pid(1),
                group_leader: pid(1),
                mfa: (Atom::new("erpc"), Atom::new("execute_call"), 4),
                options: Term::list([Term::atom("monitor")]),
            },
            Control::SpawnReply { req_id: reference(), to: pid(1), flags: 2, result: Term::Pid(pid(9)) },
            Control::UnlinkId { id: 7, from: pid(1), to: pid(2) },
            Control::UnlinkIdAck { id: 7, from: pid(2), to: pid(1) },
            Control::GroupLeader { from: pid(1), to: pid(2) },
        ];
        for c in all {
            assert_eq!(Control::from_term(c.to_term()).unwrap(), c);
            // The direct encoding is the term's, and reads back the same, with the decoder
            // right after it.
            let mut direct = Vec::new();
            c.encode_into(&mut direct);
            assert_eq!(direct, term::encode(&c.to_term())[1..], "{c:?}");
            direct.push(106);
            let mut d = Decoder::new(&direct);
            assert_eq!(Control::decode(&mut d).unwrap(), c);
            assert_eq!(d.remaining(), [106]);
            // One field too many is refused, as erts refuses it.
            let mut items = c.to_term().as_tuple().expect("a tuple").to_vec();
            items.push(Term::atom("extra"));
            let got = Control::from_term(Term::Tuple(items));
            assert!(matches!(got, Err(ControlError::Arity { .. })), "{c:?}: {got:?}");
        }
    }

    #[test]
    fn altact_alias_send_reads_as_alias_send() {
        let t =
            Term::Tuple(vec![Term::Int(37), Term::Int(4), Term::Pid(pid(1)), Term::Reference(reference())]);
        assert_eq!(Control::from_term(t).unwrap(), Control::AliasSend { from: pid(1), alias: reference() });
    }

    #[test]
    fn malformed_control_is_an_error_not_a_panic() {
        assert!(Control::from_term(Term::Int(1)).is_err());
        assert!(Control::from_term(Term::tuple([Term::Int(2)])).is_err());
        assert!(Control::from_term(Term::tuple([Term::atom("x")])).is_err());
        assert!(matches!(Control::from_term(Term::tuple([Term::Int(99)])), Ok(Control::Other(_))));
    }
}
