#!/usr/bin/env bash
# Load test: keyward (release build) against nginx `return 200` on the same
# machine, driven by wrk with keep-alive and keys rotated from 10,000 issued
# keys. Prints rps, p50, p99 and the ratio to the nginx ceiling.
#
#   bench/load/run.sh [DURATION_SECONDS] [CONNECTIONS]
# Needs: a release build (make build), wrk, nginx, python3. Touches only 127.0.0.1.
# Run from anywhere; the wrk scripts are loaded relative to the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration="${1:-10}"
conns="${2:-64}"
kw="$PWD/build/release/keyward"
[ -x "$kw" ] || { echo "build first: make build" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_keyward() {  # $1 = threads
  : > "$work/kw.out"
  KEYWARD_ADMIN_TOKEN=load-test-admin-token KEYWARD_ACCESS_LOG="$work/access.log" \
    "$kw" --db "$work/load.db" serve --listen 127.0.0.1:0 --threads "$1" > "$work/kw.out" 2> "$work/kw.err" &
  kw_pid=$!
  pids+=("$kw_pid")
  for _ in $(seq 200); do grep -q '^listening on' "$work/kw.out" && break; sleep 0.05; done
  kw_addr="$(awk '/^listening on/ {print $3}' "$work/kw.out")"
}
stop_keyward() { kill "$kw_pid"; wait "$kw_pid" || true; }

# nginx ceiling: return 200, one worker per thread count under test.
ngx_port="$(free_port)"
mkdir -p "$work/nginx/tmp"
cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $work/nginx/tmp; proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp; uwsgi_temp_path $work/nginx/tmp; scgi_temp_path $work/nginx/tmp;
  server { listen 127.0.0.1:$ngx_port; location / { return 200 '{"valid":true}'; } } }
CONF

result() { grep '^RESULT' | tail -1 | sed 's/^RESULT //'; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }

echo "keyward load test: ${duration}s per run, ${conns} connections, wrk -t2, $(nproc) cores"
start_keyward 2
echo "issuing 10,000 keys ..."
bench/load/issue_keys.py "$kw_addr" load-test-admin-token 10000 100 > "$work/keys.txt"
stop_keyward
export KEYS_FILE="$work/keys.txt"

for workers in 1 2; do
  sed -i "s/worker_processes [0-9]*/worker_processes $workers/" "$work/nginx/nginx.conf"
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & ngx_pid=$!; pids+=("$ngx_pid")
  sleep 0.3
  ceiling="$(wrk -t2 -c"$conns" -d"${duration}s" -s bench/load/ceiling.lua "http://127.0.0.1:$ngx_port/" | result)"
  kill "$ngx_pid"; wait "$ngx_pid" 2>/dev/null || true

  start_keyward "$workers"
  authz="$(wrk -t2 -c"$conns" -d"${duration}s" -s bench/load/authz.lua "http://$kw_addr/" | result)"
  jobs="$(wrk -t2 -c"$conns" -d"${duration}s" -s bench/load/jobs.lua "http://$kw_addr/" | result)"
  stop_keyward

  c_rps="$(field rps "$ceiling")"
  a_rps="$(field rps "$authz")"
  printf '\nthreads=%s (nginx workers=%s)\n' "$workers" "$workers"
  printf '  nginx return 200      %s\n' "$ceiling"
  printf '  GET  /v1/authz        %s  ratio=%s\n' "$authz" "$(python3 -c "print(f'{$a_rps/$c_rps:.2f}')")"
  printf '  POST /v1/ai/jobs      %s\n' "$jobs"
done
