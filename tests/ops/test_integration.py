"""Issue 21, done when: metrics summed across gunicorn's workers and the Celery pool after real
requests, a weekly run and a digest send; refused without the token; `/readyz` degraded when
beat stops. Real processes on PostgreSQL and Redis, production settings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.mmap_dict import mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

from accounts.models import User
from config.celery import app as celery_app
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.reports.weeks import last_completed_week
from tests.conftest import THROUGH_THE_BROKER
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import couple_in
from tests.engagement.reports.builders import session
from tests.ops.metrics_text import total
from tests.ops.stack import METRICS_TOKEN
from tests.ops.stack import Stack
from tests.ops.stack import http_get
from tests.ops.stack import wait_for
from tests.smtp import Mailbox

pytestmark = THROUGH_THE_BROKER

COUPLES = 4
REQUESTS = 40
CHUNK = "engagement.reports.tasks.compute_report_chunk"


@pytest.fixture
def stack(tmp_path: Path, smtp_mailbox: Mailbox) -> Iterator[Stack]:
    processes = Stack(
        tmp_path,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_mailbox.port}",
        REPORTS_CHUNK_SIZE="1",
        HEARTBEAT_INTERVAL_SECONDS="1",
    )
    try:
        yield processes
    finally:
        processes.stop_all()


def busy_couple() -> tuple[Couple, dt.date]:
    """A couple with a one-sided last completed week (UTC), as of now."""
    now = timezone.now()
    week = last_completed_week("UTC", now)
    couple, a, b, _ = couple_in("UTC", created_at=now - dt.timedelta(weeks=10))
    starts_at = dt.datetime.combine(week + dt.timedelta(days=1), dt.time(12), dt.UTC)
    session(couple, starts_at, {a: ("attended", 3), b: ("absent", None)})
    checkin(couple, a, week, "therapist", wellbeing=4)
    return couple, week


def per_process(folder: Path, name: str, **labels: str) -> dict[str, float]:
    """Each process's own count of a sample, from its file in the multiprocess directory."""
    counts: dict[str, float] = {}
    for file in sorted(folder.glob("counter_*.db")):
        value = sum(
            sample.value
            for family in MultiProcessCollector.merge([str(file)], accumulate=False)
            for sample in family.samples
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
        )
        if value:
            counts[file.stem.rpartition("_")[2]] = value
    return counts


def stale_count(folder: Path, metric: str, name: str, value: float, **labels: str) -> None:
    """A count left by a process of an earlier run: starting must throw it away."""
    folder.mkdir(parents=True, exist_ok=True)
    stale = MmapedDict(str(folder / "counter_999999.db"))
    key = mmap_key(metric, name, list(labels), list(labels.values()), "left from a previous run")
    stale.write_value(key, value, 0.0)
    stale.close()


def test_metrics_are_summed_across_gunicorn_workers_and_the_celery_pool(
    stack: Stack, smtp_mailbox: Mailbox, tmp_path: Path
) -> None:
    stale_count(
        tmp_path / "metrics-web",
        "django_http_responses_total_by_status_view_method",
        "django_http_responses_total_by_status_view_method_total",
        1000,
        view="meta",
        method="GET",
        status="200",
    )
    stale_count(
        tmp_path / "metrics-worker", "duet_reports", "duet_reports_total", 1000, outcome="created"
    )
    web = stack.gunicorn(workers=2)
    worker_metrics = stack.worker(concurrency=2)

    # Without the token (or with a wrong one, or a user's JWT), nothing.
    for token in (None, "wrong", METRICS_TOKEN[:-1]):
        status, body = http_get(f"{web}/metrics", token)
        assert status == 401, body
        assert "duet_" not in body
        status, body = http_get(worker_metrics, token)
        assert status == 401, body
        assert "duet_" not in body

    # Real requests, eight at a time, so both gunicorn workers serve some.
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: http_get(f"{web}/api/v1/meta/")[0], range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    assert http_get(f"{web}/readyz")[0] == 200  # SELECT 1: the database metrics move

    # A weekly run: the hourly planner, then one chunk per couple on the reports queue.
    couples_weeks = [busy_couple() for _ in range(COUPLES)]
    couples = [c for c, _ in couples_weeks]
    week = couples_weeks[0][1]
    celery_app.send_task("engagement.reports.tasks.schedule_weekly_reports")
    wait_for(
        lambda: WeeklyReport.objects.filter(couple__in=couples).count() == COUPLES,
        90,
        "the worker to report every couple",
    )

    # A digest send, now, for the week just reported: partners and therapists.
    users = User.objects.filter(memberships__couple__in=couples).distinct()
    partners = users.filter(memberships__role=Membership.Role.PARTNER).count()
    therapists = users.filter(memberships__role=Membership.Role.THERAPIST).count()
    celery_app.send_task(
        "engagement.digests.tasks.send_digest_chunk",
        args=[[str(u.pk) for u in users], week.isoformat(), False],
    )
    wait_for(
        lambda: len(smtp_mailbox.messages) == partners + therapists, 90, "the digests to be sent"
    )

    # gunicorn: the HTTP counters of both workers, summed.
    status, text = http_get(f"{web}/metrics", METRICS_TOKEN)
    assert status == 200
    meta = {"view": "meta", "method": "GET", "status": "200"}
    name = "django_http_responses_total_by_status_view_method_total"
    assert total(text, name, **meta) == REQUESTS
    by_worker = per_process(tmp_path / "metrics-web", name, **meta)
    assert len(by_worker) == 2, by_worker
    assert sum(by_worker.values()) == REQUESTS
    assert all(0 < count < REQUESTS for count in by_worker.values())
    assert total(text, "django_db_execute_total", vendor="postgresql") > 0
    # Read at scrape time by the web: the queues (drained) and the broker.
    assert total(text, "duet_broker_up") == 1
    assert total(text, "duet_celery_queue_depth", queue="reports") == 0

    # The worker: what its pool processes counted, summed.
    def worker_text() -> str:
        return http_get(worker_metrics, METRICS_TOKEN)[1]

    wait_for(
        lambda: (
            total(worker_text(), "duet_celery_tasks_total", task=CHUNK, outcome="succeeded")
            == COUPLES
        ),
        # 90 s like the waits above: on a loaded CI host the pool's last chunk may still be
        # finishing its bookkeeping when the reports are already readable.
        90,
        "every chunk to be counted",
    )
    text = worker_text()
    assert total(text, "duet_reports_total", outcome="created") == COUPLES
    assert total(text, "duet_reports_total", outcome="failed") == 0
    assert total(text, "duet_report_chunks_queued_total") == COUPLES
    assert total(text, "duet_report_planner_last_run_timestamp_seconds") > 0
    assert total(text, "duet_report_run_duration_seconds") > 0
    assert total(text, "duet_messages_total", stream="digest", kind="partner", outcome="sent") == (
        partners
    )
    assert total(
        text, "duet_messages_total", stream="digest", kind="therapist", outcome="sent"
    ) == (therapists)
    assert total(text, "duet_messages_total", outcome="failed") == 0
    by_child = per_process(
        tmp_path / "metrics-worker", "duet_celery_tasks_total", outcome="succeeded"
    )
    assert len(by_child) == 2, f"both pool processes ran tasks: {by_child}"
    assert sum(by_child.values()) == total(text, "duet_celery_tasks_total", outcome="succeeded")
    # No label carries a person or a couple.
    for couple in couples:
        assert str(couple.pk) not in text
    assert "@" not in text


def readyz(base: str) -> dict[str, object]:
    status, body = http_get(f"{base}/readyz")
    assert status == 200, body
    return dict(json.loads(body))


def test_readyz_says_degraded_when_beat_stops(stack: Stack) -> None:
    web = stack.gunicorn(workers=1)
    stack.worker(concurrency=1)
    stack.beat()  # a heartbeat every second (HEARTBEAT_INTERVAL_SECONDS)

    wait_for(lambda: readyz(web)["status"] == "ok", 60, "beat's heartbeat to make /readyz ok")

    stack.stop("beat")
    body = wait_for(
        lambda: (b := readyz(web))["status"] == "degraded" and b,
        30,
        "/readyz to say degraded once beat is silent",
    )
    assert body["checks"] == {"database": True, "broker": True}
    reasons = body["reasons"]
    assert isinstance(reasons, list)
    assert [r["code"] for r in reasons] == ["beat_silent"]

    # Beat back: ready again, without a restart of the web.
    stack.beat()
    wait_for(lambda: readyz(web)["status"] == "ok", 60, "/readyz to be ok again")
