"""The asyncio API: :class:`AsyncNode` and its :class:`AsyncMailbox`, :class:`AsyncJob` and
:class:`AsyncEvents`, awaitable twins of :mod:`beamlink.node`. They work inside any running
event loop (no loop of their own, no extra thread: the engine completes each operation and
resolves its future through ``loop.call_soon_threadsafe``). Cancelling a task that awaits a
call cancels the call as Ctrl-C does in the sync API: the remote process is stopped.

``Node(...).aio`` gives the asyncio view of a sync node and ``AsyncNode(...).sync`` the
other way round; both share connections, mailboxes and ``close``.

>>> import asyncio
>>> async def main() -> list:
...     anode = node.aio
...     return await asyncio.gather(*(anode.call(peer, "erlang", "abs", [-i]) for i in range(5)))
>>> asyncio.run(main())
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Any, AsyncIterator, Callable, List, Optional, Sequence, Type, Union, cast

from beamlink import _native
from beamlink._native import Pid, Reference
from beamlink.errors import ReceiveTimeout
from beamlink.messages import Evaluated, NodeDown, NodeUp
from beamlink.node import Destination, Language, Name, Node, OutputMode, _Owner

__all__ = ["AsyncNode", "AsyncMailbox", "AsyncJob", "AsyncEvents"]

# One completion queue per event loop, keyed weakly by the loop.
_queues: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _native.Completions]" = weakref.WeakKeyDictionary()


def _queue(loop: asyncio.AbstractEventLoop) -> _native.Completions:
    q = _queues.get(loop)
    if q is None:
        q = _native.Completions(weakref.WeakMethod(loop.call_soon_threadsafe))
        _queues[loop] = q
    return q


async def _wait(pending: _native.Pending) -> Any:
    """Awaits an engine operation; cancelling the awaiting task cancels the operation."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    pending.schedule(_queue(loop), fut)
    try:
        return await fut
    except asyncio.CancelledError:
        pending.cancel()
        raise


class AsyncNode(_Owner):
    """A beamlink node with awaitable methods; the arguments are :class:`beamlink.Node`'s.

    Making one is quick and local (a listening node registers in the local epmd), so the
    constructor is an ordinary call; connections open on first use.

    >>> async def hello() -> str:
    ...     async with beamlink.AsyncNode("ahoge@localhost", cookie=cookie) as n:
    ...         return await n.call(peer, "Elixir.Person", "say_hello", [Atom("hoge")])
    >>> asyncio.run(hello()) == f"Hello :hoge, this is {peer}"
    True
    """

    def __init__(self, name: str, cookie: Optional[str] = None, **options: Any) -> None:
        sync = Node(name, cookie, **options)
        self._adopt(sync._native, sync._children)

    @classmethod
    def _wrap(cls, native: _native.Node, children: "weakref.WeakSet[Any]") -> "AsyncNode":
        self = cls.__new__(cls)
        self._adopt(native, children)
        return self

    @property
    def sync(self) -> Node:
        """The same node with the blocking API."""
        n = Node.__new__(Node)
        n._adopt(self._native, self._children)
        return n

    async def __aenter__(self) -> "AsyncNode":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    async def ping(self, node: Name, timeout: Optional[float] = 10.0) -> bool:
        """See :meth:`beamlink.Node.ping`."""
        return bool(await _wait(self._native.ping(node, timeout)))

    async def connect(self, node: Name) -> None:
        """See :meth:`beamlink.Node.connect`."""
        await _wait(self._native.connect(node))

    async def listen(self, port: int = 0) -> int:
        """See :meth:`beamlink.Node.listen`."""
        return int(await _wait(self._native.listen(port)))

    def events(self) -> "AsyncEvents":
        """Node up/down events from now on, for ``async for``."""
        return self._child(AsyncEvents(self._native.events()))

    async def call(
        self, node: Name, module: Name, function: Name, args: Sequence[Any] = (), timeout: Optional[float] = None
    ) -> Any:
        """See :meth:`beamlink.Node.call` (erpc semantics)."""
        return await _wait(self._native.call(node, module, function, args, timeout))

    async def rpc_call(
        self, node: Name, module: Name, function: Name, args: Sequence[Any] = (), timeout: Optional[float] = None
    ) -> Any:
        """See :meth:`beamlink.Node.rpc_call` (``rpc:call`` semantics)."""
        return await _wait(self._native.rpc_call(node, module, function, args, timeout))

    async def multicall(
        self,
        nodes: Sequence[Name],
        module: Name,
        function: Name,
        args: Sequence[Any] = (),
        timeout: Optional[float] = None,
    ) -> List[Any]:
        """See :meth:`beamlink.Node.multicall`."""
        return list(await _wait(self._native.multicall(nodes, module, function, args, timeout)))

    async def cast(self, node: Name, module: Name, function: Name, args: Sequence[Any] = ()) -> None:
        """See :meth:`beamlink.Node.cast`."""
        await _wait(self._native.cast(node, module, function, args))

    async def eval(
        self, node: Name, code: str, language: Language = "erlang", timeout: Optional[float] = None
    ) -> Evaluated:
        """See :meth:`beamlink.Node.eval`."""
        value, output = await _wait(self._native.eval(node, code, language, timeout))
        return Evaluated(value, output)

    async def spawn(
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
    ) -> "AsyncJob":
        """See :meth:`beamlink.Node.spawn`; ``async for chunk in job.output``.

        >>> async def toukon() -> str:
        ...     job = await node.aio.spawn(peer, "Elixir.Toukon", "say", [])
        ...     return "".join([chunk async for chunk in job.output])
        >>> asyncio.run(toukon())
        '元気ですかーーーッ！\\n'
        """
        pending = self._native.spawn(
            node, module, function, args, input=input, link=link, output=output, timeout=timeout, options=options
        )
        return self._child(AsyncJob(await _wait(pending)))

    def mailbox(self, name: Optional[Name] = None) -> "AsyncMailbox":
        """See :meth:`beamlink.Node.mailbox`; ``await mb.receive()``, ``async for msg in mb``."""
        return self._child(AsyncMailbox(self._native.mailbox(name)))

    async def send(self, dest: Destination, msg: Any) -> None:
        """See :meth:`beamlink.Node.send`."""
        await _wait(self._native.send(dest, msg))


class AsyncMailbox:
    """:class:`beamlink.Mailbox` with awaitable methods; ``async for`` waits for each message.

    >>> async def roundtrip() -> Any:
    ...     with node.aio.mailbox() as mb:
    ...         await node.aio.send(mb.pid, "hi")
    ...         return await mb.receive(timeout=5.0)
    >>> asyncio.run(roundtrip())
    'hi'
    """

    def __init__(self, native: _native.Mailbox) -> None:
        self._native = native

    @property
    def pid(self) -> Pid:
        return self._native.pid

    @property
    def closed(self) -> bool:
        return self._native.closed

    async def send(self, dest: Destination, msg: Any) -> None:
        await _wait(self._native.send(dest, msg))

    async def receive(self, timeout: Optional[float] = None, match: Optional[Callable[[Any], Any]] = None) -> Any:
        """See :meth:`beamlink.Mailbox.receive`."""
        got = await _wait(self._native.receive(timeout, match))
        if got is None:
            raise ReceiveTimeout(f"no message within {timeout} s")
        return got[0]

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Any]:
        while True:
            yield await self.receive()

    def register(self, name: Name) -> None:
        self._native.register(name)

    async def link(self, pid: Pid) -> None:
        await _wait(self._native.link(pid))

    async def unlink(self, pid: Pid) -> None:
        await _wait(self._native.unlink(pid))

    async def monitor(self, target: Destination) -> Reference:
        ref: Reference = await _wait(self._native.monitor(target))
        return ref

    async def demonitor(self, ref: Reference) -> None:
        await _wait(self._native.demonitor(ref))

    async def exit(self, pid: Pid, reason: Any) -> None:
        await _wait(self._native.exit(pid, reason))

    def close(self, reason: Any = None) -> None:
        self._native.close(reason)

    def __enter__(self) -> "AsyncMailbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)


class AsyncJob:
    """:class:`beamlink.Job` with awaitable methods; ``async for chunk in job.output``."""

    def __init__(self, native: _native.Job) -> None:
        self._native = native
        self._exit: Optional[tuple[Any]] = None

    @property
    def pid(self) -> Pid:
        return self._native.pid

    @property
    def node(self) -> str:
        return self._native.node

    @property
    def output(self) -> AsyncIterator[str]:
        """The printed text, chunk by chunk, until the process exits."""
        return self._output()

    async def _output(self) -> AsyncIterator[str]:
        while True:
            event = await _wait(self._native.next_event(None))
            kind, value = event
            if kind != "output":
                self._exit = (value,)
                return
            yield value

    async def wait(self, timeout: Optional[float] = None) -> Any:
        """See :meth:`beamlink.Job.wait`."""
        if self._exit is not None:
            return self._exit[0]
        reason = await _wait(self._native.wait(timeout))
        self._exit = (reason,)
        return reason

    @property
    def exit_reason(self) -> Optional[Any]:
        return None if self._exit is None else self._exit[0]

    def close(self) -> None:
        self._native.close()

    def __repr__(self) -> str:
        return repr(self._native)


class AsyncEvents:
    """Node up/down events for ``async for``."""

    def __init__(self, native: _native.Events) -> None:
        self._native = native

    async def next(self, timeout: Optional[float] = None) -> Union[NodeUp, NodeDown]:
        ev = await _wait(self._native.next(timeout))
        if ev is None:
            raise ReceiveTimeout(f"no node event within {timeout} s")
        return cast(Union[NodeUp, NodeDown], ev)

    def __aiter__(self) -> AsyncIterator[Union[NodeUp, NodeDown]]:
        return self._events()

    async def _events(self) -> AsyncIterator[Union[NodeUp, NodeDown]]:
        while True:
            yield await self.next()

    def close(self) -> None:
        self._native.close()
