"""keyward.Client against a real `keyward serve`: admin calls, compute and
queue calls, typed errors with keyward's codes, connection reuse."""

import socket
import uuid

import pytest

import keyward
from keyward import job_scope


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_users_keys_rotation_revocation_and_usage(admin):
    ext = unique("acme")
    created = admin.create_user("Acme", external_id=ext, email="ops@acme.example",
                                plan={"monthly_credits": 100})
    user, key = created["user"], created["key"]
    assert key["secret"].startswith("kw_live_")
    assert admin.get_user(user["id"])["user"]["external_id"] == ext
    assert admin.find_user(ext)["id"] == user["id"]
    assert admin.find_user(unique("nobody")) is None

    v = admin.verify(key["secret"])
    assert v["valid"] and v["code"] == "VALID"
    assert v["principal"]["user_id"] == user["id"]

    test_key = admin.issue_key(user["id"], environment="test", name="staging", ttl="30d")["key"]
    assert test_key["environment"] == "test" and test_key["expires_at"]
    assert {k["id"] for k in admin.list_keys(user["id"])["keys"]} == {key["id"], test_key["id"]}

    # Jobs as the user; usage charged to the user.
    live = keyward.Client(admin_token=None, api_key=key["secret"], timeout=5,
                          base_url=f"http://{admin._host}:{admin._port}")
    job = live.submit_job(unique("job"), "wordcount", {"text": "a b c"})["job"]
    assert job["user_id"] == user["id"]
    done = live.wait_job(job["id"])["job"]
    assert done["status"] == "succeeded" and done["result"]["words"] == 3
    assert any(j["id"] == job["id"] for j in live.list_jobs()["jobs"])
    usage = admin.usage(user["id"])
    assert usage["user_id"] == user["id"]

    # Rotation: the new key works at once, the old one until its grace ends.
    rotated = admin.rotate_key(key["id"], grace="1h")
    assert admin.verify(rotated["key"]["secret"])["valid"]
    assert admin.verify(key["secret"])["valid"]

    # Revocation: refused with its code, as an answer from verify and as an
    # exception from the compute API.
    admin.revoke_key(rotated["key"]["id"])
    assert admin.verify(rotated["key"]["secret"])["code"] == "REVOKED"
    with pytest.raises(keyward.Unauthenticated) as e:
        live.submit_job(unique("job"), "echo", api_key=rotated["key"]["secret"])
    assert e.value.code == "REVOKED" and e.value.status == 401

    assert admin.revoke_all_keys(user["id"])["revoked"] >= 1
    admin.update_user(user["id"], name="Acme Corp", disabled=True)
    assert admin.get_user(user["id"])["user"]["name"] == "Acme Corp"
    admin.delete_user(user["id"])
    with pytest.raises(keyward.NotFound) as e:
        admin.get_user(user["id"])
    assert e.value.code == "NOT_FOUND"


def test_listing_pages_through_every_user(admin):
    ids = {admin.create_user("Paged", external_id=unique("paged"), issue_key=False)["user"]["id"] for _ in range(5)}
    seen = {u["id"] for u in admin.iter_users(page_size=2)}
    assert ids <= seen


def test_errors_carry_keywards_codes(admin):
    ext = unique("dup")
    admin.create_user("Dup", external_id=ext)
    with pytest.raises(keyward.Conflict) as e:
        admin.create_user("Dup again", external_id=ext)
    assert e.value.status == 409 and e.value.code
    with pytest.raises(keyward.BadRequest) as e:
        admin.create_user("")
    assert e.value.code == "INVALID_ARGUMENT"
    wrong = keyward.Client(f"http://{admin._host}:{admin._port}", admin_token="not-the-token", timeout=5)
    with pytest.raises(keyward.Unauthenticated):
        wrong.list_users()
    with pytest.raises(keyward.KeywardError):
        keyward.Client(f"http://{admin._host}:{admin._port}").list_users()  # no token at all
    assert admin.verify("kw_live_short")["code"] == "MALFORMED"


def test_a_job_key_submits_its_one_job_and_nothing_else(admin):
    user = admin.create_user("Worker's user", external_id=unique("w"), issue_key=False)["user"]
    job_id = unique("nightly")
    k = admin.job_key(user["id"], job_id, ttl="10m")["key"]
    assert k["scopes"] == [job_scope(job_id)]
    c = keyward.Client(f"http://{admin._host}:{admin._port}", api_key=k["secret"], timeout=5)
    assert c.submit_job(job_id, "echo", {"x": 1})["job"]["user_id"] == user["id"]
    with pytest.raises(keyward.Forbidden) as e:
        c.submit_job(unique("other"), "echo")
    assert e.value.code == "INSUFFICIENT_SCOPE"


def test_the_queue(admin):
    created = admin.create_user("Queued", external_id=unique("q"))
    c = keyward.Client(f"http://{admin._host}:{admin._port}", api_key=created["key"]["secret"], timeout=5)
    entry = c.enqueue(unique("qjob"), "echo", {"n": 1})["entry"]
    assert entry["status"] == "queued" and entry["user_id"] == created["user"]["id"]
    assert c.get_queue_entry(entry["id"])["entry"]["id"] == entry["id"]
    assert any(e["id"] == entry["id"] for e in c.list_queue()["entries"])


def test_one_connection_is_reused_and_an_unreachable_server_is_a_clear_error(admin):
    admin.ready()
    conn = admin._local.conn
    for _ in range(5):
        admin.ready()
    assert admin._local.conn is conn  # keep-alive: no new connection per call

    # A port bound and not listening: refused, and no other test's server can
    # take it meanwhile (as it could once released).
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(keyward.ConnectionFailed):
            keyward.Client(f"http://127.0.0.1:{port}", admin_token="x", timeout=2).list_users()
    with pytest.raises(ValueError):
        keyward.Client("ftp://example")
