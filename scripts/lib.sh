# Helpers the bench scripts share; they source it from the repository root (`. scripts/lib.sh`).

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (up to 30 s) until the agent card answers at $1; fails the caller's `set -e`
# otherwise.
wait_card() {
  for _ in $(seq 1 300); do
    curl -sf "$1/.well-known/agent-card.json" >/dev/null && return 0
    sleep 0.1
  done
  echo "no agent card at $1" >&2
  return 1
}
