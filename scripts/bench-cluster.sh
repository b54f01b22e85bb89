#!/usr/bin/env bash
# Measures `harbor serve` scaled out: three replicas behind HAProxy (round-robin) on a
# PostgreSQL task store and a NATS JetStream bus, beside one replica on the same engines and
# one on the embedded default, in one `harbor bench a2a` run (blocking SendMessage over
# JSON-RPC, echo agent, after a raw HTTP baseline). Every Harbor process and HAProxy is
# pinned to core 0 and the load to core 1; PostgreSQL and NATS run where the machine runs
# them. Server CPU per request adds up all the processes of a target (replicas + HAProxy for
# the cluster), not the engines'.
#
# Usage: bash scripts/bench-cluster.sh [harbor bench a2a options, e.g. --duration 10s]
# Needs: the engines at HARBOR_POSTGRES_URL and HARBOR_NATS_URL (defaults: the local CI
# servers), haproxy, psql, curl, taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

postgres="${HARBOR_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
nats="${HARBOR_NATS_URL:-nats://127.0.0.1:4222}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/harbor-target}"
cargo build --release --locked -p harbor
harbor="$CARGO_TARGET_DIR/release/harbor"

run_id="$(date +%s)$$"
work="$(mktemp -d)"
children=()
schemas=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for schema in "${schemas[@]}"; do
    psql -q "$postgres" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

. scripts/lib.sh

# serve NAME PORT ARGS...: a pinned `harbor serve` in the background; its pid in $served.
serve() {
  local name="$1" port="$2"
  shift 2
  taskset -c 0 "$harbor" serve --host 127.0.0.1 --port "$port" --no-grpc "$@" \
    >"$work/$name.log" 2>&1 &
  served=$!
  children+=("$served")
}

# One replica on the embedded default.
embedded_port="$(free_port)"
serve embedded "$embedded_port" --data-dir "$work/embedded"
embedded_pid="$served"

# Engines for the replicas: a schema and a NATS stream per set of servers.
engines() {
  local schema="harbor_bench_${1}_$run_id"
  schemas+=("$schema")
  store="$postgres?schema=$schema"
  bus="$nats?stream=HB${1}$run_id&prefix=hb${1}$run_id&max_age=10m"
}

# One replica on PostgreSQL + NATS.
engines single
single_port="$(free_port)"
serve single "$single_port" --store "$store" --bus "$bus" --replica-id single
single_pid="$served"

# Three replicas on PostgreSQL + NATS behind HAProxy.
engines cluster
proxy_port="$(free_port)"
cluster_pids=()
backends=""
for i in 0 1 2; do
  port="$(free_port)"
  serve "replica$i" "$port" --store "$store" --bus "$bus" --replica-id "r$i" \
    --public-url "http://127.0.0.1:$proxy_port"
  cluster_pids+=("$served")
  backends+="    server r$i 127.0.0.1:$port check inter 500ms"$'\n'
done
cat >"$work/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend a2a
    bind 127.0.0.1:$proxy_port
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /.well-known/agent-card.json
$backends
EOF
taskset -c 0 haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
cluster_pids+=("$!")
children+=("$!")

for port in "$embedded_port" "$single_port" "$proxy_port"; do
  wait_card "http://127.0.0.1:$port"
done
cluster_pid_list="$(IFS=+; echo "${cluster_pids[*]}")"

echo "embedded: pid $embedded_pid; single (PostgreSQL + NATS): pid $single_pid;" \
  "cluster (3 replicas + HAProxy): pids $cluster_pid_list"
taskset -c 1 "$harbor" bench a2a --binding jsonrpc \
  --url "http://127.0.0.1:$embedded_port" --server-pid "$embedded_pid" \
  --url "http://127.0.0.1:$single_port" --server-pid "$single_pid" \
  --url "http://127.0.0.1:$proxy_port" --server-pid "$cluster_pid_list" \
  "$@"
