"""The sync node API against real OTP 25, OTP 28 and Elixir nodes: ping, nodes, call,
rpc_call, multicall, cast, eval, spawn (output, input, exit), and terms through calls
(the corpus BEAM → Python → BEAM, random values Python → BEAM → Python)."""

from __future__ import annotations

import random
from typing import Any, List

import pytest

import beamlink
from beamlink import Atom, BitString, Evaluated, Export, Fun, ImproperList, Pid, Reference
from beam_nodes import BeamNode

from helpers import random_value


@pytest.fixture(params=[25, 28, "elixir"], ids=["otp25", "otp28", "elixir"])
def remote(request: pytest.FixtureRequest) -> BeamNode:
    """Each test using it runs against OTP 25, OTP 28 and an Elixir node."""
    name = "elixir_node" if request.param == "elixir" else f"otp{request.param}"
    node: BeamNode = request.getfixturevalue(name)
    return node


def test_ping_and_nodes(pynode: beamlink.Node, remote: BeamNode) -> None:
    assert pynode.ping(remote.name)
    assert remote.name in pynode.nodes()
    assert not pynode.ping("nobody_beamlink@localhost", timeout=2.0)
    # A hidden node: the remote lists us among hidden connections only.
    assert remote.eval_ok("nodes(hidden).").count(pynode.name) == 1


def test_call_returns_the_value(pynode: beamlink.Node, remote: BeamNode) -> None:
    assert pynode.call(remote.name, "erlang", "node", []) == Atom(remote.name)
    assert pynode.call(remote.name, Atom("lists"), Atom("seq"), (1, 5), timeout=5.0) == [1, 2, 3, 4, 5]
    assert pynode.call(remote.name, "erlang", "list_to_binary", [[104, 105]]) == "hi"
    assert pynode.call(remote.name, "erlang", "list_to_binary", [[255]]) == b"\xff"
    assert pynode.call(remote.name, "py_fixtures", "echo", [None]) is None
    assert pynode.call(remote.name, "erlang", "is_atom", [None]) is True


def test_the_seed_session_on_elixir(pynode: beamlink.Node, elixir_node: BeamNode) -> None:
    hello = pynode.call(elixir_node.name, "Elixir.Person", "say_hello", [Atom("hoge")], timeout=5.0)
    assert hello == f"Hello :hoge, this is {elixir_node.name}"
    job = pynode.spawn(elixir_node.name, "Elixir.Toukon", "say", [])
    chunks = list(job.output)
    assert "".join(chunks) == "元気ですかーーーッ！\n"
    assert job.wait(timeout=5.0) == Atom("normal")
    assert job.exit_reason == Atom("normal")


def test_terms_through_calls(pynode: beamlink.Node, remote: BeamNode) -> None:
    v = {
        Atom("ok"): [1, -1, 2**70, -(2**70), 1.5, "text", b"\xff\x00", (), (1, (2,))],
        "key": ImproperList([1, 2], Atom("t")),
        (1, 2): BitString(b"\xe0", 3),
        Atom("pid"): Pid("x@localhost", 1, 2, 3),
        Atom("ref"): Reference("x@localhost", 3, [1, 2, 3]),
        Atom("fun"): Export("lists", "map", 2),
        Atom("none"): None,
    }
    assert pynode.call(remote.name, "py_fixtures", "echo", [v]) == v
    assert pynode.call(remote.name, "py_fixtures", "same", [v, v]) is True


def test_random_values_survive_python_beam_python(pynode: beamlink.Node, remote: BeamNode) -> None:
    rng = random.Random(99)
    values = [random_value(rng) for _ in range(200)]
    back = pynode.call(remote.name, "lists", "map", [beamlink.Export("py_fixtures", "echo", 1), values])
    bad = [(v, b) for v, b in zip(values, back) if v != b]
    assert not bad, bad[:3]


def test_the_corpus_survives_beam_python_beam(pynode: beamlink.Node, beam: BeamNode) -> None:
    terms = pynode.call(beam.name, "etf_corpus", "terms", [])
    assert len(terms) >= 150
    assert pynode.call(beam.name, "py_fixtures", "corpus_mismatches", [terms]) == []


def test_funs_go_back_and_run(pynode: beamlink.Node, beam: BeamNode) -> None:
    fun = pynode.eval(beam.name, "X = 7, fun(A) -> A + X end").value
    assert isinstance(fun, Fun) and fun.arity == 1
    assert pynode.call(beam.name, "erlang", "apply", [fun, [1]]) == 8


def test_decode_options(cookie: str, otp25: BeamNode) -> None:
    with beamlink.Node("pyopts@localhost", cookie=cookie, binaries="bytes", none="undefined",
                       charlists="charlist") as n:
        assert n.call(otp25.name, "erlang", "list_to_binary", [[104, 105]]) == b"hi"
        assert n.call(otp25.name, "erlang", "whereis", [Atom("no_such_process")]) is None
        assert n.call(otp25.name, "py_fixtures", "echo", [None]) is None
        assert n.call(otp25.name, "erlang", "atom_to_list", [Atom("abc")]) == beamlink.Charlist("abc")
        assert n.call(otp25.name, "erlang", "is_atom", [None]) is True


def test_rpc_call(pynode: beamlink.Node, remote: BeamNode) -> None:
    assert pynode.rpc_call(remote.name, "erlang", "node", []) == Atom(remote.name)
    # rpc:call returns a thrown value rather than raising.
    assert pynode.rpc_call(remote.name, "py_fixtures", "throw_it", [Atom("up")]) == Atom("up")
    assert pynode.rpc_call(remote.name, "lists", "sum", [[1, 2.5]], timeout=5.0) == 3.5


def test_multicall(pynode: beamlink.Node, otp25: BeamNode, otp28: BeamNode) -> None:
    rs = pynode.multicall([otp25.name, otp28.name, "nobody_beamlink@localhost"], "erlang", "node", [])
    assert rs[0] == Atom(otp25.name) and rs[1] == Atom(otp28.name)
    assert isinstance(rs[2], beamlink.NodeNotFound)
    rs = pynode.multicall([otp25.name, otp28.name], "py_fixtures", "raise_it", [Atom("x")])
    assert all(isinstance(r, beamlink.RemoteError) and r.reason == Atom("x") for r in rs)


def test_cast(pynode: beamlink.Node, remote: BeamNode) -> None:
    name = f"cast_{remote.otp}_{random.randrange(10**9)}"
    pynode.cast(remote.name, "py_fixtures", "ping_back", [Atom(name)])
    assert remote.wait_until(f"is_pid(whereis('{name}')).", "true")
    remote.eval_ok(f"exit(whereis('{name}'), kill).")


def test_eval_erlang_and_elixir(pynode: beamlink.Node, remote: BeamNode, elixir_node: BeamNode) -> None:
    r = pynode.eval(remote.name, 'io:format("x=~p~n", [X = 20 + 1]), X * 2')
    assert r == Evaluated(42, "x=21\n")
    assert pynode.eval(remote.name, "lists:seq(1, 3).").value == [1, 2, 3]
    with pytest.raises(beamlink.RemoteError):
        pynode.eval(remote.name, "1 +")
    r = pynode.eval(elixir_node.name, 'IO.puts("hey"); %{a: 1}', language="elixir")
    assert r.value == {Atom("a"): 1} and r.output == "hey\n"
    with pytest.raises(ValueError):
        pynode.eval(remote.name, "1", language="cobol")  # type: ignore[arg-type]


def test_spawn_streams_output_as_printed(pynode: beamlink.Node, remote: BeamNode) -> None:
    job = pynode.spawn(remote.name, "py_fixtures", "printer", [Atom("there")])
    assert job.node == remote.name and isinstance(job.pid, Pid) and job.pid.node == remote.name
    assert list(job.output) == ["hi there\n", "plain\n", "ünï\n"]
    assert job.wait() == Atom("normal")
    assert list(job.output) == []


def test_spawn_with_input(pynode: beamlink.Node, remote: BeamNode) -> None:
    job = pynode.spawn(remote.name, "py_fixtures", "read_and_echo", [], input="one\ntwo\n")
    out = "".join(job.output)
    assert out.startswith("first> ") and 'got "one\\n" "two\\n"' in out
    assert job.wait() == Atom("normal")
    job = pynode.spawn(remote.name, "py_fixtures", "read_and_echo", [])
    assert "got eof eof" in "".join(job.output)


def test_spawn_exit_reasons(pynode: beamlink.Node, remote: BeamNode) -> None:
    job = pynode.spawn(remote.name, "py_fixtures", "exit_it", [Atom("bye")])
    assert job.wait(timeout=5.0) == Atom("bye")
    job = pynode.spawn(remote.name, "py_fixtures", "raise_it", [Atom("oops")])
    reason = job.wait(timeout=5.0)
    assert reason[0] == Atom("oops") and isinstance(reason[1], list)
    job = pynode.spawn(remote.name, "py_fixtures", "sleeper", [60_000])
    with pytest.raises(beamlink.CallTimeout):
        job.wait(timeout=0.2)
    remote.eval_ok(f"exit(list_to_pid(\"{_local_pid_text(job.pid)}\"), kill).")
    assert job.wait(timeout=5.0) == Atom("killed")


def test_spawn_remote_output_stays_remote(pynode: beamlink.Node, remote: BeamNode) -> None:
    job = pynode.spawn(remote.name, "io", "put_chars", ["to the remote stdout\n"], output="remote")
    assert job.wait(timeout=5.0) == Atom("normal")
    assert list(job.output) == []
    with pytest.raises(ValueError):
        pynode.spawn(remote.name, "io", "put_chars", ["x"], output="remote", input="y")


def test_a_node_with_many_calls_in_flight_from_one_thread(pynode: beamlink.Node, beam: BeamNode) -> None:
    # Pending operations are independent: start many, then take them in any order.
    pending = [pynode._native.call(beam.name, "erlang", "abs", [-i], None) for i in range(100)]
    assert [p.wait() for p in reversed(pending)] == list(reversed(range(100)))


def _local_pid_text(p: Pid) -> str:
    """A remote node's own textual form of one of its pids, for list_to_pid/1 there."""
    return f"<0.{p.id}.{p.serial}>"


def test_repr_never_shows_the_cookie(cookie: str) -> None:
    with beamlink.Node("pyrepr@localhost", cookie=cookie) as n:
        assert repr(n) == "Node('pyrepr@localhost')" and cookie not in repr(n)
        mb = n.mailbox()
        assert repr(mb).startswith("Mailbox(<pyrepr@localhost.")
    assert repr(n) == "Node('pyrepr@localhost', closed)"
    assert mb.closed


def test_names_and_args_are_checked(pynode: beamlink.Node, otp25: BeamNode) -> None:
    with pytest.raises(TypeError):
        pynode.call(otp25.name, "erlang", "node", "not a list")
    with pytest.raises(TypeError):
        pynode.call(otp25.name, 7, "node", [])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        pynode.call(otp25.name, "erlang", "node", [], timeout=-1)


def _unused(x: List[Any]) -> None:  # keeps imports used for mypy
    del x
