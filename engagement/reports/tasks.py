"""Celery tasks of the weekly reports: thin, idempotent, retried with backoff."""

# Both tasks are safe to run twice (an upsert per couple and week, SPEC section 6), so they
# acknowledge late and go back to the queue when a worker dies mid-chunk.

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from uuid import UUID

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from engagement.reports import pipeline


@shared_task(
    name="engagement.reports.tasks.schedule_weekly_reports",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def schedule_weekly_reports() -> int:
    """Hourly (beat): queue the reports that are due, in chunks; returns how many chunks."""
    return queue_chunks(pipeline.reports_due())


@shared_task(
    name="engagement.reports.tasks.compute_report_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def compute_report_chunk(couple_ids: list[str], week_start: str) -> dict[str, int]:
    """Compute one week's report for each couple of a chunk (ids and date as JSON strings)."""
    summary = pipeline.compute_reports_for_chunk(
        [UUID(couple_id) for couple_id in couple_ids], date.fromisoformat(week_start)
    )
    return summary.as_dict()


def queue_chunks(due: Mapping[date, set[UUID]], chunk_size: int | None = None) -> int:
    """Hand ``due`` (week -> couples) to the `reports` queue in chunks; returns how many."""
    size = chunk_size or settings.REPORTS_CHUNK_SIZE
    queued = 0
    for week_start in sorted(due):
        ids = sorted(str(couple_id) for couple_id in due[week_start])
        for chunk in pipeline.chunked(ids, size):
            compute_report_chunk.delay(chunk, week_start.isoformat())
            queued += 1
    return queued
