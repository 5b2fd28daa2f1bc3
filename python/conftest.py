"""Shared fixtures: real BEAM nodes (OTP 25, OTP 28, Elixir on OTP 25) started once per test
session, with the test modules loaded. Node support lives in ``tests/support/beam_nodes.py``
(shared with the other Python harnesses); this file only decides which nodes a session has."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))
sys.path.insert(0, str(Path(__file__).parent / "tests"))

import beamlink  # noqa: E402
from beam_nodes import BeamNode, compile_erl, unique_name  # noqa: E402
from helpers import Pki, tls_beam  # noqa: E402

FIXTURES_ERL = Path(__file__).parent / "tests" / "erl" / "py_fixtures.erl"
CORPUS_ERL = REPO_ROOT / "tests" / "corpus" / "etf_corpus.erl"

# The remote side of the seed session, as `make demo` defines it.
ELIXIR_CODE = r'''
defmodule Person do
  def say_hello(name), do: "Hello #{inspect(name)}, this is #{node()}"
end
defmodule Toukon do
  def aisatsu, do: "元気ですかーーーッ！"
  def say, do: Toukon.aisatsu() |> IO.puts()
end
'''


@pytest.fixture(scope="session")
def beam_code() -> Path:
    """One folder with the compiled test modules (OTP 25's erlc; OTP 28 loads them)."""
    d = compile_erl(FIXTURES_ERL)
    corpus = compile_erl(CORPUS_ERL)
    for f in corpus.iterdir():
        f.rename(d / f.name)
    return d


def _start(otp: int, prefix: str, code: Path, **kw: Any) -> BeamNode:
    return BeamNode(otp, prefix, code_paths=[code], **kw)


@pytest.fixture(scope="session")
def otp25(beam_code: Path) -> Iterator[BeamNode]:
    n = _start(25, "py25", beam_code)
    yield n
    n.stop()


@pytest.fixture(scope="session")
def otp28(beam_code: Path) -> Iterator[BeamNode]:
    n = _start(28, "py28", beam_code)
    yield n
    n.stop()


@pytest.fixture(scope="session")
def elixir_node(beam_code: Path) -> Iterator[BeamNode]:
    n = _start(25, "pyex", beam_code, elixir=True)
    escaped = ELIXIR_CODE.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    n.eval_ok(f"'Elixir.Code':eval_string(<<\"{escaped}\"/utf8>>), ok.")
    yield n
    n.stop()


@pytest.fixture(params=[25, 28], ids=["otp25", "otp28"])
def beam(request: pytest.FixtureRequest) -> BeamNode:
    """Each test using it runs once against OTP 25 and once against OTP 28."""
    node: BeamNode = request.getfixturevalue(f"otp{request.param}")
    return node


@pytest.fixture(scope="session")
def tls_pki() -> Iterator[Pki]:
    """A CA made for this session (openssl), its folder removed at the end. The folder holds
    ``ca.pem``, ``beamlink.pem``/``beamlink.key`` (for beamlink), ``otp.pem``/``otp.key``
    (naming localhost only) and ``ssl_dist.conf`` (the TLS node's optfile: verify_peer,
    fail_if_no_peer_cert)."""
    pki = Pki("pytest")
    pki.node_cert("beamlink")
    pki.optfile(pki.node_cert("otp", hosts=("localhost",)))
    yield pki
    pki.remove()


@pytest.fixture(scope="session")
def tls_node(tls_pki: Pki, beam_code: Path) -> Iterator[BeamNode]:
    """An OTP 25 node with TLS distribution (``-proto_dist inet_tls``), requiring a client
    certificate signed by ``tls_pki``."""
    n = tls_beam(tls_pki.dir / "ssl_dist.conf", "pytls", code_paths=[beam_code])
    yield n
    n.stop()


@pytest.fixture(scope="session")
def cookie() -> str:
    from beam_nodes import DEFAULT_COOKIE

    return DEFAULT_COOKIE


@pytest.fixture(scope="session")
def pynode(cookie: str) -> Iterator[beamlink.Node]:
    """One beamlink node for the whole session (tests that need their own make one)."""
    n = beamlink.Node(f"{unique_name('pytest')}@localhost", cookie=cookie)
    yield n
    n.close()


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, doctest_namespace: Dict[str, Any]) -> None:
    """The names the docstring examples use: ``node`` (a beamlink node), ``peer`` (an Elixir
    node with the seed session's modules), ``cookie``; for TLS, ``tls_peer`` (a node with TLS
    distribution) and ``pem`` (the folder of its certificates and optfile)."""
    doctest_namespace["beamlink"] = beamlink
    doctest_namespace["Atom"] = beamlink.Atom
    dtest = getattr(request.node, "dtest", None)
    if dtest is not None and any("tls_peer" in e.source for e in dtest.examples):
        doctest_namespace["tls_peer"] = request.getfixturevalue("tls_node").name
        doctest_namespace["pem"] = str(request.getfixturevalue("tls_pki").dir)
        doctest_namespace["cookie"] = request.getfixturevalue("cookie")
    if dtest is not None and any("peer" in e.source or "node." in e.source for e in dtest.examples):
        doctest_namespace["node"] = request.getfixturevalue("pynode")
        doctest_namespace["peer"] = request.getfixturevalue("elixir_node").name
        doctest_namespace["cookie"] = request.getfixturevalue("cookie")
