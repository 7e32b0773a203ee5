"""Celery tasks of the weekly digests, on the `email` queue: thin, given ids, safe to run twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from celery import shared_task
from django.utils import timezone

from config.celery_retry import BULK_MAIL_RETRY, PLANNER_RETRY
from engagement.digests import delivery, pipeline, schedule


@shared_task(
    name="engagement.digests.tasks.send_due_digests",
    ignore_result=True,
    **PLANNER_RETRY,
)
def send_due_digests() -> int:
    """Every 15 minutes (beat): queue a chunk task per page of users owed a digest now."""
    now = timezone.now()
    delivery.release_abandoned_claims(now=now)
    queued = 0
    for user_ids in pipeline.due_user_ids(now=now):
        send_digest_chunk.delay(user_ids)
        queued += len(user_ids)
    return queued


# Only a failure to reach the mail server escapes a chunk, before any row is claimed; each
# message's own failures are kept on its ledger row and retried from there. The ledger makes a
# second run harmless (claimed or sent rows are skipped), so a chunk whose worker died goes back
# to the queue at once instead of waiting for the next quarter-hour.
@shared_task(
    name="engagement.digests.tasks.send_digest_chunk",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    **BULK_MAIL_RETRY,
)
def send_digest_chunk(
    user_ids: list[str], week: str | None = None, on_schedule: bool = True
) -> dict[str, int]:
    """The digests of these users: on schedule, or (``on_schedule`` false) now for ``week``."""
    counts: Counter[str] = Counter()
    for users in schedule.user_pages(max(len(user_ids), 1), user_ids):
        counts += pipeline.send_digests(
            users,
            now=timezone.now(),
            week=dt.date.fromisoformat(week) if week else None,
            on_schedule=on_schedule,
        )
    return dict(counts)
