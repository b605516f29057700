#!/usr/bin/env python3
"""Creates users with keys through the admin API and prints one key per line,
users interleaved (user 1's first key, user 2's first key, …, user 1's second
key, …): scripts that take the keys in turn send consecutive requests for
different users, as many independent clients would, and never a run of
requests for one user that lands on the same database pages.
Usage: issue_keys.py HOST:PORT ADMIN_TOKEN COUNT [USERS]
Also a module: Admin(addr, token).call(method, path, body) for other scripts."""
import http.client
import itertools
import json
import sys


class Admin:
    """The admin API over one keep-alive connection; exits on any refusal."""

    def __init__(self, addr: str, token: str):
        host, port = addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port))
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def call(self, method, path, body):
        self.conn.request(method, path, json.dumps(body), self.headers)
        r = self.conn.getresponse()
        data = json.loads(r.read())
        if r.status >= 300:
            sys.exit(f"{method} {path}: {r.status} {data}")
        return data


def main():
    addr, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    users = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    admin = Admin(addr, token)
    per_user = []
    for u in range(users):
        user = admin.call("POST", "/v1/users", {"name": f"load-{u}", "issue_key": False})["user"]["id"]
        per_user.append([admin.call("POST", f"/v1/users/{user}/keys", {"name": "load"})["key"]["secret"]
                         for _ in range(count // users + (1 if u < count % users else 0))])
    made = 0
    for round_keys in itertools.zip_longest(*per_user):
        for key in round_keys:
            if key is not None:
                print(key)
                made += 1
    print(f"issued {made} keys for {users} users", file=sys.stderr)


if __name__ == "__main__":
    main()
