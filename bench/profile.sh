#!/usr/bin/env bash
# Instruction counts of the codec per corpus item, with valgrind's callgrind: exact and
# repeatable on a loaded machine, unlike timings. Prints instructions per decode and per encode
# (each including the drop of its result, as the bench's timing loop does).
#
#   bash bench/profile.sh [N] [ITEM...]     # N operations per item (default 200), items 0-6
#
# Keep the callgrind.out files with KEEP=dir to read them with callgrind_annotate.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
n="${1:-200}"
shift || true
items=("$@")
[ ${#items[@]} -eq 0 ] && items=(0 1 2 3 4 5 6)
cargo build --release --quiet -p beamlink-bench
exe="$CARGO_TARGET_DIR/release/beamlink-bench"
out="${KEEP:-$(mktemp -d)}"
mkdir -p "$out"
for item in "${items[@]}"; do
  for what in decode encode; do
    f="$out/callgrind.$what.$item"
    valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect="*count_$what*" \
      "$exe" codec-count "$item" "$n" >/dev/null 2>&1
    total=$(grep -m1 '^summary:' "$f" | awk '{print $2}')
    name=$("$exe" codec-count "$item" 0 | sed 's/: .*//')
    printf '%-28s %s %12d instructions/op\n' "$name" "$what" $((total / n))
  done
done
[ -z "${KEEP:-}" ] && rm -rf "$out"
exit 0
