"""What arrives besides plain terms: signals in a mailbox, node events, an evaluation's result.

A mailbox hands out ordinary messages as the terms they are; an exit signal from a linked
process and the notice of a monitored process's end come as :class:`ExitSignal` and
:class:`Down`, so they never look like a message someone sent. :meth:`beamlink.Node.events`
yields :class:`NodeUp` and :class:`NodeDown`.

>>> from beamlink import Atom, Pid
>>> from beamlink.messages import ExitSignal
>>> sig = ExitSignal(Pid("fuga@localhost", 90, 0, 1), Atom("killed"))
>>> sig.reason, str(sig.sender)
(Atom('killed'), '<fuga@localhost.90.0>')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from beamlink._native import Pid, Reference

__all__ = ["ExitSignal", "Down", "NodeUp", "NodeDown", "Evaluated"]


@dataclass(frozen=True)
class ExitSignal:
    """A linked process ended (``{'EXIT', Pid, Reason}`` to a process trapping exits), or
    someone sent ``exit(OurPid, Reason)``. Mailboxes always trap exits: the signal is a
    message, it never ends the mailbox."""

    sender: Pid
    reason: Any


@dataclass(frozen=True)
class Down:
    """A monitored process (or registered name) is gone (``{'DOWN', Ref, process, Object,
    Reason}``). ``reason`` is ``Atom('noconnection')`` when its node went away, and
    ``Atom('noproc')`` when it did not exist."""

    ref: Reference
    object: Any
    reason: Any


@dataclass(frozen=True)
class NodeUp:
    """A connection to ``node`` came up."""

    node: str


@dataclass(frozen=True)
class NodeDown:
    """The connection to ``node`` went down; ``reason`` says why."""

    node: str
    reason: str


class Evaluated(NamedTuple):
    """The result of :meth:`beamlink.Node.eval`: the value of the last expression and the
    text the code printed."""

    value: Any
    output: str
