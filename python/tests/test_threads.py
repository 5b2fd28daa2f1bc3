"""Threads and signals: many threads calling one node, the GIL released while a call waits,
Ctrl-C during a blocking call (sync and asyncio; the remote call is stopped, nothing left
behind), no engine threads or sockets left after close, and an interpreter that exits with
nodes still open does not hang. Signals and exits run in child processes
(tests/children/child.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import beamlink
from beamlink import Atom
from beam_nodes import BeamNode, unique_name

CHILD = Path(__file__).parent / "children" / "child.py"


def test_many_threads_call_one_node(pynode: beamlink.Node, beam: BeamNode) -> None:
    errors: List[BaseException] = []
    results: Dict[int, List[Any]] = {}

    def worker(k: int) -> None:
        try:
            results[k] = [pynode.call(beam.name, "erlang", "abs", [-(k * 1000 + i)]) for i in range(50)]
        except BaseException as e:  # noqa: BLE001 - handed to the test
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results == {k: [k * 1000 + i for i in range(50)] for k in range(16)}


def test_the_gil_is_released_while_a_call_waits(pynode: beamlink.Node, beam: BeamNode) -> None:
    state = {"started": False, "done": False}

    def caller() -> None:
        state["started"] = True
        pynode.call(beam.name, "timer", "sleep", [300])
        state["done"] = True

    t = threading.Thread(target=caller)
    t.start()
    while not state["started"]:
        time.sleep(0.001)
    # Pure Python work in this thread while the other one waits for BEAM: it only runs if the
    # waiting thread does not hold the GIL (a held GIL would leave `spins` at 0).
    spins = 0
    while not state["done"]:
        spins += 1
    t.join()
    assert spins > 1000


def test_a_mailbox_shared_between_threads(pynode: beamlink.Node) -> None:
    with pynode.mailbox() as mb:
        got: List[Any] = []
        receivers = [threading.Thread(target=lambda: got.append(mb.receive(timeout=10.0))) for _ in range(4)]
        for r in receivers:
            r.start()
        for i in range(4):
            pynode.send(mb.pid, i)
        for r in receivers:
            r.join()
        assert sorted(got) == [0, 1, 2, 3]


def _child(*args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _line(p: "subprocess.Popen[str]") -> Dict[str, Any]:
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line, f"child said nothing: {p.stderr.read() if p.stderr else ''}"
    out: Dict[str, Any] = json.loads(line)
    return out


@pytest.mark.parametrize("mode", ["ctrl_c_sync", "ctrl_c_async"])
def test_ctrl_c_interrupts_a_call_and_stops_the_remote(mode: str, beam: BeamNode, cookie: str) -> None:
    name = unique_name("ctrlc")
    p = _child(mode, beam.name, cookie, name)
    try:
        assert _line(p) == {"state": "calling"}
        assert beam.wait_until(f"is_pid(whereis('{name}')).", "true"), "the call never reached the node"
        sent = time.time()
        p.send_signal(signal.SIGINT)
        got = _line(p)
        assert got["state"] == "interrupted"
        print(f"{mode}: KeyboardInterrupt {1000 * (got['at'] - sent):.0f} ms after SIGINT")
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # The remote process running the call was stopped, not left behind.
    assert beam.wait_until(f"whereis('{name}').", "undefined"), "the remote call is still running"


def test_close_leaves_no_threads_or_sockets(beam: BeamNode, cookie: str) -> None:
    p = _child("leaks", beam.name, cookie)
    try:
        got = _line(p)
        assert p.wait(timeout=60) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert got["during"]["threads"] > got["before"]["threads"], got  # the engine ran
    assert got["after"] == got["before"], got
    print(f"threads and sockets back to {got['before']} {got['settled_ms']} ms after close()")


def test_exit_with_nodes_open_does_not_hang(beam: BeamNode, cookie: str) -> None:
    p = _child("exit_without_close", beam.name, cookie)
    try:
        assert _line(p) == {"state": "exiting"}
        assert p.wait(timeout=30) == 0
        assert p.stderr is not None
        err = p.stderr.read()
        # The thread left in a call may report that the node closed under it; nothing worse.
        for bad in ("panicked", "PanicException", "Fatal Python error", "Segmentation"):
            assert bad not in err, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def _unused(a: Atom) -> None:
    del a
