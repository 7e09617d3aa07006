#!/usr/bin/env bash
# `make bench`: starts knoopd on a temporary directory (loopback port, nothing shared with a running daemon), runs
# knoop-bench against it, stops it by its PID. Figures go to stdout and BUILD/bench/latest.json. The daemon runs with
# auth: none (no CURVE), as on a development machine: the figures measure the broker, not the encryption. Under each
# knoopd case, knoop-bench prints where the time went (the stage histograms read on the control socket, -C).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_daemon() {  # $1: extra YAML (the network for the routing cases); a new, empty journal
  rm -rf "$tmp/var"
  { printf 'daemon:\n  listen: tcp://127.0.0.1:%s\n  data_dir: %s/var\n  log_level: warn\n  auth: none\n' "$port" "$tmp"; \
    printf '%s\n' "$1"; } > "$tmp/knoopd.yaml"
  launch_daemon
}
launch_daemon() {  # knoopd on the configuration and journal already in $tmp
  "$BUILD/knoopd" -c "$tmp/knoopd.yaml" 2>>"$tmp/knoopd.log" &
  pid=$!
  for _ in $(seq 500); do [ -S "$tmp/var/knoopd.sock" ] && return 0; sleep 0.01; done
  echo "knoopd did not start:"; cat "$tmp/knoopd.log"; exit 1
}
stop_daemon() { kill "$pid"; wait "$pid"; pid=; }
mkdir -p "$BUILD/bench"
seconds=${KNOOP_BENCH_SECONDS:-3}
# The floor: knoop-floor (tools/knoop-floor.c), the simplest broker with knoopd's durability promise, driven by the
# same client and publish cases. Its figures are what every knoopd publish case is compared with ("x floor").
mkdir -p "$tmp/floor"
"$BUILD/knoop-floor" -e "tcp://127.0.0.1:$port" -d "$tmp/floor" 2>"$tmp/floor.log" &
pid=$!
sleep 0.3
echo "== the floor: knoop-floor (ROUTER + one SQLite table, WAL, synchronous=FULL, group commit) =="
"$BUILD/knoop-bench" -e "tcp://127.0.0.1:$port" -d "$tmp" -o "$BUILD/bench/floor.json" -c publish -s "$seconds" \
  | sed -n '/^case/,$p' | grep -vE '^written|absolute target' | awk '{printf "%-20s %8s %6s %10s %9s %9s\n", $1, $2, $3, $4, $5, $6}' || true
stop_daemon
# The peer: NATS JetStream with file storage (Debian's nats-server), which acknowledges before fsync.
peer_opt=()
if command -v nats-server >/dev/null; then
  natsport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  nats-server -js -sd "$tmp/nats" -a 127.0.0.1 -p "$natsport" >"$tmp/nats.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$natsport") 2>/dev/null && break; sleep 0.1; done
  echo "== the peer: NATS JetStream $(nats-server --version | awk '{print $2}'), file storage, acks BEFORE fsync =="
  "$BUILD/knoop-nats-bench" -a "127.0.0.1:$natsport" -s "$seconds" -o "$BUILD/bench/nats.json" | tail -n +2
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=   # nats-server exits non-zero on SIGTERM
  peer_opt=(--peer "$BUILD/bench/nats.json")
else
  echo "== the peer: NATS JetStream: skipped: nats-server not installed (make bench installs it as root) =="
  rm -f "$BUILD/bench/nats.json"
fi
echo "== knoopd =="
# Plain publish: no network, routed by receiver. Then fan-out. Then the same daemon build with the whole demo network
# (18 financiers, 8 members) for white-label dispatch of 10,000 clients; its ratio is to plain publish at the same W.
start_daemon ""
"$BUILD/knoop-bench" -e "tcp://127.0.0.1:$port" -d "$tmp" -C "$tmp/var/knoopd.sock" -o "$tmp/plain.json" -c publish,xml -s "$seconds" \
  --floor "$BUILD/bench/floor.json" "${peer_opt[@]}"
stop_daemon
# Fan-out on a fresh daemon: 8 subscribers (distinct names) on one stream, each acking every delivery; live at W=64
# (publish -> deliver latency) and draining what was published (deliveries/s).
start_daemon ""
"$BUILD/knoop-bench" -e "tcp://127.0.0.1:$port" -d "$tmp" -C "$tmp/var/knoopd.sock" -o "$tmp/fanout.json" -c fanout -s "$seconds" \
  --baseline "$tmp/plain.json"
cp "$tmp/fanout.json" "$tmp/plain.json"
stop_daemon
start_daemon "$(sed -n '/^network:/,$p' deploy/knoopd.yaml)"
"$BUILD/knoop-bench" -e "tcp://127.0.0.1:$port" -d "$tmp" -C "$tmp/var/knoopd.sock" -o "$BUILD/bench/latest.json" -c routing -s "$seconds" \
  --baseline "$tmp/plain.json"
stop_daemon
# Restart with a million messages journaled (KNOOP_BENCH_RESTART_COUNT; docs/bench.md): the journal filled, knoopd
# stopped with SIGTERM and started again on it; how soon `knoopctl status` answers, how long one answer takes, and
# knoopd's RSS now and at its peak, printed and written to BUILD/bench/restart.json. Targets: 1 s, 100 MB.
echo "== knoopd restart =="
count=${KNOOP_BENCH_RESTART_COUNT:-1000000}
now() { date +%s.%N; }
status() { KNOOP_CONTROL="$tmp/var/knoopd.sock" "$BUILD/knoopctl" status --json >"$tmp/status.json" 2>/dev/null; }
start_daemon ""
"$BUILD/knoop-bench" -e "tcp://127.0.0.1:$port" --fill "$count"
stop_daemon
t0=$(now)
launch_daemon
until status; do
  kill -0 "$pid" 2>/dev/null || { echo "knoopd did not restart:"; cat "$tmp/knoopd.log"; exit 1; }
  sleep 0.01
done
t1=$(now); status; t2=$(now); status; t3=$(now)
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
stop_daemon
/usr/bin/python3 - "$BUILD/bench/restart.json" "$tmp/status.json" "$count" "$t0" "$t1" "$t2" "$t3" "$rss_kb" "$hwm_kb" <<'PY'
import json, sys
out, status, count, t0, t1, t2, t3, rss, hwm = sys.argv[1:]
r = {"messages": int(count), "last_seq": json.load(open(status))["result"]["last_seq"],
     "start_to_status_s": round(float(t1) - float(t0), 3),
     "status_s": round(min(float(t2) - float(t1), float(t3) - float(t2)), 4),
     "rss_mb": round(int(rss) / 1024, 1), "peak_rss_mb": round(int(hwm) / 1024, 1)}
json.dump(r, open(out, "w"), indent=1)
print("%-19s %d messages journaled (last_seq %d): status answered %.2f s after start (target <= 1 s: %s), "
      "one status %.1f ms; RSS %.1f MB, peak %.1f MB (target < 100 MB: %s)"
      % ("restart-%dk" % (r["messages"] // 1000), r["messages"], r["last_seq"], r["start_to_status_s"],
         "met" if r["start_to_status_s"] <= 1 else "MISSED", r["status_s"] * 1000, r["rss_mb"], r["peak_rss_mb"],
         "met" if r["peak_rss_mb"] < 100 else "MISSED"))
PY
