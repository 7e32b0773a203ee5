"""`make loadtest`: 100 concurrent simulated mobile users for 60 s against gunicorn on
PostgreSQL, with production settings; fails on any error and records p50/p99 in
docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from datetime import timedelta

from bench.harness import Bench
from bench.harness import log
from bench.harness import parse_wrk
from tests.processes import BIN
from tests.processes import ROOT
from tests.processes import free_port

START, END = "<!-- load:results:start -->", "<!-- load:results:end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/duet_load"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        log("wrk is missing (apt-get install wrk)")
        return 2

    bench = Bench(argparse.Namespace(database_url=args.database_url, redis_url=args.redis_url))
    # Production settings, as deployed: secrets set, no DEBUG, throttles raised for the test.
    bench.env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
        }
    )
    os.environ.update(bench.env)
    bench.recreate_database()
    bench.manage("migrate", "--no-input", quiet=True)
    couples = (args.users + 1) // 2
    bench.manage("seed_synthetic", "--couples", str(couples), "--weeks", "3", "--quiet")
    bench.django()

    from accounts.authentication import issue_tokens
    from engagement.models import Membership

    day = (date.today() - timedelta(days=1)).isoformat()
    members = Membership.objects.filter(role="partner").select_related("user")[: args.users]
    targets = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)  # noqa: SIM115
    for m in members:
        targets.write(f"{m.couple_id} {issue_tokens(m.user)['access']} {day}\n")
    targets.close()

    port = free_port()
    argv_web = [str(BIN / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.conf.py"]
    env = {**bench.env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with bench.process(argv_web, "load-gunicorn", env):
        bench.wait_http(f"http://127.0.0.1:{port}/healthz")
        wrk = [
            "wrk",
            "-t2",
            f"-c{args.users}",
            f"-d{args.seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "wrk" / "mixed.lua"),
            f"http://127.0.0.1:{port}",
        ]
        started = time.monotonic()
        output = subprocess.run(
            wrk,
            env={**os.environ, "BENCH_TARGETS": targets.name},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        elapsed = time.monotonic() - started
    figures = parse_wrk(output)
    errors = int(figures["non_2xx"] + figures["socket_errors"])
    line = (
        f"LOAD users={args.users} seconds={elapsed:.0f} requests={figures['requests']:.0f} "
        f"rps={figures['rps']:.1f} p50_ms={figures.get('p50_ms', 0):.1f} "
        f"p99_ms={figures.get('p99_ms', 0):.1f} errors={errors}"
    )
    print(line, flush=True)
    if args.write_docs:
        _write_docs(line, figures, args)
    if errors:
        sys.stderr.write(output)
        return 1
    return 0


def _write_docs(line: str, figures: dict[str, float], args: argparse.Namespace) -> None:
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    block = "\n".join(
        [
            START,
            f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, with "
            "`make loadtest`: "
            f"{args.users} concurrent users for {args.seconds} s, 70 % `GET /api/v1/checkins/` "
            "and 30 % check-in `PUT`, gunicorn (2 workers x 4 threads) with production settings "
            "on PostgreSQL and Redis.",
            "",
            f"| requests | req/s | p50 | p99 | errors |\n|---|---|---|---|---|\n"
            f"| {figures['requests']:.0f} | {figures['rps']:.1f} | "
            f"{figures.get('p50_ms', 0):.1f} ms | {figures.get('p99_ms', 0):.1f} ms | "
            f"{int(figures['non_2xx'] + figures['socket_errors'])} |",
            "",
            f"`{line}`",
            END,
        ]
    )
    if START in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text += "\n## Load test\n\n" + block + "\n"
    (ROOT / "docs" / "benchmarks.md").write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
