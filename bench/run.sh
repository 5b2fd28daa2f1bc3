#!/usr/bin/env bash
# `make bench`: builds the harness in release mode and runs every row once, printing the table
# and writing bench/RESULTS.md. QUICK=1 runs fewer repetitions and skips the 64 MiB echo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# The CLI row times `target/release/beamlink rpc` when the CLI has that command.
cargo build --release --quiet -p beamlink-bench -p beamlink-cli -p beamlink-c
# The Python rows: the package and its PyPI peers in the repo venv.
bash "$root/bench/python/setup.sh"
QUICK="${QUICK:-}" exec "$CARGO_TARGET_DIR/release/beamlink-bench" run
