#!/usr/bin/env bash
# Resident memory of `harbor serve --in-memory` under a long SendMessage load: does it stay
# bounded by retention? Prints the server's RSS every 10 s, then the bench's line.
#
#   scripts/bench-memory.sh [--duration 600s] [--task-retention 30s] [--log-retention 10s]
#                           [--concurrency 16] [--harbor PATH]
#
# The server is pinned to core 0 and the load to core 1 when the machine has two cores or
# more. Run from the repository root; builds `harbor` in release unless --harbor is given.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

duration=600s task_retention=30s log_retention=10s concurrency=16 harbor=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --task-retention) task_retention=$2; shift 2 ;;
    --log-retention) log_retention=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --harbor) harbor=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$harbor" ]; then
  cargo build --release -p harbor --locked >&2
  harbor="${CARGO_TARGET_DIR:-target}/release/harbor"
fi
pin_server=() pin_load=()
if [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 0) pin_load=(taskset -c 1); fi

port=$(free_port)
"${pin_server[@]}" "$harbor" serve --port "$port" --no-grpc --in-memory \
  --task-retention "$task_retention" --log-retention "$log_retention" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_card "http://127.0.0.1:$port"

"${pin_load[@]}" "$harbor" bench a2a --url "http://127.0.0.1:$port" --binding jsonrpc \
  --concurrency "$concurrency" --duration "$duration" --warmup 0s --no-baseline \
  >"${TMPDIR:-/tmp}/bench-memory.$$" 2>&1 &
bench=$!
start=$SECONDS
echo "seconds rss_kib (task retention $task_retention, log retention $log_retention, c=$concurrency)"
while kill -0 $bench 2>/dev/null; do
  echo "$((SECONDS - start)) $(ps -o rss= -p $server)"
  sleep 10
done
wait $bench
grep -E '^(target|http)' "${TMPDIR:-/tmp}/bench-memory.$$"
rm -f "${TMPDIR:-/tmp}/bench-memory.$$"
