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
python3 - "$addr" "$n" "$kw" "$work/r.db" <<'PY'
import http.client, json, subprocess, sys, time
addr, n, kw, db = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
host, port = addr.rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port))
def call(method, path, headers=None, body=None):
    c.request(method, path, body, headers or {})
    r = c.getresponse(); data = r.read()
    return r.status, data
admin = {"Authorization": "Bearer revocation-bench-admin-token"}
st, body = call("POST", "/v1/users", admin, json.dumps({"name": "bench", "issue_key": False}))
user = json.loads(body)["user"]["id"]
keys = []
for i in range(n):
    st, body = call("POST", f"/v1/users/{user}/keys", admin, "{}")
    k = json.loads(body)["key"]; keys.append((k["id"], k["secret"]))
for _, secret in keys:  # every key cached by the server
    assert call("GET", "/v1/authz", {"Authorization": "Api-Key " + secret})[0] == 200
delays = []
for key_id, secret in keys:
    subprocess.run([kw, "--db", db, "key", "revoke", key_id], check=True, stdout=subprocess.DEVNULL)
    t = time.perf_counter()
    while call("GET", "/v1/authz", {"Authorization": "Api-Key " + secret})[0] != 401:
        if time.perf_counter() - t > 10: raise SystemExit("a revocation did not arrive within 10 s")
    delays.append((time.perf_counter() - t) * 1000)
delays.sort()
p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
print(f"revocation by the CLI -> first 401 from the server ({n} keys): "
      f"p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, max {delays[-1]:.1f} ms")
PY
