#!/usr/bin/env bash
# Long fuzzing of every target in fuzz/: `make fuzz-long` (FUZZ_SECONDS per target, default 600).
# Uses cargo-fuzz (libFuzzer, coverage-guided) when installed; it needs nightly flags, which
# RUSTC_BOOTSTRAP=1 unlocks on a stable toolchain. Otherwise runs the stable mutation fuzzer
# from native/beamlink/tests/fuzz_smoke.rs, optimised, for the same time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-600}

if cargo fuzz --version >/dev/null 2>&1 && [ "${FUZZ_ENGINE:-}" != smoke ]; then
  corpus=fuzz/corpus/decode
  mkdir -p "$corpus"
  # Seed with what real BEAM writes: every corpus term under every term_to_binary option set.
  if command -v erl >/dev/null && [ -z "$(ls -A "$corpus")" ]; then
    tmp=$(mktemp -d)
    erlc -o "$tmp" tests/corpus/etf_corpus.erl
    erl -noshell -pa "$tmp" -eval '
      [Dir] = init:get_plain_arguments(),
      F = filename:join(Dir, "../lines.txt"),
      etf_corpus:write(F),
      {ok, B} = file:read_file(F),
      Lines = binary:split(B, <<"\n">>, [global, trim]),
      lists:foreach(fun({I, L}) ->
          [_, _, H] = binary:split(L, <<"\t">>, [global]),
          ok = file:write_file(filename:join(Dir, "beam-" ++ integer_to_list(I)), binary:decode_hex(H))
      end, lists:zip(lists:seq(1, length(Lines)), Lines)),
      halt().' -extra "$root/$corpus"
    rm -rf "$tmp" "$root/fuzz/corpus/lines.txt"
  fi
  cd fuzz
  # Every target gets the same time (FUZZ_TARGETS picks some: "packets control ...").
  cargo run -q --bin seeds
  for target in ${FUZZ_TARGETS:-decode packets control handshake_accept handshake_initiate epmd_reply erlang_syntax}; do
    echo "fuzz: $target for ${seconds}s"
    mkdir -p "corpus/$target"
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10
  done
else
  BEAMLINK_FUZZ_SECONDS="$seconds" exec cargo test --release -p beamlink --test fuzz_smoke --test fuzz_targets_smoke -- --nocapture
fi
