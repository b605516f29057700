#!/usr/bin/env bash
# Installs keyward into a temporary prefix, builds examples/client against it
# with find_package(keyward), and runs the example against a live server.
# Usage: consumer_test.sh SOURCE_DIR BUILD_DIR KEYWARD_BIN
set -euo pipefail
src="$1"; build="$2"; kw="$3"
work="$(mktemp -d)"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

cmake --install "$build" --prefix "$work/prefix" > /dev/null
cmake -S "$src/examples/client" -B "$work/example" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/example" > /dev/null

export KEYWARD_ADMIN_TOKEN=consumer-test-token-0123456789
"$kw" --db "$work/k.db" serve --listen 127.0.0.1:0 --threads 1 > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do grep -q '^listening on' "$work/out" 2>/dev/null && break; sleep 0.05; done
addr="$(awk '/^listening on/ {print $3; exit}' "$work/out")"
created="$(curl -sS -XPOST "http://$addr/v1/users" -H "Authorization: Bearer $KEYWARD_ADMIN_TOKEN" \
        -d '{"name":"consumer"}')"
key="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["key"]["secret"])' <<<"$created")"
key_id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["key"]["id"])' <<<"$created")"
out="$("$work/example/whose_key" "http://$addr" "$work/k.db" "$key" "$key_id")"
echo "$out"
grep -q '^http: 200 usr_' <<<"$out"
grep -q '^in-process: VALID usr_' <<<"$out"
grep -q '^signed: 404$' <<<"$out"
echo "consumer example: ok"
