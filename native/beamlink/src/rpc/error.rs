//! How a remote call can fail, with each failure kept apart so callers (and the CLI's exit
//! codes) can tell a remote exception from a lost connection or a timeout.

use std::sync::Arc;
use std::time::Duration;

use crate::node::NodeError;
use crate::process::Payload;
use crate::term::{DecodeError, Term};

/// Why a remote call did not return a value.
///
/// ```no_run
/// # async fn demo(node: beamlink::Node) {
/// use std::time::Duration;
/// use beamlink::{CallError, term::Term};
/// match node.call("fuga@localhost", "nope", "f", Term::nil(), Duration::from_secs(5)).await {
///     Err(CallError::Undef { module, .. }) => println!("{module} is not loaded"),
///     Err(e) => std::process::exit(e.exit_code()),
///     Ok(v) => println!("{v:?}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The remote code raised `error(Reason)`.
    #[error("remote error: {reason:?}")]
    Error { reason: Term, stacktrace: Term },
    /// The remote code called `exit(Reason)` (`signal` false), or the process was killed by an
    /// exit signal before it could report (`signal` true, `reason` the signal's reason): what
    /// `erpc:call` raises as `exit({exception, Reason})` and `exit({signal, Reason})`.
    #[error("remote exit: {reason:?}")]
    Exit { reason: Term, signal: bool },
    /// The remote code threw a value that nobody caught.
    #[error("remote throw: {value:?}")]
    Throw { value: Term },
    /// The function called does not exist (module not loadable, or no such export).
    /// `stacktrace` is the remote one, as `erpc:call` re-raises it (`{exception, undef, Stack}`).
    #[error("undefined function {module}:{function}/{arity}")]
    Undef { module: String, function: String, arity: usize, stacktrace: Term },
    /// Could not connect to `node`, or the connection was lost before the answer came.
    /// `cause` is the typed reason when connecting failed (a TLS handshake error, a wrong
    /// cookie, epmd down…: see [`connect_error`](CallError::connect_error)); `None` when an
    /// open connection was lost.
    #[error("no connection to {node}: {detail}")]
    NoConnection {
        node: String,
        detail: String,
        #[source]
        cause: Option<Arc<NodeError>>,
    },
    /// No answer within the time allowed. The request was abandoned.
    #[error("no answer from {node} within {after:?}")]
    Timeout { node: String, after: Duration },
    /// The remote node refused to spawn the process (SPAWN_REPLY error: `badopt`, `notsup`,
    /// `system_limit`…).
    #[error("{node} refused to spawn: {reason:?}")]
    SpawnFailed { node: String, reason: Term },
    /// `rpc:call` semantics: the remote `rex` answered `{badrpc, Reason}`.
    #[error("badrpc: {reason:?}")]
    BadRpc { reason: Term },
    /// The answer could not be decoded, or had a shape no OTP release sends.
    #[error("cannot decode the answer: {0}")]
    Decode(#[from] DecodeError),
}

impl CallError {
    /// A distinct non-zero process exit code per kind, for command-line tools (0 is success).
    pub fn exit_code(&self) -> i32 {
        match self {
            CallError::Error { .. } => 2,
            CallError::Exit { .. } => 3,
            CallError::Throw { .. } => 4,
            CallError::Undef { .. } => 5,
            CallError::NoConnection { .. } => 6,
            CallError::Timeout { .. } => 7,
            CallError::SpawnFailed { .. } => 8,
            CallError::BadRpc { .. } => 9,
            CallError::Decode(_) => 10,
        }
    }

    /// A short stable name of the kind: `"error"`, `"exit"`, `"throw"`, `"undef"`,
    /// `"noconnection"`, `"timeout"`, `"spawn_failed"`, `"badrpc"`, `"decode"`.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Error { .. } => "error",
            CallError::Exit { .. } => "exit",
            CallError::Throw { .. } => "throw",
            CallError::Undef { .. } => "undef",
            CallError::NoConnection { .. } => "noconnection",
            CallError::Timeout { .. } => "timeout",
            CallError::SpawnFailed { .. } => "spawn_failed",
            CallError::BadRpc { .. } => "badrpc",
            CallError::Decode(_) => "decode",
        }
    }

    /// Why connecting failed, typed, when that is why the call did: a TLS handshake error, a
    /// wrong cookie, a name epmd does not know. `None` for every other error, and for a
    /// connection that was lost once open.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) {
    /// use std::time::Duration;
    /// use beamlink::{NodeError, handshake::ConnectError, term::Term};
    /// let e = node.call("fuga@localhost", "erlang", "node", Term::nil(), Duration::from_secs(5)).await.unwrap_err();
    /// if let Some(NodeError::Connect { source: ConnectError::Tls(tls), .. }) = e.connect_error() {
    ///     eprintln!("TLS: {tls}");
    /// }
    /// # }
    /// ```
    pub fn connect_error(&self) -> Option<&NodeError> {
        match self {
            CallError::NoConnection { cause, .. } => cause.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn from_node(node: &str, e: NodeError) -> CallError {
        CallError::NoConnection { node: node.to_string(), detail: e.to_string(), cause: Some(Arc::new(e)) }
    }

    /// How a process ended, told as the error the same failure gives from a call: `None` for
    /// `normal`; `{Reason, Stacktrace}` (an uncaught error) is [`Error`](CallError::Error) or,
    /// for `undef` of `called` itself, [`Undef`](CallError::Undef); `{{nocatch, Value},
    /// Stacktrace}` is [`Throw`](CallError::Throw); any other reason (`exit/1`, `killed`,
    /// `noconnection`…) is [`Exit`](CallError::Exit). A process that exits with a reason shaped
    /// like `{Reason, Stacktrace}` is taken for an error, as the shell's crash reports do.
    ///
    /// ```
    /// use beamlink::{CallError, Term};
    /// let frame = Term::tuple([Term::atom("m"), Term::atom("f"), Term::from(0), Term::nil()]);
    /// let thrown = Term::tuple([Term::tuple([Term::atom("nocatch"), Term::atom("ball")]), Term::list([frame])]);
    /// assert!(matches!(CallError::from_exit_reason(thrown, None), Some(CallError::Throw { .. })));
    /// assert!(CallError::from_exit_reason(Term::atom("normal"), None).is_none());
    /// ```
    pub fn from_exit_reason(reason: Term, called: Option<(&str, &str)>) -> Option<CallError> {
        if reason.is_atom("normal") {
            return None;
        }
        let is_stack = |t: &Term| {
            t.as_list().is_some_and(|frames| {
                frames.iter().all(|f| {
                    matches!(f.as_tuple(), Some([m, f, a, loc])
                        if m.as_atom().is_some() && f.as_atom().is_some()
                            && matches!(a, Term::Int(_) | Term::List(_)) && loc.as_list().is_some())
                })
            })
        };
        if !matches!(reason.as_tuple(), Some([_, stack]) if is_stack(stack)) {
            // An exit reason does not tell exit/1 from an exit signal, except `killed`.
            let signal = reason.is_atom("killed");
            return Some(CallError::Exit { reason, signal });
        }
        let mut parts = reason.into_items().expect("a tuple");
        let stacktrace = parts.pop().expect("two elements");
        let reason = parts.pop().expect("two elements");
        if let Some([nocatch, _]) = reason.as_tuple()
            && nocatch.is_atom("nocatch")
        {
            let value = reason.into_items().expect("a tuple").pop().expect("two elements");
            return Some(CallError::Throw { value });
        }
        Some(CallError::from_error(reason, stacktrace, called))
    }

    /// A [`Decode`](CallError::Decode) error when a DOWN reason arrived as bytes that could not
    /// be decoded (see [`UNDECODABLE_REASON`](crate::process::UNDECODABLE_REASON)).
    pub(crate) fn undecodable(reason: &Term, raw: Option<&Payload>) -> Option<CallError> {
        if !reason.is_atom(crate::process::UNDECODABLE_REASON) {
            return None;
        }
        raw?.term().err().map(CallError::Decode)
    }

    pub(crate) fn lost(node: &str) -> CallError {
        CallError::NoConnection {
            node: node.to_string(),
            detail: "connection lost (noconnection)".to_string(),
            cause: None,
        }
    }

    /// Builds `Error`, or `Undef` when the reason is `undef` and the top stack frame is the
    /// called function itself (an `undef` raised deeper down stays an `Error`).
    pub(crate) fn from_error(reason: Term, stacktrace: Term, called: Option<(&str, &str)>) -> CallError {
        let top = stacktrace.as_list().and_then(|l| l.first()).and_then(Term::as_tuple);
        if let (true, Some([m, f, a, ..])) = (reason.is_atom("undef"), top) {
            let matches = match called {
                Some((cm, cf)) => m.is_atom(cm) && f.is_atom(cf),
                None => true,
            };
            let arity = match a {
                Term::List(l) => Some(l.len()),
                Term::Int(n) => usize::try_from(*n).ok(),
                _ => None,
            };
            if let (true, Some(arity), Some(m), Some(f)) = (matches, arity, m.as_atom(), f.as_atom()) {
                return CallError::Undef {
                    module: m.to_string(),
                    function: f.to_string(),
                    arity,
                    stacktrace,
                };
            }
        }
        CallError::Error { reason, stacktrace }
    }
}
