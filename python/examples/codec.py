"""The codec without a node: Python values to the external term format and back.

    python examples/codec.py
"""

from __future__ import annotations

import beamlink
from beamlink import Atom


def main() -> None:
    value = {Atom("status"): Atom("ok"), "items": [1, 2.5, "three"], "owner": None}
    data = beamlink.term_to_binary(value)
    print(f"{len(data)} bytes: {data.hex()}")
    back = beamlink.binary_to_term(data)
    assert back == value
    print(back)
    try:
        beamlink.binary_to_term(data[:-3])
    except beamlink.DecodeError as e:
        print(f"truncated input: {e} (offset {e.offset})")


if __name__ == "__main__":
    main()
