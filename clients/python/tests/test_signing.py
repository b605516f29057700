"""keyward.signing and signed calls: the same headers as keyward's own
signer for the same inputs, signed calls through keyward.Client (bearer
refused for a key that must sign), and DRF views authenticated by a signed
request whose body must match its Content-Digest."""

import json
import subprocess
import uuid

import pytest
from django.conf import settings
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

import keyward
from keyward import drf
from keyward.signing import body_matches_content_digest, content_digest, sign_request, target_uri
from conftest import keyward_bin


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


KEY = "kw_live_0123456789abcdefghijABCDEFGHIJ000000"


def test_the_same_headers_as_keywards_own_signer():
    body = b'{"job_id":"x","task":"echo","payload":{}}'
    mine = sign_request("POST", "https://API.example.com:443/v1/ai/jobs?a=1", body, KEY, "key_abc",
                        created=1700000000, nonce="fixed-nonce")
    out = subprocess.run([keyward_bin(), "--json", "sign", "-X", "POST", "--key-id", "key_abc", "--created",
                          "1700000000", "--nonce", "fixed-nonce", "-d", body.decode(),
                          "https://API.example.com:443/v1/ai/jobs?a=1"],
                         input=KEY + "\n", capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == mine


def test_target_uri_and_digests():
    assert target_uri("HTTP://Host:80") == "http://host/"
    assert target_uri("https://h:8443/p?q=1") == "https://h:8443/p?q=1"
    assert target_uri("http://[::1]:8080/x") == "http://[::1]:8080/x"
    with pytest.raises(ValueError):
        target_uri("/relative")
    d = content_digest(b"abc")
    assert body_matches_content_digest(d, b"abc")
    assert body_matches_content_digest("sha-512=:AAAA:, " + d, b"abc")
    assert not body_matches_content_digest(d, b"abd")
    assert not body_matches_content_digest("sha-512=:AAAA:", b"abc")
    assert not body_matches_content_digest("garbage", b"abc")
    assert not body_matches_content_digest("", b"abc")


def test_signed_calls_through_the_client(admin):
    user = admin.create_user("Signer", external_id=unique("signer"))["user"]
    key = admin.issue_key(user["id"], require_signature=True)["key"]
    base = f"http://{admin._host}:{admin._port}"
    bearer = keyward.Client(base, api_key=key["secret"], timeout=5)
    with pytest.raises(keyward.Unauthenticated) as refused:
        bearer.list_jobs()
    assert refused.value.code == "SIGNATURE_REQUIRED"
    signed = keyward.Client(base, api_key=key["secret"], key_id=key["id"], timeout=5)
    job = signed.submit_job(unique("signed"), "echo", {"n": 1})["job"]
    assert job["user_id"] == user["id"] and job["key_id"] == key["id"]
    assert signed.wait_job(job["id"])["job"]["status"] == "succeeded"
    entry = signed.enqueue(unique("queued"), "echo", {"n": 2})["entry"]
    assert signed.get_queue_entry(entry["id"])["entry"]["status"] == "queued"
    # A wrong key id: the signature does not hold.
    other = keyward.Client(base, api_key=key["secret"], key_id="key_000000000000000000000", timeout=5)
    with pytest.raises(keyward.Unauthenticated) as unknown:
        other.list_jobs()
    assert unknown.value.code == "NOT_FOUND"


class Echo(APIView):
    authentication_classes = [drf.KeywardAuthentication]
    permission_classes = [drf.HasScope]
    required_scopes = ()

    def post(self, request):
        return Response({"keyward_user": request.auth.user_id, "got": request.data})


def test_a_drf_view_authenticates_a_signed_request(server, admin):
    settings.KEYWARD = {"URL": server.url, "SERVICE_USER": "service"}
    from django.contrib.auth.models import User
    User.objects.get_or_create(username="service")
    created = admin.create_user("Via DRF")
    key = created["key"]
    body = json.dumps({"order": 7}).encode()
    factory = APIRequestFactory()

    def post(headers, data=body):
        request = factory.post("/orders", data=data, content_type="application/json",
                               **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
        response = Echo.as_view()(request)
        response.render()
        return response

    h = sign_request("POST", "http://testserver/orders", body, key["secret"], key["id"])
    ok = post(h)
    assert ok.status_code == 200, ok.content
    assert ok.data["keyward_user"] == created["user"]["id"]
    assert ok.data["got"] == {"order": 7}
    # Replayed: refused by keyward.
    again = post(h)
    assert again.status_code == 401 and again.data["detail"].code == "REPLAYED"
    # Another body under the same digest: refused here before keyward is asked.
    h2 = sign_request("POST", "http://testserver/orders", body, key["secret"], key["id"])
    swapped = post(h2, json.dumps({"order": 8}).encode())
    assert swapped.status_code == 401 and swapped.data["detail"].code == "SIGNATURE_INVALID"
    # Signed for another path.
    h3 = sign_request("POST", "http://testserver/other", body, key["secret"], key["id"])
    moved = post(h3)
    assert moved.status_code == 401 and moved.data["detail"].code == "SIGNATURE_INVALID"
