#!/usr/bin/env bash
# The Python package: `scripts/python.sh build` builds the extension (release) into the repo
# venv .cache/venv, `test` runs pytest (real OTP 25, OTP 28 and Elixir nodes; doctests) and
# mypy --strict, `wheel` leaves an abi3 wheel in dist/. scripts/setup.sh made the venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/venv"
py="$venv/bin/python"
# maturin gets its own target dir: sharing cargo's would rebuild pyo3 on every switch.
target="$root/target/maturin"

build() {
  (cd "$root/python" && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    "$venv/bin/maturin" develop --release --quiet --target-dir "$target" 2>&1 | grep -v -E '^(📦|✏️|🛠|🔗|🐍|⚠️)' || true)
  "$py" -c 'import beamlink._native' # fails loudly if the build did not install
}

case "${1:-test}" in
  build) build ;;
  test)
    build
    cd "$root/python"
    "$py" -m pytest -q -p no:cacheprovider "${@:2}"
    "$py" -m mypy --strict --no-error-summary conftest.py tests ../tests/support/beam_nodes.py examples beamlink
    ;;
  wheel)
    mkdir -p "$root/dist"
    (cd "$root/python" && "$venv/bin/maturin" build --release --quiet --target-dir "$target" --out "$root/dist")
    ls "$root"/dist/beamlink-*-abi3-*.whl
    ;;
  *) echo "usage: $0 build|test|wheel" >&2; exit 64 ;;
esac
