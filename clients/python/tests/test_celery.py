"""The Celery pattern (examples/celery_app.py, keyward.celery): a task that
holds only a user id runs a job as that user through a real keyward, the
job key it used is revoked afterwards, and a redelivered task is the same
job, charged once."""

import os
import sys
import uuid

import pytest

import keyward
from keyward import job_scope
from keyward.celery import retry_delay

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))


@pytest.fixture
def celery_app(server):
    from conftest import ADMIN_TOKEN
    os.environ["KEYWARD_URL"] = server.url
    os.environ["KEYWARD_ADMIN_TOKEN"] = ADMIN_TOKEN
    import celery_app as example
    example.app.conf.task_always_eager = True  # runs in this process: no broker needed
    example.app.conf.task_eager_propagates = True
    return example


def test_a_task_with_only_a_user_id_runs_the_job_as_that_user(admin, celery_app):
    made = admin.create_user("Celery user", external_id="celery-" + uuid.uuid4().hex[:8],
                             plan={"monthly_credits": 50})
    user_id = made["user"]["id"]
    job_id = "report-" + uuid.uuid4().hex[:8]
    job = celery_app.compute_for_user.delay(user_id, job_id, "wordcount", {"text": "one two"}).get()
    assert job["user_id"] == user_id and job["job_id"] == job_id

    # The job key is revoked once the task is done.
    keys = admin.list_keys(user_id)["keys"]
    job_keys = [k for k in keys if k["scopes"] == [job_scope(job_id)]]
    assert len(job_keys) == 1 and job_keys[0]["state"] == "revoked"

    # Celery delivers at least once: the same task again is the same job.
    again = celery_app.compute_for_user.delay(user_id, job_id, "wordcount", {"text": "one two"}).get()
    assert again["id"] == job["id"]
    usage = admin.usage(user_id)
    assert usage["environments"]["live"]["charged"] == job["cost"] > 0  # charged once
    assert usage["environments"]["live"]["entries"] == 1


def test_a_task_for_a_deleted_user_fails_for_good(admin, celery_app):
    user_id = admin.create_user("Gone", external_id="gone-" + uuid.uuid4().hex[:8])["user"]["id"]
    admin.delete_user(user_id)
    with pytest.raises(keyward.NotFound):
        celery_app.compute_for_user.delay(user_id, "j-1", "echo", {}).get()


def test_retry_delays():
    assert retry_delay(keyward.RateLimited("x", retry_after=7), 0) == 7
    assert retry_delay(keyward.Unavailable("x"), 3) == 8
    assert retry_delay(keyward.ConnectionFailed("x"), 20) == 300
    assert retry_delay(keyward.Unauthenticated("x", code="REVOKED"), 0) is None
