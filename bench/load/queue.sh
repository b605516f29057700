#!/usr/bin/env bash
# Queue throughput: enqueue N jobs over HTTP (POST /v1/queue/jobs), then time
# `keyward worker --once` draining them through the compute API.
#   bench/load/queue.sh [JOBS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs="${1:-2000}"; conc="${2:-8}"
kw="$PWD/build/release/keyward"
[ -x "$kw" ] || { echo "build first: make build" >&2; exit 2; }
work="$(mktemp -d)"; pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
export KEYWARD_ADMIN_TOKEN=queue-bench-admin-token KEYWARD_ACCESS_LOG=off
# One user queues everything: lift the per-user bounds (docs/security.md) for the bench.
export KEYWARD_MAX_QUEUED_PER_USER=10000000 KEYWARD_MAX_PENDING_JOBS_PER_USER=1000000 KEYWARD_MAX_PENDING_JOBS=1000000
"$kw" --db "$work/q.db" serve --listen 127.0.0.1:0 > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do grep -q '^listening on' "$work/out" 2>/dev/null && break; sleep 0.05; done
addr="$(awk '/^listening on/ {print $3; exit}' "$work/out")"
python3 - "$addr" "$jobs" <<'PY'
import http.client, json, sys, time
addr, n = sys.argv[1], int(sys.argv[2])
host, port = addr.rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port))
c.request("POST", "/v1/users", json.dumps({"name": "bench"}), {"Authorization": "Bearer queue-bench-admin-token"})
key = json.loads(c.getresponse().read())["key"]["secret"]
t = time.time()
for i in range(n):
    c.request("POST", "/v1/queue/jobs", json.dumps({"job_id": f"b{i}", "task": "echo", "payload": {"i": i}}),
              {"Authorization": "Api-Key " + key})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
dt = time.time() - t
print(f"enqueue: {n} jobs in {dt:.2f}s = {n/dt:.0f} jobs/s (one client connection)")
PY
start=$(date +%s.%N)
"$kw" --db "$work/q.db" worker --server "http://$addr" --once --concurrency "$conc"
end=$(date +%s.%N)
python3 -c "n=$jobs; dt=$end-$start; print(f'worker --once --concurrency $conc: {n} jobs in {dt:.2f}s = {n/dt:.0f} jobs/s (claim, unseal, POST /v1/ai/jobs, record)')"
