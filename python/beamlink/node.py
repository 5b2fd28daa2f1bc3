"""The sync API: :class:`Node`, and the :class:`Mailbox`, :class:`Job` and :class:`Events` it
hands out. Every blocking method releases the GIL while it waits (other threads run, and
many threads may call one node at once) and is interrupted by Ctrl-C within about 50 ms:
the ``KeyboardInterrupt`` propagates and the remote work is cancelled (an erpc call's remote
process is stopped). The asyncio twins are in :mod:`beamlink.aio`.

The examples run as doctests against a real Elixir node: ``node`` is
``beamlink.Node("hoge@localhost", cookie=...)`` and ``peer`` the name of a node where the
seed session's ``Person`` and ``Toukon`` modules are loaded.

>>> node.ping(peer)
True
>>> node.call(peer, "Elixir.Person", "say_hello", [Atom("hoge")], timeout=5.0) == f"Hello :hoge, this is {peer}"
True
"""

from __future__ import annotations

import atexit
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, Literal, Optional, Sequence, Tuple, Type, TypeVar, Union, cast

from beamlink import _native
from beamlink._native import Atom, Pid, Reference
from beamlink._native import Node as _NativeNode
from beamlink.errors import ReceiveTimeout
from beamlink.messages import Evaluated, NodeDown, NodeUp
from beamlink.tls import TlsConfig

if TYPE_CHECKING:
    from beamlink.aio import AsyncNode

__all__ = ["Node", "Mailbox", "Job", "Events", "Name", "Destination"]

_T = TypeVar("_T")

Name = Union[str, Atom]
"""A node, module, function or registered name: ``"erlang"`` or ``Atom("erlang")``."""

Destination = Union[Pid, Tuple[Name, Name], Name]
"""Where a message goes: a pid, ``(name, node)`` as in ``{Name, Node} ! Msg``, or the name
of a process registered on this node."""

Binaries = Literal["str", "bytes"]
NoneAtom = Literal["nil", "undefined"]
Charlists = Literal["list", "charlist"]
Language = Literal["erlang", "elixir"]
OutputMode = Literal["capture", "remote"]


class _Owner:
    """What :class:`Node` and :class:`beamlink.aio.AsyncNode` share: the native node, the
    objects it handed out (closed with it), ``close()`` and ``with``."""

    _native: _NativeNode

    def _adopt(self, native: _NativeNode, children: "weakref.WeakSet[Any]") -> None:
        self._native = native
        self._children = children
        _open.add(self)

    def _child(self, obj: _T) -> _T:
        self._children.add(obj)
        return obj

    @property
    def name(self) -> str:
        """This node's full name, ``alive@host``."""
        return self._native.name

    @property
    def creation(self) -> int:
        """This incarnation's creation number (part of every pid and reference it makes)."""
        return self._native.creation

    @property
    def port(self) -> Optional[int]:
        """The port this node listens on, or ``None`` when it does not listen."""
        return self._native.port

    @property
    def closed(self) -> bool:
        return self._native.closed

    def nodes(self) -> List[str]:
        """The nodes connected now, sorted (``Node.list/0``, hidden connections included).

        >>> peer in node.nodes()
        True
        """
        return self._native.nodes()

    def disconnect(self, node: Name) -> bool:
        """Closes the connection to ``node`` (``Node.disconnect/1``); ``False`` when there was
        none."""
        return self._native.disconnect(node)

    def whereis(self, name: Name) -> Optional[Pid]:
        """The pid of the mailbox registered under ``name`` on this node, if any."""
        return self._native.whereis(name)

    def close(self) -> None:
        """Closes the node: its mailboxes, jobs and event streams, every connection, and its
        epmd registration. When every node of the process is closed the engine's threads
        stop. Calling it again does nothing."""
        for child in list(self._children):
            child.close()
        self._native.close()
        _open.discard(self)

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return f"{type(self).__name__}({self.name!r}{state})"


class Node(_Owner):
    """A beamlink node: a hidden peer of a BEAM cluster, as ``iex --sname NAME --hidden``.

    ``name`` is ``"alive@host"`` (or just ``"alive"`` for this host). ``cookie`` defaults to
    ``~/.erlang.cookie``, read as ``erl`` reads it. ``listen=True`` (or a port number) makes
    the node accept connections and publish its name in epmd, so BEAM nodes can ping it and
    send to its registered mailboxes. ``tls`` (a :class:`~beamlink.TlsConfig`) runs every
    connection, made or accepted, in TLS, as nodes started with ``-proto_dist inet_tls`` do
    (see :mod:`beamlink.tls`). ``binaries``, ``none`` and ``charlists`` choose how
    replies map to Python (see the term mapping in the package docs): by default UTF-8
    binaries are ``str``, ``nil`` is ``None`` and charlists are lists of integers.

    Connections open on first use. Use it in a ``with`` block or call :meth:`close`; at
    interpreter exit every node still open is closed.

    >>> with beamlink.Node("demo@localhost", cookie=cookie) as n:
    ...     n.call(peer, "erlang", "node", [])
    Atom('...')
    """

    def __init__(
        self,
        name: str,
        cookie: Optional[str] = None,
        *,
        listen: Union[bool, int] = False,
        hidden: bool = True,
        long_names: bool = False,
        connect_timeout: Optional[float] = None,
        net_ticktime: Optional[float] = None,
        tls: Optional[TlsConfig] = None,
        binaries: Binaries = "str",
        none: NoneAtom = "nil",
        charlists: Charlists = "list",
    ) -> None:
        port = None if listen is False else (0 if listen is True else int(listen))
        if tls is not None and not isinstance(tls, TlsConfig):
            raise TypeError(f"tls must be a beamlink.TlsConfig, not {type(tls).__name__}")
        native = _native.Node(
            name,
            cookie,
            long_names=long_names,
            hidden=hidden,
            listen=port,
            connect_timeout=connect_timeout,
            net_ticktime=net_ticktime,
            tls=None if tls is None else tls._native,
            binaries=binaries,
            none=none,
            charlists=charlists,
        )
        self._adopt(native, weakref.WeakSet())

    @property
    def aio(self) -> "AsyncNode":
        """The same node with the asyncio API (shares connections, mailboxes and ``close``)."""
        from beamlink.aio import AsyncNode

        return AsyncNode._wrap(self._native, self._children)

    def __enter__(self) -> "Node":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    # --- reaching nodes ------------------------------------------------------------------

    def ping(self, node: Name, timeout: Optional[float] = 10.0) -> bool:
        """``Node.ping/1``: ``True`` for pong, ``False`` for pang (unreachable, bad cookie,
        no answer within ``timeout``). Never raises for those; :meth:`connect` says why.

        >>> node.ping(peer), node.ping("nobody@localhost")
        (True, False)
        """
        return bool(self._native.ping(node, timeout).wait())

    def connect(self, node: Name) -> None:
        """Connects to ``node`` now (calls connect on first use anyway). Raises the
        :class:`~beamlink.errors.ConnectError` that says why it cannot.

        >>> node.connect("nobody@localhost")
        Traceback (most recent call last):
        beamlink.errors.NodeNotFound: cannot connect to nobody@localhost: epmd on localhost has no node named "nobody"
        """
        self._native.connect(node).wait()

    def listen(self, port: int = 0) -> int:
        """Starts accepting connections (on ``port``; 0 picks one) and publishes this node
        in epmd; returns the port. A node that already listens returns its port."""
        return int(self._native.listen(port).wait())

    def events(self) -> "Events":
        """Node up/down events from now on: iterate for :class:`~beamlink.messages.NodeUp` and
        :class:`~beamlink.messages.NodeDown`."""
        return self._child(Events(self._native.events()))

    # --- calls ---------------------------------------------------------------------------

    def call(
        self,
        node: Name,
        module: Name,
        function: Name,
        args: Sequence[Any] = (),
        timeout: Optional[float] = None,
    ) -> Any:
        """Calls ``module:function(*args)`` on ``node`` with ``erpc:call`` semantics and
        returns its value. The call runs in a fresh remote process; a raised error, exit or
        throw comes back as :class:`~beamlink.errors.RemoteError`,
        :class:`~beamlink.errors.RemoteExit` or :class:`~beamlink.errors.RemoteThrow`, a
        missing function as :class:`~beamlink.errors.UndefinedFunction`. After ``timeout``
        seconds (``None``: no limit) :class:`~beamlink.errors.CallTimeout` is raised and the
        call abandoned. Ctrl-C cancels the call and stops its remote process.

        >>> node.call(peer, "lists", "reverse", [[1, 2, 3]])
        [3, 2, 1]
        >>> node.call(peer, "erlang", "error", [Atom("boom")])
        Traceback (most recent call last):
        beamlink.errors.RemoteError: error on ...: boom
        """
        return self._native.call(node, module, function, args, timeout).wait()

    def rpc_call(
        self,
        node: Name,
        module: Name,
        function: Name,
        args: Sequence[Any] = (),
        timeout: Optional[float] = None,
    ) -> Any:
        """Calls through the node's ``rex`` server, like ``rpc:call/5``: a thrown value is
        returned, ``{badrpc, Reason}`` raises :class:`~beamlink.errors.BadRpc`; the output
        goes to the remote node's stdout.

        >>> node.rpc_call(peer, "erlang", "throw", [Atom("thrown")])
        Atom('thrown')
        >>> node.rpc_call(peer, "erlang", "exit", [Atom("bye")])
        Traceback (most recent call last):
        beamlink.errors.BadRpc: badrpc from ...: {'EXIT',bye}
        """
        return self._native.rpc_call(node, module, function, args, timeout).wait()

    def multicall(
        self,
        nodes: Sequence[Name],
        module: Name,
        function: Name,
        args: Sequence[Any] = (),
        timeout: Optional[float] = None,
    ) -> List[Any]:
        """The same :meth:`call` on every node at once (``erpc:multicall``). Returns one item
        per node, in order: the value, or the exception that call raised (an instance, not
        raised), so one dead node does not hide the others' results.

        >>> a, b = node.multicall([peer, "nobody@localhost"], "erlang", "node", [])
        >>> a == Atom(peer), type(b).__name__
        (True, 'NodeNotFound')
        """
        return list(self._native.multicall(nodes, module, function, args, timeout).wait())

    def cast(self, node: Name, module: Name, function: Name, args: Sequence[Any] = ()) -> None:
        """Runs ``module:function(*args)`` on ``node`` without waiting for it (``rpc:cast``);
        returns once the request is sent. Nothing reports whether it ran."""
        self._native.cast(node, module, function, args).wait()

    def eval(
        self,
        node: Name,
        code: str,
        language: Language = "erlang",
        timeout: Optional[float] = None,
    ) -> Evaluated:
        """Evaluates Erlang (or, with ``language="elixir"``, Elixir) source on ``node``, as
        ``beamlink eval`` does: the node's own parser and evaluator run it. Returns the
        value of the last expression and what the code printed.

        >>> node.eval(peer, 'io:format("hi~n"), 6 * 7')
        Evaluated(value=42, output='hi\\n')
        >>> node.eval(peer, 'IO.puts("hey"); [1, 2] |> Enum.sum()', language="elixir")
        Evaluated(value=3, output='hey\\n')
        """
        value, output = self._native.eval(node, code, language, timeout).wait()
        return Evaluated(value, output)

    def spawn(
        self,
        node: Name,
        module: Name,
        function: Name,
        args: Sequence[Any] = (),
        *,
        input: Optional[str] = None,
        link: bool = False,
        output: OutputMode = "capture",
        timeout: Optional[float] = 10.0,
        options: Sequence[Any] = (),
    ) -> "Job":
        """Spawns ``module:function(*args)`` on ``node`` (``Node.spawn/4``) and returns a
        :class:`Job`. Its group leader is ours: what it prints (``IO.puts``,
        ``io:format``) streams back on :attr:`Job.output`, and its reads (``IO.gets``,
        ``io:get_line``) consume ``input``, then get ``eof``. ``output="remote"`` leaves its
        output on the remote node's stdout. ``timeout`` bounds the wait for the spawn reply.
        ``options`` are further spawn options as ``spawn_opt`` takes them, e.g.
        ``[(Atom("priority"), Atom("high"))]``; one the node does not know makes it refuse
        with :class:`~beamlink.errors.SpawnFailed`.

        >>> job = node.spawn(peer, "Elixir.Toukon", "say", [])
        >>> "".join(job.output)
        '元気ですかーーーッ！\\n'
        >>> job.wait(timeout=5.0)
        Atom('normal')
        """
        native = self._native.spawn(
            node, module, function, args, input=input, link=link, output=output, timeout=timeout, options=options
        ).wait()
        return self._child(Job(native))

    # --- messages ------------------------------------------------------------------------

    def mailbox(self, name: Optional[Name] = None) -> "Mailbox":
        """A new local process with its own pid and mailbox, registered as ``name`` if given
        (:class:`~beamlink.errors.NameInUse` if taken). BEAM code sends to it with
        ``send(pid, msg)``, or ``send({name, node_name}, msg)`` when the node listens.

        >>> with node.mailbox() as mb:
        ...     node.call(peer, "erlang", "send", [mb.pid, (Atom("hello"), 1)])
        ...     mb.receive(timeout=5.0)
        (Atom('hello'), 1)
        (Atom('hello'), 1)
        """
        return self._child(Mailbox(self._native.mailbox(name)))

    def send(self, dest: Destination, msg: Any) -> None:
        """Sends ``msg`` to a pid or to ``(name, node)``, from no process in particular (use
        :meth:`Mailbox.send` when the receiver should see a sender)."""
        self._native.send(dest, msg).wait()


class Mailbox:
    """A local process: a pid that BEAM processes can send to, link to and monitor, with a
    mailbox. Ordinary messages come out of :meth:`receive` as terms; exit signals as
    :class:`~beamlink.messages.ExitSignal` and monitor notices as
    :class:`~beamlink.messages.Down` (a mailbox traps exits: a signal never kills it).
    Iterating waits for message after message. Closing ends the process: its links get the
    exit reason, its monitors a DOWN, its name is freed.

    >>> with node.mailbox() as mb:
    ...     ref = mb.monitor((Atom("no_such_name"), peer))
    ...     down = mb.receive(timeout=5.0)
    ...     down.ref == ref, down.reason
    (True, Atom('noproc'))
    """

    def __init__(self, native: _native.Mailbox) -> None:
        self._native = native

    @property
    def pid(self) -> Pid:
        """This process's pid."""
        return self._native.pid

    @property
    def closed(self) -> bool:
        return self._native.closed

    def send(self, dest: Destination, msg: Any) -> None:
        """Sends ``msg`` from this process to a pid, to ``(name, node)`` (``{Name, Node} !
        Msg``) or to a name registered on this node."""
        self._native.send(dest, msg).wait()

    def receive(self, timeout: Optional[float] = None, match: Optional[Callable[[Any], Any]] = None) -> Any:
        """The next message, waiting up to ``timeout`` seconds (``None``: no limit), else
        :class:`~beamlink.errors.ReceiveTimeout`.

        With ``match``, a selective receive: the first message (oldest first) for which
        ``match(message)`` is true; the others stay queued, in order, for later receives.
        ``match`` runs on an engine thread; if it raises, the message it was given is
        consumed and the exception propagates here.

        >>> with node.mailbox() as mb:
        ...     for i in range(3):
        ...         node.send(mb.pid, (Atom("n"), i))
        ...     mb.receive(timeout=5.0, match=lambda m: m[1] == 2), mb.receive(timeout=5.0)
        ((Atom('n'), 2), (Atom('n'), 0))
        """
        got = self._native.receive(timeout, match).wait()
        if got is None:
            raise ReceiveTimeout(f"no message within {timeout} s")
        return got[0]

    def __iter__(self) -> Iterator[Any]:
        while True:
            yield self.receive()

    def register(self, name: Name) -> None:
        """Registers this process as ``name`` on this node."""
        self._native.register(name)

    def link(self, pid: Pid) -> None:
        """Links to ``pid``: when it ends, an :class:`~beamlink.messages.ExitSignal` arrives
        here; when this mailbox closes, ``pid`` gets the exit reason."""
        self._native.link(pid).wait()

    def unlink(self, pid: Pid) -> None:
        self._native.unlink(pid).wait()

    def monitor(self, target: Destination) -> Reference:
        """Monitors a pid or a registered ``(name, node)``; returns the monitor reference,
        which the :class:`~beamlink.messages.Down` message will carry."""
        ref: Reference = self._native.monitor(target).wait()
        return ref

    def demonitor(self, ref: Reference) -> None:
        self._native.demonitor(ref).wait()

    def exit(self, pid: Pid, reason: Any) -> None:
        """Sends the exit signal ``exit(pid, reason)`` from this process."""
        self._native.exit(pid, reason).wait()

    def close(self, reason: Any = None) -> None:
        """Ends the process with ``reason`` (default ``normal``)."""
        self._native.close(reason)

    def __enter__(self) -> "Mailbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)


class _Output:
    """The text a :class:`Job` prints, chunk by chunk, as it arrives; ends when the process
    exits."""

    def __init__(self, job: "Job") -> None:
        self._job = job

    def __iter__(self) -> "_Output":
        return self

    def __next__(self) -> str:
        event = self._job._native.next_event(None).wait()
        assert event is not None
        kind, value = event
        if kind == "output":
            return str(value)
        self._job._exit = (value,)
        raise StopIteration


class Job:
    """A process spawned by :meth:`Node.spawn`: its :attr:`pid`, its printed output as an
    iterator (:attr:`output`) and its end (:meth:`wait`)."""

    def __init__(self, native: _native.Job) -> None:
        self._native = native
        self._exit: Optional[Tuple[Any]] = None

    @property
    def pid(self) -> Pid:
        return self._native.pid

    @property
    def node(self) -> str:
        return self._native.node

    @property
    def output(self) -> Iterator[str]:
        """Iterates over the text the process prints, one chunk per I/O request, as it is
        printed; the iteration ends when the process exits (after all of its output)."""
        return _Output(self)

    def wait(self, timeout: Optional[float] = None) -> Any:
        """Waits for the process to end and returns its exit reason (``Atom('normal')``, an
        error's ``(reason, stacktrace)``…); :class:`~beamlink.errors.CallTimeout` after
        ``timeout``. Output not yet read stays readable from :attr:`output`."""
        if self._exit is not None:
            return self._exit[0]
        reason = self._native.wait(timeout).wait()
        self._exit = (reason,)
        return reason

    @property
    def exit_reason(self) -> Optional[Any]:
        """The exit reason once :meth:`wait` or the output iteration saw it, else ``None``."""
        return None if self._exit is None else self._exit[0]

    def close(self) -> None:
        """Stops following the process; it runs on, its later output is dropped."""
        self._native.close()

    def __enter__(self) -> "Job":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)


class Events:
    """Node up/down events (:class:`~beamlink.messages.NodeUp`,
    :class:`~beamlink.messages.NodeDown`) from the moment it was made; iterate to wait for
    each, or call :meth:`next` with a timeout."""

    def __init__(self, native: _native.Events) -> None:
        self._native = native

    def next(self, timeout: Optional[float] = None) -> Union[NodeUp, NodeDown]:
        """The next event; :class:`~beamlink.errors.ReceiveTimeout` after ``timeout``."""
        ev = self._native.next(timeout).wait()
        if ev is None:
            raise ReceiveTimeout(f"no node event within {timeout} s")
        return cast(Union[NodeUp, NodeDown], ev)

    def __iter__(self) -> Iterator[Union[NodeUp, NodeDown]]:
        while True:
            yield self.next()

    def close(self) -> None:
        self._native.close()


# Every node still open at interpreter exit is closed then, so the engine's threads stop
# before the interpreter goes.
_open: "weakref.WeakSet[_Owner]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for n in list(_open):
        try:
            n.close()
        except Exception:  # noqa: BLE001 - exit must go on
            pass

