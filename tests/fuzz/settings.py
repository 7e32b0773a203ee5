"""Settings of the server `make fuzz` runs: production-like answers, nothing shared with others."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403

# DEBUG off, as in production: error pages and 500s look the way clients will see them.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Each run owns its state: throttle counters in the process, no Redis database shared with CI.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in the request, so a task that fails on fuzzed input shows up as a failed request;
# mail is composed and dropped.
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Only tracebacks, which the runner prints when a check fails: the 4xx answers the fuzzer asks
# for would drown them (Django logs those at WARNING).
LOGGING["root"] = {"handlers": ["console"], "level": "ERROR"}  # noqa: F405
LOGGING["loggers"] = {"django.request": {"level": "ERROR"}}  # noqa: F405
