//! The status codes every function returns, and the one place engine errors become them.

use std::ffi::{CStr, c_char, c_int};
use std::fmt::Display;
use std::time::Duration;

use beamlink::epmd::EpmdError;
use beamlink::handshake::{ConnectError, HandshakeError};
use beamlink::term::Term;
use beamlink::{CallError, NodeError};

/// What a beamlink function did, returned as an `int`. BL_OK is 0; every other value says
/// why not, and the calling thread's last error (bl_error_message(), bl_error_term()) has the
/// details.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum bl_status {
    /// Success.
    BL_OK = 0,
    /// The remote code raised an error (`error(Reason)`). Error term: Reason;
    /// bl_error_stacktrace() has the stacktrace.
    BL_ERROR = 1,
    /// The remote code exited (`exit(Reason)`) or its process was killed by an exit signal.
    /// Error term: Reason.
    BL_EXIT = 2,
    /// The remote code threw a value nobody caught. Error term: the value.
    BL_THROW = 3,
    /// The function called does not exist there. Error term: `{Module, Function, Arity}`;
    /// bl_error_stacktrace() has the remote stacktrace.
    BL_UNDEF = 4,
    /// The node cannot be reached (not registered in its epmd, refused, unreachable) or the
    /// connection was lost before the answer came.
    BL_NO_CONNECTION = 5,
    /// Nothing within the time allowed: no answer (the request is abandoned), no message.
    BL_TIMEOUT = 6,
    /// `rpc:call` semantics only: the remote rex answered `{badrpc, Reason}`. Error term:
    /// Reason (for an exit in the called function, `{'EXIT', R}`).
    BL_BADRPC = 7,
    /// The remote node refused to spawn the process. Error term: its reason (`notsup`...).
    BL_SPAWN_FAILED = 8,
    /// Bytes that are not a valid external term, given by the caller or sent by a peer.
    BL_DECODE = 9,
    /// A NULL pointer, a string that is not UTF-8, arguments that are not a list, a handle
    /// used the wrong way, a blocking call inside a callback.
    BL_BAD_ARGUMENT = 10,
    /// An invalid node name (`alive@host`, short or long as asked).
    BL_BAD_NAME = 11,
    /// The peer rejected our cookie (or we its), or the cookie file cannot be used.
    BL_BAD_COOKIE = 12,
    /// epmd does not answer on that host (not running, host unknown, no reply).
    BL_EPMD_UNREACHABLE = 13,
    /// The distribution handshake failed for another reason than the cookie (not allowed,
    /// refused, incompatible, a protocol error). TLS failures are BL_TLS.
    BL_HANDSHAKE = 14,
    /// The name is already registered (a process name, or a node name in epmd).
    BL_NAME_IN_USE = 15,
    /// An asynchronous operation has not finished yet: wait or poll again.
    BL_PENDING = 16,
    /// A bug in beamlink (a Rust panic, caught at the boundary). Please report it.
    BL_INTERNAL = 17,
    /// TLS distribution failed with the peer, and the message says why: a certificate not
    /// signed by a CA the other side trusts (ours refused by the peer, or theirs by us),
    /// expired or not yet valid, not naming the host dialed, or missing where one is required;
    /// or the two sides disagree on TLS (a plain-TCP peer where TLS was expected — a
    /// plain-TCP OTP node waits in silence, so that one takes up to the connect timeout,
    /// 7 s — or a TLS peer for a node without TLS settings). A retry changes nothing: fix
    /// the certificates or the options.
    BL_TLS = 18,
    /// The TLS settings of bl_node_options cannot be used: a file that cannot be read, no
    /// certificate or key in it, a key that is not the certificate's, an `ssl_dist_optfile`
    /// that does not parse or asks for what beamlink cannot honour, or fields given in a
    /// combination that is not one of those bl_node_options lists.
    BL_TLS_CONFIG = 19,
}

impl bl_status {
    /// The status as the `int` functions return.
    pub fn code(self) -> c_int {
        self as c_int
    }

    fn name(self) -> &'static CStr {
        match self {
            bl_status::BL_OK => c"BL_OK",
            bl_status::BL_ERROR => c"BL_ERROR",
            bl_status::BL_EXIT => c"BL_EXIT",
            bl_status::BL_THROW => c"BL_THROW",
            bl_status::BL_UNDEF => c"BL_UNDEF",
            bl_status::BL_NO_CONNECTION => c"BL_NO_CONNECTION",
            bl_status::BL_TIMEOUT => c"BL_TIMEOUT",
            bl_status::BL_BADRPC => c"BL_BADRPC",
            bl_status::BL_SPAWN_FAILED => c"BL_SPAWN_FAILED",
            bl_status::BL_DECODE => c"BL_DECODE",
            bl_status::BL_BAD_ARGUMENT => c"BL_BAD_ARGUMENT",
            bl_status::BL_BAD_NAME => c"BL_BAD_NAME",
            bl_status::BL_BAD_COOKIE => c"BL_BAD_COOKIE",
            bl_status::BL_EPMD_UNREACHABLE => c"BL_EPMD_UNREACHABLE",
            bl_status::BL_HANDSHAKE => c"BL_HANDSHAKE",
            bl_status::BL_NAME_IN_USE => c"BL_NAME_IN_USE",
            bl_status::BL_PENDING => c"BL_PENDING",
            bl_status::BL_INTERNAL => c"BL_INTERNAL",
            bl_status::BL_TLS => c"BL_TLS",
            bl_status::BL_TLS_CONFIG => c"BL_TLS_CONFIG",
        }
    }

    const ALL: [bl_status; 20] = [
        bl_status::BL_OK,
        bl_status::BL_ERROR,
        bl_status::BL_EXIT,
        bl_status::BL_THROW,
        bl_status::BL_UNDEF,
        bl_status::BL_NO_CONNECTION,
        bl_status::BL_TIMEOUT,
        bl_status::BL_BADRPC,
        bl_status::BL_SPAWN_FAILED,
        bl_status::BL_DECODE,
        bl_status::BL_BAD_ARGUMENT,
        bl_status::BL_BAD_NAME,
        bl_status::BL_BAD_COOKIE,
        bl_status::BL_EPMD_UNREACHABLE,
        bl_status::BL_HANDSHAKE,
        bl_status::BL_NAME_IN_USE,
        bl_status::BL_PENDING,
        bl_status::BL_INTERNAL,
        bl_status::BL_TLS,
        bl_status::BL_TLS_CONFIG,
    ];
}

/// The name of a status as written in the header (`"BL_TIMEOUT"`), or `"BL_UNKNOWN"` for a
/// value that is not one.
///
/// Ownership: the string is static; do not free it. Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn bl_status_name(status: c_int) -> *const c_char {
    bl_status::ALL.iter().find(|s| s.code() == status).map_or(c"BL_UNKNOWN".as_ptr(), |s| s.name().as_ptr())
}

/// A failed operation, on its way to the caller's last error.
#[derive(Debug)]
pub struct Failure {
    pub status: bl_status,
    pub message: String,
    /// The Erlang term of the error, when it has one (boxed: failures travel in `Result`s).
    pub term: Option<Box<Term>>,
    pub stacktrace: Option<Box<Term>>,
}

/// Error messages show a term in full only up to this many bytes; the whole term is in
/// bl_error_term().
const MESSAGE_TERM_MAX: usize = 2000;

/// A term for a message, cut short when long.
pub fn show(t: &Term) -> String {
    let mut s = t.to_string();
    if s.len() > MESSAGE_TERM_MAX {
        let mut cut = MESSAGE_TERM_MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

impl Failure {
    pub fn new(status: bl_status, message: impl Display) -> Failure {
        Failure { status, message: message.to_string(), term: None, stacktrace: None }
    }

    pub fn bad_argument(message: impl Display) -> Failure {
        Failure::new(bl_status::BL_BAD_ARGUMENT, message)
    }

    pub fn internal(message: impl Display) -> Failure {
        Failure::new(bl_status::BL_INTERNAL, message)
    }

    pub fn timeout(what: impl Display, after: Option<Duration>) -> Failure {
        match after {
            Some(t) => Failure::new(bl_status::BL_TIMEOUT, format_args!("{what}: nothing within {t:?}")),
            None => Failure::new(bl_status::BL_TIMEOUT, what),
        }
    }

    fn with_term(mut self, term: Term) -> Failure {
        self.term = Some(Box::new(term));
        self
    }

    /// A node-level error (connecting, naming, epmd, registering).
    pub fn node(e: NodeError) -> Failure {
        let status = match &e {
            NodeError::Name(_) => bl_status::BL_BAD_NAME,
            NodeError::Cookie(_) => bl_status::BL_BAD_COOKIE,
            NodeError::Epmd(e) => epmd_status(e),
            NodeError::Connect { source, .. } => connect_status(source),
            NodeError::NoConnection { .. } | NodeError::Shutdown => bl_status::BL_NO_CONNECTION,
            NodeError::NameInUse { .. } => bl_status::BL_NAME_IN_USE,
            // The port asked for cannot be listened on (in use, not permitted).
            NodeError::Listen(_) => bl_status::BL_BAD_ARGUMENT,
            // TLS settings that cannot be used (files, keys, the optfile).
            NodeError::Tls(_) => bl_status::BL_TLS_CONFIG,
        };
        Failure::new(status, e)
    }

    pub fn epmd(e: EpmdError) -> Failure {
        Failure::new(epmd_status(&e), e)
    }

    /// A remote call's error; the term is what an Erlang caller would catch.
    pub fn call(e: CallError) -> Failure {
        match e {
            CallError::Error { reason, stacktrace } => {
                let mut f =
                    Failure::new(bl_status::BL_ERROR, format_args!("remote error: {}", show(&reason)))
                        .with_term(reason);
                f.stacktrace = Some(Box::new(stacktrace));
                f
            }
            CallError::Exit { reason, signal: false } => {
                Failure::new(bl_status::BL_EXIT, format_args!("remote exit: {}", show(&reason)))
                    .with_term(reason)
            }
            CallError::Exit { reason, signal: true } => Failure::new(
                bl_status::BL_EXIT,
                format_args!("the remote process was killed by an exit signal: {}", show(&reason)),
            )
            .with_term(reason),
            CallError::Throw { value } => {
                Failure::new(bl_status::BL_THROW, format_args!("remote throw: {}", show(&value)))
                    .with_term(value)
            }
            CallError::Undef { module, function, arity, stacktrace } => {
                let term =
                    Term::tuple([Term::atom(&module), Term::atom(&function), Term::from(arity as u64)]);
                let mut f =
                    Failure::new(bl_status::BL_UNDEF, format_args!("undefined function {}", show_mfa(&term)))
                        .with_term(term);
                f.stacktrace = Some(Box::new(stacktrace));
                f
            }
            CallError::BadRpc { reason } => {
                Failure::new(bl_status::BL_BADRPC, format_args!("badrpc: {}", show(&reason)))
                    .with_term(reason)
            }
            CallError::SpawnFailed { node, reason } => Failure::new(
                bl_status::BL_SPAWN_FAILED,
                format_args!("{node} refused to spawn: {}", show(&reason)),
            )
            .with_term(reason),
            e @ CallError::NoConnection { .. } => Failure::new(bl_status::BL_NO_CONNECTION, e),
            e @ CallError::Timeout { .. } => Failure::new(bl_status::BL_TIMEOUT, e),
            e @ CallError::Decode(_) => Failure::new(bl_status::BL_DECODE, e),
        }
    }
}

fn show_mfa(t: &Term) -> String {
    match t.as_tuple() {
        Some([m, f, a]) => format!("{m}:{f}/{a}"),
        _ => show(t),
    }
}

fn epmd_status(e: &EpmdError) -> bl_status {
    match e {
        EpmdError::NameInUse { .. } => bl_status::BL_NAME_IN_USE,
        EpmdError::BadName { .. } => bl_status::BL_BAD_NAME,
        EpmdError::Unreachable { .. }
        | EpmdError::Resolve { .. }
        | EpmdError::Timeout { .. }
        | EpmdError::Protocol { .. }
        | EpmdError::Io { .. } => bl_status::BL_EPMD_UNREACHABLE,
    }
}

fn connect_status(e: &ConnectError) -> bl_status {
    match e {
        ConnectError::NodeNotFound { .. } | ConnectError::Connect { .. } => bl_status::BL_NO_CONNECTION,
        ConnectError::Epmd(e) => epmd_status(e),
        ConnectError::Handshake { source: HandshakeError::BadCookie { .. }, .. } => bl_status::BL_BAD_COOKIE,
        // Certificates, or one side speaking TLS and the other not (either way round).
        ConnectError::Tls(_) | ConnectError::Handshake { source: HandshakeError::TlsPeer { .. }, .. } => {
            bl_status::BL_TLS
        }
        ConnectError::Handshake { .. } => bl_status::BL_HANDSHAKE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_header_name() {
        for s in bl_status::ALL {
            let name = unsafe { CStr::from_ptr(bl_status_name(s.code())) };
            assert_eq!(name.to_str().unwrap(), format!("{s:?}"));
        }
        let unknown = unsafe { CStr::from_ptr(bl_status_name(999)) };
        assert_eq!(unknown.to_str().unwrap(), "BL_UNKNOWN");
    }

    #[test]
    fn tls_failures_have_their_statuses_and_say_why() {
        use beamlink::handshake::State;
        use beamlink::tls::{TlsConfigError, TlsError, Whose};
        let connect = |source| NodeError::Connect { node: "fuga@localhost".into(), source };
        let peer = "fuga@localhost".to_string();
        let f = Failure::node(connect(ConnectError::Tls(TlsError::UnknownCa { peer, whose: Whose::Theirs })));
        assert_eq!(f.status, bl_status::BL_TLS);
        assert!(
            f.message.contains("TLS") && f.message.contains("not signed by a trusted CA"),
            "{}",
            f.message
        );
        let plain = TlsError::NotTls { peer: "fuga@localhost".into(), detail: "x".into() };
        let f = Failure::node(connect(ConnectError::Tls(plain)));
        assert_eq!(f.status, bl_status::BL_TLS);
        assert!(f.message.contains("plain-TCP"), "{}", f.message);
        let source = HandshakeError::TlsPeer { state: State::RecvStatus };
        let f = Failure::node(connect(ConnectError::Handshake { peer: "fuga@localhost".into(), source }));
        assert_eq!(f.status, bl_status::BL_TLS);
        assert!(f.message.contains("speaks TLS"), "{}", f.message);
        let f = Failure::node(NodeError::Tls(TlsConfigError::Invalid("no key".into())));
        assert_eq!(f.status, bl_status::BL_TLS_CONFIG);
        assert!(f.message.starts_with("TLS settings: "), "{}", f.message);
    }

    #[test]
    fn undef_carries_mfa() {
        let f = Failure::call(CallError::Undef {
            module: "m".into(),
            function: "f".into(),
            arity: 2,
            stacktrace: Term::nil(),
        });
        assert_eq!(f.status, bl_status::BL_UNDEF);
        assert_eq!(f.message, "undefined function m:f/2");
        assert_eq!(f.term.unwrap().to_string(), "{m,f,2}");
    }

    #[test]
    fn long_terms_are_cut_in_messages() {
        let t = Term::binary(vec![b'a'; 10_000]);
        let f = Failure::call(CallError::Exit { reason: t, signal: false });
        assert!(f.message.len() < MESSAGE_TERM_MAX + 40, "{}", f.message.len());
        assert!(f.message.ends_with("..."));
    }
}
