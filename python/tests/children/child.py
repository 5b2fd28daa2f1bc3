"""Programs the thread and signal tests run as child processes (a signal or an exit must not
touch the test session itself). ``python child.py COMMAND PEER COOKIE [ARG]``; each prints
one JSON line with what it saw."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from typing import Any, Dict

import beamlink
from beamlink import Atom


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def sockets() -> int:
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def say(**kw: Any) -> None:
    print(json.dumps(kw), flush=True)


def ctrl_c_sync(peer: str, cookie: str, name: str) -> None:
    """Blocks in a call that never returns until SIGINT; reports when the interrupt came."""
    with beamlink.Node(f"pyctrlc_{os.getpid()}@localhost", cookie=cookie) as node:
        node.connect(peer)
        say(state="calling")
        try:
            node.call(peer, "py_fixtures", "hang", [Atom(name)])
            say(state="returned")
        except KeyboardInterrupt:
            say(state="interrupted", at=time.time())


def ctrl_c_async(peer: str, cookie: str, name: str) -> None:
    """The same inside asyncio.run: Ctrl-C cancels the main task and the call with it."""

    async def main() -> None:
        async with beamlink.AsyncNode(f"pyctrlca_{os.getpid()}@localhost", cookie=cookie) as node:
            await node.connect(peer)
            say(state="calling")
            await node.call(peer, "py_fixtures", "hang", [Atom(name)])

    try:
        asyncio.run(main())
        say(state="returned")
    except KeyboardInterrupt:
        say(state="interrupted", at=time.time())


def leaks(peer: str, cookie: str, _: str) -> None:
    """Thread and socket counts before a node, while it works, and after close."""
    before: Dict[str, int] = {"threads": os_threads(), "sockets": sockets()}
    node = beamlink.Node(f"pyleaks_{os.getpid()}@localhost", cookie=cookie, listen=True)
    node.call(peer, "erlang", "node", [])
    job = node.spawn(peer, "io", "put_chars", ["x\n"])
    list(job.output)
    mb = node.mailbox("leak_box")
    events = node.events()

    async def some() -> None:
        await asyncio.gather(*(node.aio.call(peer, "erlang", "abs", [-i]) for i in range(50)))

    asyncio.run(some())
    workers = [threading.Thread(target=node.call, args=(peer, "erlang", "node", [])) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    during = {"threads": os_threads(), "sockets": sockets()}
    del mb, events, job
    node.close()
    # close() returns once the engine's threads have been told to stop and were waited for;
    # an OS thread can still be finishing its exit for a moment after tokio let it go.
    t0 = time.monotonic()
    while time.monotonic() - t0 < 5 and (os_threads(), sockets()) != (before["threads"], before["sockets"]):
        time.sleep(0.005)
    after = {"threads": os_threads(), "sockets": sockets()}
    say(before=before, during=during, after=after, settled_ms=round(1000 * (time.monotonic() - t0)))


def exit_without_close(peer: str, cookie: str, _: str) -> None:
    """Leaves a node open, a thread blocked in a receive and one in a call, and exits."""
    node = beamlink.Node(f"pyexit_{os.getpid()}@localhost", cookie=cookie, listen=True)
    node.call(peer, "erlang", "node", [])
    mb = node.mailbox()
    threading.Thread(target=mb.receive, daemon=True).start()
    threading.Thread(target=node.call, args=(peer, "timer", "sleep", [60_000]), daemon=True).start()
    time.sleep(0.2)
    say(state="exiting")


if __name__ == "__main__":
    command, peer, cookie = sys.argv[1:4]
    arg = sys.argv[4] if len(sys.argv) > 4 else ""
    {"ctrl_c_sync": ctrl_c_sync, "ctrl_c_async": ctrl_c_async, "leaks": leaks,
     "exit_without_close": exit_without_close}[command](peer, cookie, arg)
