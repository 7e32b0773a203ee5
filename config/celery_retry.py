"""Named retry policies of the Celery tasks, one place for every `autoretry_for` and backoff.

A task takes its policy with `@shared_task(name=..., **POLICY)`. Each policy retries only
failures worth retrying (a database or mail server that is briefly away); anything else is a
bug and fails at once. Backoff is exponential (Celery's `retry_backoff`: the first delay in
seconds, or True for 1 s), capped by `retry_backoff_max` (Celery's default cap is 600 s).
"""

from __future__ import annotations

import smtplib
from typing import Any
from typing import Final

from django.db import OperationalError

# Beat planners that read the database and queue chunks (digests, reminders): a database that
# is briefly unreachable is retried, at most five times, never more than 5 minutes apart.
PLANNER_RETRY: Final[dict[str, Any]] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 5 * 60,
    "max_retries": 5,
}

# Weekly reports (planner and chunks): idempotent upserts, retried on database trouble with
# Celery's default cap.
REPORT_RETRY: Final[dict[str, Any]] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}

# Chunks of digests and reminders: only a failure to reach the mail server escapes a chunk
# (each message's own failures stay on its ledger row), retried from a minute on, jittered.
BULK_MAIL_RETRY: Final[dict[str, Any]] = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 60,
    "retry_backoff_max": 15 * 60,
    "retry_jitter": True,
    "max_retries": 5,
}

# Invitation emails: SMTP failures are OSErrors, retried from 30 s on, up to 30 minutes apart.
INVITATION_MAIL_RETRY: Final[dict[str, Any]] = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 5,
}

# Account emails (verification, password reset, ...): SMTP failures (smtplib.SMTPException is
# an OSError) and network errors, jittered, up to 10 minutes apart.
ACCOUNT_MAIL_RETRY: Final[dict[str, Any]] = {
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 10 * 60,
    "retry_jitter": True,
    "max_retries": 5,
}

# Safety alerts (one alert, each of its messages kept on its ledger row): only the database
# being briefly away escapes the task, retried quickly, since an alert is due within a minute.
ALERT_RETRY: Final[dict[str, Any]] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 10,
}
