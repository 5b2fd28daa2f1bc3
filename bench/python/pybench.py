"""The Python side of `make bench` (bench/src/rows/python.rs drives it): beamlink's Python
package against the Python codecs and clients on PyPI, in one process, one command at a time.

Reads one JSON command a line on stdin and answers each with one JSON line on stdout:

- ``{"cmd": "start", "cookie": C}``: starts a beamlink node.
- ``{"cmd": "lat", "target": NODE, "warm": W, "n": N}``: ``node.call(NODE, erlang, node, [])``
  N times in a row after W untimed; answers ``{"p50": µs, "p99": µs}``.
- ``{"cmd": "erldist", ...}``: the same through ``erldistpy`` (rex, ``rpc:call`` semantics).
- ``{"cmd": "tput", "target": NODE, "inflight": K, "per": P}``: K asyncio tasks each making P
  sequential ``await node.aio.call(...)``; answers ``{"calls_per_s": x}``.
- ``{"cmd": "codec", "items": [[name, hex], ...], "ms": M, "reps": R}``: for every item, decode
  and encode with beamlink and every peer codec that handles it, and pickle on beamlink's
  Python object; answers per item and codec the MB/s (of the ETF bytes) and terms/s of each
  repetition, and why a peer does not handle the item.

A peer *decodes* an item when it returns without an error; it *encodes* it when its encoding
of its own decoded value is the same term again (decoded by beamlink and compared). Each
timing loop runs at least M ms with the garbage collector paused, codecs taking turns within
each repetition so load on the machine hits all alike.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import os
import pickle
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import beamlink
from beamlink import Atom

Codec = Tuple[Callable[[bytes], Any], Callable[[Any], bytes]]


def _peers() -> Dict[str, Codec]:
    """The ETF codecs of PyPI that import here (bench/python/setup.sh installs them)."""
    out: Dict[str, Codec] = {}
    for label, module, dec, enc in [
        ("earl-etf", "earl", "unpack", "pack"),
        ("erlpack", "erlpack", "unpack", "pack"),
        ("erlang-py", "erlang", "binary_to_term", "term_to_binary"),
        ("elixir-py", "elixir", "binary_to_term", "term_to_binary"),
    ]:
        try:
            m = importlib.import_module(module)
            out[label] = (getattr(m, dec), getattr(m, enc))
        except Exception:  # noqa: BLE001 - a peer that is not there is reported as missing
            pass
    return out


class Bench:
    def __init__(self) -> None:
        self.node: Optional[beamlink.Node] = None
        self.erldist: Dict[str, Any] = {}
        self.cookie = ""

    def start(self, cookie: str) -> Dict[str, Any]:
        self.cookie = cookie
        self.node = beamlink.Node(f"pybench_{os.getpid()}@localhost", cookie=cookie)
        return {"name": self.node.name, "peers": sorted(_peers()), "python": sys.version.split()[0]}

    def lat(self, target: str, warm: int, n: int) -> Dict[str, Any]:
        assert self.node is not None
        call = self.node.call
        for _ in range(warm):
            call(target, "erlang", "node", [])
        samples = []
        clock = time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            call(target, "erlang", "node", [])
            samples.append(clock() - t0)
        return _percentiles(samples)

    def erldist_lat(self, target: str, warm: int, n: int) -> Dict[str, Any]:
        import erldistpy  # type: ignore[import-not-found]

        node = self.erldist.get(target)
        if node is None:
            alive, host = target.split("@")
            node = erldistpy.Node(
                our_name=f"pyerldist_{os.getpid()}_{len(self.erldist)}@localhost",
                peer_name=alive,
                peer_host=host,
                cookie=self.cookie,
            )
            self.erldist[target] = node
        A = erldistpy.Atom
        req = (A("call"), A("erlang"), A("node"), [], A("user"))
        got = node.call("rex", req)
        if str(getattr(got, "name", got)) != target:
            raise RuntimeError(f"erldistpy answered {got!r}")
        for _ in range(warm):
            node.call("rex", req)
        samples = []
        clock = time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            node.call("rex", req)
            samples.append(clock() - t0)
        return _percentiles(samples)

    def tput(self, target: str, inflight: int, per: int) -> Dict[str, Any]:
        assert self.node is not None
        anode = self.node.aio

        async def worker() -> None:
            for _ in range(per):
                await anode.call(target, "erlang", "node", [])

        async def main() -> float:
            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(inflight)))
            return time.perf_counter() - t0

        secs = asyncio.run(main())
        return {"calls_per_s": inflight * per / secs}

    def codec(self, items: List[List[str]], ms: float, reps: int) -> Dict[str, Any]:
        peers = _peers()
        out = []
        for name, hexed in items:
            data = bytes.fromhex(hexed)
            mine = beamlink.binary_to_term(data)
            # (label, op) -> a no-argument function to time
            fns: Dict[Tuple[str, str], Callable[[], Any]] = {
                ("beamlink", "decode"): lambda d=data: beamlink.binary_to_term(d),
                ("beamlink", "encode"): lambda v=mine: beamlink.term_to_binary(v),
            }
            pickled = pickle.dumps(mine, protocol=pickle.HIGHEST_PROTOCOL)
            fns[("pickle", "decode")] = lambda p=pickled: pickle.loads(p)
            fns[("pickle", "encode")] = lambda v=mine: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)
            fails: Dict[str, str] = {}
            for label, (dec, enc) in peers.items():
                try:
                    theirs = dec(data)
                except Exception as e:  # noqa: BLE001 - what a peer cannot do is a result
                    fails[label] = f"decode: {type(e).__name__}: {str(e)[:60]}"
                    continue
                fns[(label, "decode")] = lambda d=data, f=dec: f(d)
                try:
                    again = beamlink.binary_to_term(enc(theirs))
                    if again != mine:
                        fails[label] = "encode: a different term"
                        continue
                except Exception as e:  # noqa: BLE001
                    fails[label] = f"encode: {type(e).__name__}: {str(e)[:60]}"
                    continue
                fns[(label, "encode")] = lambda v=theirs, f=enc: f(v)
            secs: Dict[str, List[float]] = {f"{k[0]}/{k[1]}": [] for k in fns}
            for _ in range(reps + 1):  # the first round warms up
                for key, fn in fns.items():
                    secs[f"{key[0]}/{key[1]}"].append(_time_one(fn, ms))
            size = len(data)
            result = {
                k: {"mb_s": [size / s / 1e6 for s in v[1:]], "terms_s": [1 / s for s in v[1:]]}
                for k, v in secs.items()
            }
            out.append({"name": name, "bytes": size, "results": result, "fails": fails})
        return {"items": out}


def _time_one(fn: Callable[[], Any], ms: float) -> float:
    """Seconds per call of ``fn``, looping at least ``ms`` milliseconds, GC paused."""
    fn()
    n = 1
    gc.disable()
    try:
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            dt = time.perf_counter() - t0
            if dt * 1000 >= ms:
                return dt / n
            n = max(n * 2, int(n * ms / max(dt * 1000, 1e-3) * 1.2))
    finally:
        gc.enable()
        gc.collect()


def _percentiles(ns: List[int]) -> Dict[str, Any]:
    s = sorted(ns)
    at = lambda p: s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] / 1e3  # noqa: E731
    return {"p50": at(50), "p99": at(99), "mean": statistics.fmean(s) / 1e3}


def main() -> None:
    bench = Bench()
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            c = cmd["cmd"]
            if c == "start":
                r = bench.start(cmd["cookie"])
            elif c == "lat":
                r = bench.lat(cmd["target"], cmd["warm"], cmd["n"])
            elif c == "erldist":
                r = bench.erldist_lat(cmd["target"], cmd["warm"], cmd["n"])
            elif c == "tput":
                r = bench.tput(cmd["target"], cmd["inflight"], cmd["per"])
            elif c == "codec":
                r = bench.codec(cmd["items"], cmd["ms"], cmd["reps"])
            else:
                r = {"error": f"unknown command {c}"}
        except Exception as e:  # noqa: BLE001 - reported to the driver, which marks the row
            r = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(r), flush=True)
    if bench.node is not None:
        bench.node.close()


if __name__ == "__main__":
    main()
