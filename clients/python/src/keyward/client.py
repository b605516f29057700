"""keyward.Client: keyward's HTTP API from Python, standard library only.

One Client serves many threads: each thread keeps its own keep-alive
connection. Every call has a timeout; a refused call raises a KeywardError
subclass carrying keyward's error code (keyward.errors). Calls return
keyward's JSON documents as dicts, exactly as docs/api.md describes them.
"""

import hashlib
import http.client
import json
import ssl
import threading
import time
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple
from urllib.parse import quote, urlencode, urlsplit

from .errors import ConnectionFailed, KeywardError, error_for
from .signing import sign_request

__all__ = ["Client", "job_scope"]

Json = Dict[str, Any]


def job_scope(job_id: str) -> str:
    """The scope of a key that may submit (and read) exactly one job:
    "jobs:submit:" + the hex SHA-256 of its job_id."""
    return "jobs:submit:" + hashlib.sha256(job_id.encode()).hexdigest()


class Client:
    """A keyward server at `base_url` ("http://host:port" or "https://…").

    api_key:     the key presented on the compute, queue and authz routes
                 (Authorization: Api-Key); each such call may override it.
    key_id:      the key's id ("key_…"): given, requests are signed with the
                 key (RFC 9421, hmac-sha256; keyward.signing) and the key
                 itself never leaves the process. Each call may override it.
    admin_token: for the admin routes (users, keys, usage).
    timeout:     seconds for connecting and for each read.
    ca_file:     for https: the CA bundle that signs the server's certificate
                 (default: the system's). Certificates are always verified.
    client_cert, client_key: for mutual TLS, a PEM certificate and its key.
    """

    def __init__(self, base_url: str = "http://127.0.0.1:8080", *, api_key: Optional[str] = None,
                 key_id: Optional[str] = None, admin_token: Optional[str] = None, timeout: float = 10.0,
                 ca_file: Optional[str] = None, client_cert: Optional[str] = None,
                 client_key: Optional[str] = None):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http://host:port or https://host:port, not {base_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/")
        self.api_key = api_key
        self.key_id = key_id
        self.admin_token = admin_token
        self.timeout = timeout
        self._ssl = None
        if parts.scheme == "https":
            self._ssl = ssl.create_default_context(cafile=ca_file)
            self._ssl.minimum_version = ssl.TLSVersion.TLSv1_2
            if client_cert:
                self._ssl.load_cert_chain(client_cert, client_key)
        self._local = threading.local()

    # --- the wire ------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._scheme == "https":
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                                   context=self._ssl)
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
            self._local.used = False
        return conn

    def close(self) -> None:
        """Closes this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def request(self, method: str, path: str, *, body: Optional[Json] = None,
                query: Optional[Dict[str, Any]] = None, auth: Optional[str] = None,
                sign: Optional[Tuple[str, str]] = None) -> Json:
        """Sends one request; returns the JSON body of a 2xx answer, raises a
        KeywardError for anything else. `auth` is the Authorization value;
        `sign` a (key, key id) that signs the request instead."""
        target = self._prefix + path
        if query:
            pairs = [(k, v) for k, v in query.items() if v is not None]
            if pairs:
                target += "?" + urlencode(pairs, doseq=True)
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = auth
        response, data = self._send(method, target, payload, headers, sign)
        return self._decode(method, path, response, data)

    def _send(self, method: str, target: str, payload: Optional[bytes], headers: Dict[str, str],
              sign: Optional[Tuple[str, str]] = None) -> Tuple[http.client.HTTPResponse, bytes]:
        """One exchange on this thread's connection (retried once on a new
        connection if a kept-alive one turns out closed)."""
        for attempt in (1, 2):
            if sign:  # a fresh nonce for every attempt; sign_request normalizes the URL
                host = f"[{self._host}]" if ":" in self._host else self._host
                headers.update(sign_request(method, f"{self._scheme}://{host}:{self._port}{target}", payload,
                                            sign[0], sign[1]))
            conn = self._connection()
            reused = self._local.used
            try:
                conn.request(method, target, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self._local.used = True
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                self.close()
                # A keep-alive connection the server had closed: once more on
                # a new connection. keyward's writes are idempotent by id or
                # job_id where it matters; nothing was answered.
                if reused and attempt == 1:
                    continue
                raise ConnectionFailed(f"{method} {target}: {e}") from e
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise ConnectionFailed(f"{method} {target}: {e}") from e
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response, data
        raise AssertionError("unreachable")

    def authorize_signed(self, method: str, uri: str, headers: Dict[str, str], body_length: int = 0, *,
                         scopes: Optional[Sequence[str]] = None,
                         environment: Optional[str] = None) -> Json:
        """Asks keyward (GET /v1/authz) whether a signed request another
        server received is authentic: `method` and absolute `uri` as the
        client sent them, `headers` its Signature-Input, Signature and
        Content-Digest. Returns {"valid": True, "principal": {…}} or raises
        the refusal. The caller checks the body against Content-Digest
        (keyward.signing.body_matches_content_digest)."""
        send: Dict[str, str] = {"Accept": "application/json", "X-Keyward-Original-Method": method,
                                "X-Keyward-Original-Uri": uri, "X-Keyward-Original-Length": str(body_length)}
        for name in ("Signature-Input", "Signature", "Content-Digest"):
            value = headers.get(name)
            if value:
                send[name] = value
        query = [("scope", s) for s in (scopes or ())]
        if environment:
            query.append(("environment", environment))
        target = self._prefix + "/v1/authz" + ("?" + urlencode(query) if query else "")
        response, data = self._send("GET", target, None, send)
        self._decode("GET", "/v1/authz", response, data)  # raises a refusal
        scopes_text = response.getheader("X-Keyward-Scopes", "")
        return {"valid": True, "code": "VALID",
                "principal": {"user_id": response.getheader("X-Keyward-User-Id"),
                              "external_id": response.getheader("X-Keyward-External-Id"),
                              "key_id": response.getheader("X-Keyward-Key-Id"),
                              "environment": response.getheader("X-Keyward-Environment"),
                              "scopes": scopes_text.split() if scopes_text else []}}

    @staticmethod
    def _decode(method: str, path: str, response: http.client.HTTPResponse, data: bytes) -> Json:
        try:
            doc = json.loads(data) if data else {}
        except ValueError:
            doc = None
        if 200 <= response.status < 300:
            if not isinstance(doc, dict):
                raise KeywardError(f"{method} {path}: the answer is not a JSON object", status=response.status)
            return doc
        code, message = "", f"HTTP {response.status}"
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            code = str(doc["error"].get("code", ""))
            message = str(doc["error"].get("message", message))
        retry = response.getheader("Retry-After")
        raise error_for(response.status, code, message, int(retry) if retry and retry.isdigit() else None)

    def _admin(self) -> str:
        if not self.admin_token:
            raise KeywardError("this call needs admin_token")
        return "Bearer " + self.admin_token

    def _key(self, api_key: Optional[str], key_id: Optional[str] = None) -> Dict[str, Any]:
        """How a call authenticates: a bearer Api-Key, or signed when a key
        id is known (the call's, else the client's when the key is too)."""
        key = api_key or self.api_key
        if not key:
            raise KeywardError("this call needs an API key (api_key)")
        kid = key_id or (self.key_id if not api_key or api_key == self.api_key else None)
        if kid:
            return {"sign": (key, kid)}
        return {"auth": "Api-Key " + key}

    # --- users (admin) -------------------------------------------------------

    def create_user(self, name: str, *, external_id: Optional[str] = None, email: Optional[str] = None,
                    plan: Optional[Json] = None, issue_key: bool = True, key_name: Optional[str] = None) -> Json:
        """Creates a user and (unless issue_key=False) its first live key:
        {"user": …, "key": {…, "secret"} | null}. The secret is shown once."""
        body: Json = {"name": name, "issue_key": issue_key}
        for k, v in (("external_id", external_id), ("email", email), ("plan", plan), ("key_name", key_name)):
            if v is not None:
                body[k] = v
        return self.request("POST", "/v1/users", body=body, auth=self._admin())

    def get_user(self, user_id: str) -> Json:
        return self.request("GET", "/v1/users/" + quote(user_id, safe=""), auth=self._admin())

    def find_user(self, external_id: str) -> Optional[Json]:
        """The user with this external id, or None."""
        page = self.request("GET", "/v1/users", query={"external_id": external_id}, auth=self._admin())
        users = page.get("users") or []
        return users[0] if users else None

    def list_users(self, *, limit: Optional[int] = None, after: Optional[str] = None) -> Json:
        """One page: {"users": […], "next": cursor | null}."""
        return self.request("GET", "/v1/users", query={"limit": limit, "after": after}, auth=self._admin())

    def iter_users(self, page_size: int = 100) -> Iterator[Json]:
        after = None
        while True:
            page = self.list_users(limit=page_size, after=after)
            yield from page.get("users", [])
            after = page.get("next")
            if not after:
                return

    def update_user(self, user_id: str, **fields: Any) -> Json:
        """PATCH: name, external_id, email, plan, disabled."""
        return self.request("PATCH", "/v1/users/" + quote(user_id, safe=""), body=fields, auth=self._admin())

    def delete_user(self, user_id: str) -> Json:
        """Deletes the user and, with it, its keys, jobs and usage."""
        return self.request("DELETE", "/v1/users/" + quote(user_id, safe=""), auth=self._admin())

    def usage(self, user_id: str, *, start: Optional[str] = None, end: Optional[str] = None) -> Json:
        """The user's usage between two RFC 3339 times (default: this month)."""
        return self.request("GET", f"/v1/users/{quote(user_id, safe='')}/usage",
                            query={"from": start, "to": end}, auth=self._admin())

    # --- keys (admin) --------------------------------------------------------

    def issue_key(self, user_id: str, *, name: Optional[str] = None, environment: Optional[str] = None,
                  scopes: Optional[Sequence[str]] = None, ttl: Optional[str] = None,
                  expires_at: Optional[str] = None, require_signature: Optional[bool] = None) -> Json:
        """Issues a key: {"key": {…, "secret"}}; ttl like "30d", "1h".
        require_signature: the key is refused as a bearer Api-Key."""
        body: Json = {}
        for k, v in (("name", name), ("environment", environment), ("ttl", ttl), ("expires_at", expires_at),
                     ("require_signature", require_signature)):
            if v is not None:
                body[k] = v
        if scopes is not None:
            body["scopes"] = list(scopes)
        return self.request("POST", f"/v1/users/{quote(user_id, safe='')}/keys", body=body, auth=self._admin())

    def list_keys(self, user_id: str, *, limit: Optional[int] = None, after: Optional[str] = None) -> Json:
        return self.request("GET", f"/v1/users/{quote(user_id, safe='')}/keys",
                            query={"limit": limit, "after": after}, auth=self._admin())

    def get_key(self, key_id: str) -> Json:
        return self.request("GET", "/v1/keys/" + quote(key_id, safe=""), auth=self._admin())

    def revoke_key(self, key_id: str) -> Json:
        return self.request("POST", f"/v1/keys/{quote(key_id, safe='')}/revoke", auth=self._admin())

    def revoke_all_keys(self, user_id: str) -> Json:
        return self.request("POST", f"/v1/users/{quote(user_id, safe='')}/keys/revoke", auth=self._admin())

    def rotate_key(self, key_id: str, *, grace: Optional[str] = None) -> Json:
        """A new key that works at once; the old one until the grace ends:
        {"key": {…, "secret"}, "old_key": …}."""
        body: Json = {} if grace is None else {"grace": grace}
        return self.request("POST", f"/v1/keys/{quote(key_id, safe='')}/rotate", body=body, auth=self._admin())

    def delete_key(self, key_id: str) -> Json:
        return self.request("DELETE", "/v1/keys/" + quote(key_id, safe=""), auth=self._admin())

    def job_key(self, user_id: str, job_id: str, *, ttl: str = "1h", environment: Optional[str] = None) -> Json:
        """A key of `user_id` that may submit and read the one job `job_id`
        and nothing else, expiring after `ttl`: what a worker holding only a
        user id presents to the compute API (docs/workers.md)."""
        return self.issue_key(user_id, name="job " + job_id[:100], environment=environment,
                              scopes=[job_scope(job_id)], ttl=ttl)

    # --- verification --------------------------------------------------------

    def verify(self, key: str, *, scopes: Optional[Sequence[str]] = None, environment: Optional[str] = None,
               cost: Optional[int] = None) -> Json:
        """Who `key` belongs to: {"valid", "code", "principal", …}. A refused
        key is an answer ("valid": false and its code), not an exception."""
        body: Json = {"key": key}
        if scopes:
            body["scopes"] = list(scopes)
        if environment:
            body["environment"] = environment
        if cost is not None:
            body["cost"] = cost
        return self.request("POST", "/v1/keys/verify", body=body)

    # --- compute (api key) ---------------------------------------------------

    def submit_job(self, job_id: str, task: str, payload: Optional[Json] = None, *,
                   api_key: Optional[str] = None, key_id: Optional[str] = None) -> Json:
        """Runs a job as the key's user: {"job": …}. job_id is the
        idempotency key: submitting it again returns the same job, uncharged."""
        body: Json = {"job_id": job_id, "task": task, "payload": payload or {}}
        return self.request("POST", "/v1/ai/jobs", body=body, **self._key(api_key, key_id))

    def get_job(self, job_id: str, *, api_key: Optional[str] = None, key_id: Optional[str] = None) -> Json:
        """By keyward's job id (the "id" of submit_job's job)."""
        return self.request("GET", "/v1/ai/jobs/" + quote(job_id, safe=""), **self._key(api_key, key_id))

    def wait_job(self, job_id: str, *, timeout: float = 30.0, api_key: Optional[str] = None,
                 key_id: Optional[str] = None) -> Json:
        """Polls get_job until the job has succeeded or failed; returns its
        {"job": …}. Raises KeywardError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            doc = self.get_job(job_id, api_key=api_key, key_id=key_id)
            if doc.get("job", {}).get("status") in ("succeeded", "failed"):
                return doc
            if time.monotonic() >= deadline:
                raise KeywardError(f"job {job_id} did not finish within {timeout} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def list_jobs(self, *, limit: Optional[int] = None, after: Optional[str] = None,
                  api_key: Optional[str] = None, key_id: Optional[str] = None) -> Json:
        return self.request("GET", "/v1/ai/jobs", query={"limit": limit, "after": after},
                            **self._key(api_key, key_id))

    # --- queue (api key) -----------------------------------------------------

    def enqueue(self, job_id: str, task: str, payload: Optional[Json] = None, *,
                api_key: Optional[str] = None, key_id: Optional[str] = None) -> Json:
        """Queues a job for `keyward worker` as the key's user: {"entry": …}."""
        body: Json = {"job_id": job_id, "task": task, "payload": payload or {}}
        return self.request("POST", "/v1/queue/jobs", body=body, **self._key(api_key, key_id))

    def get_queue_entry(self, entry_id: str, *, api_key: Optional[str] = None,
                        key_id: Optional[str] = None) -> Json:
        return self.request("GET", "/v1/queue/jobs/" + quote(entry_id, safe=""), **self._key(api_key, key_id))

    def list_queue(self, *, limit: Optional[int] = None, after: Optional[str] = None,
                   api_key: Optional[str] = None, key_id: Optional[str] = None) -> Json:
        return self.request("GET", "/v1/queue/jobs", query={"limit": limit, "after": after},
                            **self._key(api_key, key_id))

    # --- health ----------------------------------------------------------------

    def ready(self) -> Json:
        """/readyz: raises Unavailable when the server cannot serve."""
        return self.request("GET", "/readyz")
