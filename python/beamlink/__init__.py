"""beamlink: reach Erlang and Elixir nodes from Python as a first-class peer.

>>> import beamlink
>>> beamlink.binary_to_term(beamlink.term_to_binary((beamlink.Atom("ok"), "hello", [1, 2.5])))
(Atom('ok'), 'hello', [1, 2.5])
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
    NameInUse,
    NodeClosed,
    NodeNotFound,
    NoConnection,
    RemoteError,
    RemoteExit,
    RemoteThrow,
    SpawnFailed,
    UndefinedFunction,
)

__all__ = [
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
    "NameInUse",
    "NodeClosed",
    "NodeNotFound",
    "NoConnection",
    "RemoteError",
    "RemoteExit",
    "RemoteThrow",
    "SpawnFailed",
    "UndefinedFunction",
]
