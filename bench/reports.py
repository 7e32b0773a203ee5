"""`reports_10k`, `reports_10k_vs_per_couple`, `worker_rss` and `reports_50k`: the weekly run
of reports through a real worker (docs/benchmarks.md)."""

from __future__ import annotations

import time
from datetime import date

from bench.harness import Bench
from bench.harness import Result
from bench.harness import cpu_seconds
from bench.harness import last_completed_week
from bench.harness import log
from bench.harness import process_tree
from bench.harness import pss_kib
from bench.harness import rss_kib


def weekly_run(bench: Bench, label: str) -> tuple[float, int, float, float]:
    """The hourly task end to end through a real worker: (seconds, reports, peak PSS MB,
    peak RSS MB of the largest worker process). The CPU time the worker pool and the bench's own
    PostgreSQL spent on it, per report, goes to `bench.facts[label]`: wall time on a shared
    machine carries the neighbours' load, CPU time a report does not."""
    import redis

    from config.celery import app
    from engagement.models import WeeklyReport
    from engagement.reports.pipeline import reports_due

    WeeklyReport.objects.all().delete()
    # Deleting every report would otherwise wake autovacuum during the run.
    bench.vacuum(WeeklyReport._meta.db_table)
    warm_up(bench)
    expected = sum(len(ids) for ids in reports_due().values())
    log(f"{label}: {expected} reports due")
    peak_pss = peak_rss = 0
    broker = redis.Redis.from_url(bench.redis_url)
    with bench.worker(bench.args.worker_processes) as proc:
        worker_cpu = cpu_seconds(proc.pid)
        server_cpu = cpu_seconds(bench.postmaster) if bench.postmaster else 0.0
        started = time.monotonic()
        app.send_task("engagement.reports.tasks.schedule_weekly_reports", queue="reports")
        next_sample = 0.0
        done = 0
        while True:
            now = time.monotonic()
            # Memory every 0.2 s: reading smaps walks the workers' page tables, which is
            # CPU taken from them on a 2-core machine.
            if now >= next_sample:
                tree = process_tree(proc.pid)
                peak_pss = max(peak_pss, sum(pss_kib(pid) for pid in tree))
                peak_rss = max(peak_rss, max((rss_kib(pid) for pid in tree), default=0))
                next_sample = now + 0.2
            # Reports are counted only once no chunk waits in the queue: counting 50,000
            # rows ten times a second took PostgreSQL a fifth of a core (and two parallel
            # workers) from the run being measured.
            if broker.llen("reports") == 0:
                done = WeeklyReport.objects.count()
                if done >= expected:
                    break
            if now - started > 1800:
                raise SystemExit(f"{label}: only {done}/{expected} reports after 30 min")
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        worker_cpu = cpu_seconds(proc.pid) - worker_cpu
        server_cpu = cpu_seconds(bench.postmaster) - server_cpu if bench.postmaster else 0.0
    per_report = f"CPU a report: worker pool {worker_cpu / expected * 1000:.2f} ms"
    if bench.postmaster:
        per_report += f", PostgreSQL {server_cpu / expected * 1000:.2f} ms"
    bench.facts[label] = per_report
    log(f"{label}: {elapsed:.1f} s; CPU {worker_cpu:.1f} s worker pool, {server_cpu:.1f} s server")
    return elapsed, expected, peak_pss / 1024, peak_rss / 1024


# What a weekly run reads and writes: the tables and every index on them.
READ_BY_THE_RUN = (
    "engagement_couple",
    "engagement_membership",
    "engagement_couplestatuschange",
    "engagement_therapysession",
    "engagement_attendance",
    "engagement_checkin",
    "engagement_commitment",
    "engagement_awayperiod",
    "engagement_sessionfeedback",
    "engagement_safetyalert",
    "engagement_goal",
    "engagement_weeklyreport",
    "engagement_reportreaderstate",
    "accounts_user",
)


def warm_up(bench: Bench) -> None:
    """Read what the run reads into PostgreSQL's shared buffers first (pg_prewarm's 'buffer'
    mode, which reads through the operating system's page cache), before the 10k run and the
    50k run alike: what a production server, whose buffers are a quarter of memory, holds.

    On the machine's shared PostgreSQL (128 MB of shared buffers) the 50k database was in
    memory or not depending on what other work had read since the seed, which made
    `reports_50k` 22 s one run and 26.5 s the next (docs/benchmarks.md, issue 20). The bench's
    own cluster has production's buffers (bench/postgres.py), but what they hold depends on
    what ran before: a 50k run on a cluster just started copied 250,000 pages from the page
    cache into them, which a 10k run right after the seed did not. Warming both runs the same
    way measures the pipeline, not the history of the cache. Buffers smaller than the tables
    keep what was read last, and the page cache the rest."""
    from django.db import connection

    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cursor.execute(
                "SELECT sum(pg_prewarm(c.oid, 'buffer')) FROM pg_class c "
                "WHERE c.relname = ANY(%s) OR c.oid IN (SELECT indexrelid FROM pg_index "
                "WHERE indrelid IN (SELECT oid FROM pg_class WHERE relname = ANY(%s)))",
                [list(READ_BY_THE_RUN), list(READ_BY_THE_RUN)],
            )
            pages = cursor.fetchone()[0]
    except Exception as exc:  # no pg_prewarm: measured cold, and said so
        log(f"warm-up skipped ({exc!r}): the run starts with whatever the caches hold")
        return
    bench.facts["warm_up_pages"] = pages
    log(f"warm-up: {pages} pages read in {time.monotonic() - started:.1f} s")


def reports_10k(bench: Bench) -> float:
    from bench.floor import run_floor

    week = last_completed_week()
    elapsed, count, pss_mb, rss_mb = weekly_run(bench, "reports_10k")
    floors = []
    for _ in range(3):
        started = time.monotonic()
        rows = run_floor(week)
        floors.append(time.monotonic() - started)
    floor = sorted(floors)[1]
    bench.facts["floor_rows"] = rows
    bench.facts["reports_10k_count"] = count
    naive = per_couple_loop(bench, week)
    bench.add(
        Result(
            "reports_10k",
            elapsed,
            "s",
            floor,
            elapsed / floor,
            "<= 4 x floor; < 10 s",
            f"{count} reports; floor: one SQL statement, {rows} partner-week rows; "
            f"{bench.facts['reports_10k']}",
        )
    )
    bench.add(
        Result(
            "reports_10k_vs_per_couple",
            elapsed,
            "s",
            naive,
            naive / elapsed,
            ">= 10 x faster than the per-couple ORM loop",
            "per-couple loop timed on 500 couples and scaled",
        )
    )
    bench.add(
        Result(
            "worker_rss",
            pss_mb,
            "MB",
            None,
            None,
            "< 300 MB",
            f"peak PSS of the worker pool ({bench.args.worker_processes} processes "
            f"+ parent); largest single process peak RSS {rss_mb:.0f} MB",
        )
    )
    return elapsed


def per_couple_loop(bench: Bench, week: date) -> float:
    from bench.naive import compute_couple_naively
    from engagement.models import Couple

    sample = list(Couple.objects.order_by("id").values_list("id", flat=True)[:500])
    total = Couple.objects.count()
    started = time.monotonic()
    for couple_id in sample:
        compute_couple_naively(couple_id, week)
    elapsed = time.monotonic() - started
    log(f"per-couple loop: {len(sample)} couples in {elapsed:.1f} s")
    return elapsed * total / len(sample)


def reports_50k(bench: Bench, ten_k: float | None) -> None:
    """The same run on the database grown to 50k couples; its ratio to `reports_10k` of the same
    `make bench` (none with `--only reports_50k`)."""
    from engagement.models import Couple

    more = bench.args.couples_large - Couple.objects.count()
    if more > 0:
        bench.seed(more, seed=2, name="seed_more")
    elapsed, count, _, _ = weekly_run(bench, "reports_50k")
    bench.add(
        Result(
            "reports_50k",
            elapsed,
            "s",
            ten_k,
            None if ten_k is None else elapsed / ten_k,
            "<= 5.5 x reports_10k",
            f"{count} reports; {bench.facts['reports_50k']}",
        )
    )
