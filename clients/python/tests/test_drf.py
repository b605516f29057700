"""keyward.drf against a real keyward and a real Django project: the keys
djangorestframework-api-key made (imported into keyward) and keys keyward
issued both authenticate DRF views as the right Django user."""

import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

import keyward
from keyward import drf
from conftest import DJANGO


class WhoAmI(APIView):
    authentication_classes = [drf.KeywardAuthentication]
    permission_classes = [drf.HasScope]
    required_scopes = ()

    def get(self, request):
        p = request.auth
        return Response({"username": request.user.username, "keyward_user": p.user_id,
                         "environment": p.environment})


class WritesJobs(WhoAmI):
    required_scopes = ("jobs:write",)


class AdminOnly(WhoAmI):
    permission_classes = [drf.HasScope.of("admin:everything")]


def call(view, key=None, header=None):
    factory = APIRequestFactory()
    kwargs = {}
    if header is not None:
        kwargs["HTTP_AUTHORIZATION"] = header
    elif key is not None:
        kwargs["HTTP_AUTHORIZATION"] = "Api-Key " + key
    response = view.as_view()(factory.get("/whoami", **kwargs))
    response.render()
    return response


def code_of(response):
    detail = response.data.get("detail")
    return getattr(detail, "code", None)


@pytest.fixture(autouse=True)
def fresh_cache(server):
    drf.clear_cache()
    settings.KEYWARD = {"URL": server.url}
    yield
    drf.clear_cache()


def test_keys_made_by_djangorestframework_api_key_authenticate_as_their_django_user(server):
    r = call(WhoAmI, DJANGO["keys"]["live"])
    assert r.status_code == 200, r.data
    assert r.data["username"] == "alice"
    r = call(WhoAmI, DJANGO["keys"]["test"])
    assert r.status_code == 200 and r.data["environment"] == "test"
    r = call(WhoAmI, DJANGO["keys"]["sha512"])  # a 3.x row
    assert r.status_code == 200 and r.data["username"] == "bob"
    r = call(WhoAmI, DJANGO["keys"]["revoked"])
    assert r.status_code == 401 and code_of(r) == "REVOKED"
    r = call(WhoAmI, DJANGO["keys"]["expired"])
    assert r.status_code == 401 and code_of(r) == "EXPIRED"
    assert r["WWW-Authenticate"] == "Api-Key"


def test_keys_issued_by_keyward_map_to_the_django_user_by_external_id(admin):
    carol = User.objects.create_user("carol-" + uuid.uuid4().hex[:6])
    key = admin.create_user("Carol", external_id=f"django:{carol.pk}")["key"]["secret"]
    r = call(WhoAmI, key)
    assert r.status_code == 200 and r.data["username"] == carol.username

    # No Django user behind the keyward user: refused, unless a service user is set.
    orphan = admin.create_user("Partner", external_id="partner-" + uuid.uuid4().hex[:6])["key"]["secret"]
    r = call(WhoAmI, orphan)
    assert r.status_code == 401 and code_of(r) == "NO_DJANGO_USER"
    service = User.objects.create_user("svc-" + uuid.uuid4().hex[:6])
    settings.KEYWARD = {"URL": settings.KEYWARD["URL"], "SERVICE_USER": service.username}
    drf.clear_cache()
    r = call(WhoAmI, orphan)
    assert r.status_code == 200 and r.data["username"] == service.username

    # An inactive Django user is refused.
    carol.is_active = False
    carol.save()
    r = call(WhoAmI, key)
    assert r.status_code == 401 and code_of(r) == "USER_DISABLED"


def test_scopes_are_checked_by_keyward_and_by_has_scope(admin):
    dave = User.objects.create_user("dave-" + uuid.uuid4().hex[:6])
    uid = admin.create_user("Dave", external_id=f"django:{dave.pk}", issue_key=False)["user"]["id"]
    reader = admin.issue_key(uid, scopes=["jobs:read"])["key"]["secret"]
    writer = admin.issue_key(uid, scopes=["jobs:write"])["key"]["secret"]
    assert call(WritesJobs, writer).status_code == 200
    r = call(WritesJobs, reader)
    assert r.status_code == 403 and code_of(r) == "INSUFFICIENT_SCOPE"
    assert call(AdminOnly, writer).status_code == 403


def test_refusals_without_a_good_key(server):
    r = call(WhoAmI)  # no header at all: not authenticated
    assert r.status_code == 401
    r = call(WhoAmI, header="Api-Key")
    assert r.status_code == 401 and code_of(r) == "MALFORMED"
    r = call(WhoAmI, "kw_live_thisisnotakey")
    assert r.status_code == 401 and code_of(r) == "MALFORMED"
    r = call(WhoAmI, "Zz9Zz9Zz.unknownprefixunknownprefix12")
    assert r.status_code == 401 and code_of(r) == "NOT_FOUND"


def test_answers_are_cached_at_most_cache_seconds_and_keyward_down_fails_closed(admin):
    erin = User.objects.create_user("erin-" + uuid.uuid4().hex[:6])
    made = admin.create_user("Erin", external_id=f"django:{erin.pk}")
    key = made["key"]
    settings.KEYWARD = {"URL": settings.KEYWARD["URL"], "CACHE_SECONDS": 3600}
    assert call(WhoAmI, key["secret"]).status_code == 200
    admin.revoke_key(key["id"])
    assert call(WhoAmI, key["secret"]).status_code == 200  # the cached answer
    drf.clear_cache()
    r = call(WhoAmI, key["secret"])
    assert r.status_code == 401 and code_of(r) == "REVOKED"

    settings.KEYWARD = {"URL": "http://127.0.0.1:9", "TIMEOUT": 1}  # nothing listens there
    r = call(WhoAmI, key["secret"] + "x")
    assert r.status_code == 503 and code_of(r) == "KEYWARD_UNAVAILABLE"
