#!/usr/bin/env bash
# The main job, shown against real nodes this script starts (and stops) itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet --workspace
echo "beamlink demo: (the distribution demo arrives with the engine)"
