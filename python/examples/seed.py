"""The seed session from Python: what you would type in ``iex --sname hoge``, against the
Elixir nodes ``make demo`` starts.

    python examples/seed.py FUGA PIYO --cookie COOKIE
"""

from __future__ import annotations

import argparse
import asyncio
import os

import beamlink
from beamlink import Atom


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fuga")
    p.add_argument("piyo")
    p.add_argument("--cookie", default=None, help="default: ~/.erlang.cookie")
    a = p.parse_args()
    fuga, piyo = a.fuga, a.piyo

    with beamlink.Node(f"hoge_{os.getpid()}@localhost", cookie=a.cookie) as node:
        print(f">>> node.ping({fuga!r})")
        print(node.ping(fuga))  # Node.ping/1: True for pong
        print(">>> node.nodes()")
        print(node.nodes())  # Node.list/0 (hidden connections included)
        print(f">>> node.call(fuga, 'Elixir.Person', 'say_hello', [Atom('hoge')])")
        print(repr(node.call(fuga, "Elixir.Person", "say_hello", [Atom("hoge")], timeout=5.0)))
        print(">>> job = node.spawn(fuga, 'Elixir.Toukon', 'say', [])  # Node.spawn/4")
        job = node.spawn(fuga, "Elixir.Toukon", "say", [])
        for chunk in job.output:  # the remote IO.puts, as it happens
            print(chunk, end="")
        print(f"exit: {job.wait(timeout=5.0)}")
        print(">>> node.call(piyo, 'erlang', 'error', [Atom('boom')])")
        try:
            node.call(piyo, "erlang", "error", [Atom("boom")])
        except beamlink.RemoteError as e:  # a typed error carrying the remote term
            print(f"{type(e).__name__}: {e} (reason={e.reason!r}, {len(e.stacktrace)} stack frames)")
        print(">>> await asyncio.gather(*(node.aio.call(n, 'erlang', 'node', []) for n in (fuga, piyo)))")
        print(asyncio.run(_both(node, fuga, piyo)))


async def _both(node: beamlink.Node, fuga: str, piyo: str) -> "list[object]":
    return list(await asyncio.gather(*(node.aio.call(n, "erlang", "node", []) for n in (fuga, piyo))))


if __name__ == "__main__":
    main()
