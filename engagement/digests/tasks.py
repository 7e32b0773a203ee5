"""Celery tasks of the weekly digests, on the `email` queue: thin, given ids, safe to run twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from celery import shared_task
from django.utils import timezone

from engagement.chunks import CHUNK_TASK_OPTIONS
from engagement.chunks import PLANNER_TASK_OPTIONS
from engagement.chunks import queue_due
from engagement.digests import delivery
from engagement.digests import pipeline
from engagement.digests import schedule


@shared_task(name="engagement.digests.tasks.send_due_digests", **PLANNER_TASK_OPTIONS)
def send_due_digests() -> int:
    """Every 15 minutes (beat): queue a chunk task per page of users owed a digest now."""
    return queue_due(delivery.release_abandoned_claims, pipeline.due_user_ids, send_digest_chunk)


@shared_task(name="engagement.digests.tasks.send_digest_chunk", **CHUNK_TASK_OPTIONS)
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
