"""The Celery pattern: a task that holds only a user id calls the compute
API as that user (docs/workers.md).

The task's worker holds keyward's admin token, never a user's key: for each
job it has keyward issue a key that may submit and read that one job and
nothing else (scope jobs:submit:<sha256(job_id)>), expiring after `ttl`,
submits the job with it, and revokes it. keyward charges the user; the
job_id makes a retried task (Celery delivers at least once) the same job,
charged once.

    from celery import Celery
    import keyward
    from keyward.celery import run_as_user, retry_delay

    app = Celery("jobs", broker="redis://…")
    admin = keyward.Client("http://keyward:8080", admin_token=os.environ["KEYWARD_ADMIN_TOKEN"])

    @app.task(bind=True, max_retries=8)
    def compute_for_user(self, user_id, job_id, task, payload):
        try:
            return run_as_user(admin, user_id, job_id, task, payload)["job"]
        except keyward.KeywardError as e:
            delay = retry_delay(e, self.request.retries)
            if delay is None:
                raise                      # refused for good: REVOKED, NOT_FOUND, …
            raise self.retry(exc=e, countdown=delay)
"""

from typing import Any, Dict, Optional

from .client import Client
from .errors import ConnectionFailed, KeywardError, RateLimited, Unavailable

__all__ = ["run_as_user", "retry_delay"]


def run_as_user(admin: Client, user_id: str, job_id: str, task: str, payload: Optional[Dict[str, Any]] = None,
                *, ttl: str = "1h", environment: Optional[str] = None) -> Dict[str, Any]:
    """Submits the job `job_id` as `user_id` with a key for that job alone;
    returns the compute API's answer ({"job": …})."""
    issued = admin.job_key(user_id, job_id, ttl=ttl, environment=environment)["key"]
    try:
        return admin.submit_job(job_id, task, payload, api_key=issued["secret"])
    finally:
        try:
            admin.revoke_key(issued["id"])
        except KeywardError:
            pass  # it expires by itself after ttl


def retry_delay(error: KeywardError, retries: int, *, base: float = 1.0, cap: float = 300.0) -> Optional[float]:
    """Seconds to wait before retrying after `error`, or None when a retry
    cannot help. 429s wait for keyward's Retry-After (the user's next token or
    next month's credits); an unreachable or overloaded keyward backs off
    exponentially."""
    if isinstance(error, RateLimited):
        return float(error.retry_after or base)
    if isinstance(error, (Unavailable, ConnectionFailed)):
        return min(cap, base * (2 ** retries))
    return None
