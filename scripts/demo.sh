#!/usr/bin/env bash
# The seed session (hoge, fuga, piyo in iex), done by beamlink against real Elixir nodes that
# this script starts with unique names and stops by their own PIDs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .cache
cargo build --quiet --release -p beamlink-cli
cargo build --quiet --release -p beamlink --example seed
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
