#!/usr/bin/env bash
# `make bench`: starts knoopd on a temporary directory (loopback port, nothing shared with a running daemon), runs
# knoop-bench against it, stops it by its PID. Figures go to stdout and BUILD/bench/latest.json. The daemon runs with
# auth: none (no CURVE), as on a development machine: the figures measure the broker, not the encryption.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_daemon() {  # $1: extra YAML (the network for the routing cases)
  rm -rf "$tmp/var"
  { printf 'daemon:\n  listen: tcp://127.0.0.1:%s\n  data_dir: %s/var\n  log_level: warn\n  auth: none\n' "$port" "$tmp"; \
    printf '%s\n' "$1"; } > "$tmp/knoopd.yaml"
  "$BUILD/knoopd" -c "$tmp/knoopd.yaml" 2>"$tmp/knoopd.log" &
  pid=$!
  for _ in $(seq 50); do [ -S "$tmp/var/knoopd.sock" ] && return 0; sleep 0.1; done
  echo "knoopd did not start:"; cat "$tmp/knoopd.log"; exit 1
}
stop_daemon() { kill "$pid"; wait "$pid"; pid=; }
mkdir -p "$BUILD/bench"
seconds=${KNOOP_BENCH_SECONDS:-3}
# Plain publish: no network, routed by receiver. Then fan-out. Then the same daemon build with the whole demo network
# (18 financiers, 8 members) for white-label dispatch of 10,000 clients; its ratio is to plain publish at the same W.
start_daemon ""
"$BUILD/knoop-bench" -e "tcp://127.0.0.1:$port" -d "$tmp" -o "$tmp/plain.json" -c publish,xml -s "$seconds"
stop_daemon
# Fan-out on a fresh daemon: 8 subscribers (distinct names) on one stream, each acking every delivery; live at W=64
# (publish -> deliver latency) and draining what was published (deliveries/s).
start_daemon ""
"$BUILD/knoop-bench" -e "tcp://127.0.0.1:$port" -d "$tmp" -o "$tmp/fanout.json" -c fanout -s "$seconds" \
  --baseline "$tmp/plain.json"
cp "$tmp/fanout.json" "$tmp/plain.json"
stop_daemon
start_daemon "$(sed -n '/^network:/,$p' deploy/knoopd.yaml)"
"$BUILD/knoop-bench" -e "tcp://127.0.0.1:$port" -d "$tmp" -o "$BUILD/bench/latest.json" -c routing -s "$seconds" \
  --baseline "$tmp/plain.json"
stop_daemon
