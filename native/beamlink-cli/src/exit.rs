//! Exit codes a script can rely on, and the one mapping from the engine's typed errors to them
//! that every subcommand uses. Call failures keep [`beamlink::CallError::exit_code`]'s codes
//! (2 error, 3 exit, 4 throw, 5 undef, 6 noconnection, 7 timeout, 8 spawn refused, 9 badrpc,
//! 10 undecodable answer).

use beamlink::NodeError;
use beamlink::epmd::EpmdError;
use beamlink::handshake::{ConnectError, HandshakeError, State};
use beamlink::tls::TlsError;

pub const OK: i32 = 0;
/// `ping`: a node did not answer.
pub const PANG: i32 = 1;
/// What was named is not there (`noproc`): an exit, as a call to it would report.
pub const NOPROC: i32 = 3;
/// The node is not there, or the connection was lost.
pub const NOCONNECTION: i32 = 6;
pub const TIMEOUT: i32 = 7;
/// A value was larger than `--max-output`.
pub const TOO_LARGE: i32 = 11;
/// Bad command line (sysexits EX_USAGE).
pub const USAGE: i32 = 64;
/// epmd cannot be reached, or what answered is not epmd (EX_UNAVAILABLE).
pub const UNAVAILABLE: i32 = 69;
/// Writing the output failed (EX_IOERR).
pub const CANNOT_WRITE: i32 = 74;
/// Our own name, a node name, the cookie or the cookie file is unusable (EX_CONFIG).
pub const CONFIG: i32 = 78;
/// stdout was closed by its reader: what a shell reports for a tool killed by SIGPIPE.
pub const CLOSED_PIPE: i32 = 128 + 13;

/// The exit code for a command stopped by `signal`, as a shell reports a process it killed:
/// 130 for SIGINT (Ctrl-C), 143 for SIGTERM.
pub fn interrupted(signal: i32) -> i32 {
    128 + signal
}

/// The exit code for a failure to start our node or to reach another one.
pub fn node_error(e: &NodeError) -> i32 {
    match e {
        NodeError::Name(_) | NodeError::Cookie(_) | NodeError::NameInUse { .. } | NodeError::Tls(_) => CONFIG,
        NodeError::Epmd(e) => epmd_error(e),
        NodeError::Connect { source, .. } => connect_error(source),
        NodeError::Listen(_) => UNAVAILABLE,
        NodeError::NoConnection { .. } | NodeError::Shutdown => NOCONNECTION,
    }
}

pub fn epmd_error(e: &EpmdError) -> i32 {
    match e {
        EpmdError::Timeout { .. } => TIMEOUT,
        EpmdError::NameInUse { .. } | EpmdError::BadName { .. } => CONFIG,
        EpmdError::Unreachable { .. }
        | EpmdError::Resolve { .. }
        | EpmdError::Protocol { .. }
        | EpmdError::Io { .. } => UNAVAILABLE,
    }
}

fn connect_error(e: &ConnectError) -> i32 {
    match e {
        ConnectError::NodeNotFound { .. } => NOCONNECTION,
        ConnectError::Epmd(e) => epmd_error(e),
        ConnectError::Connect { source, .. } if source.kind() == std::io::ErrorKind::TimedOut => TIMEOUT,
        ConnectError::Connect { .. } => NOCONNECTION,
        ConnectError::Handshake { source, .. } => match source {
            // The peer judged our cookie, our name or our flags: nothing a retry changes.
            HandshakeError::BadCookie { .. }
            | HandshakeError::NotAllowed { .. }
            | HandshakeError::Refused { .. }
            | HandshakeError::WrongPeer { .. }
            | HandshakeError::TlsPeer { .. } => CONFIG,
            HandshakeError::Timeout { .. } => TIMEOUT,
            _ => NOCONNECTION,
        },
        ConnectError::Tls(e) => match e {
            TlsError::Timeout { .. } => TIMEOUT,
            TlsError::NotTls { .. } | TlsError::Failed { .. } => NOCONNECTION,
            // Certificates, names and what the peer requires: a retry changes nothing.
            _ => CONFIG,
        },
    }
}

/// What to add to a connection error's message so the reader knows where to look.
pub fn hint(e: &NodeError) -> Option<&'static str> {
    let NodeError::Connect { source, .. } = e else { return None };
    let source = match source {
        ConnectError::Tls(TlsError::NotTls { .. } | TlsError::Timeout { .. }) => {
            return Some("the node may use plain TCP distribution: leave out the TLS options");
        }
        ConnectError::Handshake { source, .. } => source,
        _ => return None,
    };
    match source {
        HandshakeError::TlsPeer { .. } => Some(
            "the node uses TLS distribution (-proto_dist inet_tls): give beamlink its certificate, key and CA",
        ),
        // A TLS listener reads our name as a broken ClientHello and hangs up (or answers
        // with an alert, which is no status either).
        HandshakeError::PeerClosed { state: State::RecvStatus }
        | HandshakeError::Protocol { state: State::RecvStatus, .. } => {
            Some("the node may use TLS distribution (-proto_dist inet_tls): see the TLS options in --help")
        }
        HandshakeError::WrongPeer { .. } => Some(
            "the host part must be the node's own (as `erl -sname` printed it); try the name it answered with",
        ),
        _ => None,
    }
}
