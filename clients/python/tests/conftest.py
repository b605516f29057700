"""Fixtures: a real `keyward serve` (KEYWARD_BIN) on loopback with a SQLite
file, and a throwaway Django project made by djangorestframework-api-key
(tests/support/django/make_db.py) whose keys are imported into keyward —
the adoption path end to end. Run with Debian's /usr/bin/python3, where
python3-django, -djangorestframework, -celery and -pytest live."""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "src"))  # the package under test, uninstalled

ADMIN_TOKEN = "py-admin-" + secrets.token_hex(12)
_work = tempfile.TemporaryDirectory(prefix="keyward-py-")
WORK = _work.name

# The Django side: a project whose keys djangorestframework-api-key made.
_made = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "support", "django", "make_db.py"),
                        os.path.join(WORK, "django")], check=True, capture_output=True, text=True)
DJANGO = json.loads(_made.stdout)
sys.path.insert(0, os.path.join(WORK, "django"))

from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["testserver"],  # APIRequestFactory's host
    SECRET_KEY="test-only-" + secrets.token_hex(16),
    USE_TZ=True,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework",
                    "rest_framework_api_key", "keysapp"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DJANGO["database"]}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    REST_FRAMEWORK={"DEFAULT_AUTHENTICATION_CLASSES": ["keyward.drf.KeywardAuthentication"],
                    "UNAUTHENTICATED_USER": None},
    KEYWARD={},  # URL set by the server fixture
)
import django  # noqa: E402

django.setup()


def keyward_bin() -> str:
    path = os.environ.get("KEYWARD_BIN") or os.path.join(ROOT, "build", "release", "keyward")
    if not os.access(path, os.X_OK):
        pytest.exit(f"no keyward binary at {path} (set KEYWARD_BIN)", returncode=2)
    return path


class Server:
    """`keyward serve` on 127.0.0.1, any free port; stopped by stop()."""

    def __init__(self, db: str):
        self.db = db
        env = dict(os.environ, KEYWARD_ADMIN_TOKEN=ADMIN_TOKEN)
        self.out = open(db + ".out", "w+")
        self.proc = subprocess.Popen([keyward_bin(), "--db", db, "serve", "--listen", "127.0.0.1:0"],
                                     stdout=self.out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 20
        self.url = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.out.seek(0)
            for line in self.out.read().splitlines():
                if line.startswith("listening on "):
                    self.url = "http://" + line[len("listening on "):].strip()
            if self.url:
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("keyward serve did not start: " + open(db + ".out").read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


@pytest.fixture(scope="session")
def server():
    db = os.path.join(WORK, "keyward.db")
    s = Server(db)
    try:
        settings.KEYWARD = {"URL": s.url}
        # The Django project's keys, imported: the customers' keys keep working.
        subprocess.run([keyward_bin(), "--db", db, "import", "drf", "--from", DJANGO["database"],
                        "--table", DJANGO["table"]], check=True, capture_output=True, text=True)
        yield s
    finally:
        s.stop()


@pytest.fixture
def admin(server):
    import keyward
    with keyward.Client(server.url, admin_token=ADMIN_TOKEN, timeout=5) as c:
        yield c
