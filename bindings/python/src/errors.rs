//! Engine errors as Python exceptions. The classes live in `beamlink/errors.py` (one hierarchy,
//! documented there); this module only picks the class and fills its fields, in one place for
//! every entry point.

use beamlink::epmd::EpmdError;
use beamlink::handshake::{ConnectError, HandshakeError};
use beamlink::{CallError, NodeError, Term};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString};

use crate::decode::{Fail, term_to_py};
use crate::options::DecodeOptions;

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(MODULE.get_or_try_init(py, || -> PyResult<_> { Ok(py.import("beamlink.errors")?.unbind()) })?.bind(py))
}

/// An instance of `beamlink.errors.<class>(message, **fields)` as a `PyErr`.
pub(crate) fn make(py: Python<'_>, class: &str, message: &str, fields: &[(&str, Bound<'_, PyAny>)]) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = errors_module(py)?.getattr(class)?;
        let kwargs = PyDict::new(py);
        for (k, v) in fields {
            kwargs.set_item(k, v)?;
        }
        Ok(PyErr::from_value(cls.call((message,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}

pub(crate) fn decode_failure(py: Python<'_>, f: Fail) -> PyErr {
    match f {
        Fail::Py(e) => e,
        Fail::Format(e) => {
            let offset = e.offset().into_pyobject(py).map(|o| o.into_any());
            match offset {
                Ok(o) => make(py, "DecodeError", &e.to_string(), &[("offset", o)]),
                Err(err) => err.into(),
            }
        }
    }
}

pub(crate) fn encode_error(py: Python<'_>, message: String) -> PyErr {
    make(py, "EncodeError", &message, &[])
}

/// `NodeClosed(message)`: the node, mailbox or job was closed, or an operation cancelled.
pub(crate) fn closed(py: Python<'_>, message: &str) -> PyErr {
    make(py, "NodeClosed", message, &[])
}

fn text<'py>(py: Python<'py>, s: &str) -> Bound<'py, PyAny> {
    PyString::new(py, s).into_any()
}

/// A connection-level failure as its `ConnectError` subclass (or `NameInUse`, `ListenError`,
/// `NoConnection`, `NodeClosed` for the node errors that are not about connecting).
pub(crate) fn node_error(py: Python<'_>, e: &NodeError) -> PyErr {
    let message = e.to_string();
    let connect = |class: &str, node: Option<&str>, kind: &str| {
        let node = match node {
            Some(n) => text(py, n),
            None => py.None().into_bound(py),
        };
        make(py, class, &message, &[("node", node), ("kind", text(py, kind))])
    };
    match e {
        NodeError::Name(_) => connect("InvalidNodeName", None, "bad_name"),
        NodeError::Cookie(_) => connect("BadCookie", None, "cookie_file"),
        NodeError::Epmd(e) => {
            let (class, kind) = epmd_class(e);
            if class == "NameInUse" {
                return make(py, "NameInUse", &message, &[]);
            }
            connect(class, None, kind)
        }
        NodeError::Connect { node, source } => {
            let (class, kind) = connect_class(source);
            connect(class, Some(node), kind)
        }
        NodeError::NoConnection { node } => make(
            py,
            "NoConnection",
            &message,
            &[("node", text(py, node)), ("term", atom(py, "noconnection"))],
        ),
        NodeError::NameInUse { .. } => make(py, "NameInUse", &message, &[]),
        NodeError::Listen(_) => make(py, "ListenError", &message, &[]),
        NodeError::Shutdown => closed(py, &message),
        // TLS settings the engine cannot use (e.g. a listening node without a server key).
        NodeError::Tls(_) => connect("TlsConfigError", None, "tls_config"),
    }
}

fn epmd_class(e: &EpmdError) -> (&'static str, &'static str) {
    match e {
        EpmdError::Unreachable { .. } | EpmdError::Resolve { .. } | EpmdError::Io { .. } => {
            ("EpmdUnreachable", "epmd_unreachable")
        }
        EpmdError::Timeout { .. } => ("EpmdUnreachable", "epmd_timeout"),
        EpmdError::Protocol { .. } => ("EpmdUnreachable", "epmd_protocol"),
        EpmdError::NameInUse { .. } => ("NameInUse", "name_in_use"),
        EpmdError::BadName { .. } => ("InvalidNodeName", "bad_name"),
    }
}

fn connect_class(e: &ConnectError) -> (&'static str, &'static str) {
    match e {
        ConnectError::NodeNotFound { .. } => ("NodeNotFound", "node_not_found"),
        ConnectError::Epmd(e) => epmd_class(e),
        ConnectError::Connect { .. } => ("ConnectError", "refused"),
        ConnectError::Handshake { source, .. } => match source {
            HandshakeError::BadCookie { .. } => ("BadCookie", "bad_cookie"),
            HandshakeError::Timeout { .. } => ("ConnectTimeout", "timeout"),
            HandshakeError::NotAllowed { .. } => ("HandshakeError", "not_allowed"),
            HandshakeError::Refused { .. } => ("HandshakeError", "refused"),
            HandshakeError::AlreadyConnected { .. } => ("HandshakeError", "already_connected"),
            HandshakeError::VersionMismatch { .. } => ("HandshakeError", "version_mismatch"),
            HandshakeError::WrongPeer { .. } => ("HandshakeError", "wrong_peer"),
            HandshakeError::PeerClosed { .. } => ("HandshakeError", "peer_closed"),
            HandshakeError::Protocol { .. } => ("HandshakeError", "protocol"),
            HandshakeError::Io { .. } => ("HandshakeError", "io"),
            HandshakeError::TlsPeer { .. } => ("HandshakeError", "tls_peer"),
        },
        ConnectError::Tls(beamlink::tls::TlsError::Timeout { .. }) => ("ConnectTimeout", "tls_timeout"),
        ConnectError::Tls(_) => ("HandshakeError", "tls"),
    }
}

/// An `Atom` (for the fixed reasons this module names: `noconnection`, `undef`).
fn atom<'py>(py: Python<'py>, name: &str) -> Bound<'py, PyAny> {
    match Py::new(py, crate::types::Atom::of(name.into())) {
        Ok(a) => a.into_bound(py).into_any(),
        Err(_) => py.None().into_bound(py),
    }
}

/// A remote call's failure as its `CallError` subclass, remote terms converted with `opts`.
/// `node` is the node called.
pub(crate) fn call_error(py: Python<'_>, node: &str, e: CallError, opts: &DecodeOptions) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let n = || text(py, node);
        let term = |t: &Term| term_to_py(py, t, opts);
        Ok(match e {
            CallError::Error { reason, stacktrace } => {
                let message = format!("error on {node}: {reason}");
                make(
                    py,
                    "RemoteError",
                    &message,
                    &[("node", n()), ("reason", term(&reason)?), ("stacktrace", term(&stacktrace)?)],
                )
            }
            CallError::Exit { reason, signal } => {
                let message = if signal {
                    format!("the call's process on {node} was killed: {reason}")
                } else {
                    format!("exit on {node}: {reason}")
                };
                let signal = pyo3::types::PyBool::new(py, signal).to_owned().into_any();
                make(
                    py,
                    "RemoteExit",
                    &message,
                    &[("node", n()), ("reason", term(&reason)?), ("signal", signal)],
                )
            }
            CallError::Throw { value } => {
                let message = format!("uncaught throw on {node}: {value}");
                make(py, "RemoteThrow", &message, &[("node", n()), ("value", term(&value)?)])
            }
            CallError::Undef { module, function, arity, stacktrace } => {
                let message = format!("undefined function {module}:{function}/{arity} on {node}");
                make(
                    py,
                    "UndefinedFunction",
                    &message,
                    &[
                        ("node", n()),
                        ("module", text(py, &module)),
                        ("function", text(py, &function)),
                        ("arity", arity.into_pyobject(py)?.into_any()),
                        ("reason", atom(py, "undef")),
                        ("stacktrace", term(&stacktrace)?),
                    ],
                )
            }
            CallError::NoConnection { node: peer, detail, .. } => {
                let message = format!("no connection to {peer}: {detail}");
                make(
                    py,
                    "NoConnection",
                    &message,
                    &[("node", text(py, &peer)), ("term", atom(py, "noconnection"))],
                )
            }
            CallError::Timeout { node: peer, after } => {
                let message = format!("no answer from {peer} within {:.3} s", after.as_secs_f64());
                make(
                    py,
                    "CallTimeout",
                    &message,
                    &[
                        ("node", text(py, &peer)),
                        ("after", after.as_secs_f64().into_pyobject(py)?.into_any()),
                    ],
                )
            }
            CallError::SpawnFailed { node: peer, reason } => {
                let message = format!("{peer} refused to spawn: {reason}");
                make(py, "SpawnFailed", &message, &[("node", text(py, &peer)), ("reason", term(&reason)?)])
            }
            CallError::BadRpc { reason } => {
                let message = format!("badrpc from {node}: {reason}");
                make(py, "BadRpc", &message, &[("node", n()), ("reason", term(&reason)?)])
            }
            CallError::Decode(e) => {
                let offset = e.offset().into_pyobject(py)?.into_any();
                make(
                    py,
                    "DecodeError",
                    &format!("cannot decode the answer from {node}: {e}"),
                    &[("offset", offset)],
                )
            }
        })
    };
    build().unwrap_or_else(|e| e)
}
