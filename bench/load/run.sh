#!/usr/bin/env bash
# Load test: keyward (release build) against nginx `return 200` on the same
# machine, measured interleaved — nginx, keyward, nginx, keyward… — so that
# both see the same machine state; each ratio is taken within its round and
# the table shows the median over the rounds.
#
#   bench/load/run.sh [ROUNDS] [SECONDS] [CONNECTIONS]     (default 5 5 64)
#   KEYWARD_BIN=/path/to/other/keyward bench/load/run.sh   (an older build)
#   BENCH_DB=postgresql://… bench/load/run.sh              (another store; an
#                                    empty database: bench/load/postgres.sh)
#
# Rows: GET /v1/authz with the access log off and on (to a file), GET
# /healthz (the HTTP layer alone), authz with 2 I/O threads, POST /v1/ai/jobs
# (durable: each job and its charge committed before its 201), and authz
# while job submissions and admin writes run (mixed). wrk -t1, keep-alive,
# keys rotated from 2,000 keys of 100 users; keyward --threads 1 unless the
# row says otherwise. Needs a release build (make build), wrk, nginx and
# python3. Touches only 127.0.0.1; stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-5}"; duration="${2:-5}"; conns="${3:-64}"
kw="${KEYWARD_BIN:-$PWD/build/release/keyward}"  # KEYWARD_BIN: compare another build
[ -x "$kw" ] || { echo "build first: make build" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

export KEYWARD_ADMIN_TOKEN=load-test-admin-token
# PostgreSQL has no folder for the queue's seal key: every node gets this one.
export KEYWARD_SEAL_KEY="${KEYWARD_SEAL_KEY:-$(openssl rand -hex 32)}"
# Every job stays pending until it runs: lift the per-user bounds for the
# bench (docs/security.md explains them).
export KEYWARD_MAX_PENDING_JOBS_PER_USER=1000000 KEYWARD_MAX_PENDING_JOBS=1000000

# start_keyward NAME THREADS ACCESS_LOG -> sets addr_NAME
start_keyward() {
  KEYWARD_ACCESS_LOG="$3" "$kw" --db "${BENCH_DB:-$work/load.db}" serve --listen 127.0.0.1:0 --threads "$2" \
    > "$work/$1.out" 2> "$work/$1.err" &
  pids+=("$!")
  for _ in $(seq 200); do grep -q '^listening on' "$work/$1.out" && break; sleep 0.05; done
  printf -v "addr_$1" '%s' "$(awk '/^listening on/ {print $3}' "$work/$1.out")"
}

ngx_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/nginx/tmp"
cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp; fastcgi_temp_path $work/nginx/tmp; uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  server { listen 127.0.0.1:$ngx_port; location / { default_type application/json; return 200 '{"valid":true}'; } } }
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=("$!")

start_keyward quiet 1 off
start_keyward logged 1 "$work/access.log"
start_keyward two 2 off
bench/load/issue_keys.py "$addr_quiet" "$KEYWARD_ADMIN_TOKEN" 2000 100 > "$work/keys.txt"
export KEYS_FILE="$work/keys.txt"

# run NAME SCRIPT URL [CONNECTIONS] -> appends "rps p99_us" to $work/NAME
run() {
  local r
  r="$(wrk -t1 -c"${4:-$conns}" -d"${duration}s" -s "bench/load/$2" "$3" | grep '^RESULT')"
  local errors non2xx
  errors="$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$r")"
  non2xx="$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' <<<"$r")"
  if [ "$errors" != 0 ] || [ "$non2xx" != 0 ]; then echo "$1: $r" >&2; fi
  echo "$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r") $(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$r")" >> "$work/res-$1"
}

# Writes that run beside authz in the mixed rows: job submissions (wrk, 16
# connections) and admin writes (a user and a key every iteration).
mixed_load() {
  wrk -t1 -c16 -d"$((duration + 1))s" -s bench/load/jobs.lua "http://$addr_quiet/" > /dev/null &
  local w=$!
  python3 - "$addr_quiet" "$KEYWARD_ADMIN_TOKEN" "$((duration + 1))" <<'PY' &
import http.client, json, sys, time
host, port = sys.argv[1].rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port))
auth = {"Authorization": "Bearer " + sys.argv[2]}
end = time.time() + float(sys.argv[3])
while time.time() < end:
    c.request("POST", "/v1/users", json.dumps({"name": "mixed"}), auth)
    c.getresponse().read()
PY
  local a=$!
  sleep 0.5
  run mixed authz.lua "http://$addr_quiet/"
  wait "$w" "$a" 2>/dev/null || true
}

echo "keyward vs nginx return 200: $rounds rounds x ${duration}s, wrk -t1 -c$conns, $(nproc) cores" >&2
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  run nginx ceiling.lua "http://127.0.0.1:$ngx_port/"
  run authz authz.lua "http://$addr_quiet/"
  run nginx2 ceiling.lua "http://127.0.0.1:$ngx_port/"
  run authz_log authz.lua "http://$addr_logged/"
  run healthz healthz.lua "http://$addr_quiet/"
  run authz_two authz.lua "http://$addr_two/"
  run jobs jobs.lua "http://$addr_quiet/"
  mixed_load
done

# Every job row must have created jobs, not replayed earlier ones (a repeated
# job_id is answered 200 from the existing job, without an insert).
replays="$(python3 - "$addr_quiet" "$KEYWARD_ADMIN_TOKEN" <<'PY'
import http.client, sys
host, port = sys.argv[1].rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port))
c.request("GET", "/metrics", headers={"Authorization": "Bearer " + sys.argv[2]})
text = c.getresponse().read().decode()
print(next((l.split()[1] for l in text.splitlines()
            if l.startswith("keyward_jobs_idempotent_replays_total")), "unknown"))
PY
)"
[ "$replays" = 0 ] || echo "warning: $replays job submissions were replays, not new jobs" >&2

python3 - "$work" <<'PY'
import statistics, sys
work = sys.argv[1]
def rows(name):
    return [tuple(map(int, l.split())) for l in open(f"{work}/res-{name}")]
nginx = [(a[0] + b[0]) / 2 for a, b in zip(rows("nginx"), rows("nginx2"))]
def line(label, name, ratio=True):
    r = rows(name)
    rps = statistics.median(x[0] for x in r)
    p99 = statistics.median(x[1] for x in r) / 1000
    ratios = [x[0] / n for x, n in zip(r, nginx)]
    q = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})" if ratio else "-"
    print(f"| {label} | {rps:,.0f} | {p99:.2f} | {q} |")
print(f"| path | req/s (median) | p99 ms (median) | ratio to nginx: median (range) |")
print(f"|---|---|---|---|")
print(f"| nginx `return 200`, 1 worker, no log | {statistics.median(nginx):,.0f} | - | 1 |")
line("`GET /v1/authz`, access log off", "authz")
line("`GET /v1/authz`, access log to a file", "authz_log")
line("`GET /healthz`", "healthz")
line("`GET /v1/authz`, `--threads 2`", "authz_two")
line("`POST /v1/ai/jobs` (durable), jobs/s", "jobs", ratio=False)
line("`GET /v1/authz` under jobs + admin writes", "mixed", ratio=False)
PY
