"""Settings for the test suite: SQLite in memory unless DATABASE_URL names PostgreSQL."""

from __future__ import annotations

import os

from config.settings.base import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; Argon2 is prod's
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Eager unless told otherwise: the live-worker integration tests turn it off for their worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test run gets its own cache so throttles never leak between tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if not os.environ.get("DATABASE_URL"):
    # Nothing on disk: a fresh clone has no var/ folder, and the test database is in memory.
    DATABASES["default"]["NAME"] = ":memory:"
LOGGING["root"] = {"handlers": ["console"], "level": "WARNING"}
STATIC_ROOT = None  # type: ignore[assignment]  # static files come from the finders in tests
# One process: the authentication cache is exercised (accounts/auth_cache.py).
AUTH_USER_CACHE = True
