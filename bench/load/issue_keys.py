#!/usr/bin/env python3
"""Creates users with keys through the admin API and prints one key per line.
Usage: issue_keys.py HOST:PORT ADMIN_TOKEN COUNT [USERS]"""
import http.client
import json
import sys

addr, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
users = int(sys.argv[4]) if len(sys.argv) > 4 else 100
host, port = addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port))
auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


def call(method, path, body):
    conn.request(method, path, json.dumps(body), auth)
    r = conn.getresponse()
    data = json.loads(r.read())
    if r.status >= 300:
        sys.exit(f"{method} {path}: {r.status} {data}")
    return data


made = 0
for u in range(users):
    user = call("POST", "/v1/users", {"name": f"load-{u}", "issue_key": False})["user"]["id"]
    for _ in range(count // users + (1 if u < count % users else 0)):
        print(call("POST", f"/v1/users/{user}/keys", {"name": "load"})["key"]["secret"])
        made += 1
