#!/usr/bin/env bash
# Signed requests over HTTP: GET /v1/authz with a bearer Api-Key against the
# same with an RFC 9421 signature (forwarded method and URI, as nginx asks),
# interleaved — bearer, signed, bearer, signed… — with the ratio taken
# within each round and the median shown. Every signed request has a nonce
# of its own (pre-signed by signed_requests.py), so none is a replay.
#
#   bench/load/signed.sh [ROUNDS] [SECONDS] [CONNECTIONS]     (default 3 3 64)
#
# keyward --threads 1 (KEYWARD_THREADS=N for N), access log off, 100 keys of 100 users, wrk -t1.
# Touches only 127.0.0.1; stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"; duration="${2:-3}"; conns="${3:-64}"
kw="${KEYWARD_BIN:-$PWD/build/release/keyward}"
[ -x "$kw" ] || { echo "build first: make build" >&2; exit 2; }
work="$(mktemp -d)"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

export KEYWARD_ADMIN_TOKEN=load-test-admin-token
# A window long enough for requests signed before the run; room for every nonce.
KEYWARD_ACCESS_LOG=off KEYWARD_SIGNATURE_WINDOW=1h KEYWARD_NONCE_CAPACITY=20000000 \
  KEYWARD_NONCE_CAPACITY_PER_KEY=20000000 \
  "$kw" --db "$work/load.db" serve --listen 127.0.0.1:0 --threads "${KEYWARD_THREADS:-1}" > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do grep -q '^listening on' "$work/out" && break; sleep 0.05; done
addr="$(awk '/^listening on/ {print $3}' "$work/out")"
total=$((rounds * duration * 60000))  # more than keyward answers in the signed rounds
echo "pre-signing $total requests…" >&2
bench/load/signed_requests.py "$addr" "$KEYWARD_ADMIN_TOKEN" 100 "$total" "$work/signed.txt" "$work/keys.txt"
export KEYS_FILE="$work/keys.txt" SIGNED_FILE="$work/signed.txt"

run() {  # SCRIPT → "rps p50_us p99_us non2xx"
  wrk -t1 -c"$conns" -d"${duration}s" -s "$1" "http://$addr" | awk '/^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["rps"], v["p50_us"], v["p99_us"], v["non2xx"] }'
}
from=1
printf '%-6s %12s %10s %12s %10s %8s %7s\n' round bearer_rps p99_us signed_rps p99_us non2xx ratio
ratios=()
for r in $(seq "$rounds"); do
  read -r b_rps _ b_p99 _ <<<"$(run bench/load/authz.lua)"
  read -r s_rps _ s_p99 s_bad <<<"$(SIGNED_FROM=$from run bench/load/signed.lua)"
  from=$((from + s_rps * duration + 1000))
  ratio="$(python3 -c "print(f'{$s_rps / $b_rps:.2f}')")"
  ratios+=("$ratio")
  printf '%-6s %12s %10s %12s %10s %8s %7s\n' "$r" "$b_rps" "$b_p99" "$s_rps" "$s_p99" "$s_bad" "$ratio"
done
echo "median signed/bearer: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
