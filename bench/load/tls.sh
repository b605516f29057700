#!/usr/bin/env bash
# TLS load test: keyward serving HTTPS against nginx `return 200` over HTTPS
# with the same certificate (ECDSA P-256 from a throwaway CA), interleaved —
# nginx, keyward, nginx, keyward… — the ratio taken within each round and
# the median shown.
#
#   bench/load/tls.sh [ROUNDS] [SECONDS] [CONNECTIONS]     (default 5 5 64)
#
# Rows: GET /v1/authz over keep-alive TLS (wrk -t1, keys rotated from 2,000
# keys of 100 users, keyward --threads 1, both logs off); new connections
# per second with a full handshake (openssl s_time -new) and with a resumed
# one (s_time -reuse), TLS 1.3 and TLS 1.2. Touches only 127.0.0.1; stops
# everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-5}"; duration="${2:-5}"; conns="${3:-64}"
kw="${KEYWARD_BIN:-$PWD/build/release/keyward}"
[ -x "$kw" ] || { echo "build first: make build" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
tests/support/make-certs "$work/certs" > /dev/null
crt="$work/certs/server.pem"; key="$work/certs/server.key"; ca="$work/certs/ca.pem"

export KEYWARD_ADMIN_TOKEN=load-test-admin-token
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# keyward: one plain process to issue the keys, one HTTPS process measured
# (the same SQLite file).
start_keyward() {  # NAME [env…]
  local name="$1"; shift
  env "$@" KEYWARD_ACCESS_LOG=off "$kw" --db "$work/load.db" serve --listen 127.0.0.1:0 --threads 1 \
    > "$work/$name.out" 2> "$work/$name.err" &
  pids+=("$!")
  for _ in $(seq 200); do grep -q '^listening on' "$work/$name.out" && break; sleep 0.05; done
  awk '/^listening on/ {print $3}' "$work/$name.out"
}
plain="$(start_keyward plain)"
tls="$(start_keyward tls KEYWARD_TLS_CERT="$crt" KEYWARD_TLS_KEY="$key")"
bench/load/issue_keys.py "$plain" "$KEYWARD_ADMIN_TOKEN" 2000 100 > "$work/keys.txt"
export KEYS_FILE="$work/keys.txt"

ngx_port="$(free_port)"
mkdir -p "$work/nginx/tmp"
cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp; fastcgi_temp_path $work/nginx/tmp; uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:tls:10m; ssl_session_timeout 1h;
  server { listen 127.0.0.1:$ngx_port ssl; ssl_certificate $crt; ssl_certificate_key $key;
    location / { default_type application/json; return 200 '{"valid":true}'; } } }
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=("$!")
sleep 0.3

run() {  # NAME URL -> appends "rps p99_us"
  local r
  r="$(wrk -t1 -c"$conns" -d"${duration}s" -s "bench/load/$2" "$3" | grep '^RESULT')"
  echo "$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r") $(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$r")" >> "$work/res-$1"
  local non2xx; non2xx="$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' <<<"$r")"
  [ "$non2xx" = 0 ] || echo "$1: $r" >&2
}
handshakes() {  # NAME HOST:PORT MODE(-new|-reuse) VERSION -> appends connections/s
  local out
  out="$(openssl s_time -connect "$2" "$3" "$4" -time "$duration" -CAfile "$ca" 2>/dev/null | grep 'connections/user sec' | tail -1)"
  echo "$out" | awk '{print $5}' >> "$work/res-$1"  # "N connections in T real seconds, X bytes/connection" -> connections/user sec
}

echo "keyward vs nginx over TLS: $rounds rounds x ${duration}s, wrk -t1 -c$conns, $(nproc) cores" >&2
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  run nginx ceiling.lua "https://127.0.0.1:$ngx_port/"
  run authz authz.lua "https://$tls/"
  for v in -tls1_3 -tls1_2; do
    handshakes "ngx_new$v" "127.0.0.1:$ngx_port" -new "$v"
    handshakes "kw_new$v" "$tls" -new "$v"
    handshakes "ngx_reuse$v" "127.0.0.1:$ngx_port" -reuse "$v"
    handshakes "kw_reuse$v" "$tls" -reuse "$v"
  done
done

python3 - "$work" <<'PY'
import statistics, sys
work = sys.argv[1]
def vals(name):
    return [l.split() for l in open(f"{work}/res-{name}") if l.strip()]
ngx = vals("nginx"); kw = vals("authz")
ratios = [float(k[0]) / float(n[0]) for k, n in zip(kw, ngx)]
print("| path | keyward | nginx | ratio: median (range) |")
print("|---|---|---|---|")
print(f"| `GET /v1/authz` over TLS, keep-alive, req/s (p99 ms) | {statistics.median(float(k[0]) for k in kw):,.0f} "
      f"({statistics.median(float(k[1]) for k in kw) / 1000:.2f}) | {statistics.median(float(n[0]) for n in ngx):,.0f} "
      f"({statistics.median(float(n[1]) for n in ngx) / 1000:.2f}) | {statistics.median(ratios):.2f} "
      f"({min(ratios):.2f}-{max(ratios):.2f}) |")
for v in ("-tls1_3", "-tls1_2"):
    for mode, label in (("new", "full handshake"), ("reuse", "resumed")):
        k = [float(x[0]) for x in vals(f"kw_{mode}{v}")]
        n = [float(x[0]) for x in vals(f"ngx_{mode}{v}")]
        r = [a / b for a, b in zip(k, n) if b]
        print(f"| new connections/s, {label}, TLS {v[4:].replace('_', '.')} | {statistics.median(k):,.0f} | "
              f"{statistics.median(n):,.0f} | {statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f}) |")
PY
