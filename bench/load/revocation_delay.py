#!/usr/bin/env python3
"""Revocation delay, the measurement both revocation benchmarks share.

  revocation_delay.py ISSUER POLLED KEYS LABEL [--cli KEYWARD_BIN DB]

Issues KEYS keys through ISSUER's admin API (token: $KEYWARD_ADMIN_TOKEN),
verifies each once on POLLED (so that server caches it), then revokes them
one by one - through ISSUER's admin API, or with `keyward key revoke` when
--cli is given - and after each revoke returns polls POLLED's /v1/authz
with that key, over a kept-alive connection, until it answers 401. Prints
p50/p99/max of revoke-to-first-401 after LABEL.
"""
import http.client
import json
import os
import subprocess
import sys
import time


def connect(addr):
    host, port = addr.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port))


def call(c, method, path, headers=None, body=None):
    c.request(method, path, body, headers or {})
    r = c.getresponse()
    return r.status, r.read()


def main():
    issuer, polled, n, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    cli = sys.argv[6:8] if len(sys.argv) >= 8 and sys.argv[5] == "--cli" else None
    ci, cp = connect(issuer), connect(polled)
    admin = {"Authorization": "Bearer " + os.environ["KEYWARD_ADMIN_TOKEN"]}
    _, body = call(ci, "POST", "/v1/users", admin, json.dumps({"name": "bench", "issue_key": False}))
    user = json.loads(body)["user"]["id"]
    keys = []
    for _ in range(n):
        _, body = call(ci, "POST", f"/v1/users/{user}/keys", admin, "{}")
        k = json.loads(body)["key"]
        keys.append((k["id"], k["secret"]))
    for _, secret in keys:  # every key cached by the polled server
        assert call(cp, "GET", "/v1/authz", {"Authorization": "Api-Key " + secret})[0] == 200
    delays = []
    for key_id, secret in keys:
        if cli:
            subprocess.run([cli[0], "--db", cli[1], "key", "revoke", key_id], check=True,
                           stdout=subprocess.DEVNULL)
        else:
            assert call(ci, "POST", f"/v1/keys/{key_id}/revoke", admin)[0] == 200
        t = time.perf_counter()
        while call(cp, "GET", "/v1/authz", {"Authorization": "Api-Key " + secret})[0] != 401:
            if time.perf_counter() - t > 10:
                raise SystemExit("a revocation did not arrive within 10 s")
        delays.append((time.perf_counter() - t) * 1000)
    delays.sort()
    p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print(f"{label} ({n} keys): p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, max {delays[-1]:.1f} ms")


if __name__ == "__main__":
    main()
