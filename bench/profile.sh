#!/usr/bin/env bash
# Instruction counts of the codec per corpus item, with valgrind's callgrind: exact and
# repeatable on a loaded machine, unlike timings. Prints instructions per decode and per encode
# (each including the drop of its result, as the bench's timing loop does), beamlink's and the
# eetf crate's, and their ratio. Instructions are not time (a cache miss or an atomic costs
# more than one), but they move with it and do not move with the load.
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
count() { # file what -> instructions per op
  valgrind --tool=callgrind --callgrind-out-file="$1" --toggle-collect="*count_$2*" \
    "$exe" codec-count "$item" "$n" >/dev/null 2>&1
  echo $(( $(grep -m1 '^summary:' "$1" | awk '{print $2}') / n ))
}
printf '%-26s %-7s %12s %12s %6s\n' item op beamlink eetf ratio
for item in "${items[@]}"; do
  name=$("$exe" codec-count "$item" 0 | sed 's/: .*//')
  for what in decode encode; do
    ours=$(count "$out/callgrind.$what.$item" "$what")
    theirs=$(count "$out/callgrind.eetf_$what.$item" "eetf_$what")
    printf '%-26s %-7s %12d %12d %6.2f\n' "$name" "$what" "$ours" "$theirs" \
      "$(echo "$ours / $theirs" | bc -l)"
  done
done
[ -z "${KEEP:-}" ] && rm -rf "$out"
exit 0
