"""Every exception beamlink raises, produced for real: connection errors (bad name, bad
cookie, epmd unreachable, no such node, handshake refused, handshake timeout), call errors
(raised error, Elixir exception, exit, throw, undefined function, node down mid-call,
timeout, badrpc, spawn refused), and the rest (closed node, name in use, listen failure,
receive timeout, encode errors)."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Iterator, List, Optional

import pytest

import beamlink
from beamlink import Atom
from beamlink.errors import (
    BadCookie,
    BadRpc,
    BeamlinkError,
    CallError,
    CallTimeout,
    ConnectError,
    ConnectTimeout,
    EncodeError,
    EpmdUnreachable,
    HandshakeError,
    InvalidNodeName,
    ListenError,
    NameInUse,
    NoConnection,
    NodeClosed,
    NodeNotFound,
    ReceiveTimeout,
    RemoteError,
    RemoteExit,
    RemoteThrow,
    SpawnFailed,
    UndefinedFunction,
)
from beam_nodes import BeamNode, unique_name


def test_the_hierarchy() -> None:
    base: List[type] = [ConnectError, CallError, EncodeError, NodeClosed, NameInUse, ListenError, ReceiveTimeout]
    assert all(issubclass(c, BeamlinkError) for c in base)
    connect: List[type] = [InvalidNodeName, BadCookie, EpmdUnreachable, NodeNotFound, HandshakeError, ConnectTimeout]
    assert all(issubclass(c, ConnectError) and not issubclass(c, CallError) for c in connect)
    call: List[type] = [RemoteError, RemoteExit, RemoteThrow, NoConnection, CallTimeout, BadRpc, SpawnFailed]
    assert all(issubclass(c, CallError) and not issubclass(c, ConnectError) for c in call)
    assert issubclass(UndefinedFunction, RemoteError)
    assert all(issubclass(c, TimeoutError) for c in (CallTimeout, ConnectTimeout, ReceiveTimeout))


# --- connecting -------------------------------------------------------------------------


def test_invalid_node_names(cookie: str, pynode: beamlink.Node) -> None:
    with pytest.raises(InvalidNodeName) as e:
        beamlink.Node("bad name@localhost", cookie=cookie)
    assert e.value.kind == "bad_name" and isinstance(e.value, ValueError)
    with pytest.raises(InvalidNodeName):
        pynode.call("no_host_part", "erlang", "node", [])


def test_bad_cookie(otp25: BeamNode) -> None:
    with beamlink.Node("pybadcookie@localhost", cookie="not-the-cookie") as n:
        with pytest.raises(BadCookie) as e:
            n.call(otp25.name, "erlang", "node", [])
        assert e.value.node == otp25.name and e.value.kind == "bad_cookie"
        assert not n.ping(otp25.name)


def test_node_not_found(pynode: beamlink.Node) -> None:
    with pytest.raises(NodeNotFound) as e:
        pynode.call("nobody_beamlink@localhost", "erlang", "node", [])
    assert e.value.node == "nobody_beamlink@localhost" and e.value.kind == "node_not_found"


def test_epmd_unreachable_when_the_host_does_not_resolve(pynode: beamlink.Node) -> None:
    with pytest.raises(EpmdUnreachable) as e:
        pynode.connect("x@beamlink-no-such-host")
    assert e.value.kind == "epmd_unreachable"


def test_epmd_unreachable_when_nothing_listens(cookie: str) -> None:
    # Another process, so the epmd port can differ from every other test's.
    script = (
        "import beamlink\n"
        f"n = beamlink.Node('pyepmd@localhost', cookie={cookie!r})\n"
        "try:\n"
        "    n.connect('anyone@localhost')\n"
        "except beamlink.EpmdUnreachable as e:\n"
        "    print('EpmdUnreachable', e.kind)\n"
    )
    env = dict(os.environ, ERL_EPMD_PORT="9")
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "EpmdUnreachable epmd_unreachable", r.stderr


def test_handshake_refused(cookie: str, beam_code: Any) -> None:
    with BeamNode(25, "pyallow", code_paths=[beam_code]) as strict:
        strict.eval_ok("ok = net_kernel:allow(['somebody_else@localhost']).")
        with beamlink.Node("pyrefused@localhost", cookie=cookie) as n:
            with pytest.raises(HandshakeError) as e:
                n.connect(strict.name)
            assert e.value.kind == "not_allowed"


class _SilentPeer:
    """A node name in epmd whose port accepts connections and never says a word."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.accepted: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()
        self.alive = unique_name("pysilent")
        port = self.server.getsockname()[1]
        name = self.alive.encode()
        body = struct.pack(">BHBBHHH", 120, port, 72, 0, 6, 5, len(name)) + name + struct.pack(">H", 0)
        self.epmd = socket.create_connection(("127.0.0.1", int(os.environ.get("ERL_EPMD_PORT", "4369"))))
        self.epmd.sendall(struct.pack(">H", len(body)) + body)
        reply = self.epmd.recv(16)
        assert reply[:1] in (b"y", b"v") and reply[1] == 0, reply

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(c)

    def close(self) -> None:
        self.epmd.close()
        self.server.close()
        for c in self.accepted:
            c.close()


@pytest.fixture
def silent_peer() -> Iterator[_SilentPeer]:
    p = _SilentPeer()
    yield p
    p.close()


def test_connect_timeout(cookie: str, silent_peer: _SilentPeer) -> None:
    with beamlink.Node("pyslow@localhost", cookie=cookie, connect_timeout=0.5) as n:
        with pytest.raises(ConnectTimeout) as e:
            n.connect(f"{silent_peer.alive}@localhost")
        assert e.value.kind == "timeout" and isinstance(e.value, TimeoutError)


# --- calling ----------------------------------------------------------------------------


def test_remote_error_carries_reason_and_stacktrace(pynode: beamlink.Node, beam: BeamNode) -> None:
    with pytest.raises(RemoteError) as e:
        pynode.call(beam.name, "py_fixtures", "raise_it", [(Atom("bad"), 1)])
    err = e.value
    assert err.reason == (Atom("bad"), 1) and err.term == err.reason and err.node == beam.name
    assert isinstance(err.stacktrace, list) and err.stacktrace[0][0] == Atom("py_fixtures")
    assert err.exception is None
    with pytest.raises(RemoteError) as e:
        pynode.call(beam.name, "erlang", "binary_to_atom", [[1]])
    assert e.value.reason == Atom("badarg")


def test_elixir_exceptions(pynode: beamlink.Node, elixir_node: BeamNode) -> None:
    with pytest.raises(RemoteError) as e:
        pynode.call(elixir_node.name, "Elixir.Keyword", "fetch!", [[], Atom("k")])
    assert e.value.exception == "Elixir.KeyError" and e.value.reason[Atom("key")] == Atom("k")
    # A BIF's error stays Erlang's, as the node reports it.
    with pytest.raises(RemoteError) as e:
        pynode.call(elixir_node.name, "Elixir.String", "to_integer", ["x"])
    assert e.value.exception is None and e.value.reason == Atom("badarg")
    with pytest.raises(RemoteError) as e:
        pynode.eval(elixir_node.name, 'raise "kaboom"', language="elixir")
    assert e.value.exception == "Elixir.RuntimeError" and e.value.remote_message == "kaboom"
    assert "** (RuntimeError) kaboom" in str(e.value)


def test_exit_and_throw(pynode: beamlink.Node, beam: BeamNode) -> None:
    with pytest.raises(RemoteExit) as e:
        pynode.call(beam.name, "py_fixtures", "exit_it", [Atom("bye")])
    assert e.value.reason == Atom("bye") and e.value.term == Atom("bye") and not e.value.signal
    with pytest.raises(RemoteThrow) as t:
        pynode.call(beam.name, "py_fixtures", "throw_it", [{"k": [1]}])
    assert t.value.value == {"k": [1]} and t.value.term == {"k": [1]}


def test_undefined_function(pynode: beamlink.Node, beam: BeamNode) -> None:
    with pytest.raises(UndefinedFunction) as e:
        pynode.call(beam.name, "no_such_module_beamlink", "f", [1, 2])
    assert (e.value.module, e.value.function, e.value.arity) == ("no_such_module_beamlink", "f", 2)
    assert e.value.term == Atom("undef") and e.value.stacktrace[0][:2] == (Atom("no_such_module_beamlink"), Atom("f"))
    with pytest.raises(UndefinedFunction) as e:
        pynode.call(beam.name, "lists", "no_such_function", [])
    assert e.value.function == "no_such_function" and e.value.arity == 0
    # An undef deeper down is the called function's error, not its absence.
    with pytest.raises(RemoteError) as r:
        pynode.call(beam.name, "py_fixtures", "nested_undef", [])
    assert not isinstance(r.value, UndefinedFunction) and r.value.reason == Atom("undef")


def test_call_timeout(pynode: beamlink.Node, beam: BeamNode) -> None:
    with pytest.raises(CallTimeout) as e:
        pynode.call(beam.name, "py_fixtures", "sleeper", [5000], timeout=0.2)
    assert e.value.after == pytest.approx(0.2) and isinstance(e.value, TimeoutError)
    with pytest.raises(CallTimeout):
        pynode.rpc_call(beam.name, "py_fixtures", "sleeper", [5000], timeout=0.2)


def test_badrpc(pynode: beamlink.Node, beam: BeamNode) -> None:
    with pytest.raises(BadRpc) as e:
        pynode.rpc_call(beam.name, "py_fixtures", "raise_it", [Atom("x")])
    assert e.value.reason[0] == Atom("EXIT")
    with pytest.raises(BadRpc):
        pynode.rpc_call(beam.name, "no_such_module_beamlink", "f", [])


def test_spawn_refused(pynode: beamlink.Node, beam: BeamNode) -> None:
    with pytest.raises(SpawnFailed) as e:
        pynode.spawn(beam.name, "erlang", "node", [], options=[Atom("no_such_option")])
    assert e.value.reason == Atom("badopt") and e.value.term == Atom("badopt")


def _call_in_thread(node: beamlink.Node, target: str) -> "tuple[threading.Thread, List[BaseException]]":
    caught: List[BaseException] = []

    def run() -> None:
        try:
            node.call(target, "py_fixtures", "sleeper", [60_000])
        except BaseException as e:  # noqa: BLE001 - handed to the test
            caught.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, caught


def test_node_dying_mid_call(cookie: str, beam_code: Any) -> None:
    with beamlink.Node("pydying@localhost", cookie=cookie) as n:
        doomed = BeamNode(25, "pydoomed", code_paths=[beam_code])
        try:
            assert n.ping(doomed.name)
            t, caught = _call_in_thread(n, doomed.name)
            assert doomed.wait_until("length([P || P <- processes(), {current_function, {timer, sleep, 1}} =:= "
                                     "erlang:process_info(P, current_function)]).", "1")
        finally:
            doomed.stop()
        t.join(30)
        assert not t.is_alive()
        assert len(caught) == 1 and isinstance(caught[0], NoConnection), caught
        assert caught[0].term == Atom("noconnection")
        # The next call finds the node gone.
        with pytest.raises(NodeNotFound):
            n.call(doomed.name, "erlang", "node", [])


# --- the rest ---------------------------------------------------------------------------


def test_closed_node(cookie: str, otp25: BeamNode) -> None:
    n = beamlink.Node("pyclosed@localhost", cookie=cookie)
    mb = n.mailbox()
    n.close()
    n.close()  # twice is fine
    with pytest.raises(NodeClosed):
        n.call(otp25.name, "erlang", "node", [])
    with pytest.raises(NodeClosed):
        n.mailbox()
    with pytest.raises(NodeClosed):
        mb.receive(timeout=0)
    assert n.closed and mb.closed


def test_names_in_use(cookie: str, pynode: beamlink.Node) -> None:
    name = unique_name("pyname")
    with pynode.mailbox(name):
        with pytest.raises(NameInUse):
            pynode.mailbox(name)
    with pynode.mailbox(name) as mb:  # free again once closed
        assert pynode.whereis(name) == mb.pid
    alive = unique_name("pytwice")
    with beamlink.Node(f"{alive}@localhost", cookie=cookie, listen=True):
        with pytest.raises(NameInUse):
            beamlink.Node(f"{alive}@localhost", cookie=cookie, listen=True)


def test_listen_error(cookie: str) -> None:
    busy = socket.socket()
    busy.bind(("0.0.0.0", 0))
    busy.listen(1)
    try:
        with pytest.raises(ListenError) as e:
            beamlink.Node("pybusy@localhost", cookie=cookie, listen=busy.getsockname()[1])
        assert isinstance(e.value, OSError)
    finally:
        busy.close()


def test_receive_timeout(pynode: beamlink.Node) -> None:
    with pynode.mailbox() as mb:
        t0 = time.monotonic()
        with pytest.raises(ReceiveTimeout):
            mb.receive(timeout=0.1)
        assert time.monotonic() - t0 >= 0.09


def test_encode_errors_in_calls(pynode: beamlink.Node, otp25: BeamNode) -> None:
    with pytest.raises(EncodeError):
        pynode.call(otp25.name, "erlang", "node", [object()])
    with pytest.raises(EncodeError):
        pynode.send((Atom("x"), otp25.name), {1, 2})


def _unused(x: Optional[int]) -> None:
    del x
