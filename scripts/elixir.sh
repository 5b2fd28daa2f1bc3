#!/usr/bin/env bash
# The Elixir package (elixir/, the NIF in bindings/elixir): `scripts/elixir.sh test` checks the
# formatting and runs the ExUnit suite (doctests included) on Debian's OTP 25 + Elixir 1.14,
# from a VM that is not distributed, against real OTP 25, OTP 28 and Elixir nodes. Extra
# arguments go to `mix test` (a file, `--only tag`…). No hex packages are used.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/elixir"
export MIX_ENV="${MIX_ENV:-test}"
case "${1:-test}" in
  test)
    mix format --check-formatted
    mix test "${@:2}"
    ;;
  *) echo "usage: $0 test [mix test arguments]" >&2; exit 64 ;;
esac
