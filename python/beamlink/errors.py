"""Every error beamlink raises, under one base class, :class:`BeamlinkError`.

Connecting and calling fail apart: a :class:`ConnectError` (epmd unreachable, node not
registered, bad cookie, invalid node name, handshake refused) means no connection could be
made; a :class:`CallError` means the call itself failed — the remote code raised, exited or
threw, the function does not exist, the connection was lost, or no answer came in time.
Every call error carries the remote term in ``term``.

>>> from beamlink.errors import CallTimeout, CallError, BeamlinkError
>>> issubclass(CallTimeout, TimeoutError) and issubclass(CallTimeout, CallError)
True
>>> e = CallTimeout("no answer", node="fuga@localhost", after=5.0)
>>> isinstance(e, BeamlinkError), e.node, e.after
(True, 'fuga@localhost', 5.0)
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

from beamlink._native import Atom

__all__ = [
    "BeamlinkError",
    "ConnectError",
    "InvalidNodeName",
    "BadCookie",
    "EpmdUnreachable",
    "NodeNotFound",
    "HandshakeError",
    "ConnectTimeout",
    "TlsConfigError",
    "CallError",
    "RemoteError",
    "UndefinedFunction",
    "RemoteExit",
    "RemoteThrow",
    "NoConnection",
    "CallTimeout",
    "BadRpc",
    "SpawnFailed",
    "DecodeError",
    "EncodeError",
    "NodeClosed",
    "NameInUse",
    "ListenError",
    "ReceiveTimeout",
]


class BeamlinkError(Exception):
    """The base of every beamlink error."""


# --- connecting -------------------------------------------------------------------------


class ConnectError(BeamlinkError):
    """No connection to ``node`` could be made. ``kind`` names the cause (``"bad_cookie"``,
    ``"epmd_unreachable"``, ``"node_not_found"``, ``"bad_name"``, ``"refused"``,
    ``"timeout"``, ``"io"``…)."""

    def __init__(self, message: str, *, node: Optional[str] = None, kind: str = "io") -> None:
        super().__init__(message)
        self.node = node
        self.kind = kind


class InvalidNodeName(ConnectError, ValueError):
    """A node name (ours or the target's) is not ``alive@host`` as ``erl`` accepts it."""


class BadCookie(ConnectError):
    """The remote node refused our cookie (or our cookie file is unusable)."""


class EpmdUnreachable(ConnectError):
    """epmd on the target's host did not answer."""


class NodeNotFound(ConnectError):
    """epmd answered but has no node of that name (it is not running)."""


class HandshakeError(ConnectError):
    """The distribution handshake failed or was refused. Over TLS distribution, ``kind`` is
    ``"tls"`` when the TLS handshake failed (a certificate not signed by a trusted CA, expired,
    not valid for the host dialed, refused by the peer, a peer that does not speak TLS): the
    message says which; ``"tls_peer"`` when a node without ``tls=`` met a TLS node."""


class ConnectTimeout(ConnectError, TimeoutError):
    """Connecting took longer than the connect timeout (``kind`` ``"tls_timeout"``: no TLS
    answer, as from a plain-TCP OTP node, which waits in silence)."""


class TlsConfigError(ConnectError, ValueError):
    """TLS settings that cannot be used: a certificate, key or CA file that cannot be read or
    holds no usable PEM, a key that does not match its certificate, an ``ssl_dist_optfile``
    that does not parse or asks for what beamlink cannot honour (``password``,
    ``verify_fun``…). Raised when the :class:`~beamlink.TlsConfig` is made (or the node
    started), before any connection. ``kind`` is ``"tls_config"``; ``path`` is the file at
    fault when one is.

    >>> e = TlsConfigError("TLS settings: …", path="/etc/ssl/node.pem")
    >>> isinstance(e, ConnectError), isinstance(e, ValueError), e.kind, e.path
    (True, True, 'tls_config', '/etc/ssl/node.pem')
    """

    def __init__(
        self, message: str, *, node: Optional[str] = None, kind: str = "tls_config", path: Optional[str] = None
    ) -> None:
        super().__init__(message, node=node, kind=kind)
        self.path = path


# --- calling ----------------------------------------------------------------------------


class CallError(BeamlinkError):
    """A remote call did not return a value. ``term`` is the remote term that says why
    (the error reason, exit reason or thrown value; ``None`` when there is none)."""

    def __init__(self, message: str, *, node: Optional[str] = None, term: Any = None) -> None:
        super().__init__(message)
        self.node = node
        self.term = term


class RemoteError(CallError):
    """The remote code raised an error: ``reason`` and ``stacktrace`` as the node reported
    them. For an Elixir exception, ``exception`` is its module (``"Elixir.ArgumentError"``)
    and ``remote_message`` its message; for an Erlang error both are ``None``.

    >>> e = RemoteError("error on n@h: badarith", node="n@h", reason=Atom("badarith"))
    >>> e.term, e.exception
    (Atom('badarith'), None)
    >>> r = {Atom("__struct__"): Atom("Elixir.ArgumentError"), Atom("__exception__"): True,
    ...      Atom("message"): "bad argument"}
    >>> e = RemoteError("…", node="n@h", reason=r)
    >>> e.exception, e.remote_message, str(e)
    ('Elixir.ArgumentError', 'bad argument', 'n@h: ** (ArgumentError) bad argument')
    """

    def __init__(
        self,
        message: str,
        *,
        node: Optional[str] = None,
        reason: Any = None,
        stacktrace: Any = None,
        exception: Optional[str] = None,
        remote_message: Optional[str] = None,
    ) -> None:
        if exception is None:
            exception, found = _elixir_exception(reason)
            remote_message = remote_message if remote_message is not None else found
            if exception is not None and found is not None:
                short = exception[len("Elixir."):] if exception.startswith("Elixir.") else exception
                message = f"{node}: ** ({short}) {found}"
        super().__init__(message, node=node, term=reason)
        self.reason = reason
        self.stacktrace = stacktrace
        self.exception = exception
        self.remote_message = remote_message


def _elixir_exception(reason: Any) -> Tuple[Optional[str], Optional[str]]:
    """The module and message of an Elixir exception struct (a map with ``__exception__``
    true and a ``__struct__`` module), else ``(None, None)``."""
    if not isinstance(reason, dict):
        return None, None
    keys = {k.name: v for k, v in reason.items() if isinstance(k, Atom)}
    if keys.get("__exception__") is not True or "__struct__" not in keys:
        return None, None
    message = keys.get("message")
    return str(keys["__struct__"]), message if isinstance(message, str) else None


class UndefinedFunction(RemoteError):
    """``module:function/arity`` does not exist on the node (module not loadable, or no
    such export)."""

    def __init__(
        self,
        message: str,
        *,
        node: Optional[str] = None,
        module: str = "",
        function: str = "",
        arity: int = 0,
        reason: Any = None,
        stacktrace: Any = None,
    ) -> None:
        super().__init__(message, node=node, reason=reason, stacktrace=stacktrace)
        self.module = module
        self.function = function
        self.arity = arity


class RemoteExit(CallError):
    """The remote code exited (``exit(Reason)``), or its process was killed by an exit
    signal before it could report (``signal`` is then true and ``reason`` the signal's)."""

    def __init__(self, message: str, *, node: Optional[str] = None, reason: Any = None, signal: bool = False) -> None:
        super().__init__(message, node=node, term=reason)
        self.reason = reason
        self.signal = signal


class RemoteThrow(CallError):
    """The remote code threw a value nobody caught."""

    def __init__(self, message: str, *, node: Optional[str] = None, value: Any = None) -> None:
        super().__init__(message, node=node, term=value)
        self.value = value


class NoConnection(CallError):
    """The connection to ``node`` was lost before the answer came (the node went down)."""


class CallTimeout(CallError, TimeoutError):
    """No answer within the timeout; the call was abandoned (erpc semantics: the remote
    process runs on)."""

    def __init__(self, message: str, *, node: Optional[str] = None, after: float = 0.0) -> None:
        super().__init__(message, node=node, term=None)
        self.after = after


class BadRpc(CallError):
    """``rpc:call`` semantics: the node's ``rex`` answered ``{badrpc, Reason}``."""

    def __init__(self, message: str, *, node: Optional[str] = None, reason: Any = None) -> None:
        super().__init__(message, node=node, term=reason)
        self.reason = reason


class SpawnFailed(CallError):
    """The node refused to spawn the process (``badopt``, ``system_limit``…)."""

    def __init__(self, message: str, *, node: Optional[str] = None, reason: Any = None) -> None:
        super().__init__(message, node=node, term=reason)
        self.reason = reason


# --- terms and handles ------------------------------------------------------------------


class DecodeError(BeamlinkError, ValueError):
    """Bytes that are not a valid term. ``offset`` is where decoding stopped."""

    def __init__(self, message: str, *, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


class EncodeError(BeamlinkError, TypeError, ValueError):
    """A Python value with no Erlang term form (an unsupported type, a NaN, an atom over
    255 characters, a value that contains itself)."""


class NodeClosed(BeamlinkError):
    """The node (or mailbox) was closed."""


class NameInUse(BeamlinkError, ValueError):
    """The name is already registered on this node (or in epmd, for a listening node)."""


class ListenError(BeamlinkError, OSError):
    """A listening node could not bind its port or publish its name."""


class ReceiveTimeout(BeamlinkError, TimeoutError):
    """Nothing arrived within the timeout (a mailbox receive, a job's next output, the next
    node event)."""
