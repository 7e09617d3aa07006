#!/usr/bin/env bash
# bench-restart.sh BUILD [COUNT] — the restart case of `make bench` (docs/bench.md): a knoopd on a temporary
# directory is filled with COUNT (default 1,000,000) messages of 256 bytes, stopped with SIGTERM and started again on
# the same journal. Prints how long the start took until `knoopctl status` first answered, how long one status
# answer takes then, and knoopd's RSS (now and peak); writes them to BUILD/bench/restart.json. Targets (issue 13):
# status within 1 s, RSS < 100 MB. Ends only the knoopd it started, by its PID.
set -euo pipefail
BUILD=${1:-build}
count=${2:-${KNOOP_BENCH_RESTART_COUNT:-1000000}}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'daemon:\n  listen: tcp://127.0.0.1:%s\n  data_dir: %s/var\n  log_level: warn\n  auth: none\n' "$port" "$tmp" \
  > "$tmp/knoopd.yaml"
now() { date +%s.%N; }
start() {
  "$BUILD/knoopd" -c "$tmp/knoopd.yaml" 2>>"$tmp/knoopd.log" &
  pid=$!
}
status() { KNOOP_CONTROL="$tmp/var/knoopd.sock" "$BUILD/knoopctl" status --json >"$tmp/status.json" 2>/dev/null; }
start
for _ in $(seq 100); do status && break; sleep 0.1; done
"$BUILD/knoop-fill" -e "tcp://127.0.0.1:$port" -n "$count" -s 256 -w 1024
kill "$pid"; wait "$pid" || true; pid=
t0=$(now)
start
until status; do
  kill -0 "$pid" 2>/dev/null || { echo "knoopd did not restart:"; cat "$tmp/knoopd.log"; exit 1; }
  sleep 0.01
done
t1=$(now)
status
t2=$(now)
status
t3=$(now)
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
last_seq=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["last_seq"])' "$tmp/status.json")
/usr/bin/python3 - "$BUILD/bench/restart.json" "$count" "$last_seq" "$t0" "$t1" "$t2" "$t3" "$rss_kb" "$hwm_kb" <<'PY'
import json, sys
out, count, last_seq, t0, t1, t2, t3, rss, hwm = sys.argv[1:]
r = {"messages": int(count), "last_seq": int(last_seq),
     "start_to_status_s": round(float(t1) - float(t0), 3),
     "status_s": round(min(float(t2) - float(t1), float(t3) - float(t2)), 4),
     "rss_mb": round(int(rss) / 1024, 1), "peak_rss_mb": round(int(hwm) / 1024, 1)}
json.dump(r, open(out, "w"), indent=1)
print("%-19s %d messages journaled (last_seq %d): status answered %.2f s after start "
      "(target <= 1 s: %s), one status %.1f ms; RSS %.1f MB, peak %.1f MB (target < 100 MB: %s)"
      % ("restart-%dk" % (r["messages"] // 1000), r["messages"], r["last_seq"], r["start_to_status_s"], "met" if r["start_to_status_s"] <= 1 else "MISSED",
         r["status_s"] * 1000, r["rss_mb"], r["peak_rss_mb"], "met" if r["peak_rss_mb"] < 100 else "MISSED"))
PY
