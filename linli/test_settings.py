"""Test settings: the real ones with plain HTTP, a throwaway data folder, fast hashing."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("LINLI_SSL_REDIRECT", "false")
os.environ.setdefault("LINLI_SECURE_COOKIES", "false")
os.environ.setdefault("LINLI_DATA_DIR", tempfile.mkdtemp(prefix="linli-test-"))

from linli.settings import *  # noqa: F403

# Hashing passwords properly costs a quarter second per login; tests log in thousands of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests search far faster than a person types; the rate-limit tests set their own limits.
LINLI_SEARCH_RATE = "100000/m"
LINLI_EXPORT_RATE = "100000/m"
LINLI_SIGNUP_RATE = "100000/m"
LINLI_WISH_CLAIM_RATE = "100000/m"
LINLI_SMS_PHONE_RATE = "100000/m"
LINLI_SMS_IP_RATE = "100000/m"

# Background tasks run inline, so a test sees a document go queued → done in one request.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# A file rather than shared-cache memory: threads in the race tests then wait on SQLite's
# lock (busy_timeout) as the real server does, instead of failing with "table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
