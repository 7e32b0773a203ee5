"""The harness every benchmark of `make bench` shares: the result line, the log, the set-up
(databases, `manage.py`, processes started through `tests/processes.py`), the worker, and the
results block of docs/benchmarks.md. One module per benchmark beside it (bench/reports.py,
bench/api.py, bench/digests.py, bench/reminders.py); bench/run.py runs them in order."""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.processes import BIN
from tests.processes import ROOT
from tests.processes import answers
from tests.processes import free_port
from tests.processes import manage_or_exit
from tests.processes import poll
from tests.processes import running

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def bench_port() -> int:
    """A free loopback port: within BENCH_PORTS (`18400-18499`) when set, so that runs on a
    shared machine stay in their own range; else any."""
    span = os.environ.get("BENCH_PORTS", "")
    if not span:
        return free_port()
    low, high = (int(x) for x in span.split("-"))
    for port in random.sample(range(low, high + 1), high - low + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in BENCH_PORTS={span}")


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
        # The postmaster of the bench's own cluster (None on BENCH_DATABASE_URL's server, whose
        # CPU time is not the bench's alone).
        self.postmaster: int | None = getattr(args, "postmaster", None)

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

    def describe_postgres(self, origin: str) -> None:
        """Which PostgreSQL the figures come from, for the results block: its version, whose
        server it is, and the settings of deploy/postgresql.conf as the server reports them."""
        from django.db import connection

        from bench.postgres import CONFIG
        from bench.postgres import setting_names

        names = [
            name
            for name in setting_names(CONFIG.read_text())
            if name != "listen_addresses" and not name.startswith("log_")
        ]
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
            cursor.execute(
                "SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name", [names]
            )
            settings = ", ".join(f"{name}={value}" for name, value in cursor.fetchall())
        self.facts["postgres"] = f"PostgreSQL {version}, {origin} ({settings})"
        log(self.facts["postgres"])

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

    # --- shared by the benchmarks ----------------------------------------------------------

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
    def worker(
        self, concurrency: int, env: dict[str, str] | None = None
    ) -> Iterator[subprocess.Popen[bytes]]:
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
        with self.process(argv, "worker", env) as proc:
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


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of ``pid`` and its descendants, those it has reaped included;
    0 for a process that is gone."""
    ticks = 0
    for each in process_tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _proc_kib(path: str, field: str) -> int:
    """The KiB of ``field`` in a /proc file of `Name:  value kB` lines; 0 when it is gone."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split between the processes that share them."""
    return _proc_kib(f"/proc/{pid}/smaps_rollup", "Pss")


def rss_kib(pid: int) -> int:
    return _proc_kib(f"/proc/{pid}/status", "VmRSS")


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


def last_completed_week() -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) - timedelta(weeks=1)


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
    facts = {**machine(), **bench.facts}
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
