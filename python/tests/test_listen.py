"""Listen mode: a Python node published in epmd that BEAM nodes connect to — ping it, send
to its registered mailboxes by name (Erlang's ``{py, Node} ! Msg``, Elixir's
``send({:py, :"pynode@host"}, msg)``), and get answers back."""

from __future__ import annotations

from typing import Iterator

import pytest

import beamlink
from beamlink import Atom, Pid
from beam_nodes import BeamNode, unique_name


@pytest.fixture(scope="module")
def listening(cookie: str) -> Iterator[beamlink.Node]:
    n = beamlink.Node(f"{unique_name('pylisten')}@localhost", cookie=cookie, listen=True)
    yield n
    n.close()


def test_it_is_published_and_beam_pings_it(listening: beamlink.Node, beam: BeamNode) -> None:
    assert isinstance(listening.port, int) and listening.port > 0
    alive = listening.name.split("@")[0]
    names = beam.eval_ok("{ok, Names} = net_adm:names(), [N || {N, _} <- Names].")
    assert f'"{alive}"' in names
    assert beam.eval_ok(f"net_adm:ping('{listening.name}').") == "pong"


def test_erlang_sends_to_a_registered_mailbox(listening: beamlink.Node, beam: BeamNode) -> None:
    with listening.mailbox("py") as mb:
        beam.eval_ok(f"{{py, '{listening.name}'}} ! {{hello, self(), [1, 2.5, <<\"bin\">>]}}.")
        tag, sender, payload = mb.receive(timeout=5.0)
        assert tag == Atom("hello") and isinstance(sender, Pid) and payload == [1, 2.5, "bin"]
        # The answer goes back to the shell process that sent it.
        mb.send(sender, (Atom("reply"), mb.pid))
        got = beam.eval_ok("receive {reply, P} -> P after 5000 -> timeout end.")
        assert got.startswith("<") and got != "timeout"


def test_elixir_sends_to_a_registered_mailbox(listening: beamlink.Node, elixir_node: BeamNode, pynode: beamlink.Node) -> None:
    with listening.mailbox("py") as mb:
        code = f'send({{:py, :"{listening.name}"}}, {{:from_elixir, %{{answer: 42}}, "text"}})'
        pynode.eval(elixir_node.name, code, language="elixir")
        assert mb.receive(timeout=5.0) == (Atom("from_elixir"), {Atom("answer"): 42}, "text")


def test_beam_calls_back_through_a_mailbox(listening: beamlink.Node, beam: BeamNode) -> None:
    # A BEAM process that reaches a Python "server" by name and waits for its answer.
    with listening.mailbox("py_server") as server:
        beam.eval(f"Self = self(), spawn(fun() -> {{py_server, '{listening.name}'}} ! {{Self, double, 21}} end).")
        who, op, n = server.receive(timeout=5.0)
        assert op == Atom("double")
        server.send(who, (Atom("result"), n * 2))
        assert beam.eval_ok("receive {result, R} -> R after 5000 -> timeout end.") == "42"


def test_a_node_can_start_listening_later(cookie: str, beam: BeamNode) -> None:
    with beamlink.Node(f"{unique_name('pylate')}@localhost", cookie=cookie) as n:
        assert n.port is None
        port = n.listen()
        assert port == n.port and n.listen() == port
        assert beam.eval_ok(f"net_adm:ping('{n.name}').") == "pong"
