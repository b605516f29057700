"""Signed requests (RFC 9421, hmac-sha256) and Content-Digest (RFC 9530),
standard library only.

A key signs instead of travelling: the secret is HKDF-SHA256 of the key
(salt empty, info b"keyward request signing v1", 32 bytes), which keyward
derives the same way. A signature covers @method, @target-uri and, with a
body, content-digest, and carries created, keyid (the key's "key_…" id),
a random nonce and alg="hmac-sha256".

    headers = sign_request("POST", "https://api.example.com/v1/ai/jobs", body, key, key_id)

An application behind a front (nginx auth_request) that asks keyward about
signed requests checks the body itself:

    if not body_matches_content_digest(request.headers.get("Content-Digest", ""), body): refuse
"""

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import Dict, Optional
from urllib.parse import urlsplit

__all__ = ["signing_secret", "content_digest", "body_matches_content_digest", "sign_request",
           "target_uri"]

_INFO = b"keyward request signing v1"


def signing_secret(api_key: str) -> bytes:
    """HKDF-SHA256 (RFC 5869) of the key: extract with an empty salt, expand
    one block."""
    prk = hmac.new(b"\0" * 32, api_key.encode(), hashlib.sha256).digest()
    return hmac.new(prk, _INFO + b"\x01", hashlib.sha256).digest()


def content_digest(body: bytes) -> str:
    """The Content-Digest value of `body`: "sha-256=:<base64>:"."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


_MEMBER = re.compile(r"^([a-z*][a-z0-9_.*-]*)=:([A-Za-z0-9+/]*={0,2}):(;.*)?$")


def body_matches_content_digest(field: str, body: bytes) -> bool:
    """True if the Content-Digest `field` has a well-formed sha-256 member
    equal to the body's SHA-256. Other algorithms are not trusted; a field
    without sha-256, or one that does not parse, is False."""
    want = hashlib.sha256(body).digest()
    for member in field.split(","):
        m = _MEMBER.match(member.strip(" \t"))
        if not m:
            return False
        if m.group(1) != "sha-256":
            continue
        try:
            given = base64.b64decode(m.group(2), validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(given, want)
    return False


def target_uri(url: str) -> str:
    """@target-uri as keyward derives it: scheme and host in lower case, no
    default port, "/" for an empty path."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an absolute http(s) URL is needed, not {url!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = "[" + host + "]"
    port = parts.port
    if port is not None and port != (443 if scheme == "https" else 80):
        host += f":{port}"
    uri = f"{scheme}://{host}{parts.path or '/'}"
    return uri + ("?" + parts.query if parts.query else "")


def _sf_string(s: str) -> str:
    if any(ord(c) < 0x20 or ord(c) > 0x7E for c in s):
        raise ValueError("a signature parameter must be printable ASCII")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sign_request(method: str, url: str, body: Optional[bytes], api_key: str, key_id: str, *,
                 created: Optional[int] = None, nonce: Optional[str] = None,
                 label: str = "sig") -> Dict[str, str]:
    """The headers that sign one request: Signature-Input, Signature and,
    with a body, Content-Digest. `method` exactly as it will be sent."""
    components = ["@method", "@target-uri"]
    lines = [f'"@method": {method}', f'"@target-uri": {target_uri(url)}']
    out: Dict[str, str] = {}
    if body:
        out["Content-Digest"] = content_digest(body)
        components.append("content-digest")
        lines.append(f'"content-digest": {out["Content-Digest"]}')
    params = (f"({' '.join(_sf_string(c) for c in components)})"
              f";created={int(time.time()) if created is None else int(created)}"
              f";keyid={_sf_string(key_id)}"
              f";nonce={_sf_string(nonce or secrets.token_urlsafe(16))}"
              f';alg="hmac-sha256"')
    lines.append(f'"@signature-params": {params}')
    mac = hmac.new(signing_secret(api_key), "\n".join(lines).encode(), hashlib.sha256).digest()
    out["Signature-Input"] = f"{label}={params}"
    out["Signature"] = f"{label}=:{base64.b64encode(mac).decode()}:"
    return out
