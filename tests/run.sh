#!/usr/bin/env bash
# Runs every test of knoop: each cmocka unit-test binary in BUILD/tests/, then each end-to-end test
# script tests/e2e/test_*.py (Debian's python3, driving the real binaries on loopback).
# Prints one line per test program and a closing line "N passed, N failed"; exits non-zero on any failure.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
export KNOOP_BUILD=$(cd "$BUILD" && pwd)
PY=/usr/bin/python3
passed=0; failed=0; failed_names=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:".
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  timeout 300 "$t" >"$log/$name.out" 2>&1; rc=$?
  p=$(grep -aoE '^\[  PASSED  \] [0-9]+' "$log/$name.out" | grep -oE '[0-9]+$' | tail -1)
  f=$(grep -aoE '^\[  FAILED  \] [0-9]+' "$log/$name.out" | grep -oE '[0-9]+$' | tail -1)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then failed_names+=("$name"); echo "FAIL unit $name ($p passed, $f failed)"; cat "$log/$name.out";
  else echo "ok   unit $name ($p passed)"; fi
done

# Each fuzz harness once over its seed corpus and the crashes kept as regressions (tests/fuzz/), without libFuzzer.
for t in "$BUILD"/tests/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  inputs=$(cat "tests/fuzz/$name.seeds") 
  timeout 300 "$t" $inputs "tests/fuzz/regressions/$name" >"$log/$name.out" 2>&1; rc=$?
  line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log/$name.out" | tail -1)
  p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then failed_names+=("$name"); echo "FAIL fuzz $name ($p passed, $f failed)"; tail -20 "$log/$name.out";
  else echo "ok   fuzz $name ($p inputs replayed)"; fi
done

# Each static check (layers, format), each e2e script (and the Python client's own tests) prints "N passed, N failed" as its last line (tests/e2e/harness.py).
for t in tests/static/test_*.py tests/e2e/test_*.py clients/python/test_client_*.py; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .py)
  timeout 600 "$PY" "$t" >"$log/$name.out" 2>&1; rc=$?
  line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log/$name.out" | tail -1)
  p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then failed_names+=("$name"); echo "FAIL e2e  $name ($p passed, $f failed)"; cat "$log/$name.out";
  else echo "ok   e2e  $name ($p passed)"; fi
done

[ ${#failed_names[@]} -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
