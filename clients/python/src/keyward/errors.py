"""Errors raised by keyward.Client: one class per kind of failure, each
carrying keyward's stable error code (REVOKED, NOT_FOUND, QUOTA_EXCEEDED, …)."""

from typing import Optional


class KeywardError(Exception):
    """Any failure talking to keyward. `code` is keyward's error code ("" when
    no answer came back), `status` the HTTP status (0 when none)."""

    def __init__(self, message: str, code: str = "", status: int = 0,
                 retry_after: Optional[int] = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.retry_after = retry_after  # seconds, from Retry-After (429/503)

    def __str__(self) -> str:
        head = f"{self.code}: " if self.code else ""
        return head + super().__str__()


class ConnectionFailed(KeywardError):
    """keyward could not be reached, or the connection broke (or timed out)."""


class BadRequest(KeywardError):
    """400: the request was refused as given (INVALID_ARGUMENT, …)."""


class Unauthenticated(KeywardError):
    """401: no key, or a key that is malformed, unknown, expired or revoked,
    or a wrong admin token."""


class Forbidden(KeywardError):
    """403: a valid key that may not do this (INSUFFICIENT_SCOPE,
    WRONG_ENVIRONMENT)."""


class NotFound(KeywardError):
    """404: no such user, key or job."""


class Conflict(KeywardError):
    """409: ALREADY_EXISTS, JOB_ID_CONFLICT, …"""


class RateLimited(KeywardError):
    """429: RATE_LIMITED, QUOTA_EXCEEDED or TOO_MANY_PENDING; `retry_after` says
    when trying again can work."""


class Unavailable(KeywardError):
    """503 (or another 5xx): keyward is overloaded or its store is down."""


_BY_STATUS = {400: BadRequest, 401: Unauthenticated, 403: Forbidden, 404: NotFound,
              409: Conflict, 429: RateLimited}


def error_for(status: int, code: str, message: str, retry_after: Optional[int]) -> KeywardError:
    cls = _BY_STATUS.get(status, Unavailable if status >= 500 else KeywardError)
    return cls(message, code=code, status=status, retry_after=retry_after)
