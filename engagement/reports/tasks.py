"""Celery tasks of the weekly reports: thin, idempotent, retried with backoff."""

# Both tasks are safe to run twice (an upsert per couple and week, SPEC section 6), so they
# acknowledge late and go back to the queue when a worker dies mid-chunk.

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import date
from uuid import UUID

from celery import shared_task
from django.conf import settings

from config.celery_retry import REPORT_RETRY
from config.observability import metrics
from engagement.reports import pipeline


@shared_task(
    name="engagement.reports.tasks.schedule_weekly_reports",
    acks_late=True,
    reject_on_worker_lost=True,
    **REPORT_RETRY,
    ignore_result=True,
)
def schedule_weekly_reports() -> int:
    """Hourly (beat): queue the reports that are due, in chunks; returns how many chunks.

    Each chunk goes to the queue as soon as it is full, so the other workers start on the
    first ones while the planner is still reading the next timezones."""
    return queue_chunks_as_found(pipeline.reports_due_in_parts())


@shared_task(
    name="engagement.reports.tasks.compute_report_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    **REPORT_RETRY,
    ignore_result=True,
)
def compute_report_chunk(couple_ids: list[str], week_start: str) -> dict[str, int]:
    """Compute one week's report for each couple of a chunk (ids and date as JSON strings)."""
    summary = pipeline.compute_reports_for_chunk(
        [UUID(couple_id) for couple_id in couple_ids], date.fromisoformat(week_start)
    )
    metrics.report_chunk_done(summary.as_dict())
    return summary.as_dict()


def queue_chunks(due: Mapping[date, set[UUID]], chunk_size: int | None = None) -> int:
    """Hand ``due`` (week -> couples) to the `reports` queue in chunks; returns how many."""
    return queue_chunks_as_found(sorted(due.items()), chunk_size)


def queue_chunks_as_found(
    parts: Iterable[tuple[date, set[UUID]]], chunk_size: int | None = None
) -> int:
    """Hand (week, couples) parts to the `reports` queue, a chunk as soon as one is full and
    the rest at the end, each couple once per week; returns how many chunks."""
    size = max(1, chunk_size or settings.REPORTS_CHUNK_SIZE)
    seen: dict[date, set[UUID]] = defaultdict(set)
    waiting: dict[date, list[str]] = defaultdict(list)
    queued = 0
    for week_start, couple_ids in parts:
        waiting[week_start] += sorted(str(c) for c in couple_ids - seen[week_start])
        seen[week_start] |= couple_ids
        while len(waiting[week_start]) >= size:
            compute_report_chunk.delay(waiting[week_start][:size], week_start.isoformat())
            del waiting[week_start][:size]
            queued += 1
    for week_start in sorted(waiting):
        if waiting[week_start]:
            compute_report_chunk.delay(waiting[week_start], week_start.isoformat())
            queued += 1
    metrics.report_run_planned(queued)
    return queued
