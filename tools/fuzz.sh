#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer harness (tests/fuzz/fuzz_<name>.c) for a bounded time over a working corpus in
# build/fuzz/corpus/<name>, seeded from the files its tests/fuzz/fuzz_<name>.seeds lists and its regressions.
# Prints one line per harness (runs, coverage, corpus size) and exits non-zero if any harness found a crash, whose
# input is kept in build/fuzz/crashes/ to be copied into tests/fuzz/regressions/<name>/.
# Usage: tools/fuzz.sh BIN_DIR SECONDS NAME...
set -u
bin=$1; secs=$2; shift 2
cd "$(dirname "$0")/.."
out=build/fuzz; mkdir -p "$out/crashes"
found=0
for name in "$@"; do
  corpus="$out/corpus/$name"; mkdir -p "$corpus"
  seeds=(); while read -r s; do [ -n "$s" ] && seeds+=("$s"); done < "tests/fuzz/$name.seeds"
  [ -d "tests/fuzz/regressions/$name" ] && seeds+=("tests/fuzz/regressions/$name")
  # libFuzzer reads files or folders as corpora; single files are copied into the working corpus first.
  dirs=()
  for s in "${seeds[@]}"; do if [ -d "$s" ]; then dirs+=("$s"); elif [ -f "$s" ]; then cp "$s" "$corpus/"; fi; done
  log="$out/$name.log"
  "$bin/$name" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$name-" "$corpus" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  runs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  if [ "$rc" -ne 0 ]; then
    found=1
    echo "FAIL $name: crash after ${runs:-?} runs (log $log, input in $out/crashes/)"
    grep -aE 'ERROR: |SUMMARY: ' "$log" | head -3
  else
    echo "ok   $name: ${runs:-?} runs in ${secs}s, coverage ${cov:-?} edges, corpus $(ls "$corpus" | wc -l) inputs"
  fi
done
exit $found
