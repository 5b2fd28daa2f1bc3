#!/usr/bin/env bash
# beamlink's own instructions per rpc (callgrind), on every thread of the process: the
# difference between runs of N1 and N2 sequential calls to a fresh OTP 28 node, so start-up,
# connection and warm-up cancel out, and the system calls per call (strace). The BEAM node is
# not instrumented.
#
#   bash bench/profile-rpc.sh [KIND] [N1] [N2]   # KIND: call (default), raw, rex, ping
#
# BENCH_RT=current counts on tokio's current-thread scheduler. KEEP=dir keeps the files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
kind="${1:-call}" n1="${2:-200}" n2="${3:-1200}"
cargo build --release --quiet -p beamlink-bench
exe="$CARGO_TARGET_DIR/release/beamlink-bench"
out="${KEEP:-$(mktemp -d)}"
mkdir -p "$out"
total() {
  BENCH_WRAP="valgrind --tool=callgrind --callgrind-out-file=$out/callgrind.$kind.$1" \
    "$exe" rpc-count "$1" "$kind" >/dev/null 2>&1
  grep -h '^summary:' "$out/callgrind.$kind.$1"* | awk '{s += $2} END {print s}'
}
syscalls() {
  BENCH_WRAP="strace -f -c -o $out/strace.$kind.$1" "$exe" rpc-count "$1" "$kind" >/dev/null 2>&1
  awk '$NF != "total" && $4 ~ /^[0-9]+$/ {print $NF, $4}' "$out/strace.$kind.$1" | sort
}
a=$(total "$n1")
b=$(total "$n2")
echo "$kind: $(( (b - a) / (n2 - n1) )) instructions per call (beamlink process, all threads)"
join <(syscalls "$n1") <(syscalls "$n2") | awk -v d=$((n2 - n1)) \
  '{ r = ($3 - $2) / d; if (r >= 0.05) printf "  %-16s %.2f per call\n", $1, r }'

[ -z "${KEEP:-}" ] && rm -rf "$out"
exit 0
