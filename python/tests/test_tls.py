"""TLS distribution (``Node(..., tls=beamlink.TlsConfig(...))``) against a real OTP 25 node
started with ``-proto_dist inet_tls`` that requires a client certificate (``tls_node`` in
conftest.py; certificates made at test time by ``helpers.Pki``). OTP 25 only: the OTP 28
runtime here has no ``ssl`` application (the Rust suite runs OTP 28's distribution inside
OTP 25's ``ssl``)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Union

import pytest

import beamlink
from beamlink import Atom, TlsConfig
from beamlink.errors import ConnectError, ConnectTimeout, HandshakeError, TlsConfigError
from beam_nodes import BeamNode, unique_name
from helpers import Pki


def ours(
    pki: Pki, versions: Optional[Sequence[Union[str, ssl.TLSVersion]]] = None, check_hostname: bool = True
) -> TlsConfig:
    """beamlink's certificate from the session CA, trusting that CA."""
    d = pki.dir
    return TlsConfig(
        d / "beamlink.pem", d / "beamlink.key", cafile=d / "ca.pem", versions=versions, check_hostname=check_hostname
    )


def node(
    cookie: str, tls: Optional[TlsConfig], listen: bool = False, connect_timeout: Optional[float] = None
) -> beamlink.Node:
    """A beamlink node with a unique name."""
    return beamlink.Node(
        f"{unique_name('pytls')}@localhost", cookie=cookie, tls=tls, listen=listen, connect_timeout=connect_timeout
    )


@pytest.fixture(scope="module")
def stranger() -> Iterator[Pki]:
    """Another CA, which signed nothing the TLS node knows."""
    pki = Pki("stranger")
    pki.node_cert("stranger")
    yield pki
    pki.remove()


def test_call_over_tls(cookie: str, tls_pki: Pki, tls_node: BeamNode) -> None:
    with node(cookie, ours(tls_pki)) as n:
        assert n.call(tls_node.name, "erlang", "node", []) == Atom(tls_node.name)
        assert n.call(tls_node.name, "lists", "reverse", [[1, "two", b"\xff"]]) == [b"\xff", "two", 1]
        # The TLS node sees a TLS connection from us (its #net_address{protocol = tls}).
        protocol = tls_node.eval_ok(
            f"{{ok, I}} = net_kernel:node_info('{n.name}'), element(4, proplists:get_value(address, I))."
        )
        assert protocol == "tls"


def test_asyncio_from_the_optfile(cookie: str, tls_pki: Pki, tls_node: BeamNode) -> None:
    # The cluster's own optfile: its client section to connect.
    tls = TlsConfig.from_optfile(tls_pki.dir / "ssl_dist.conf")

    async def main() -> List[object]:
        async with beamlink.AsyncNode(f"{unique_name('pytls')}@localhost", cookie=cookie, tls=tls) as n:
            return list(await asyncio.gather(*(n.call(tls_node.name, "erlang", "abs", [-i]) for i in range(5))))

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]


def test_accepts_over_tls(cookie: str, tls_pki: Pki, tls_node: BeamNode) -> None:
    # A listening node: the TLS node connects to us (verifying our certificate and host name).
    with node(cookie, ours(tls_pki), listen=True) as n:
        assert tls_node.eval_ok(f"net_adm:ping('{n.name}').", timeout=30.0) == "pong"
        assert tls_node.name in n.nodes()


def test_versions_as_ssl_names(cookie: str, tls_pki: Pki, tls_node: BeamNode) -> None:
    tls = ours(tls_pki, versions=[ssl.TLSVersion.TLSv1_2])
    d = tls_pki.dir
    # File names only, never key material.
    assert repr(tls) == f"TlsConfig('{d}/beamlink.pem', '{d}/beamlink.key', cafile='{d}/ca.pem', versions=['tlsv1.2'])"
    with node(cookie, tls) as n:
        assert n.ping(tls_node.name)


def test_a_ca_that_did_not_sign_the_peer(cookie: str, tls_pki: Pki, stranger: Pki, tls_node: BeamNode) -> None:
    # We do not trust the node's CA: we refuse its certificate.
    d = tls_pki.dir
    tls = TlsConfig(d / "beamlink.pem", d / "beamlink.key", cafile=stranger.ca)
    with node(cookie, tls) as n:
        with pytest.raises(HandshakeError) as e:
            n.connect(tls_node.name)
        assert e.value.kind == "tls" and e.value.node == tls_node.name
        assert "not signed by a trusted CA" in str(e.value), e.value
        assert not n.ping(tls_node.name)
    # Our certificate comes from a CA the node does not know: it refuses us (its alert can be
    # lost to a reset, which reads as a refusal: the kind is the same either way).
    s = stranger.dir
    with node(cookie, TlsConfig(s / "stranger.pem", s / "stranger.key", cafile=tls_pki.ca)) as n:
        with pytest.raises(HandshakeError) as e:
            n.connect(tls_node.name)
        assert e.value.kind == "tls", e.value


def test_a_certificate_for_another_host(cookie: str, tls_pki: Pki, tls_node: BeamNode) -> None:
    # The node's certificate names localhost only; dialed as name@127.0.0.1 it does not fit.
    by_ip = tls_node.name.replace("@localhost", "@127.0.0.1")
    with node(cookie, ours(tls_pki)) as n:
        with pytest.raises(HandshakeError) as e:
            n.connect(by_ip)
        assert e.value.kind == "tls" and 'not valid for the host name "127.0.0.1"' in str(e.value), e.value
    # check_hostname=False checks the chain only: TLS passes, and the distribution handshake
    # is what notices the node is not named name@127.0.0.1.
    with node(cookie, ours(tls_pki, check_hostname=False)) as n:
        with pytest.raises(HandshakeError) as c:
            n.connect(by_ip)
        assert c.value.kind == "wrong_peer", c.value


def test_configuration_errors(tls_pki: Pki, tmp_path: Path) -> None:
    d = tls_pki.dir
    with pytest.raises(TlsConfigError) as e:
        TlsConfig(tmp_path / "missing.pem", d / "beamlink.key", cafile=d / "ca.pem")
    assert isinstance(e.value, ConnectError) and isinstance(e.value, ValueError)
    assert e.value.kind == "tls_config" and e.value.path == str(tmp_path / "missing.pem")
    assert "cannot read certificate" in str(e.value), e.value
    with pytest.raises(TlsConfigError, match="cannot read private key"):
        TlsConfig(d / "beamlink.pem", tmp_path / "missing.key", cafile=d / "ca.pem")
    with pytest.raises(TlsConfigError, match="cannot read CA certificates"):
        TlsConfig(d / "beamlink.pem", d / "beamlink.key", cafile=tmp_path / "missing.pem")
    # No key in the certificate file (keyfile=None means the key is there).
    with pytest.raises(TlsConfigError, match="no private key found"):
        TlsConfig(d / "beamlink.pem", cafile=d / "ca.pem")
    # A CA file that is not PEM.
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(TlsConfigError):
        TlsConfig(d / "beamlink.pem", d / "beamlink.key", cafile=junk)
    # Optfiles: missing, unparsable, asking for what beamlink cannot honour.
    with pytest.raises(TlsConfigError) as e:
        TlsConfig.from_optfile(tmp_path / "missing.conf")
    assert e.value.path == str(tmp_path / "missing.conf")
    bad = tmp_path / "bad.conf"
    bad.write_text("[{client, [{certfile, ")
    with pytest.raises(TlsConfigError):
        TlsConfig.from_optfile(bad)
    pw = tmp_path / "password.conf"
    pw.write_text(f'[{{client, [{{certfile, "{d}/beamlink.pem"}}, {{password, "x"}}]}}].\n')
    with pytest.raises(TlsConfigError, match="password"):
        TlsConfig.from_optfile(pw)
    # Arguments of the wrong kind are ordinary Python errors.
    with pytest.raises(ValueError, match="tlsv1.3"):
        ours(tls_pki, versions=["tlsv1.1"])
    with pytest.raises(ValueError, match="at least one"):
        ours(tls_pki, versions=[])
    with pytest.raises(TypeError, match="sequence"):
        ours(tls_pki, versions="tlsv1.3")
    with pytest.raises(TypeError, match="TlsConfig"):
        beamlink.Node("pytls_bad@localhost", tls=str(d / "ssl_dist.conf"))  # type: ignore[arg-type]


def test_a_listening_node_needs_a_server_certificate(cookie: str, tls_pki: Pki, tmp_path: Path) -> None:
    # An optfile with a client section only can connect but not accept: refused at start.
    client_only = tmp_path / "client_only.conf"
    client_only.write_text(f'[{{client, [{{cacertfile, "{tls_pki.ca}"}}, {{verify, verify_peer}}]}}].\n')
    tls = TlsConfig.from_optfile(client_only)
    with pytest.raises(TlsConfigError):
        node(cookie, tls, listen=True)


def test_plain_tcp_node_with_tls_configured(cookie: str, tls_pki: Pki, otp25: BeamNode) -> None:
    # A plain-TCP OTP node reads our ClientHello as a handshake length and waits in silence:
    # the connect timeout ends it, with a typed error that says why.
    with node(cookie, ours(tls_pki), connect_timeout=2.0) as n:
        with pytest.raises(ConnectError) as e:
            n.connect(otp25.name)
        assert isinstance(e.value, (ConnectTimeout, HandshakeError)), e.value
        assert e.value.kind in ("tls_timeout", "tls") and "plain-TCP" in str(e.value), e.value


def test_plain_node_meets_a_tls_node(cookie: str, tls_node: BeamNode) -> None:
    with node(cookie, None) as n:
        with pytest.raises(HandshakeError) as e:
            n.connect(tls_node.name)
        assert e.value.kind == "tls_peer", e.value
