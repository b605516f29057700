#!/usr/bin/env bash
# Revocation across nodes: two `keyward serve` processes on one database (a
# throwaway PostgreSQL server, or with `sqlite` one SQLite file), an hour-long
# cache TTL; KEYS keys are issued on node A and verified once on node B (so B
# caches them), then revoked one by one through A's admin API; after each
# revoke answers, B's /v1/authz is polled with that key over a kept-alive
# connection until it answers 401. Prints p50/p99/max of revoke-to-first-401.
#   bench/load/revocation_nodes.sh [KEYS] [postgres|sqlite]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100}"; store="${2:-postgres}"
kw="$PWD/build/release/keyward"
[ -x "$kw" ] || { echo "build first: make build" >&2; exit 2; }
work="$(mktemp -d)"; pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -f "$work/pg.state" ] && tests/support/pg-cluster stop "$work/pg.state"
  rm -rf "$work"
}
trap cleanup EXIT
export KEYWARD_ADMIN_TOKEN=revocation-bench-admin-token KEYWARD_ACCESS_LOG=off KEYWARD_CACHE_TTL=1h
export KEYWARD_SEAL_KEY_FILE="$work/seal.key"
if [ "$store" = postgres ]; then
  tests/support/pg-cluster start "$work/pg.state" > /dev/null
  db="$(tail -1 "$work/pg.state")/postgres"
else
  db="$work/r.db"
fi
# start NAME -> sets addr_NAME (not in a subshell: the cleanup needs the PID)
start() {
  "$kw" --db "$db" serve --listen 127.0.0.1:0 > "$work/$1.out" 2> "$work/$1.err" &
  pids+=("$!")
  for _ in $(seq 200); do grep -q '^listening on' "$work/$1.out" 2>/dev/null && break; sleep 0.05; done
  printf -v "addr_$1" '%s' "$(awk '/^listening on/ {print $3; exit}' "$work/$1.out")"
}
start a; start b
a="$addr_a"; b="$addr_b"
bench/load/revocation_delay.py "$a" "$b" "$n" "revocation on node A -> first 401 from node B, $store"
