"""`digests_10k`, `digests_queries_per_chunk` and `digests_10k_worker_pool`: every digest of the
10k database rendered and sent over SMTP to an aiosmtpd sink by `manage.py send_digests`, one
process; then the same digests again the way production sends them, a chunk a task through a
real Celery worker pool (docs/benchmarks.md)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date

from bench.harness import ROOT
from bench.harness import Bench
from bench.harness import Result
from bench.harness import bench_port
from bench.harness import last_completed_week
from bench.harness import log


def run(bench: Bench) -> None:
    from engagement.models import DigestDelivery

    week = last_completed_week()
    # Every couple's report of the week the digests summarise, untimed. The weekly run made
    # each couple's last completed week in its own timezone: on a Sunday after 11:00 UTC,
    # Pacific/Auckland's couples (a sixth of the synthetic ones) are a week ahead, and their
    # digests of this week would wait for a report instead of being sent.
    started = time.monotonic()
    bench.manage("compute_reports", "--week", week.isoformat(), quiet=True)
    log(f"digests: every couple's report of {week} in {time.monotonic() - started:.1f} s")
    port = bench_port()
    sink = _sink(port)
    # A run on a reused database sends them all again.
    DigestDelivery.objects.filter(week_start=week).delete()
    with bench.process(sink, "smtp-sink"):
        time.sleep(1.0)
        sent, elapsed = _send_in_one_process(bench, week, port)
        per_chunk = queries_per_chunk(week, port) if sent else None
    if not sent:
        return
    bench.add(
        Result(
            "digests_10k",
            sent / elapsed,
            "msg/s",
            None,
            None,
            ">= 250 msg/s",
            f"{sent} digests rendered and sent over SMTP in {elapsed:.1f} s, one process",
        )
    )
    pipelining(bench, week)
    through_workers(bench, week)
    if per_chunk is not None:
        queries, size = per_chunk
        bench.add(
            Result(
                "digests_queries_per_chunk",
                queries,
                "queries",
                None,
                None,
                "constant whatever the chunk's size",
                f"one chunk of {size} digests sent again in-process: every query it sends",
            )
        )


def _send_in_one_process(bench: Bench, week: date, port: int) -> tuple[int, float]:
    """`manage.py send_digests --week` to the sink on ``port``: (digests sent, seconds); no
    digest sent when it failed."""
    from engagement.models import DigestDelivery

    env = {**bench.env, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "manage.py", "send_digests", "--week", week.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        log(
            f"send_digests failed (exit {completed.returncode}): {completed.stderr[-2000:]}"
            f"{completed.stdout[-2000:]}"
        )
        return 0, elapsed
    return DigestDelivery.objects.filter(week_start=week, status="sent").count(), elapsed


def pipelining(bench: Bench, week: date) -> None:
    """The same digests again, one process, to a sink that offers PIPELINING (RFC 2920) as
    production relays do (Postfix, Amazon SES, SendGrid, Mailgun): MAIL, RCPT and DATA go in
    one write (config/smtp.py). Reported beside `digests_10k`, whose sink offers no extension
    but SIZE and 8BITMIME, as in every run before."""
    from engagement.models import DigestDelivery

    port = bench_port()
    DigestDelivery.objects.filter(week_start=week).delete()
    with bench.process(_sink(port, "bench.smtp_sink.PipeliningSink"), "smtp-sink-pipelining"):
        time.sleep(1.0)
        sent, elapsed = _send_in_one_process(bench, week, port)
    if sent:
        bench.add(
            Result(
                "digests_10k_pipelining",
                sent / elapsed,
                "msg/s",
                None,
                None,
                "reported",
                f"{sent} digests sent in {elapsed:.1f} s, one process, to a sink offering "
                "PIPELINING (RFC 2920) as production relays do",
            )
        )


def queries_per_chunk(week: date, port: int) -> tuple[int, int]:
    """Send one chunk of digests again, in this process, counting its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.test.utils import override_settings
    from django.utils import timezone

    from engagement.digests import pipeline
    from engagement.digests import schedule
    from engagement.models import DigestDelivery

    users = list(schedule.eligible_users().order_by("id")[: pipeline.CHUNK_SIZE])
    DigestDelivery.objects.filter(user__in=users, week_start=week).delete()
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
    }
    with override_settings(**smtp), CaptureQueriesContext(connection) as queries:
        counts = pipeline.send_digests(users, now=timezone.now(), week=week, on_schedule=False)
    log(f"digests: one chunk again in-process: {dict(counts)}")
    return len(queries.captured_queries), len(users)


def _sink(port: int, handler: str = "aiosmtpd.handlers.Sink") -> list[str]:
    """An SMTP server that takes every message and keeps none."""
    return [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", handler]


def through_workers(bench: Bench, week: date) -> None:
    """The same digests again as production sends them: `send_digests --async` queues a chunk
    task per page of users and the worker pool (`--worker-processes`, as many as the machine
    has cores in production) sends them; timed from the queueing until as many digests as the
    one-process run sent are recorded sent."""
    from engagement.models import DigestDelivery

    port = bench_port()
    sink = _sink(port)
    expected = DigestDelivery.objects.filter(week_start=week, status="sent").count()
    DigestDelivery.objects.filter(week_start=week).delete()
    env = {**bench.env, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
    processes = bench.args.worker_processes
    with bench.process(sink, "smtp-sink-pool"), bench.worker(processes, env):
        started = time.monotonic()
        bench.manage("send_digests", "--week", week.isoformat(), "--async", quiet=True)
        sent = 0
        deadline = started + 30 * 60
        while time.monotonic() < deadline:
            sent = DigestDelivery.objects.filter(week_start=week, status="sent").count()
            if sent >= expected:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    if sent < expected:
        log(f"digests through the workers: {sent} of {expected} sent in {elapsed:.0f} s")
        return
    bench.add(
        Result(
            "digests_10k_worker_pool",
            sent / elapsed,
            "msg/s",
            None,
            None,
            "reported",
            f"{sent} digests sent by `send_digests --async` and a worker pool of {processes} "
            f"processes in {elapsed:.1f} s (the SMTP sink on the same cores)",
        )
    )
