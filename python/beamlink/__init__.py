"""beamlink: reach Erlang and Elixir nodes from Python as a first-class peer.

:class:`Node` (sync) and :class:`AsyncNode` (asyncio) call functions on BEAM nodes (erpc and
``rpc:call`` semantics, multicall, cast, eval), spawn processes whose output streams back,
and give Python processes of its own (:class:`Mailbox`: send, receive, link, monitor), over
plain TCP or TLS distribution (:class:`TlsConfig`). Errors are the classes of
:mod:`beamlink.errors`, under :class:`BeamlinkError`.

>>> import beamlink
>>> beamlink.binary_to_term(beamlink.term_to_binary((beamlink.Atom("ok"), "hello", [1, 2.5])))
(Atom('ok'), 'hello', [1, 2.5])

Term mapping (lossless both ways; the options ``binaries``, ``none`` and ``charlists`` of a
node and of :func:`binary_to_term` change the marked defaults):

=================================  ==========================================================
BEAM                               Python
=================================  ==========================================================
integer (any size), float          ``int``, ``float``
atom                               :class:`Atom`; ``true``/``false`` are ``bool``; ``nil`` is
                                   ``None`` (``none="undefined"``: ``undefined`` instead)
binary                             ``str`` if UTF-8, else ``bytes`` (``binaries="bytes"``:
                                   always ``bytes``); ``bytes``/``bytearray`` encode too
bitstring                          :class:`BitString`
list, charlist, improper list      ``list`` (charlists too; ``charlists="charlist"`` gives
                                   :class:`Charlist`), :class:`ImproperList`
tuple, map                         ``tuple``, ``dict``
map key that is a list or map      :class:`FrozenList`, :class:`FrozenMap` (hashable)
map with keys Python calls equal   :class:`FrozenMap` (``1`` and ``1.0`` kept apart)
pid, reference, port               :class:`Pid`, :class:`Reference`, :class:`Port`
fun, external fun                  :class:`Fun` (opaque, goes back intact), :class:`Export`
=================================  ==========================================================

>>> beamlink.binary_to_term(beamlink.term_to_binary({"k": [None, True, b"\\xff", 2**70]}))
{'k': [None, True, b'\\xff', 1180591620717411303424]}
"""

from __future__ import annotations

from beamlink._native import (
    Atom,
    BitString,
    Charlist,
    Export,
    FrozenList,
    FrozenMap,
    Fun,
    ImproperList,
    Pid,
    Port,
    Reference,
    binary_to_term,
    term_to_binary,
)
from beamlink.errors import (
    BadCookie,
    BadRpc,
    BeamlinkError,
    CallError,
    CallTimeout,
    ConnectError,
    ConnectTimeout,
    DecodeError,
    EncodeError,
    EpmdUnreachable,
    HandshakeError,
    InvalidNodeName,
    ListenError,
    NameInUse,
    NodeClosed,
    NodeNotFound,
    NoConnection,
    RemoteError,
    RemoteExit,
    ReceiveTimeout,
    RemoteThrow,
    SpawnFailed,
    TlsConfigError,
    UndefinedFunction,
)
from beamlink.messages import Down, Evaluated, ExitSignal, NodeDown, NodeUp
from beamlink.tls import TlsConfig
from beamlink.node import Events, Job, Mailbox, Node
from beamlink.aio import AsyncEvents, AsyncJob, AsyncMailbox, AsyncNode

__all__ = [
    "Node",
    "Mailbox",
    "Job",
    "Events",
    "AsyncNode",
    "AsyncMailbox",
    "AsyncJob",
    "AsyncEvents",
    "TlsConfig",
    "ExitSignal",
    "Down",
    "NodeUp",
    "NodeDown",
    "Evaluated",
    "Atom",
    "BitString",
    "Charlist",
    "Export",
    "FrozenList",
    "FrozenMap",
    "Fun",
    "ImproperList",
    "Pid",
    "Port",
    "Reference",
    "binary_to_term",
    "term_to_binary",
    "BadCookie",
    "BadRpc",
    "BeamlinkError",
    "CallError",
    "CallTimeout",
    "ConnectError",
    "ConnectTimeout",
    "DecodeError",
    "EncodeError",
    "EpmdUnreachable",
    "HandshakeError",
    "InvalidNodeName",
    "ListenError",
    "NameInUse",
    "NodeClosed",
    "NodeNotFound",
    "NoConnection",
    "RemoteError",
    "RemoteExit",
    "ReceiveTimeout",
    "RemoteThrow",
    "SpawnFailed",
    "TlsConfigError",
    "UndefinedFunction",
]
