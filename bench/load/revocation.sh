#!/usr/bin/env bash
# Revocation delay: 100 keys revoked one by one with the CLI (another process
# on the same SQLite file) while `keyward serve` runs with an hour-long cache
# TTL; after each `keyward key revoke` exits, /v1/authz is polled with that
# key over a kept-alive connection until it answers 401. Prints p50/p99/max
# of the time from the command's exit to the first 401.
#   bench/load/revocation.sh [KEYS]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100}"
kw="$PWD/build/release/keyward"
[ -x "$kw" ] || { echo "build first: make build" >&2; exit 2; }
work="$(mktemp -d)"; pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
export KEYWARD_ADMIN_TOKEN=revocation-bench-admin-token KEYWARD_ACCESS_LOG=off KEYWARD_CACHE_TTL=1h
"$kw" --db "$work/r.db" serve --listen 127.0.0.1:0 > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do grep -q '^listening on' "$work/out" 2>/dev/null && break; sleep 0.05; done
addr="$(awk '/^listening on/ {print $3; exit}' "$work/out")"
bench/load/revocation_delay.py "$addr" "$addr" "$n" "revocation by the CLI -> first 401 from the server" \
  --cli "$kw" "$work/r.db"
