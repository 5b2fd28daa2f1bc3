"""The codec on its own (`term_to_binary` / `binary_to_term`): the term mapping, the options,
errors on bad input, and the round trips against real OTP 25 and OTP 28 nodes over the
BEAM-generated corpus the Rust suite uses (tests/corpus/etf_corpus.erl)."""

from __future__ import annotations

import math
import random
import tempfile
import zlib
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import beamlink
from beamlink import (
    Atom,
    BitString,
    Charlist,
    DecodeError,
    EncodeError,
    Export,
    FrozenList,
    FrozenMap,
    Fun,
    ImproperList,
    Pid,
    Port,
    Reference,
    binary_to_term,
    term_to_binary,
)
from beam_nodes import BeamNode
from helpers import random_value


def rt(obj: Any, **kw: Any) -> Any:
    return binary_to_term(term_to_binary(obj), **kw)


# --- the mapping, without a node --------------------------------------------------------


def test_scalars_encode_as_beam_does() -> None:
    assert term_to_binary(1) == b"\x83a\x01"
    assert term_to_binary(-1) == b"\x83b\xff\xff\xff\xff"
    assert term_to_binary(2**31) == b"\x83n\x04\x00\x00\x00\x00\x80"
    assert term_to_binary(-(2**64)) == b"\x83n\x09\x01" + b"\x00" * 8 + b"\x01"
    assert term_to_binary(1.5) == b"\x83F?\xf8\x00\x00\x00\x00\x00\x00"
    assert term_to_binary(Atom("ok")) == b"\x83w\x02ok"
    assert term_to_binary(True) == b"\x83w\x04true"
    assert term_to_binary(None) == b"\x83w\x03nil"
    assert term_to_binary(None, none="undefined") == b"\x83w\x09undefined"
    assert term_to_binary("hé") == b"\x83m\x00\x00\x00\x03h\xc3\xa9"
    assert term_to_binary(b"\x00") == b"\x83m\x00\x00\x00\x01\x00"
    assert term_to_binary([]) == b"\x83j"
    assert term_to_binary([1, 2]) == b"\x83k\x00\x02\x01\x02"
    assert term_to_binary([1, 256]) == b"\x83l\x00\x00\x00\x02a\x01b\x00\x00\x01\x00j"
    assert term_to_binary(()) == b"\x83h\x00"
    assert term_to_binary({}) == b"\x83t\x00\x00\x00\x00"


@pytest.mark.parametrize(
    "value",
    [0, 255, 256, -1, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63), 2**63, 2**64, 2**127, 2**128, -(2**200), 10**400],
)
def test_integers_of_any_size(value: int) -> None:
    assert rt(value) == value


def test_bool_none_and_atoms() -> None:
    assert rt([True, False, None]) == [True, False, None]
    assert rt(Atom("nil")) is None
    assert rt(Atom("undefined")) == Atom("undefined")
    assert rt(None, none="undefined") == Atom("nil")
    assert binary_to_term(term_to_binary(None, none="undefined"), none="undefined") is None
    assert rt(Atom("日本語")) == Atom("日本語")
    assert Atom("ok") != "ok" and hash(Atom("ok")) == hash(Atom("ok"))
    assert rt({Atom("ok"): 1, "ok": 2}) == {Atom("ok"): 1, "ok": 2}


def test_binaries_as_str_or_bytes() -> None:
    assert rt(b"text") == "text"
    assert rt(b"\xff\x00") == b"\xff\x00"
    assert rt(b"text", binaries="bytes") == b"text"
    assert rt("text", binaries="bytes") == b"text"
    assert rt(bytearray(b"ab")) == "ab"
    assert rt(memoryview(b"ab")) == "ab"


def test_charlists() -> None:
    assert rt(Charlist("abc")) == [97, 98, 99]
    assert rt(Charlist("abc"), charlists="charlist") == Charlist("abc")
    assert rt(Charlist("λx")) == [955, 120]
    assert rt(Charlist("")) == []


def test_improper_lists_and_bitstrings() -> None:
    assert rt(ImproperList([1, 2], 3)) == ImproperList([1, 2], 3)
    assert rt(ImproperList([Atom("a")], b"\xff")) == ImproperList([Atom("a")], b"\xff")
    b = BitString(b"\x01\xff", 3)
    assert rt(b) == b and b.data == b"\x01\xe0" and b.bit_size == 11
    assert rt(BitString(b"ab", 8)) == "ab"
    with pytest.raises(ValueError):
        ImproperList([1], [2])


def test_maps_with_keys_python_cannot_hash() -> None:
    m = {FrozenList([1, [2]]): "list key", FrozenMap({"k": [1]}): "map key", (1, FrozenList([])): "tuple"}
    back = rt(m)
    assert back == m
    key = next(iter(back))
    assert isinstance(key, FrozenList) and key == [1, [2]] and isinstance(key[1], FrozenList)
    # The encoding of a frozen key is the encoding of the plain value.
    assert term_to_binary(FrozenList([1, 300])) == term_to_binary([1, 300])
    assert term_to_binary(FrozenMap({"a": 1})) == term_to_binary({"a": 1})


def test_maps_whose_keys_python_calls_equal_keep_every_pair() -> None:
    # #{1 => int, 1.0 => float, true => atom}: three keys in Erlang, one in a Python dict.
    raw = b"\x83t\x00\x00\x00\x03a\x01m\x00\x00\x00\x03intF?\xf0\x00\x00\x00\x00\x00\x00m\x00\x00\x00\x05floatw\x04truem\x00\x00\x00\x04atom"
    m = binary_to_term(raw)
    assert isinstance(m, FrozenMap)
    assert m.items() == [(1, "int"), (1.0, "float"), (True, "atom")]
    assert m[1] == "int" and m[1.0] == "float" and m[True] == "atom"
    assert term_to_binary(m) == raw


def test_duplicate_map_keys_are_refused() -> None:
    raw = b"\x83t\x00\x00\x00\x02w\x01aa\x01w\x01aa\x02"
    with pytest.raises(DecodeError) as e:
        binary_to_term(raw)
    assert e.value.offset == 1 and "duplicate" in str(e.value)


def test_identifiers_and_funs() -> None:
    p = Pid("fuga@localhost", 85, 3, 1700000000)
    r = Reference("fuga@localhost", 1700000000, [1, 2, 3, 4, 5])
    port = Port("fuga@localhost", 2**40, 7)
    e = Export("lists", "map", 2)
    assert rt([p, r, port, e]) == [p, r, port, e]
    assert {p: 1}[Pid("fuga@localhost", 85, 3, 1700000000)] == 1
    assert str(p) == "<fuga@localhost.85.3>"


def test_pickle_keeps_every_term_type() -> None:
    import pickle

    v = [Atom("a"), Pid("n@h", 1, 2, 3), Reference("n@h", 1, [5]), Port("n@h", 1, 1), Export("m", "f", 1),
         BitString(b"\x80", 1), ImproperList([1], 2), Charlist("x"), FrozenList([1]), FrozenMap({1: 2})]
    assert pickle.loads(pickle.dumps(v)) == v


def test_subclasses_of_builtin_types() -> None:
    import collections
    import enum

    class Color(enum.IntEnum):
        RED = 1

    Point = collections.namedtuple("Point", "x y")
    assert rt([Color.RED, Point(1, 2), collections.OrderedDict(a=1)]) == [1, (1, 2), {"a": 1}]


def test_what_cannot_be_encoded() -> None:
    for bad in [object(), {1, 2}, math.nan, math.inf, Atom("a" * 256)]:
        with pytest.raises(EncodeError):
            term_to_binary(bad)
    with pytest.raises(TypeError):
        term_to_binary(object())
    cyclic: List[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(EncodeError, match="nested deeper"):
        term_to_binary(cyclic)


def test_long_atoms_count_characters_not_bytes() -> None:
    a = Atom("λ" * 255)
    assert rt(a) == a


@pytest.mark.parametrize(
    "data, offset, text",
    [
        (b"", 0, "end of input"),
        (b"\x82a\x01", 0, "version"),
        (b"\x83h\x02a\x01", 5, "end of input"),
        (b"\x83\xff", 1, "unknown tag"),
        (b"\x83a\x01\x00", 3, "unexpected bytes"),
        (b"\x83l\xff\xff\xff\xffj", 6, "end of input"),
        (b"\x83F\x7f\xf0\x00\x00\x00\x00\x00\x00", 1, "NaN or infinity"),
        (b"\x83w\x02\xff\xfe", 1, "UTF-8"),
        (b"\x83M\x00\x00\x00\x01\x09\xff", 1, "bit count"),
        (b"\x83R\x00", 1, "atom cache"),
        (b"\x83P\x00\x00\x10\x00x\x9c", 2, "exceeds the limit"),
    ],
)
def test_malformed_bytes_give_a_typed_error_with_the_offset(data: bytes, offset: int, text: str) -> None:
    with pytest.raises(DecodeError) as e:
        binary_to_term(data)
    assert e.value.offset == offset, str(e.value)
    assert text in str(e.value)
    assert isinstance(e.value, ValueError)


def test_untrusted_nesting_is_bounded() -> None:
    deep = b"\x83" + b"l\x00\x00\x00\x01" * 2000 + b"j" + b"j" * 2000
    with pytest.raises(DecodeError, match="nested deeper than 1024"):
        binary_to_term(deep)
    v = binary_to_term(deep, max_depth=5000)
    assert term_to_binary(v) == deep


def test_random_bytes_never_crash() -> None:
    rng = random.Random(7)
    seeds = [term_to_binary(x) for x in ([1, "a", (Atom("b"), 2.5)], {"k": [None, b"\xff"]}, 2**100)]
    for _ in range(3000):
        b = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            v = binary_to_term(bytes(b))
        except DecodeError:
            continue
        term_to_binary(v)


def test_options_match_the_engine_encoder() -> None:
    v = [Atom("héllo"), 1.5, {Atom("b"): 1, Atom("a"): 2}]
    assert term_to_binary(v, minor_version=1)[:13] == b"\x83l\x00\x00\x00\x03d\x00\x05h\xe9ll"
    assert term_to_binary(1.5, minor_version=0)[:2] == b"\x83c"
    assert binary_to_term(term_to_binary(1.5, minor_version=0)) == 1.5
    d = term_to_binary({Atom("b"): 1, Atom("a"): 2}, deterministic=True)
    assert d == term_to_binary({Atom("a"): 2, Atom("b"): 1})
    big = ["x" * 100] * 100
    c = term_to_binary(big, compressed=True)
    assert c[:2] == b"\x83P" and len(c) < len(term_to_binary(big)) // 10
    assert binary_to_term(c) == big
    assert zlib.decompress(c[6:])[:1] == b"l"


# --- against real nodes -----------------------------------------------------------------


def _hex_lines(path: Path) -> List[Tuple[str, str, bytes]]:
    out = []
    for line in path.read_text().splitlines():
        name, opts, hexed = line.split("\t")
        out.append((name, opts, bytes.fromhex(hexed)))
    return out


def _contains_port(v: Any) -> bool:
    if isinstance(v, Port):
        return True
    if isinstance(v, (list, tuple, FrozenList)):
        return any(_contains_port(x) for x in v)
    if isinstance(v, (dict, FrozenMap)):
        return any(_contains_port(k) or _contains_port(x) for k, x in v.items())
    return False


def test_beam_corpus_round_trips(beam: BeamNode, tmp_path: Path) -> None:
    """BEAM → Python → BEAM over every corpus term and option set: each decodes; the
    default encodings re-encode byte for byte (OTP 25 writes NEW_PORT_EXT where OTP 26+
    writes V4_PORT_EXT); and Python's encodings (plain and compressed) decode on the node to
    terms =:= the originals."""
    src = tmp_path / "from_beam.txt"
    count = int(beam.eval_ok(f'etf_corpus:write("{src}").'))
    assert count >= 600
    lines = _hex_lines(src)
    minor = 1 if beam.otp == 25 else 2
    decoded: Dict[str, Any] = {}
    mismatches = []
    for name, opts, data in lines:
        v = binary_to_term(data)
        if opts == "default":
            decoded[name] = v
            if beam.otp == 28 or not _contains_port(v):
                if term_to_binary(v, minor_version=minor) != data:
                    mismatches.append(f"{name}: re-encoding differs")
        elif opts == "compressed":
            if v != decoded[name] and repr(v) != repr(decoded[name]):
                mismatches.append(f"{name}: compressed decodes differently")
        elif beam.otp == 28:
            want_minor = 1 if opts == "minor1" else 0
            if term_to_binary(v, minor_version=want_minor) != data:
                mismatches.append(f"{name}/{opts}: re-encoding differs")
    assert not mismatches, "\n".join(mismatches)

    back = tmp_path / "from_python.txt"
    with back.open("w") as f:
        for name, v in decoded.items():
            f.write(f"{name}\t{term_to_binary(v).hex()}\n")
            f.write(f"{name}\t{term_to_binary(v, compressed=6).hex()}\n")
    verdict = beam.eval_ok(f'etf_corpus:check("{back}").')
    assert verdict == f"{{{len(decoded) * 2},[]}}"


def test_python_values_survive_a_trip_through_beam(beam: BeamNode, tmp_path: Path) -> None:
    rng = random.Random(2024)
    values = [random_value(rng) for _ in range(400)]
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text("".join(term_to_binary(v).hex() + "\n" for v in values))
    beam.eval_ok(f'etf_corpus:reencode("{src}", "{dst}").')
    back = dst.read_text().splitlines()
    assert len(back) == len(values)
    bad = [f"{v!r} came back as {line}" for v, line in zip(values, back)
           if line == "badarg" or binary_to_term(bytes.fromhex(line)) != v]
    assert not bad, "\n".join(bad[:5])


def test_a_100000_deep_list_from_beam_converts_both_ways(beam: BeamNode, tmp_path: Path) -> None:
    f = tmp_path / "deep.etf"
    beam.eval_ok(f'ok = py_fixtures:write_etf("{f}", py_fixtures:deep_list(100000)).')
    data = f.read_bytes()
    v = binary_to_term(data, max_depth=200_000)
    lists = 1
    while v:
        (v,) = v
        lists += 1
    assert lists == 100_000
    v = binary_to_term(data, max_depth=200_000)
    out = tmp_path / "back.etf"
    out.write_bytes(term_to_binary(v))
    assert beam.eval_ok(f'py_fixtures:check_etf("{out}", py_fixtures:deep_list(100000)).') == "true"


def test_deep_python_values_encode_without_crashing() -> None:
    v: Any = []
    for _ in range(300_000):
        v = [v]
    data = term_to_binary(v)
    assert len(data) == 1 + 300_000 * 6 + 1
    assert binary_to_term(data, max_depth=400_000) is not None
    t: Any = Atom("leaf")
    for _ in range(100_000):
        t = (t,)
    assert term_to_binary(t)[:3] == b"\x83h\x01"


def test_funs_from_beam_go_back_intact(beam: BeamNode, tmp_path: Path) -> None:
    f = tmp_path / "fun.etf"
    beam.eval_ok(f'X = 7, F = fun(A) -> A + X end, ok = py_fixtures:write_etf("{f}", {{F, fun lists:map/2}}).')
    fun, export = binary_to_term(f.read_bytes())
    assert isinstance(fun, Fun) and fun.arity == 1 and export == Export("lists", "map", 2)
    out = tmp_path / "fun_back.etf"
    out.write_bytes(term_to_binary((fun, export)))
    assert beam.eval_ok(f'{{ok, B}} = file:read_file("{out}"), {{G, _}} = binary_to_term(B), G(1).') == "8"
