"""Helpers shared by the test modules (python/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from beam_nodes import BeamNode, scratch_dir
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


# --- TLS distribution: certificates made with the openssl command, at test time -------------


def _openssl(*args: str) -> None:
    r = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stdout}{r.stderr}")


@dataclass(frozen=True)
class NodeCert:
    """A node's certificate and private key (PEM files)."""

    cert: Path
    key: Path


class Pki:
    """A throwaway certificate authority in a fresh scratch folder (EC P-256 keys, mode 0600),
    as the Rust support crate's ``pki.rs`` makes one: no private key is ever committed.
    :meth:`remove` deletes the folder."""

    def __init__(self, name: str) -> None:
        self.dir = scratch_dir(f"pki_{name}")
        self.ca = self.dir / "ca.pem"
        self._ca_key = self.dir / "ca.key"
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(self._ca_key))
        ext = self._conf("ca", "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign, digitalSignature\nsubjectKeyIdentifier = hash")
        _openssl(
            "req", "-x509", "-new", "-key", str(self._ca_key), "-subj", f"/CN=beamlink test CA {name}",
            "-days", "2", "-config", str(ext), "-extensions", "v3", "-out", str(self.ca),
        )

    def _conf(self, name: str, extensions: str) -> Path:
        path = self.dir / f"{name}.cnf"
        path.write_text(f"[req]\ndistinguished_name = dn\n[dn]\n[v3]\n{extensions}\n")
        return path

    def node_cert(self, name: str, hosts: Sequence[str] = ("localhost", "127.0.0.1")) -> NodeCert:
        """A certificate signed by this CA for ``hosts`` (DNS names or IPv4 addresses), good for
        both TLS roles."""
        out = NodeCert(self.dir / f"{name}.pem", self.dir / f"{name}.key")
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(out.key))
        out.key.chmod(0o600)
        csr = self.dir / f"{name}.csr"
        _openssl("req", "-new", "-key", str(out.key), "-subj", f"/CN={name}", "-out", str(csr))
        san = ", ".join(f"IP:{h}" if h.replace(".", "").isdigit() else f"DNS:{h}" for h in hosts)
        ext = self._conf(
            name,
            "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n"
            f"extendedKeyUsage = serverAuth, clientAuth\nsubjectAltName = {san}\n"
            "authorityKeyIdentifier = keyid",
        )
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.ca), "-CAkey", str(self._ca_key),
            "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-extensions", "v3", "-out", str(out.cert),
        )
        return out

    def optfile(self, node: NodeCert, name: str = "ssl_dist.conf", extra: str = "") -> Path:
        """An ``-ssl_dist_optfile`` presenting ``node``, requiring a client certificate signed by
        this CA (``verify_peer``, ``fail_if_no_peer_cert``) and verifying servers; ``extra``
        adds options to both sections, e.g. ``"{versions, ['tlsv1.3']}"``."""
        files = f'{{certfile, "{node.cert}"}}, {{keyfile, "{node.key}"}}, {{cacertfile, "{self.ca}"}}'
        more = f", {extra}" if extra else ""
        path = self.dir / name
        path.write_text(
            f"[{{server, [{files}, {{verify, verify_peer}}, {{fail_if_no_peer_cert, true}}{more}]}},\n"
            f" {{client, [{files}, {{verify, verify_peer}}{more}]}}].\n"
        )
        return path

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def tls_beam(optfile: Path, prefix: str = "tls", code_paths: Sequence[Path] = ()) -> BeamNode:
    """An OTP 25 node with TLS distribution (``-proto_dist inet_tls -ssl_dist_optfile``), its
    own unique name and scratch folder; stop it with ``stop()`` (by its PID). OTP 25 only: the
    OTP 28 runtime here ships without ``ssl`` (the Rust tests cover it with OTP 25's ``ssl``)."""
    return BeamNode(25, prefix, code_paths=code_paths, args=["-proto_dist", "inet_tls", "-ssl_dist_optfile", str(optfile)])

