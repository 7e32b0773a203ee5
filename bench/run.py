"""`make bench`: every benchmark of docs/benchmarks.md, end to end, on PostgreSQL and Redis.

Prints one line per benchmark,
`BENCH name=<name> value=<number> unit=<unit> baseline=<number> ratio=<number>`, and rewrites
docs/benchmarks.md with the machine, the commands and the results. Figures are measured here,
never asserted in tests (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.processes import BIN, ROOT, answers, free_port, manage_or_exit, poll, running

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/duet_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


@dataclass
class Result:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    notes: str = ""

    def line(self) -> str:
        def fmt(x: float | None) -> str:
            return "-" if x is None else f"{x:.4g}"

        return (
            f"BENCH name={self.name} value={fmt(self.value)} unit={self.unit} "
            f"baseline={fmt(self.baseline)} ratio={fmt(self.ratio)}"
        )


def log(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.database_url = args.database_url
        self.redis_url = args.redis_url
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "THROTTLE_USER_RATE": "10000000/min",
            "THROTTLE_ANON_RATE": "10000000/min",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        }
        os.environ.update(
            {
                k: self.env[k]
                for k in (
                    "DJANGO_SETTINGS_MODULE",
                    "DATABASE_URL",
                    "REDIS_URL",
                    "THROTTLE_USER_RATE",
                    "THROTTLE_ANON_RATE",
                    "CELERY_TASK_ALWAYS_EAGER",
                )
            }
        )
        self.results: list[Result] = []
        self.facts: dict[str, Any] = {}

    # --- set-up -----------------------------------------------------------------------------

    def manage(self, *argv: str, quiet: bool = False) -> str:
        stdout = manage_or_exit(*argv, env=self.env)
        if not quiet:
            for line in stdout.strip().splitlines()[-3:]:
                log(f"  {line}")
        return stdout

    def recreate_database(self) -> None:
        import psycopg

        url = urlparse(self.database_url)
        name = url.path.lstrip("/")
        admin_url = self.database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def django(self) -> None:
        import django

        django.setup()

    # --- processes ----------------------------------------------------------------------------

    @contextmanager
    def process(
        self, argv: list[str], name: str, env: dict[str, str] | None = None
    ) -> Iterator[subprocess.Popen[bytes]]:
        log_path = Path(tempfile.gettempdir()) / f"duet-bench-{name}.log"
        with running(argv, log_path=log_path, env=env or self.env) as proc:
            yield proc

    def wait_http(self, url: str, timeout: float = 60) -> None:
        if not poll(lambda: answers(url), timeout):
            raise SystemExit(f"{url} did not answer")


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            pids.extend(process_tree(int(child)))
    return pids


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split between the processes that share them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def parse_wrk(output: str) -> dict[str, float]:
    def duration_ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    figures: dict[str, float] = {}
    figures["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M)
        if match:
            figures[f"p{pct}_ms"] = duration_ms(match.group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    figures["non_2xx"] = float(bad.group(1)) if bad else 0.0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    figures["socket_errors"] = float(sum(int(x) for x in errors.groups())) if errors else 0.0
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", output)
    if done is None:
        raise SystemExit(f"wrk printed no request count:\n{output}")
    figures["requests"] = float(done.group(1))
    figures["seconds"] = float(done.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[done.group(3)]
    return figures


# --- the benchmarks ---------------------------------------------------------------------------


def last_completed_week() -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) - timedelta(weeks=1)


class Benchmarks(Bench):
    def seed(self, couples: int, seed: int, name: str) -> None:
        log(f"seeding {couples} couples x {self.args.weeks} weeks (seed {seed})")
        started = time.monotonic()
        self.manage(
            "seed_synthetic",
            "--couples",
            str(couples),
            "--weeks",
            str(self.args.weeks),
            "--seed",
            str(seed),
            "--quiet",
        )
        elapsed = time.monotonic() - started
        self.add(Result(name, elapsed, "s", target="< 120 s for 10k x 12 weeks"))
        self.vacuum()

    def vacuum(self, table: str = "") -> None:
        """VACUUM ANALYZE after a bulk load or delete, as routine maintenance would have done by
        then: the runs that follow then neither set the hint bits of millions of fresh rows
        (writing the pages again) nor meet autovacuum halfway through."""
        from django.db import connection

        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table) if table else ''}")
        log(f"VACUUM ANALYZE {table} in {time.monotonic() - started:.1f} s")

    def add(self, result: Result) -> None:
        self.results.append(result)
        print(result.line(), flush=True)

    @contextmanager
    def worker(self, concurrency: int) -> Iterator[subprocess.Popen[bytes]]:
        argv = [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            "reports,default,email",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ]
        with self.process(argv, "worker") as proc:
            from django.core.cache import cache

            from config.celery import app
            from config.tasks import HEARTBEAT_CACHE_KEY

            token = f"bench-{time.time()}"
            app.send_task("config.tasks.heartbeat", args=[token], queue="default")
            deadline = time.monotonic() + 60
            while not cache.get(f"{HEARTBEAT_CACHE_KEY}:{token}"):
                if time.monotonic() > deadline:
                    raise SystemExit("the worker did not start")
                time.sleep(0.2)
            yield proc

    def weekly_run(self, label: str) -> tuple[float, int, float, float]:
        """The hourly task end to end through a real worker: (seconds, reports, peak PSS MB,
        peak RSS MB of the largest worker process)."""
        import redis

        from config.celery import app
        from engagement.models import WeeklyReport
        from engagement.reports.pipeline import reports_due

        WeeklyReport.objects.all().delete()
        # Deleting every report would otherwise wake autovacuum during the run.
        self.vacuum(WeeklyReport._meta.db_table)
        expected = sum(len(ids) for ids in reports_due().values())
        log(f"{label}: {expected} reports due")
        peak_pss = peak_rss = 0
        broker = redis.Redis.from_url(self.redis_url)
        with self.worker(self.args.worker_processes) as proc:
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
        return elapsed, expected, peak_pss / 1024, peak_rss / 1024

    def reports_10k(self) -> float:
        from bench.floor import run_floor

        week = last_completed_week()
        elapsed, count, pss_mb, rss_mb = self.weekly_run("reports_10k")
        floors = []
        for _ in range(3):
            started = time.monotonic()
            rows = run_floor(week)
            floors.append(time.monotonic() - started)
        floor = sorted(floors)[1]
        self.facts["floor_rows"] = rows
        self.facts["reports_10k_count"] = count
        naive = self.per_couple_loop(week)
        self.add(
            Result(
                "reports_10k",
                elapsed,
                "s",
                floor,
                elapsed / floor,
                "<= 4 x floor; < 10 s",
                f"{count} reports; floor: one SQL statement, {rows} partner-week rows",
            )
        )
        self.add(
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
        self.add(
            Result(
                "worker_rss",
                pss_mb,
                "MB",
                None,
                None,
                "< 300 MB",
                f"peak PSS of the worker pool ({self.args.worker_processes} processes "
                f"+ parent); largest single process peak RSS {rss_mb:.0f} MB",
            )
        )
        return elapsed

    def per_couple_loop(self, week: date) -> float:
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

    def reports_50k(self, ten_k: float) -> None:
        from engagement.models import Couple

        more = self.args.couples_large - Couple.objects.count()
        self.seed(more, seed=2, name="seed_more")
        elapsed, count, _, _ = self.weekly_run("reports_50k")
        self.add(
            Result(
                "reports_50k",
                elapsed,
                "s",
                ten_k,
                elapsed / ten_k,
                "<= 5.5 x reports_10k",
                f"{count} reports",
            )
        )

    def _targets(self, lines: list[str]) -> str:
        handle = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)  # noqa: SIM115
        handle.write("\n".join(lines) + "\n")
        handle.close()
        return handle.name

    def _wrk(self, script: str, targets: str, port: int, seconds: int) -> dict[str, float]:
        env = {**os.environ, "BENCH_TARGETS": targets}
        argv = [
            "wrk",
            "-t2",
            f"-c{self.args.connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "wrk" / script),
            f"http://127.0.0.1:{port}",
        ]
        output = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
        figures = parse_wrk(output)
        if figures["non_2xx"] or figures["socket_errors"]:
            log(f"wrk {script}: {figures}")
        return figures

    def _interleaved(
        self, read_t: str, bare_t: str, port: int, seconds: int, rounds: int = 3
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The API and the bare baseline in alternating rounds (A B, B A, A B), so that load
        from other processes on the machine weighs on both alike; requests per second over
        all rounds, p50 and p99 the median of the rounds'."""
        per_round = max(2, seconds // rounds)
        runs: dict[str, list[dict[str, float]]] = {"api": [], "bare": []}
        for n in range(rounds):
            order = ("api", "bare") if n % 2 == 0 else ("bare", "api")
            for kind in order:
                targets = read_t if kind == "api" else bare_t
                runs[kind].append(self._wrk("read.lua", targets, port, per_round))

        def combined(figures: list[dict[str, float]]) -> dict[str, float]:
            out = {
                "rps": sum(f["requests"] for f in figures) / sum(f["seconds"] for f in figures),
                "requests": sum(f["requests"] for f in figures),
                "non_2xx": sum(f["non_2xx"] for f in figures),
                "socket_errors": sum(f["socket_errors"] for f in figures),
            }
            for key in ("p50_ms", "p99_ms"):
                values = sorted(f[key] for f in figures if key in f)
                if values:
                    out[key] = values[len(values) // 2]
            return out

        return combined(runs["api"]), combined(runs["bare"])

    def api(self) -> None:
        from accounts.authentication import issue_tokens
        from accounts.models import User
        from engagement.models import Membership

        if shutil.which("wrk") is None:
            log("wrk is missing (apt-get install wrk): skipping api_read and api_write")
            return
        memberships = list(
            Membership.objects.filter(role="partner", partner_slot=1)
            .select_related("user", "couple")
            .order_by("couple_id")[:50]
        )
        read = [
            f"/api/v1/checkins/?couple={m.couple_id}&page_size=50 {issue_tokens(m.user)['access']}"
            for m in memberships
        ]
        bare = [
            f"/bench/bare-checkins/?couple={m.couple_id}&viewer={m.user_id} -" for m in memberships
        ]
        day = (date.today() - timedelta(days=1)).isoformat()
        write = [
            f"/api/v1/checkins/{day}/ {issue_tokens(m.user)['access']} "
            + json.dumps(
                {
                    "couple": str(m.couple_id),
                    "visibility": "private",
                    "mood": 3,
                    "effort": 4,
                    "resentment": 2,
                    "note": "bench",
                },
                separators=(",", ":"),
            )
            for m in memberships
        ]
        del User
        port = free_port()
        argv = [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "--workers",
            str(self.args.web_workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-" if False else "/dev/null",
        ]
        env = {**self.env}
        with self.process(argv, "gunicorn", env):
            self.wait_http(f"http://127.0.0.1:{port}/healthz")
            seconds = self.args.api_seconds
            read_t, bare_t, write_t = self._targets(read), self._targets(bare), self._targets(write)
            self._wrk("read.lua", read_t, port, 5)  # warm up both paths
            self._wrk("read.lua", bare_t, port, 5)
            api, baseline = self._interleaved(read_t, bare_t, port, seconds)
            self.add(
                Result(
                    "api_read",
                    api["rps"],
                    "req/s",
                    baseline["rps"],
                    api["rps"] / baseline["rps"],
                    "ratio >= 0.6",
                    f"p50 {api.get('p50_ms', 0):.1f} ms, p99 {api.get('p99_ms', 0):.1f} ms; "
                    f"bare Django p50 {baseline.get('p50_ms', 0):.1f} ms, "
                    f"p99 {baseline.get('p99_ms', 0):.1f} ms; "
                    f"non-2xx {api['non_2xx']:.0f}; 3 alternating rounds each",
                )
            )
            put = self._wrk("write.lua", write_t, port, seconds)
            self.add(
                Result(
                    "api_write",
                    put["rps"],
                    "req/s",
                    None,
                    None,
                    "p99 reported",
                    f"p50 {put.get('p50_ms', 0):.1f} ms, p99 {put.get('p99_ms', 0):.1f} ms; "
                    f"non-2xx {put['non_2xx']:.0f}",
                )
            )

    def digests(self) -> None:
        from engagement.models import DigestDelivery

        port = free_port()
        sink = [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
        week = last_completed_week()
        with self.process(sink, "smtp-sink"):
            time.sleep(1.0)
            env = {**self.env, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
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
            log(f"send_digests failed: {completed.stderr[-2000:]}")
            return
        sent = DigestDelivery.objects.filter(status="sent").count()
        self.add(
            Result(
                "digests_10k",
                sent / elapsed,
                "msg/s",
                None,
                None,
                ">= 200 msg/s",
                f"{sent} digests rendered and sent over SMTP in {elapsed:.1f} s, one process",
            )
        )

    def reminders(self) -> None:
        """Planning one reminder hour for N users seeded synthetically (docs/reminders.md): the
        wall time of one pass over every candidate, and the queries each chunk costs."""
        import datetime as dt
        from zoneinfo import ZoneInfo

        from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accounts.models import Device, User
        from engagement.models import CheckIn, Couple, Membership, ReminderDelivery
        from engagement.reminders import planner

        total = self.args.reminder_users
        now = timezone.now()
        zones = ("UTC", "Europe/Madrid", "America/Mexico_City", "Asia/Tokyo")
        log(f"seeding {total} reminder users in {total // 2} couples")
        started = time.monotonic()
        batch = 5_000
        for first in range(0, total, batch):
            count = min(batch, total - first)
            users = User.objects.bulk_create(
                User(
                    email=f"reminder{first + i}@bench.invalid",
                    display_name="R",
                    password=UNUSABLE_PASSWORD_PREFIX,
                    email_verified_at=now,
                    timezone=zones[(first + i) % len(zones)],
                    # Everyone's hour is this one where they live: all of them are due now.
                    reminder_hour=now.astimezone(ZoneInfo(zones[(first + i) % len(zones)])).hour,
                    reminder_email=(first + i) % 3 == 0,
                )
                for i in range(count)
            )
            couples = Couple.objects.bulk_create(Couple(name="R") for _ in range(count // 2))
            Membership.objects.bulk_create(
                Membership(couple=c, user=users[2 * j + k], role="partner", partner_slot=k + 1)
                for j, c in enumerate(couples)
                for k in (0, 1)
            )
            Device.objects.bulk_create(
                Device(user=u, platform="android", token=f"t{i}", token_digest=f"{first + i:064d}")
                for i, u in enumerate(users)
                if i % 2
            )
            CheckIn.objects.bulk_create(
                CheckIn(
                    couple=couples[i // 2],
                    author=u,
                    date=now.date() - dt.timedelta(days=(i % 8) // 4),
                    mood=3,
                    visibility=("private", "couple")[i % 2],
                )
                for i, u in enumerate(users)
                if i % 4 != 3 and i // 2 < len(couples)
            )
            ReminderDelivery.objects.bulk_create(
                ReminderDelivery(
                    user=u,
                    local_date=now.date() - dt.timedelta(days=1 + i % 3),
                    channel="push",
                    status="sent",
                )
                for i, u in enumerate(users)
                if i % 5 == 0
            )
        log(f"seeded in {time.monotonic() - started:.1f} s")
        self.vacuum()
        pages = planned = users_seen = worst = 0
        started = time.monotonic()
        for page in planner.user_pages(planner.CHUNK_SIZE):
            with CaptureQueriesContext(connection) as queries:
                planned += len(planner.plan(page, now=now))
            pages += 1
            users_seen += len(page)
            worst = max(worst, len(queries.captured_queries))
        elapsed = time.monotonic() - started
        self.add(
            Result(
                "reminders_100k" if total == 100_000 else f"reminders_{total}",
                elapsed,
                "s",
                target="one pass; fixed queries per chunk",
                notes=(
                    f"{users_seen} candidates in {pages} chunks of {planner.CHUNK_SIZE}: at most "
                    f"{worst} queries a chunk (and 1 to read each page), {planned} reminders "
                    "planned, nothing sent"
                ),
            )
        )

    def run(self) -> None:
        self.recreate_database()
        self.manage("migrate", "--no-input", quiet=True)
        self.django()
        if self.args.only_reminders:
            self.reminders()
            return
        self.seed(self.args.couples, seed=1, name="seed_10k")
        ten_k = self.reports_10k()
        if not self.args.skip_api:
            self.api()
        if not self.args.skip_digests:
            self.digests()
        if not self.args.skip_large:
            self.reports_50k(ten_k)
        # Last: its users sit in couples with no history, which the weekly runs above would
        # otherwise have had to report.
        if not self.args.skip_reminders:
            self.reminders()
        write_markdown(self)


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError):
        pass

    def version(argv: list[str]) -> str:
        try:
            return (
                subprocess.run(argv, capture_output=True, text=True, check=False)
                .stdout.strip()
                .splitlines()[0]
            )
        except (OSError, IndexError):
            return "unknown"

    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": memory,
        "python": platform.python_version(),
        "postgres": version(["psql", "--version"]),
        "redis": version(["redis-server", "--version"]),
        "wrk": version(["wrk", "--version"]) if shutil.which("wrk") else "missing",
    }


START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def write_markdown(bench: Bench) -> None:
    facts = machine()
    lines = [
        START,
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, with "
        f"`make bench` ({' '.join(sys.argv[1:]) or 'defaults'}).",
        "",
        f"Machine: {facts['cpu']}, {facts['memory']}; Python {facts['python']}; "
        f"{facts['postgres']}; {facts['redis']}; {facts['wrk']}.",
        "",
        "| benchmark | value | unit | baseline | ratio | target | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in bench.results:

        def fmt(x: float | None) -> str:
            return "" if x is None else f"{x:.3g}"

        lines.append(
            f"| {r.name} | {fmt(r.value)} | {r.unit} | {fmt(r.baseline)} | "
            f"{fmt(r.ratio)} | {r.target} | {r.notes} |"
        )
    lines += ["", "```", *(r.line() for r in bench.results), "```", END]
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n" + START + "\n" + END + "\n"
    if START not in text:
        text += "\n" + START + "\n" + END + "\n"
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(before + "\n".join(lines) + after)
    log(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--couples", type=int, default=10_000)
    parser.add_argument("--couples-large", type=int, default=50_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--api-seconds", type=int, default=30)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-digests", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--reminder-users", type=int, default=100_000)
    parser.add_argument("--skip-reminders", action="store_true")
    parser.add_argument(
        "--only-reminders", action="store_true", help="only reminders_100k (prints, writes no doc)"
    )
    args = parser.parse_args(argv)
    Benchmarks(args).run()


if __name__ == "__main__":
    main()
