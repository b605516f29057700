"""make_db.py: a throwaway Django project as djangorestframework-api-key users
run it, for keyward's import tests (issue 12).

    /usr/bin/python3 make_db.py DIR [--engine sqlite|postgres --pg-uri URI] [--time-zone ZONE]

Builds, in DIR, a project whose one model is CustomAPIKey(AbstractAPIKey)
with a user foreign key (cascade) and an is_test flag, creates its tables,
and makes keys with the library's own create_key(): a live and a test key
for one user, a revoked key, an expired key, and a key for a second user.
It also adds one row in djangorestframework-api-key 3.x's format
(sha512$$<hex>). Prints a JSON document: the database location, each key's
plaintext, and the time Django takes to check one key (is_valid) in ms.
"""
import argparse
import hashlib
import json
import os
import secrets
import string
import sys
import time
from urllib.parse import urlparse

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--engine", default="sqlite", choices=["sqlite", "postgres"])
parser.add_argument("--pg-uri", default="")
parser.add_argument("--use-tz", default="true", choices=["true", "false"])
parser.add_argument("--time-zone", default="UTC")
args = parser.parse_args()

app_dir = os.path.join(args.dir, "keysapp")
os.makedirs(app_dir, exist_ok=True)
open(os.path.join(app_dir, "__init__.py"), "w").close()
with open(os.path.join(app_dir, "models.py"), "w") as f:
    f.write(
        "from django.conf import settings\n"
        "from django.db import models\n"
        "from rest_framework_api_key.models import AbstractAPIKey\n\n\n"
        "class CustomAPIKey(AbstractAPIKey):\n"
        "    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,\n"
        "                             related_name='api_keys')\n"
        "    is_test = models.BooleanField(default=False)\n"
    )
sys.path.insert(0, args.dir)

if args.engine == "sqlite":
    location = os.path.join(args.dir, "django.sqlite3")
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": location}
else:
    u = urlparse(args.pg_uri)
    location = args.pg_uri
    database = {"ENGINE": "django.db.backends.postgresql", "NAME": u.path.lstrip("/"),
                "USER": u.username or "", "PASSWORD": u.password or "", "HOST": u.hostname or "",
                "PORT": str(u.port or "")}

from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY="test-only-" + secrets.token_hex(16),
    USE_TZ=args.use_tz == "true",
    TIME_ZONE=args.time_zone,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework",
                    "rest_framework_api_key", "keysapp"],
    DATABASES={"default": database},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
import django  # noqa: E402

django.setup()
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

# The app's own migration first (as a project has it), so that its foreign
# key to auth_user is created after that table on PostgreSQL too.
os.makedirs(os.path.join(app_dir, "migrations"), exist_ok=True)
open(os.path.join(app_dir, "migrations", "__init__.py"), "w").close()
call_command("makemigrations", "keysapp", verbosity=0)
call_command("migrate", verbosity=0)
from keysapp.models import CustomAPIKey  # noqa: E402

alice = User.objects.create_user("alice", "alice@example.com", "pw", first_name="Alice")
bob = User.objects.create_user("bob", "bob@example.com", "pw")
keys = {}
_, keys["live"] = CustomAPIKey.objects.create_key(name="alice live", user=alice)
_, keys["test"] = CustomAPIKey.objects.create_key(name="alice staging", user=alice, is_test=True)
_, keys["revoked"] = CustomAPIKey.objects.create_key(name="alice old", user=alice, revoked=True)
_, keys["expired"] = CustomAPIKey.objects.create_key(
    name="alice expired", user=alice, expiry_date=timezone.now() - timezone.timedelta(days=1))
_, keys["bob"] = CustomAPIKey.objects.create_key(name="bob live", user=bob)

# A row as djangorestframework-api-key 3.x writes it: sha512$$<hex digest>.
alphabet = string.ascii_letters + string.digits
prefix = "".join(secrets.choice(alphabet) for _ in range(8))
secret = "".join(secrets.choice(alphabet) for _ in range(32))
keys["sha512"] = prefix + "." + secret
hashed = "sha512$$" + hashlib.sha512(keys["sha512"].encode()).hexdigest()
# 3.x's migrations widen id and hashed_key to 150 characters for it.
if args.engine == "postgres":
    from django.db import connection  # noqa: E402
    with connection.cursor() as c:
        c.execute("ALTER TABLE keysapp_customapikey ALTER COLUMN id TYPE varchar(150), "
                  "ALTER COLUMN hashed_key TYPE varchar(150)")
CustomAPIKey.objects.bulk_create([CustomAPIKey(id=prefix + "." + hashed, prefix=prefix, hashed_key=hashed,
                                               name="bob v3", user=bob)])

# What Django spends checking one key (PBKDF2 with its default iterations).
runs = 5
started = time.perf_counter()
for _ in range(runs):
    assert CustomAPIKey.objects.is_valid(keys["live"])
django_ms = (time.perf_counter() - started) * 1000 / runs

print(json.dumps({
    "database": location,
    "table": CustomAPIKey._meta.db_table,
    "keys": keys,
    "users": {"alice": alice.pk, "bob": bob.pk},
    "django_verify_ms": round(django_ms, 2),
}))
