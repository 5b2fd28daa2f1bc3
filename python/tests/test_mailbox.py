"""Mailboxes against real OTP 25 and OTP 28 nodes: send to a pid and to ``(name, node)``,
receive with a timeout and selectively, register, link and monitor (EXIT and DOWN as typed
messages), exit signals both ways, and node up/down events."""

from __future__ import annotations

from typing import Any

import pytest

import beamlink
from beamlink import Atom, Down, ExitSignal, NodeDown, NodeUp, Pid, ReceiveTimeout
from beam_nodes import BeamNode, unique_name


def _remote_loop(node: beamlink.Node, beam: BeamNode) -> "tuple[str, Pid]":
    """A registered process on ``beam`` that answers ``{From, M}`` with ``{pong, M}``."""
    name = unique_name("loop")
    pid = node.call(beam.name, "py_fixtures", "ping_back", [Atom(name)])
    assert isinstance(pid, Pid)
    return name, pid


def _alive(beam: BeamNode, pid: Pid) -> bool:
    return beam.eval_ok(f'is_process_alive(list_to_pid("<0.{pid.id}.{pid.serial}>")).') == "true"


def test_send_to_a_pid_and_receive_the_answer(pynode: beamlink.Node, beam: BeamNode) -> None:
    _, loop = _remote_loop(pynode, beam)
    with pynode.mailbox() as mb:
        mb.send(loop, (mb.pid, [1, "two", 3.0]))
        assert mb.receive(timeout=5.0) == (Atom("pong"), [1, "two", 3.0])
        pynode.call(beam.name, "erlang", "exit", [loop, Atom("kill")])


def test_send_to_a_registered_name(pynode: beamlink.Node, beam: BeamNode) -> None:
    name, loop = _remote_loop(pynode, beam)
    with pynode.mailbox() as mb:
        mb.send((name, beam.name), (mb.pid, "by name"))
        mb.send((Atom(name), Atom(beam.name)), (mb.pid, "by atoms"))
        assert [mb.receive(timeout=5.0), mb.receive(timeout=5.0)] == [
            (Atom("pong"), "by name"),
            (Atom("pong"), "by atoms"),
        ]
    pynode.call(beam.name, "erlang", "exit", [loop, Atom("kill")])


def test_messages_from_beam_and_selective_receive(pynode: beamlink.Node, beam: BeamNode) -> None:
    with pynode.mailbox() as mb:
        for i in range(5):
            pynode.call(beam.name, "py_fixtures", "forward_to", [mb.pid, (Atom("n"), i)])
        assert mb.receive(timeout=5.0, match=lambda m: m[1] == 3) == (Atom("n"), 3)
        assert mb.receive(timeout=5.0, match=lambda m: m[1] >= 2) == (Atom("n"), 2)
        with pytest.raises(ReceiveTimeout):
            mb.receive(timeout=0.1, match=lambda m: m[1] == 99)
        assert [mb.receive(timeout=5.0) for _ in range(3)] == [(Atom("n"), 0), (Atom("n"), 1), (Atom("n"), 4)]
        # A predicate that raises: the exception comes here, the message is taken.
        pynode.send(mb.pid, "boom")
        with pytest.raises(ZeroDivisionError):
            mb.receive(timeout=5.0, match=lambda m: 1 / 0)
        with pytest.raises(ReceiveTimeout):
            mb.receive(timeout=0.05)


def test_selective_receive_waits_for_a_later_message(pynode: beamlink.Node, beam: BeamNode) -> None:
    with pynode.mailbox() as mb:
        pynode.send(mb.pid, "early")
        # The wanted message comes after the call starts waiting.
        pynode.cast(beam.name, "py_fixtures", "forward_to", [mb.pid, "wanted"])
        assert mb.receive(timeout=5.0, match=lambda m: m == "wanted") == "wanted"
        assert mb.receive(timeout=5.0) == "early"


def test_iterating_a_mailbox(pynode: beamlink.Node) -> None:
    with pynode.mailbox() as mb:
        for i in range(3):
            pynode.send(mb.pid, i)
        got = []
        for msg in mb:
            got.append(msg)
            if len(got) == 3:
                break
        assert got == [0, 1, 2]


def test_register_and_local_names(pynode: beamlink.Node) -> None:
    name = unique_name("local")
    with pynode.mailbox() as a, pynode.mailbox() as b:
        a.register(name)
        assert pynode.whereis(name) == a.pid
        b.send(name, "to a")
        b.send((name, pynode.name), "to a again")
        assert [a.receive(timeout=5.0), a.receive(timeout=5.0)] == ["to a", "to a again"]
    assert pynode.whereis(name) is None


def test_link_brings_an_exit_signal(pynode: beamlink.Node, beam: BeamNode) -> None:
    _, loop = _remote_loop(pynode, beam)
    with pynode.mailbox() as mb:
        mb.link(loop)
        assert beam.wait_until(
            f'{{links, L}} = process_info(list_to_pid("<0.{loop.id}.{loop.serial}>"), links), length(L).', "1"
        )
        pynode.call(beam.name, "erlang", "exit", [loop, Atom("stop_now")])
        sig = mb.receive(timeout=5.0)
        assert sig == ExitSignal(loop, Atom("stop_now"))


def test_closing_a_linked_mailbox_with_a_reason_kills_the_remote(pynode: beamlink.Node, beam: BeamNode) -> None:
    _, loop = _remote_loop(pynode, beam)
    mb = pynode.mailbox()
    mb.link(loop)
    assert _alive(beam, loop)
    mb.close(Atom("shutdown_now"))
    assert beam.wait_until(f'is_process_alive(list_to_pid("<0.{loop.id}.{loop.serial}>")).', "false")


def test_unlink(pynode: beamlink.Node, beam: BeamNode) -> None:
    _, loop = _remote_loop(pynode, beam)
    with pynode.mailbox() as mb:
        mb.link(loop)
        mb.unlink(loop)
        pynode.call(beam.name, "erlang", "exit", [loop, Atom("kill")])
        with pytest.raises(ReceiveTimeout):
            mb.receive(timeout=0.3)


def test_monitor_brings_down(pynode: beamlink.Node, beam: BeamNode) -> None:
    name, loop = _remote_loop(pynode, beam)
    with pynode.mailbox() as mb:
        by_pid = mb.monitor(loop)
        by_name = mb.monitor((name, beam.name))
        gone = mb.monitor((Atom("no_such_name"), beam.name))
        assert mb.receive(timeout=5.0) == Down(gone, Atom("no_such_name"), Atom("noproc"))
        pynode.call(beam.name, "erlang", "exit", [loop, Atom("finished")])
        downs = {mb.receive(timeout=5.0), mb.receive(timeout=5.0)}
        assert downs == {Down(by_pid, loop, Atom("finished")), Down(by_name, Atom(name), Atom("finished"))}


def test_demonitor(pynode: beamlink.Node, beam: BeamNode) -> None:
    _, loop = _remote_loop(pynode, beam)
    with pynode.mailbox() as mb:
        ref = mb.monitor(loop)
        mb.demonitor(ref)
        pynode.call(beam.name, "erlang", "exit", [loop, Atom("kill")])
        with pytest.raises(ReceiveTimeout):
            mb.receive(timeout=0.3)


def test_exit_signals_both_ways(pynode: beamlink.Node, beam: BeamNode) -> None:
    _, loop = _remote_loop(pynode, beam)
    with pynode.mailbox() as mb:
        mb.exit(loop, Atom("kill"))
        assert beam.wait_until(f'is_process_alive(list_to_pid("<0.{loop.id}.{loop.serial}>")).', "false")
        # Mailboxes trap exits: an exit signal from BEAM arrives as a message.
        pynode.call(beam.name, "erlang", "exit", [mb.pid, Atom("boom")])
        sig = mb.receive(timeout=5.0)
        assert isinstance(sig, ExitSignal) and sig.reason == Atom("boom") and sig.sender.node == beam.name


def test_node_events(cookie: str, beam_code: Any) -> None:
    with beamlink.Node("pyevents@localhost", cookie=cookie) as n:
        events = n.events()
        other = BeamNode(28, "pyev", code_paths=[beam_code])
        try:
            assert n.ping(other.name)
            assert events.next(timeout=5.0) == NodeUp(other.name)
        finally:
            other.stop()
        down = events.next(timeout=30.0)
        assert isinstance(down, NodeDown) and down.node == other.name
        with pytest.raises(ReceiveTimeout):
            events.next(timeout=0.05)
