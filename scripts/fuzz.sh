#!/usr/bin/env bash
# Long decoder fuzzing: `make fuzz-long` (FUZZ_SECONDS, default 600).
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
  RUSTC_BOOTSTRAP=1 exec cargo fuzz run -O decode "corpus/decode" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10
else
  BEAMLINK_FUZZ_SECONDS="$seconds" exec cargo test --release -p beamlink --test fuzz_smoke -- --nocapture
fi
