"""The asyncio API against real nodes: every capability awaitable, many calls in flight on
one loop, ``async for`` over spawn output and mailboxes, cancellation that stops the remote
call, and loops of any kind (``asyncio.run`` again and again, a loop in another thread)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, List

import pytest

import beamlink
from beamlink import Atom, AsyncNode, Down, NodeUp, ReceiveTimeout
from beam_nodes import BeamNode, unique_name


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_calls(pynode: beamlink.Node, beam: BeamNode, elixir_node: BeamNode) -> None:
    async def main() -> None:
        a = pynode.aio
        assert await a.ping(beam.name)
        assert await a.call(beam.name, "erlang", "node", []) == Atom(beam.name)
        hello = await a.call(elixir_node.name, "Elixir.Person", "say_hello", [Atom("hoge")], timeout=5.0)
        assert hello == f"Hello :hoge, this is {elixir_node.name}"
        assert await a.rpc_call(beam.name, "lists", "sum", [[1, 2, 3]]) == 6
        rs = await a.multicall([beam.name, elixir_node.name], "erlang", "node", [])
        assert rs == [Atom(beam.name), Atom(elixir_node.name)]
        await a.cast(beam.name, "erlang", "garbage_collect", [])
        assert await a.eval(beam.name, "1 + 1") == beamlink.Evaluated(2, "")
        await a.connect(beam.name)

    run(main())


def test_errors_are_raised_in_the_awaiting_task(pynode: beamlink.Node, beam: BeamNode) -> None:
    async def main() -> None:
        a = pynode.aio
        with pytest.raises(beamlink.RemoteError):
            await a.call(beam.name, "py_fixtures", "raise_it", [Atom("x")])
        with pytest.raises(beamlink.CallTimeout):
            await a.call(beam.name, "py_fixtures", "sleeper", [2000], timeout=0.1)
        with pytest.raises(beamlink.NodeNotFound):
            await a.call("nobody_beamlink@localhost", "erlang", "node", [])
        with pytest.raises(beamlink.EncodeError):
            await a.call(beam.name, "erlang", "node", [object()])

    run(main())


def test_many_calls_in_flight_on_one_loop(pynode: beamlink.Node, beam: BeamNode) -> None:
    async def main() -> List[Any]:
        a = pynode.aio
        return await asyncio.gather(*(a.call(beam.name, "erlang", "abs", [-i]) for i in range(500)))

    assert run(main()) == list(range(500))


def test_spawn_output_with_async_for(pynode: beamlink.Node, beam: BeamNode) -> None:
    async def main() -> None:
        job = await pynode.aio.spawn(beam.name, "py_fixtures", "printer", [Atom("aio")])
        assert [c async for c in job.output] == ["hi aio\n", "plain\n", "ünï\n"]
        assert await job.wait(timeout=5.0) == Atom("normal")
        job = await pynode.aio.spawn(beam.name, "py_fixtures", "read_and_echo", [], input="a\nb\n")
        assert 'got "a\\n" "b\\n"' in "".join([c async for c in job.output])
        assert job.exit_reason == Atom("normal")

    run(main())


def test_mailbox_with_async_for_and_selective_receive(pynode: beamlink.Node, beam: BeamNode) -> None:
    async def main() -> None:
        a = pynode.aio
        with a.mailbox() as mb:
            for i in range(4):
                await a.call(beam.name, "py_fixtures", "forward_to", [mb.pid, i])
            assert await mb.receive(timeout=5.0, match=lambda m: m == 2) == 2
            got = []
            async for m in mb:
                got.append(m)
                if len(got) == 3:
                    break
            assert got == [0, 1, 3]
            with pytest.raises(ReceiveTimeout):
                await mb.receive(timeout=0.05)
            ref = await mb.monitor((Atom("nobody_here"), beam.name))
            assert await mb.receive(timeout=5.0) == Down(ref, Atom("nobody_here"), Atom("noproc"))
            pid = await a.call(beam.name, "py_fixtures", "ping_back", [Atom(unique_name("aioloop"))])
            await mb.link(pid)
            await mb.send(pid, (mb.pid, "x"))
            assert await mb.receive(timeout=5.0) == (Atom("pong"), "x")
            await mb.exit(pid, Atom("kill"))
            sig = await mb.receive(timeout=5.0)
            assert isinstance(sig, beamlink.ExitSignal) and sig.reason == Atom("killed")

    run(main())


def test_events(cookie: str, beam: BeamNode) -> None:
    async def main() -> None:
        async with AsyncNode(f"{unique_name('aioev')}@localhost", cookie=cookie) as a:
            events = a.events()
            assert await a.ping(beam.name)
            assert await events.next(timeout=5.0) == NodeUp(beam.name)
            async for ev in events:
                raise AssertionError(f"unexpected {ev}")  # pragma: no cover

    async def bounded() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(main(), timeout=1.0)

    run(bounded())


def _remote_hang(beam: BeamNode, name: str) -> str:
    return beam.eval_ok(f"whereis('{name}').")


def test_cancelling_the_task_stops_the_remote_call(pynode: beamlink.Node, beam: BeamNode) -> None:
    name = unique_name("aiohang")

    async def main() -> None:
        task = asyncio.create_task(pynode.aio.call(beam.name, "py_fixtures", "hang", [Atom(name)]))
        for _ in range(500):
            await asyncio.sleep(0.01)
            if _remote_hang(beam, name) != "undefined":
                break
        assert _remote_hang(beam, name) != "undefined", "the call never started"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert beam.wait_until(f"whereis('{name}').", "undefined"), "the remote call is still running"


def test_wait_for_timeout_cancels_the_call(pynode: beamlink.Node, beam: BeamNode) -> None:
    name = unique_name("aiowaitfor")

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pynode.aio.call(beam.name, "py_fixtures", "hang", [Atom(name)]), timeout=0.5)

    run(main())
    assert beam.wait_until(f"whereis('{name}').", "undefined")


def test_loops_come_and_go(pynode: beamlink.Node, beam: BeamNode) -> None:
    for i in range(5):
        assert run(pynode.aio.call(beam.name, "erlang", "abs", [-i])) == i
    out: List[Any] = []

    def in_thread() -> None:
        loop = asyncio.new_event_loop()
        try:
            out.append(loop.run_until_complete(pynode.aio.call(beam.name, "erlang", "node", [])))
        finally:
            loop.close()

    threads = [threading.Thread(target=in_thread) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [Atom(beam.name)] * 4


def test_sync_and_async_views_share_one_node(cookie: str, beam: BeamNode) -> None:
    a = AsyncNode(f"{unique_name('aioshared')}@localhost", cookie=cookie)
    s = a.sync
    assert run(a.ping(beam.name)) and beam.name in s.nodes()
    mb = s.mailbox()
    a.close()
    assert s.closed and mb.closed
