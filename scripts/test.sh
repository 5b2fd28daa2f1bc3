#!/usr/bin/env bash
# Every suite, against real OTP 25 and OTP 28 nodes. Called by `make test` and CI.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
failed=()

suite() {  # suite NAME COMMAND...
  local name=$1; shift
  echo "== $name"
  if ! "$@"; then failed+=("$name"); fi
}

suite "Format (rustfmt)" cargo fmt --all --check
suite "Lint (clippy, warnings are errors)" cargo clippy --workspace --all-targets --quiet -- -D warnings
suite "Rust workspace (unit, doctests, real nodes on OTP 25 and OTP 28)" cargo test --workspace --quiet
suite "Python package (pytest on OTP 25, OTP 28 and Elixir nodes, doctests, mypy --strict)" bash scripts/python.sh test
suite "Elixir package (ExUnit from a non-distributed VM on OTP 25, OTP 28 and Elixir nodes, doctests, a consumer project)" bash scripts/elixir.sh test
suite "C library (header current, C11/C++ builds, C programs on OTP 25 and 28 under valgrind and ASan/UBSan)" bash scripts/c.sh test

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED suites: ${failed[*]}" >&2
  exit 1
fi
echo "all suites passed"
