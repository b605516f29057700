"""A Celery worker that runs compute jobs as the user they belong to.

The web back end knows which user a job is for and enqueues:

    compute_for_user.delay(user_id="usr_…", job_id="report-2026-12-06", task="wordcount",
                           payload={"text": "…"})

The Celery worker holds keyward's admin token (KEYWARD_ADMIN_TOKEN), not any
user's key: keyward.celery.run_as_user has keyward issue a key for that one
job, submits it, and revokes the key. keyward charges the user; a task that
Celery delivers twice submits the same job_id and is charged once.

    KEYWARD_URL=http://127.0.0.1:8080 KEYWARD_ADMIN_TOKEN=… \\
        celery -A celery_app worker --loglevel=info
"""

import os

from celery import Celery

import keyward
from keyward.celery import retry_delay, run_as_user

app = Celery("keyward_example", broker=os.environ.get("CELERY_BROKER_URL", "memory://"))


def keyward_admin() -> keyward.Client:
    return keyward.Client(os.environ.get("KEYWARD_URL", "http://127.0.0.1:8080"),
                          admin_token=os.environ["KEYWARD_ADMIN_TOKEN"], timeout=10)


@app.task(bind=True, max_retries=8, acks_late=True)
def compute_for_user(self, user_id: str, job_id: str, task: str, payload: dict) -> dict:
    try:
        return run_as_user(keyward_admin(), user_id, job_id, task, payload)["job"]
    except keyward.KeywardError as e:
        delay = retry_delay(e, self.request.retries)
        if delay is None:
            raise  # refused for good: the user is gone or disabled, the payload is wrong, …
        raise self.retry(exc=e, countdown=delay)
