#!/usr/bin/env bash
# Long fuzzing of every target in fuzz/: `make fuzz-long` (FUZZ_SECONDS per target, default 600),
# at nice 19; one summary line per target goes to fuzz/runs.log (FUZZ_LOG), findings to
# fuzz/artifacts/<target>/.
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
  # A nightly toolchain if there is one, else stable with nightly flags unlocked.
  if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then fuzz=(cargo +nightly fuzz); else fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz); fi
  # Lowest priority: the machine is shared, and fuzzing takes whatever CPU is left.
  nice=(nice -n "${FUZZ_NICE:-19}")
  cargo run -q --bin seeds
  log=${FUZZ_LOG:-$root/fuzz/runs.log}
  # Build every target once, then run the binaries themselves: a source edit during a long
  # run neither rebuilds in the middle nor changes what is being fuzzed.
  "${nice[@]}" "${fuzz[@]}" build -O
  bin=target/$(rustc -vV | sed -n 's/^host: //p')/release
  # Every target gets the same time (FUZZ_TARGETS picks some: "packets control ...").
  for target in ${FUZZ_TARGETS:-decode packets control handshake_accept handshake_initiate epmd_reply erlang_syntax}; do
    echo "fuzz: $target for ${seconds}s"
    mkdir -p "corpus/$target" "artifacts/$target"
    out=$(mktemp)
    status=0
    "${nice[@]}" "$bin/$target" "corpus/$target" \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="artifacts/$target/" 2>&1 | tee "$out" | grep -E '^(#[0-9]+.*(DONE|pulse)|Done|==|SUMMARY|artifact_prefix|Test unit written)' || status=$?
    # One line per run: when, what, how long, how many inputs, corpus size, findings.
    runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$out" | tail -1)
    corpus=$(grep -oE 'corp: [0-9]+/[0-9a-zA-Z]+' "$out" | tail -1)
    crashes=$(find "artifacts/$target" -type f | wc -l)
    echo "$(date -u +%FT%TZ) $target ${seconds}s: ${runs:-no summary} ${corpus:-} artifacts=$crashes" | tee -a "$log"
    rm -f "$out"
  done
else
  BEAMLINK_FUZZ_SECONDS="$seconds" exec cargo test --release -p beamlink --test fuzz_smoke --test fuzz_targets_smoke -- --nocapture
fi
