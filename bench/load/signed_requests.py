#!/usr/bin/env python3
"""Issues keys through the admin API and writes pre-signed requests for
wrk (signed.lua): one per line, "Signature-Input<TAB>Signature", each for
GET https://api.example.com/v1/orders with a nonce of its own, keys taken in
turn. Also writes the keys' secrets, one per line, for the bearer rounds.
Usage: signed_requests.py HOST:PORT ADMIN_TOKEN KEYS REQUESTS SIGNED_OUT KEYS_OUT"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python", "src"))
from issue_keys import Admin  # noqa: E402
from keyward.signing import sign_request  # noqa: E402

addr, token, n_keys, n_requests, signed_out, keys_out = sys.argv[1:7]
admin = Admin(addr, token)
keys = []
for u in range(int(n_keys)):
    k = admin.call("POST", "/v1/users", {"name": f"signed-load-{u}"})["key"]
    keys.append((k["secret"], k["id"]))
with open(keys_out, "w") as f:
    f.writelines(secret + "\n" for secret, _ in keys)
with open(signed_out, "w") as f:
    for i in range(int(n_requests)):
        secret, key_id = keys[i % len(keys)]
        h = sign_request("GET", "https://api.example.com/v1/orders", None, secret, key_id, nonce=f"n{i}")
        f.write(h["Signature-Input"] + "\t" + h["Signature"] + "\n")
