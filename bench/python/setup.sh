#!/usr/bin/env bash
# The Python rows of `make bench`: the beamlink package (release build) and the PyPI peers it
# is measured against, installed into the repo venv .cache/venv (never by `make test`).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.cache/venv"
bash "$root/scripts/python.sh" build
reqs="$root/bench/python/requirements.txt"
stamp="$venv/.beamlink-bench-requirements"
if ! cmp -s "$reqs" "$stamp" 2>/dev/null; then
  echo "bench: installing the Python peers (earl-etf, erlpack, erlang-py, elixir-py, erldistpy) into .cache/venv" >&2
  if "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs"; then
    cp "$reqs" "$stamp"
  else
    echo "bench: some Python peers did not install; their rows say so" >&2
  fi
fi
