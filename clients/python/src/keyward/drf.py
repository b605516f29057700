"""Django REST Framework integration: keyward decides who an API key
belongs to, DRF gets the Django user.

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["keyward.drf.KeywardAuthentication"],
    }
    KEYWARD = {
        "URL": "http://127.0.0.1:8080",   # keyward serve
        "TIMEOUT": 2.0,                   # seconds per call to keyward
        "CACHE_SECONDS": 1.0,             # at most; 0 turns the cache off
        "EXTERNAL_ID_PREFIX": "django:",  # keyward external id = prefix + user pk
        "SERVICE_USER": None,             # username for keys with no Django user
        "CA_FILE": None,                  # for an https URL
    }

A request with `Authorization: Api-Key <key>` is verified by keyward
(POST /v1/keys/verify, with the view's `required_scopes` when it has them),
and request.user becomes the Django user whose pk the principal's external id
names (keyward import drf gives imported users "django:<pk>"); request.auth
is the keyward Principal. Answers are cached in memory for CACHE_SECONDS
(default 1 s), so a key revoked in keyward is refused here within that time
plus keyward's own propagation. Refused keys raise DRF's 401 / 403 / 429 with
keyward's code; keyward unreachable is a 503 (fail closed).

A signed request (RFC 9421: Signature-Input and Signature headers, no
Api-Key) is checked by keyward too (GET /v1/authz with the method and
absolute URI Django received), and its body here against its Content-Digest.
Signed answers are never cached: each nonce is good once. Behind a proxy
that rewrites the scheme or host, set Django's USE_X_FORWARDED_HOST /
SECURE_PROXY_SSL_HEADER so that request.build_absolute_uri() is the URI the
client signed.
"""

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Tuple

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from .client import Client
from .errors import KeywardError
from .signing import body_matches_content_digest

__all__ = ["KeywardAuthentication", "HasScope", "Principal", "KeywardUnavailable"]

_DEFAULTS: Dict[str, Any] = {"URL": "http://127.0.0.1:8080", "TIMEOUT": 2.0, "CACHE_SECONDS": 1.0,
                             "EXTERNAL_ID_PREFIX": "django:", "SERVICE_USER": None, "CA_FILE": None}
_FORBIDDEN = {"INSUFFICIENT_SCOPE", "WRONG_ENVIRONMENT"}
_THROTTLED = {"RATE_LIMITED", "QUOTA_EXCEEDED"}


def _setting(name: str) -> Any:
    return {**_DEFAULTS, **getattr(settings, "KEYWARD", {})}[name]


@dataclass(frozen=True)
class Principal:
    """Who a valid key belongs to, as keyward says (request.auth)."""

    user_id: str
    key_id: str
    environment: str
    external_id: Optional[str] = None
    scopes: Tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_test(self) -> bool:
        return self.environment == "test"

    def has_scope(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


class KeywardUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "the API key could not be checked: keyward is unreachable"
    default_code = "KEYWARD_UNAVAILABLE"


class _Cache:
    """Answers for at most `seconds`, keyed by a hash of key and requirements
    (never the key itself); bounded, cleared when full."""

    def __init__(self, limit: int = 10_000):
        self._lock = threading.Lock()
        self._entries: Dict[bytes, Tuple[float, Dict[str, Any]]] = {}
        self._limit = limit

    def get(self, k: bytes) -> Optional[Dict[str, Any]]:
        with self._lock:
            hit = self._entries.get(k)
            if hit is None or hit[0] <= time.monotonic():
                return None
            return hit[1]

    def put(self, k: bytes, answer: Dict[str, Any], seconds: float) -> None:
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[k] = (time.monotonic() + seconds, answer)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _Cache()
_clients: Dict[Tuple[str, float, Optional[str]], Client] = {}
_clients_lock = threading.Lock()


def _client() -> Client:
    k = (_setting("URL"), float(_setting("TIMEOUT")), _setting("CA_FILE"))
    with _clients_lock:
        if k not in _clients:
            _clients[k] = Client(k[0], timeout=k[1], ca_file=k[2])
        return _clients[k]


def clear_cache() -> None:
    """Forgets every cached answer (tests; after a revocation you must see now)."""
    _cache.clear()


class KeywardAuthentication(BaseAuthentication):
    """Authenticates `Authorization: Api-Key <key>` through keyward."""

    keyword = "Api-Key"

    def authenticate(self, request: Any) -> Optional[Tuple[Any, Principal]]:
        header = get_authorization_header(request).split()
        if not header and "HTTP_SIGNATURE_INPUT" in request.META:
            return self._authenticate_signed(request)
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: another class, or anonymous
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("send exactly 'Authorization: Api-Key <key>'", code="MALFORMED")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("the API key is malformed", code="MALFORMED")
        view = (getattr(request, "parser_context", None) or {}).get("view")
        scopes = tuple(getattr(view, "required_scopes", ()) or ())
        answer = self._verify(key, scopes)
        if not answer.get("valid"):
            self._refuse(answer)
        p = answer["principal"]
        principal = Principal(user_id=p["user_id"], key_id=p["key_id"], environment=p["environment"],
                              external_id=p.get("external_id"), scopes=tuple(p.get("scopes") or ()))
        return self.django_user(principal), principal

    def _authenticate_signed(self, request: Any) -> Tuple[Any, Principal]:
        meta = request.META
        headers = {"Signature-Input": meta.get("HTTP_SIGNATURE_INPUT", ""),
                   "Signature": meta.get("HTTP_SIGNATURE", ""),
                   "Content-Digest": meta.get("HTTP_CONTENT_DIGEST", "")}
        body = request.body  # Django keeps it for DRF's parsers
        if body and not body_matches_content_digest(headers["Content-Digest"], body):
            raise exceptions.AuthenticationFailed("the body does not match its Content-Digest",
                                                  code="SIGNATURE_INVALID")
        view = (getattr(request, "parser_context", None) or {}).get("view")
        scopes = tuple(getattr(view, "required_scopes", ()) or ())
        try:
            answer = _client().authorize_signed(request.method, request.build_absolute_uri(), headers,
                                                len(body), scopes=scopes)
        except KeywardError as e:
            if not e.status or e.status >= 500:
                raise KeywardUnavailable() from e
            self._refuse({"code": e.code or "NOT_FOUND", "retry_after_seconds": e.retry_after})
        p = answer["principal"]
        principal = Principal(user_id=p["user_id"], key_id=p["key_id"], environment=p["environment"],
                              external_id=p.get("external_id"), scopes=tuple(p.get("scopes") or ()))
        return self.django_user(principal), principal

    def authenticate_header(self, request: Any) -> str:
        return self.keyword  # makes DRF answer 401, not 403

    def _verify(self, key: str, scopes: Sequence[str]) -> Dict[str, Any]:
        seconds = float(_setting("CACHE_SECONDS"))
        k = hashlib.sha256(key.encode() + b"\0" + " ".join(sorted(scopes)).encode()).digest()
        if seconds > 0:
            hit = _cache.get(k)
            if hit is not None:
                return hit
        try:
            answer = _client().verify(key, scopes=list(scopes) or None)
        except KeywardError as e:
            raise KeywardUnavailable() from e
        # Rate and quota answers change by themselves: never cached.
        if seconds > 0 and answer.get("code") not in _THROTTLED:
            _cache.put(k, answer, seconds)
        return answer

    @staticmethod
    def _refuse(answer: Dict[str, Any]) -> None:
        code = str(answer.get("code", "NOT_FOUND"))
        message = "API key refused: " + code
        if code in _FORBIDDEN:
            raise exceptions.PermissionDenied(message, code=code)
        if code in _THROTTLED:
            raise exceptions.Throttled(wait=answer.get("retry_after_seconds"), detail=message, code=code)
        raise exceptions.AuthenticationFailed(message, code=code)

    def django_user(self, principal: Principal) -> Any:
        """The Django user for a keyward principal: the pk its external id
        names, else SERVICE_USER, else 401 NO_DJANGO_USER."""
        User = get_user_model()
        prefix = _setting("EXTERNAL_ID_PREFIX")
        ext = principal.external_id or ""
        user = None
        if ext.startswith(prefix):
            try:
                user = User._default_manager.filter(pk=ext[len(prefix):]).first()
            except (ValueError, TypeError):  # a pk of the wrong type
                user = None
        if user is None and _setting("SERVICE_USER"):
            user = User._default_manager.filter(**{User.USERNAME_FIELD: _setting("SERVICE_USER")}).first()
        if user is None:
            raise exceptions.AuthenticationFailed(
                f"the key is valid but its keyward user {principal.user_id} has no Django user",
                code="NO_DJANGO_USER")
        if not getattr(user, "is_active", True):
            raise exceptions.AuthenticationFailed("the key's Django user is inactive", code="USER_DISABLED")
        return user


class HasScope(BasePermission):
    """Allows a request whose keyward principal holds every scope in the
    view's `required_scopes` (KeywardAuthentication has keyward check them,
    with the user's plan, before the view runs). HasScope.of("jobs:write")
    makes a permission class with its own list instead."""

    required_scopes: Tuple[str, ...] = ()
    message = "the API key lacks a required scope"
    code = "INSUFFICIENT_SCOPE"

    @classmethod
    def of(cls, *scopes: str) -> type:
        return type("HasScope_" + "_".join(s.replace(":", "_") for s in scopes), (cls,),
                    {"required_scopes": tuple(scopes)})

    def has_permission(self, request: Any, view: Any) -> bool:
        principal = getattr(request, "auth", None)
        if not isinstance(principal, Principal):
            return False
        required = self.required_scopes or tuple(getattr(view, "required_scopes", ()) or ())
        return all(principal.has_scope(s) for s in required)
