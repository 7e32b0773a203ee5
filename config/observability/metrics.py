"""Domain metrics of Duet and the `/metrics` view (docs/operations.md, "Metrics and alerts").

Only metrics that something increments or measures live here. No label carries a user, a
couple, an email or any other personal value: labels are streams, kinds, outcomes, queues and
task names, all from short fixed lists.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client import REGISTRY
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from config.observability.processes import multiprocess_dir

logger = logging.getLogger(__name__)

# --- Outgoing messages -------------------------------------------------------------------
# One counter for every message the system sends, so that safety alerts and reminders join as
# new streams with the same outcomes: stream (digest, account, invitation; later alert,
# reminder), kind within the stream (digest: partner, therapist, minimal), and outcome.
OUTCOMES = ("sent", "retrying", "failed", "unknown")
MESSAGES = Counter(
    "duet_messages",
    "Outgoing messages by stream, kind and outcome (sent; retrying: refused for now, tried "
    "again later; failed: given up; unknown: the connection broke mid-send, never resent).",
    ["stream", "kind", "outcome"],
)


def message(stream: str, kind: str, outcome: str, count: int = 1) -> None:
    """Count ``count`` messages of a stream and kind that ended in ``outcome``."""
    if count > 0:
        MESSAGES.labels(stream=stream, kind=kind, outcome=outcome).inc(count)


def digest(kind: str, outcome: str) -> None:
    message("digest", kind, outcome)


def digests_given_up(*, claimed_before: datetime) -> None:
    """Claims older than ``claimed_before`` are about to be marked outcome unknown in one
    UPDATE (their worker died mid-send): count them by kind first."""
    from engagement.models import DigestDelivery

    rows = DigestDelivery.objects.filter(
        status=DigestDelivery.Status.CLAIMED, claimed_at__lt=claimed_before
    )
    for kind, count in (
        rows.order_by().values("kind").annotate(n=Count("pk")).values_list("kind", "n")
    ):
        message("digest", str(kind), "unknown", int(count))


def account_email(kind: str) -> None:
    """An account email (verification, password_reset, account_note) left for the server."""
    message("account", kind, "sent")


# --- Weekly reports ----------------------------------------------------------------------
REPORTS = Counter(
    "duet_reports",
    "Couple-weeks handled by the report chunks, by outcome: created, updated, unchanged "
    "(computed); skipped, pending (nothing to compute); retrying, failed (the chunk raised).",
    ["outcome"],
)
REPORT_CHUNKS_QUEUED = Counter(
    "duet_report_chunks_queued", "Report chunks the hourly planner queued."
)
REPORT_RUN_PLANNED = Gauge(
    "duet_report_run_planned_timestamp_seconds",
    "When the planner last queued report chunks (Unix time).",
    multiprocess_mode="max",
)
REPORT_PLANNER_LAST_RUN = Gauge(
    "duet_report_planner_last_run_timestamp_seconds",
    "When the hourly planner last finished, whether or not reports were due (Unix time).",
    multiprocess_mode="max",
)
REPORT_CHUNK_FINISHED = Gauge(
    "duet_report_chunk_finished_timestamp_seconds",
    "When a report chunk last finished (Unix time).",
    multiprocess_mode="max",
)
REPORT_RUN_SECONDS = Gauge(
    "duet_report_run_duration_seconds",
    "The latest weekly run: from the start of the planning that queued it to the last chunk "
    "finished so far (final once the queue is empty).",
    multiprocess_mode="mostrecent",
)
_RUN_STARTED_KEY = "ops:report-run-started"
_planner_started: list[float] = []  # set by the planner's task_prerun, in its own process


def planner_started() -> None:
    _planner_started[:] = [time.time()]


def report_run_planned(chunks: int) -> None:
    """Report chunks are on the queue (often none): from the hourly planner, or a recompute."""
    from django.core.cache import cache

    now = time.time()
    if chunks:
        REPORT_CHUNKS_QUEUED.inc(chunks)
    if not _planner_started:
        return  # a recompute by hand (compute_reports): not the planner's run
    started = _planner_started.pop()
    REPORT_PLANNER_LAST_RUN.set(now)
    if chunks:
        REPORT_RUN_PLANNED.set(now)
        cache.set(_RUN_STARTED_KEY, started, timeout=7 * 24 * 3600)


def report_chunk_done(summary: Mapping[str, int]) -> None:
    """A chunk computed its reports: count them and move the run's duration on."""
    from django.core.cache import cache

    for outcome, count in summary.items():
        if count:
            REPORTS.labels(outcome=outcome).inc(count)
    now = time.time()
    REPORT_CHUNK_FINISHED.set(now)
    started = cache.get(_RUN_STARTED_KEY)
    if isinstance(started, int | float):
        REPORT_RUN_SECONDS.set(max(0.0, now - started))


def report_chunk_raised(couples: int, *, final: bool) -> None:
    REPORTS.labels(outcome="failed" if final else "retrying").inc(couples)


# --- Celery tasks ------------------------------------------------------------------------
TASKS = Counter(
    "duet_celery_tasks",
    "Celery task runs by task name and outcome (succeeded, retried, failed).",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "duet_celery_task_duration_seconds",
    "Wall time of a Celery task run, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900),
)


# --- Read at scrape time -----------------------------------------------------------------
def heartbeat_period() -> float:
    """Seconds between two beat heartbeats (HEARTBEAT_INTERVAL_SECONDS, config/celery.py)."""
    from config.celery import app

    entry = app.conf.beat_schedule.get("worker-heartbeat", {})
    schedule = entry.get("schedule", 60.0)
    return float(schedule if isinstance(schedule, int | float) else 60.0)


def heartbeat_age(now: datetime | None = None) -> float:
    """Seconds since a worker last ran beat's heartbeat; infinite when none is on record."""
    from django.core.cache import cache
    from django.utils import timezone

    from config.tasks import HEARTBEAT_CACHE_KEY

    try:
        record = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:
        logger.exception("metrics: the cache does not answer")
        return math.inf
    if not isinstance(record, dict) or not record.get("at"):
        return math.inf
    try:
        at = datetime.fromisoformat(str(record["at"]))
    except ValueError:
        return math.inf
    return max(0.0, ((now or timezone.now()) - at).total_seconds())


def queue_depths() -> dict[str, int] | None:
    """Messages waiting on each Celery queue, read from the broker; None when it is down."""
    from kombu.exceptions import ChannelError

    from config.celery import QUEUES
    from config.celery import app

    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            channel: Any = conn.default_channel
            for name in QUEUES:
                try:
                    depths[name] = int(channel.queue_declare(queue=name, passive=True)[1])
                except ChannelError:
                    depths[name] = 0  # Redis drops an empty queue's key
    except Exception:
        logger.exception("metrics: the broker does not answer")
        return None
    return depths


class LiveCollector(Collector):
    """What is read at scrape time: beat's heartbeat and the depth of each queue."""

    def collect(self) -> Iterator[Metric]:
        age = GaugeMetricFamily(
            "duet_beat_heartbeat_age_seconds",
            "Seconds since a worker last ran beat's heartbeat task (+Inf: none on record).",
        )
        age.add_metric([], heartbeat_age())
        yield age
        period = GaugeMetricFamily(
            "duet_beat_heartbeat_period_seconds", "Seconds between two beat heartbeats."
        )
        period.add_metric([], heartbeat_period())
        yield period
        depths = queue_depths()
        up = GaugeMetricFamily("duet_broker_up", "1 when the broker answered this scrape.")
        up.add_metric([], 0 if depths is None else 1)
        yield up
        if depths is not None:
            depth = GaugeMetricFamily(
                "duet_celery_queue_depth", "Messages waiting on a Celery queue.", labels=["queue"]
            )
            for name, count in depths.items():
                depth.add_metric([name], count)
            yield depth


class _ThisProcess(Collector):
    """The default registry, when this process is the only one counting (tests, runserver)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape_registry(*, live: bool) -> CollectorRegistry:
    """The registry of one scrape: every process of the group, plus the live readings."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    if live:
        registry.register(LiveCollector())
    return registry


# --- The endpoint --------------------------------------------------------------------------
def token_accepted(authorization: str) -> bool:
    """True for `Bearer <METRICS_TOKEN>`; always false when no token is configured."""
    expected = getattr(settings, "METRICS_TOKEN", "")
    scheme, _, supplied = authorization.strip().partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(supplied.strip().encode(), expected.encode())


def refusal(configured: bool) -> tuple[int, dict[str, str], bytes]:
    """404 when metrics are off (no token configured), else 401 asking for the bearer token."""
    if not configured:
        return 404, {"Content-Type": "text/plain"}, b"Not found.\n"
    return (
        401,
        {"Content-Type": "text/plain", "WWW-Authenticate": 'Bearer realm="metrics"'},
        b"A bearer token is required.\n",
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format for a scraper holding METRICS_TOKEN; refused to anyone else."""
    if not token_accepted(request.headers.get("Authorization", "")):
        status, headers, body = refusal(bool(getattr(settings, "METRICS_TOKEN", "")))
        response = HttpResponse(body, status=status, content_type=headers.pop("Content-Type"))
        for name, value in headers.items():
            response[name] = value
        return response
    return HttpResponse(
        generate_latest(scrape_registry(live=True)), content_type=CONTENT_TYPE_PLAIN_0_0_4
    )
