"""The Celery app: JSON only, time limits, queues `reports` and `email`, beat schedule in code."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun
from celery.signals import task_prerun
from celery.signals import worker_process_init
from kombu import Exchange
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

QUEUES = ("default", "reports", "email")

app = Celery("duet")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    timezone="UTC",
    enable_utc=True,
    task_default_queue="default",
    task_queues=tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES),
    task_default_exchange="default",
    task_default_routing_key="default",
    task_routes={
        "engagement.reports.*": {"queue": "reports", "routing_key": "reports"},
        "engagement.digests.*": {"queue": "email", "routing_key": "email"},
        "engagement.reminders.*": {"queue": "email", "routing_key": "email"},
        "engagement.safety.*": {"queue": "email", "routing_key": "email"},
        "engagement.invitations.*": {"queue": "email", "routing_key": "email"},
        "accounts.*": {"queue": "email", "routing_key": "email"},
    },
    # No task may run for ever; the Redis visibility_timeout (settings) stays above these.
    task_soft_time_limit=10 * 60,
    task_time_limit=15 * 60,
    worker_prefetch_multiplier=1,
    worker_max_tasks_per_child=500,
    broker_connection_retry_on_startup=True,
    # Workers log through Django's LOGGING (JSON lines, secrets redacted), not Celery's own.
    worker_hijack_root_logger=False,
    beat_schedule={
        "worker-heartbeat": {
            "task": "config.tasks.heartbeat",
            "schedule": float(os.environ.get("HEARTBEAT_INTERVAL_SECONDS", "60")),
        },
        "idempotency-keys-purge": {
            "task": "engagement.tasks.purge_expired_idempotency_keys",
            "schedule": crontab(minute=17, hour="*/6"),
        },
        "jwt-blacklist-flush": {
            "task": "accounts.tasks.flush_expired_tokens",
            "schedule": crontab(minute=23, hour=3),
        },
        # Each user's digest goes out at their own local weekday and hour (SPEC section 6).
        "digests-send-due": {
            "task": "engagement.digests.tasks.send_due_digests",
            "schedule": crontab(minute="*/15"),
        },
        # Each user's check-in reminder at their own local hour (SPEC section 6).
        "reminders-send-due": {
            "task": "engagement.reminders.tasks.send_due_reminders",
            "schedule": crontab(minute="*/15"),
        },
        # Safety alerts unacknowledged for 24 hours are sent again; lost sends are found.
        "safety-alerts-sweep": {
            "task": "engagement.safety.tasks.sweep_safety_alerts",
            "schedule": crontab(minute="*/5"),
        },
        # Clinical records of erased partners, once CLINICAL_RETENTION_YEARS have passed.
        "clinical-records-purge": {
            "task": "engagement.safety.tasks.purge_clinical_records",
            "schedule": crontab(minute=41, hour=4),
        },
        # Hourly, so every timezone's week is reported soon after its Monday 00:00 (SPEC 6).
        "weekly-reports": {
            "task": "engagement.reports.tasks.schedule_weekly_reports",
            "schedule": crontab(minute=5),
        },
    },
)


def freeze_imported_objects() -> None:
    """Leave what the process holds now (Django, the apps, their modules) out of garbage
    collection: a report chunk allocates enough to trigger hundreds of collections, and each
    older-generation one walked every one of those objects (a fifth of a chunk's CPU; for
    digests sent in one process, 0.2 ms a digest, docs/benchmarks.md, session 7).

    The youngest generation is collected once 50,000 more objects are allocated than freed
    instead of 700: most of a chunk's objects are gone by then, and a chunk takes 5 % fewer
    instructions (docs/benchmarks.md, session 4). For the pool's processes and for the
    commands that send a week's messages in one process (`engagement/management/sending.py`)."""
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)


@contextmanager
def imported_objects_frozen() -> Iterator[None]:
    """`freeze_imported_objects` for a block (a command's run), undone after it: a test that
    calls the command leaves the collector as it found it."""
    threshold = gc.get_threshold()
    freeze_imported_objects()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@worker_process_init.connect
def _freeze_in_pool_process(**kwargs: Any) -> None:
    freeze_imported_objects()


app.conf.imports = ("config.tasks",)
app.autodiscover_tasks()
# Invitation emails live in their own package, outside engagement/tasks.py.
app.autodiscover_tasks(["engagement.invitations"])
# Weekly report tasks live with the pipeline they drive (engagement/reports/tasks.py).
app.autodiscover_tasks(["engagement.reports"])
# Digest tasks live with the ledger they drive (engagement/digests/tasks.py).
app.autodiscover_tasks(["engagement.digests"])
# Check-in reminder tasks live with their planner and ledger (engagement/reminders/tasks.py).
app.autodiscover_tasks(["engagement.reminders"])
# Safety alert tasks live with their ledger (engagement/safety/tasks.py).
app.autodiscover_tasks(["engagement.safety"])


# Tasks write emails in the recipient's language, never in that of the request that queued them:
# a task run eagerly (tests, a lone runserver) starts from the default language as a worker does,
# and gives the request its own back afterwards.
_request_languages: dict[str, str | None] = {}


@task_prerun.connect
def _task_starts_in_the_default_language(task_id: str, **kwargs: Any) -> None:
    from django.conf import settings
    from django.utils import translation

    _request_languages[task_id] = translation.get_language()
    translation.activate(settings.LANGUAGE_CODE)


@task_postrun.connect
def _request_language_back(task_id: str, **kwargs: Any) -> None:
    from django.utils import translation

    language = _request_languages.pop(task_id, None)
    if language is None:
        translation.deactivate()
    else:
        translation.activate(language)
