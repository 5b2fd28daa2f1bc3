"""Helpers shared by the test modules (python/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import random
from typing import Any

from beamlink import Atom, BitString, ImproperList, Pid, Reference


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A Python value that survives Python → BEAM → Python unchanged under the default
    options (so: str for UTF-8 text, bytes only when not UTF-8, no Atom('nil'))."""
    kinds = ["int", "big", "float", "atom", "str", "bytes", "bool", "none", "pid", "ref", "bits"]
    if depth < 3:
        kinds += ["list", "tuple", "map", "improper"] * 2
    k = rng.choice(kinds)
    if k == "int":
        return rng.randint(-(2**40), 2**40)
    if k == "big":
        return rng.choice([-1, 1]) * rng.randint(2**64, 2**300)
    if k == "float":
        return rng.uniform(-1e300, 1e300)
    if k == "atom":
        return Atom(rng.choice(["a", "ok", "héllo", "λ", "with space", "Elixir.Foo"]) + str(rng.randint(0, 9)))
    if k == "str":
        return "".join(rng.choice("abcé日\n ") for _ in range(rng.randint(0, 12)))
    if k == "bytes":
        return b"\xff" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 8)))
    if k == "bool":
        return rng.choice([True, False])
    if k == "none":
        return None
    if k == "pid":
        return Pid("x@localhost", rng.randint(0, 2**15), rng.randint(0, 2**13), rng.randint(1, 2**32 - 1))
    if k == "ref":
        return Reference("x@localhost", 3, [rng.randint(0, 2**32 - 1) for _ in range(rng.randint(1, 5))])
    if k == "bits":
        return BitString(bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))), rng.randint(1, 7))
    n = rng.randint(0, 4)
    if k == "list":
        return [random_value(rng, depth + 1) for _ in range(n)]
    if k == "tuple":
        return tuple(random_value(rng, depth + 1) for _ in range(n))
    if k == "improper":
        return ImproperList([random_value(rng, depth + 1) for _ in range(n + 1)], Atom("tail"))
    return {Atom(f"k{i}"): random_value(rng, depth + 1) for i in range(n)}
