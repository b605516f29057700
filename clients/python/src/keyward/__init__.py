"""keyward for Python: the HTTP client (keyward.Client), signed requests
(keyward.signing), a Django REST Framework authentication class
(keyward.drf) and a Celery pattern (keyward.celery). The client and the
signing helpers need only the standard library."""

from .client import Client, job_scope
from .errors import (BadRequest, Conflict, ConnectionFailed, Forbidden, KeywardError, NotFound, RateLimited,
                     Unauthenticated, Unavailable)

__all__ = ["Client", "job_scope", "KeywardError", "ConnectionFailed", "BadRequest", "Unauthenticated",
           "Forbidden", "NotFound", "Conflict", "RateLimited", "Unavailable"]
__version__ = "0.4.0"
