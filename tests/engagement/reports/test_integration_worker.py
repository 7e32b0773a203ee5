"""The report pipeline through a real Celery worker process, on Redis and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from engagement.models import Couple
from engagement.models import WeeklyReport
from engagement.reports.staleness import mark_stale
from engagement.reports.weeks import last_completed_week
from tests.conftest import THROUGH_THE_BROKER
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import couple_in
from tests.engagement.reports.builders import session
from tests.processes import celery_worker
from tests.processes import wait_for

CHUNK_SIZE = 2

# send_task always goes through the broker, which is the point here.
pytestmark = THROUGH_THE_BROKER


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Path]:
    """`celery worker` on the reports and default queues, two prefork processes, not eager."""
    with celery_worker(
        "reports,default",
        hostname=f"reports-test-{os.getpid()}@%h",
        log_path=tmp_path / "worker.log",
        REPORTS_CHUNK_SIZE=str(CHUNK_SIZE),
    ) as log_path:
        yield log_path


def chunks_done(log: Path) -> int:
    """How many chunks the worker has finished, from its log."""
    return sum(
        "compute_report_chunk[" in line and " succeeded in " in line
        for line in log.read_text().splitlines()
    )


def busy_couple(tz: str) -> tuple[Couple, dt.date]:
    """A couple with a one-sided last completed week, in its timezone, as of now."""
    now = timezone.now()
    week = last_completed_week(tz, now)
    couple, a, b, _ = couple_in(tz, created_at=now - dt.timedelta(weeks=10))
    starts_at = dt.datetime.combine(week + dt.timedelta(days=1), dt.time(12), dt.UTC)
    session(couple, starts_at, {a: ("attended", 3), b: ("absent", None)})
    checkin(couple, a, week, "therapist", wellbeing=4)
    return couple, week


def reports_of(couples: list[Couple]) -> list[WeeklyReport]:
    return list(WeeklyReport.objects.filter(couple__in=couples).order_by("couple_id"))


def test_a_chunk_sent_to_the_reports_queue_is_computed_by_the_worker_once(worker: Path) -> None:
    couples_weeks = [busy_couple("UTC") for _ in range(3)]
    couples = [c for c, _ in couples_weeks]
    week = couples_weeks[0][1]
    args = [[str(c.pk) for c in couples], week.isoformat()]

    celery_app.send_task("engagement.reports.tasks.compute_report_chunk", args=args)
    reports = wait_for(
        lambda: len(r := reports_of(couples)) == 3 and r, 60, "the worker to store 3 reports"
    )
    # Twice, concurrently: the upsert leaves one report per couple and week, same revision.
    for _ in range(2):
        celery_app.send_task("engagement.reports.tasks.compute_report_chunk", args=args)
    wait_for(lambda: chunks_done(worker) == 3, 60, "both runs to finish")

    again = reports_of(couples)
    assert [(r.pk, r.revision, r.week_start) for r in again] == [(r.pk, 1, week) for r in reports]
    # 100 x (0.35 + 0.15 + 0.20 x 1/4) / 0.70 against 0.
    assert {(r.balance, r.gap) for r in again} == {("one_sided", 78.6)}


def test_the_hourly_schedule_fans_out_chunks_by_timezone_and_recomputes_late_data(
    worker: Path,
) -> None:
    zones = ["UTC", "Asia/Tokyo", "America/Chicago", "Europe/Berlin", "Pacific/Auckland"]
    couples_weeks = [busy_couple(tz) for tz in zones]
    couples = [c for c, _ in couples_weeks]

    celery_app.send_task("engagement.reports.tasks.schedule_weekly_reports")
    reports = wait_for(
        lambda: len(r := reports_of(couples)) == len(couples) and r,
        90,
        "the worker to report every couple's last week",
    )

    assert {(r.couple_id, r.week_start) for r in reports} == {
        (c.pk, week) for c, week in couples_weeks
    }
    # Five couples in chunks of two, one week per timezone group.
    assert chunks_done(worker) >= 3

    # Late data: a back-filled check-in marks the week stale; the next run recomputes it.
    couple, week = couples_weeks[0]
    partner = couple.memberships.filter(role="partner").order_by("partner_slot").last()
    assert partner is not None
    checkin(couple, partner.user, week + dt.timedelta(days=2), "private", mood=2)
    assert mark_stale(couple_id=couple.pk, dates=[week + dt.timedelta(days=2)]) == 1

    celery_app.send_task("engagement.reports.tasks.schedule_weekly_reports")
    recomputed = wait_for(
        lambda: (r := WeeklyReport.objects.get(couple=couple, week_start=week)).revision == 2 and r,
        60,
        "the stale report to be recomputed",
    )
    assert not recomputed.stale
    assert recomputed.partners[1]["checkin_days"] == 1
    assert WeeklyReport.objects.filter(couple__in=couples).count() == len(couples)
