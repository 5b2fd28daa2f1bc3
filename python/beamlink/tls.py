"""TLS distribution: :class:`TlsConfig`, for nodes started with ``-proto_dist inet_tls``.

Give :class:`beamlink.Node` (or :class:`beamlink.AsyncNode`) ``tls=TlsConfig(...)`` and every
connection it makes or accepts runs in TLS 1.2 or 1.3 (the engine's rustls); the distribution
handshake then runs inside it, epmd is used as for plain TCP. The files are the ones the
cluster's nodes already have, named as in their ``-ssl_dist_optfile`` (and as
:meth:`ssl.SSLContext.load_cert_chain` names them), or that optfile itself.

The examples run against a real OTP 25 node started with ``-proto_dist inet_tls
-ssl_dist_optfile {pem}/ssl_dist.conf`` (``verify_peer``, ``fail_if_no_peer_cert``); ``pem`` is
the folder of the test certificates, ``tls_peer`` that node's name.

>>> tls = beamlink.TlsConfig(f"{pem}/beamlink.pem", f"{pem}/beamlink.key", cafile=f"{pem}/ca.pem")
>>> with beamlink.Node("tlsdoc@localhost", cookie=cookie, tls=tls) as n:
...     n.call(tls_peer, "erlang", "node", []) == Atom(tls_peer)
True
>>> tls = beamlink.TlsConfig.from_optfile(f"{pem}/ssl_dist.conf")   # the nodes' own optfile
>>> with beamlink.Node("tlsdoc@localhost", cookie=cookie, tls=tls) as n:
...     n.ping(tls_peer)
True

Without ``tls=``, a TLS node is refused with a :class:`~beamlink.errors.HandshakeError` whose
``kind`` is ``"tls_peer"``; with it, a failed TLS handshake is a ``HandshakeError`` of kind
``"tls"`` (the message says why: unknown CA, expired, wrong host name, refused by the peer), a
plain-TCP OTP node a :class:`~beamlink.errors.ConnectTimeout` of kind ``"tls_timeout"``.
Unusable files raise :class:`~beamlink.errors.TlsConfigError` at once:

>>> beamlink.TlsConfig("/nonexistent/node.pem", cafile="/nonexistent/ca.pem")
Traceback (most recent call last):
beamlink.errors.TlsConfigError: TLS settings: cannot read certificate from /nonexistent/node.pem: No such file or directory (os error 2)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional, Sequence, Union

from beamlink import _native

if TYPE_CHECKING:
    import ssl

__all__ = ["TlsConfig", "TlsVersionName", "StrPath"]

StrPath = Union[str, "os.PathLike[str]"]
"""A file name: ``str`` or a :class:`pathlib.Path`."""

TlsVersionName = Union[str, "ssl.TLSVersion"]
"""``"tlsv1.2"``, ``"tlsv1.3"`` (OTP's names), or ``ssl.TLSVersion.TLSv1_2`` / ``TLSv1_3``."""

_SSL_VERSIONS = {"TLSv1_2": "tlsv1.2", "TLSv1_3": "tlsv1.3"}


def _version(v: TlsVersionName) -> str:
    if isinstance(v, str):
        return v
    name = getattr(v, "name", None)  # an ssl.TLSVersion member
    if isinstance(name, str) and name in _SSL_VERSIONS:
        return _SSL_VERSIONS[name]
    raise ValueError(f'a TLS version is "tlsv1.2", "tlsv1.3" or ssl.TLSVersion.TLSv1_2/TLSv1_3, not {v!r}')


class TlsConfig:
    """TLS settings of a node: the certificate it presents and the CA its peers' certificates
    must chain to, used both to connect and (with ``listen=``) to accept.

    ``certfile`` is this node's certificate (PEM, the chain after it if any), ``keyfile`` its
    private key (PKCS#8, PKCS#1 or SEC1 PEM; ``None``: the key is in ``certfile``) and
    ``cafile`` the CA certificates that sign the cluster (OTP's ``certfile``, ``keyfile`` and
    ``cacertfile``). The files are read and checked now: an unreadable or unusable one raises
    :class:`~beamlink.errors.TlsConfigError`. Nothing keeps the key's text on the Python side,
    and ``repr`` shows only file names.

    The defaults are those of a cluster with ``{verify, verify_peer}`` and
    ``{fail_if_no_peer_cert, true}``: a peer's certificate must chain to ``cafile``; a node we
    connect to must present one valid for the host of its name (``check_hostname=False``
    checks the chain only, as OTP's ``{server_name_indication, disable}``); a node connecting
    to a listening one must present one (``require_client_cert=False`` lets a node without a
    certificate in; one that is presented is always checked). ``versions`` restricts the TLS
    versions offered and accepted (default both 1.2 and 1.3; OTP 25's TLS distribution offers
    only 1.2 unless its optfile says ``versions``).
    """

    __slots__ = ("_native", "_repr")

    def __init__(
        self,
        certfile: StrPath,
        keyfile: Optional[StrPath] = None,
        *,
        cafile: StrPath,
        versions: Optional[Sequence[TlsVersionName]] = None,
        check_hostname: bool = True,
        require_client_cert: bool = True,
    ) -> None:
        if isinstance(versions, str):
            raise TypeError('versions is a sequence of versions, e.g. ["tlsv1.3"]')
        names = None if versions is None else [_version(v) for v in versions]
        self._native = _native.TlsConfig(
            os.fspath(certfile),
            None if keyfile is None else os.fspath(keyfile),
            cafile=os.fspath(cafile),
            versions=names,
            check_hostname=check_hostname,
            require_client_cert=require_client_cert,
        )
        extra = ""
        if names is not None:
            extra += f", versions={names!r}"
        if not check_hostname:
            extra += ", check_hostname=False"
        if not require_client_cert:
            extra += ", require_client_cert=False"
        key = "" if keyfile is None else f", {os.fspath(keyfile)!r}"
        self._repr = f"TlsConfig({os.fspath(certfile)!r}{key}, cafile={os.fspath(cafile)!r}{extra})"

    @classmethod
    def from_optfile(cls, path: StrPath) -> "TlsConfig":
        """The settings of an OTP ``-ssl_dist_optfile`` (``[{server, Opts}, {client, Opts}]``,
        read as ``erl`` reads it): its ``client`` section to connect, its ``server`` section to
        accept. Understood: ``certfile``, ``keyfile``, ``cacertfile``, ``verify``,
        ``fail_if_no_peer_cert``, ``versions``, ``server_name_indication``; options without a
        security meaning here (``secure_renegotiate``, ``reuse_sessions``, ``depth``…) are
        ignored, and any other (``password``, ``verify_fun``, ``ciphers``, ``crl_check``…)
        raises :class:`~beamlink.errors.TlsConfigError` rather than being dropped."""
        self = cls.__new__(cls)
        self._native = _native.TlsConfig.from_optfile(os.fspath(path))
        self._repr = f"TlsConfig.from_optfile({os.fspath(path)!r})"
        return self

    def __repr__(self) -> str:
        return self._repr
