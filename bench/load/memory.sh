#!/usr/bin/env bash
# Memory with the key cache full: issues KEYS live keys (keyward_fill, 10 per
# user), starts keyward (release, --threads 1, access log off) with the
# default settings or SETTINGS (KEYWARD_* variables), sends GET /v1/authz
# with every key once (wrk, keys in order), then reports the server's RSS
# and how many keys its cache holds.
#   bench/load/memory.sh [KEYS] [SETTINGS...]     e.g. 1000000 KEYWARD_CACHE_CAPACITY=1000000
# The keys carry their sealed signing secrets, as keys a server issues do;
# with FIRST_USE=1 they do not (keys issued before signed requests existed,
# or imported), and each learns its secret at its first use: a write and a
# change-feed entry per key during the run.
# KEYWARD_BIN: another keyward build to measure (keyward_fill stays this tree's).
# Needs `make bench` (keyward_fill), a release build, wrk. Touches only 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
keys="${1:-10000}"; shift || true
kw="${KEYWARD_BIN:-$PWD/build/release/keyward}"; fill="$PWD/build/release/keyward_fill"
[ -x "$kw" ] && [ -x "$fill" ] || { echo "build first: make build bench" >&2; exit 2; }
work="$(mktemp -d)"; pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
export KEYWARD_SEAL_KEY="${KEYWARD_SEAL_KEY:-$(openssl rand -hex 32)}"
start=$(date +%s)
if [ -n "${FIRST_USE:-}" ]; then
  KEYWARD_SEAL_KEY= "$fill" "$work/m.db" "$keys" > "$work/keys.txt"
else
  "$fill" "$work/m.db" "$keys" > "$work/keys.txt"
fi
echo "issued $keys keys in $(( $(date +%s) - start ))s ($(du -h "$work/m.db" | cut -f1) database)" >&2
env KEYWARD_ACCESS_LOG=off "$@" "$kw" --db "$work/m.db" serve --listen 127.0.0.1:0 --threads 1 \
  > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do grep -q '^listening on' "$work/out" && break; sleep 0.05; done
addr="$(awk '/^listening on/ {print $3}' "$work/out")"
rss() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }
echo "RSS after start: $(rss) MB" >&2
export KEYS_FILE="$work/keys.txt" KEYS_IN_ORDER=1
# Enough time for every key to be asked once at ~50k requests/s.
secs=$(( keys / 50000 + 3 ))
wrk -t1 -c64 -d"${secs}s" -s bench/load/authz.lua "http://$addr/" | grep '^RESULT' >&2
entries="$(curl -s "http://$addr/metrics" | awk '/^keyward_key_cache_entries / {print $2}')"
echo "keys=$keys cache_entries=$entries rss_mb=$(rss)"
