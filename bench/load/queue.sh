#!/usr/bin/env bash
# Queue throughput, on one machine and one SQLite file:
#  1. enqueue: wrk POSTs /v1/queue/jobs for DURATION seconds over CONNECTIONS
#     connections (keys of 100 users, a fresh job_id per request);
#  2. end to end: `keyward worker --once --concurrency WORKERS` drains
#     everything queued — claim, unseal, POST /v1/ai/jobs, record — and is
#     timed from start to exit.
#   bench/load/queue.sh [DURATION_SECONDS] [CONNECTIONS] [WORKERS]
# Needs a release build (make build), wrk and python3. Touches only 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration="${1:-5}"; conns="${2:-64}"; workers="${3:-16}"
kw="${KEYWARD_BIN:-$PWD/build/release/keyward}"  # KEYWARD_BIN: compare another build
[ -x "$kw" ] || { echo "build first: make build" >&2; exit 2; }
work="$(mktemp -d)"; pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
export KEYWARD_ADMIN_TOKEN=queue-bench-admin-token KEYWARD_ACCESS_LOG=off
# Many entries per user wait at once here: lift the per-user bounds
# (docs/security.md) for the bench.
export KEYWARD_MAX_QUEUED_PER_USER=10000000 KEYWARD_MAX_PENDING_JOBS_PER_USER=1000000 KEYWARD_MAX_PENDING_JOBS=1000000
"$kw" --db "$work/q.db" serve --listen 127.0.0.1:0 --threads 1 > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do grep -q '^listening on' "$work/out" 2>/dev/null && break; sleep 0.05; done
addr="$(awk '/^listening on/ {print $3; exit}' "$work/out")"
bench/load/issue_keys.py "$addr" queue-bench-admin-token 100 100 > "$work/keys.txt"
export KEYS_FILE="$work/keys.txt"
result="$(JOBS_PATH=/v1/queue/jobs wrk -t1 -c"$conns" -d"${duration}s" -s bench/load/jobs.lua "http://$addr/" | grep '^RESULT')"
queued="$(python3 - "$addr" <<'PY'
import json, sys, urllib.request
addr = sys.argv[1]
req = urllib.request.Request(f"http://{addr}/metrics")
text = urllib.request.urlopen(req).read().decode()
n = sum(int(l.rsplit(" ", 1)[1]) for l in text.splitlines()
        if l.startswith('keyward_http_requests_total{method="POST",route="/v1/queue/jobs",status="201"}'))
print(n)
PY
)"
echo "enqueue (POST /v1/queue/jobs, ${conns} connections, ${duration}s): ${result#RESULT } -> ${queued} entries"
start=$(date +%s.%N); [ -n "${QUEUE_BENCH_HOOK:-}" ] && eval "$QUEUE_BENCH_HOOK"
"$kw" --db "$work/q.db" worker --server "http://$addr" --once --concurrency "$workers" 2> "$work/worker.err"
end=$(date +%s.%N)
tail -1 "$work/worker.err"
python3 -c "n=$queued; dt=$end-$start; print(f'end to end (worker --once --concurrency $workers): {n} jobs in {dt:.2f}s = {n/dt:.0f} jobs/s (claim, unseal, POST /v1/ai/jobs, record)')"
