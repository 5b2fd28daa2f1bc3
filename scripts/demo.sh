#!/usr/bin/env bash
# The seed session (hoge, fuga, piyo in iex), done by beamlink against real Elixir nodes that
# this script starts with unique names and stops by their own PIDs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .cache
cargo build --quiet --release -p beamlink-cli
cargo build --quiet --release -p beamlink --example seed
# The C section: libbeamlink installed as `make install` does, the example built with pkg-config.
c_prefix="$root/target/c/demo"
bash scripts/c.sh install "$c_prefix" >/dev/null
c_flags=$(PKG_CONFIG_PATH="$c_prefix/lib/pkgconfig" pkg-config --cflags --libs beamlink)
# shellcheck disable=SC2086 # the flags are words
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$root/target/c/seed_c" bindings/c/examples/seed.c $c_flags \
  -Wl,-rpath,"$c_prefix/lib"
bl="$root/target/release/beamlink"
cookie="beamlink_demo_$$"
suffix="$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${nodes_dir:-}" ] && [ ! -e "$nodes_dir/erl_crash.dump" ] && rm -rf "$nodes_dir"
  return 0
}
trap cleanup EXIT

# The remote side of the seed articles: Person.say_hello/1 and Toukon.aisatsu/0.
code='
defmodule Person do
  def say_hello(name), do: "Hello #{inspect(name)}, this is #{node()}"
end
defmodule Toukon do
  def aisatsu, do: "元気ですかーーーッ！"
  def say, do: Toukon.aisatsu() |> IO.puts()
end
Process.sleep(:infinity)'
# The nodes run in a scratch directory, so a crash dump never lands in the tree.
nodes_dir=$(mktemp -d "${TMPDIR:-/tmp}/beamlink-demo.XXXXXX")
for n in fuga piyo; do
  (cd "$nodes_dir" && exec elixir --sname "${n}_$suffix@localhost" --cookie "$cookie" -e "$code" >>"$root/.cache/demo-nodes.log" 2>&1) &
  pids+=($!)
done
fuga="fuga_$suffix@localhost"; piyo="piyo_$suffix@localhost"
# Ready when both answer and have compiled the modules above.
ready() { [ "$("$bl" --cookie "$cookie" --elixir eval "$1" 'Code.ensure_loaded?(Toukon)' 2>/dev/null)" = true ]; }
for _ in $(seq 100); do
  ready "$fuga" && ready "$piyo" && break
  sleep 0.2
done
"$bl" --cookie "$cookie" --elixir eval "$fuga" "Node.connect(:\"$piyo\")" >/dev/null

run() { echo; echo "\$ beamlink $*"; "$bl" --cookie "$cookie" "$@" || echo "(exit $?)"; }
echo "== the seed session from the command line"
run names
run ping "$fuga"
run ping "nobody_$suffix@localhost"
run cluster "$fuga"
run --elixir rpc "$fuga" Person say_hello "[:hoge]"
run --elixir eval "$fuga" 'Node.list()'
run --elixir spawn "$fuga" Toukon say
run rpc "$fuga" erlang error '[boom]'
run info "$piyo"

echo
echo "== the same from Rust (native/beamlink/examples/seed.rs)"
"$root/target/release/examples/seed" "$fuga" "$piyo" --cookie "$cookie"

echo
echo "== the same from C (bindings/c/examples/seed.c, linked with libbeamlink via pkg-config)"
"$root/target/c/seed_c" "$fuga" "$cookie" "$piyo"

echo
echo "== the same from a non-distributed Elixir script (elixir/examples/seed.exs)"
# The mix project builds the NIF itself (a release build in prod); then a plain `elixir` runs
# the script with the package on its code path.
if ! built=$(cd "$root/elixir" && MIX_ENV=prod mix compile 2>&1); then
  echo "$built" >&2
  exit 1
fi
elixir -pa "$root/elixir/_build/prod/lib/beamlink/ebin" "$root/elixir/examples/seed.exs" "$fuga" "$piyo" "$cookie"
