"""Celery tasks of the check-in reminders, on the `email` queue: thin, given ids, safe to run
twice (the ledger sends one reminder per user and local date)."""

from __future__ import annotations

from collections import Counter

from celery import shared_task
from django.utils import timezone

from engagement.chunks import CHUNK_TASK_OPTIONS
from engagement.chunks import PLANNER_TASK_OPTIONS
from engagement.chunks import queue_due
from engagement.reminders import delivery
from engagement.reminders import planner


@shared_task(name="engagement.reminders.tasks.send_due_reminders", **PLANNER_TASK_OPTIONS)
def send_due_reminders() -> int:
    """Every 15 minutes (beat): queue a chunk task per page of users whose hour has passed."""
    return queue_due(delivery.release_abandoned_claims, planner.due_user_ids, send_reminder_chunk)


@shared_task(name="engagement.reminders.tasks.send_reminder_chunk", **CHUNK_TASK_OPTIONS)
def send_reminder_chunk(user_ids: list[str]) -> dict[str, int]:
    """Plan and send the reminders of these users, as of now."""
    counts: Counter[str] = Counter()
    for users in planner.user_pages(max(len(user_ids), 1), user_ids):
        counts += delivery.send_reminders(users, now=timezone.now())
    return dict(counts)
