"""`make bench`: every benchmark of docs/benchmarks.md, end to end, on PostgreSQL and Redis.

The PostgreSQL is a cluster the bench starts of its own with production's settings
(bench/postgres.py, deploy/postgresql.conf), or the server BENCH_DATABASE_URL names.

Prints one line per benchmark,
`BENCH name=<name> value=<number> unit=<unit> baseline=<number> ratio=<number>`, and rewrites
docs/benchmarks.md with the machine, the commands and the results. Figures are measured here,
never asserted in tests (the machine is shared and noisy).

One module per benchmark (bench/reports.py, bench/api.py, bench/digests.py,
bench/reminders.py), sharing bench/harness.py and the process harness of tests/processes.py;
this module only runs them in order. `--only NAME[,NAME]` runs some of them on a database
already seeded by an earlier run (`--reuse`), which is how a change is measured before and after.
"""

from __future__ import annotations

import argparse
import os

from bench import api
from bench import digests
from bench import reminders
from bench import reports
from bench.harness import DEFAULT_REDIS_URL
from bench.harness import Bench
from bench.harness import Result
from bench.harness import bench_port
from bench.harness import last_completed_week
from bench.harness import log
from bench.harness import parse_wrk
from bench.harness import write_markdown
from bench.postgres import own_cluster

__all__ = ["Bench", "Result", "last_completed_week", "log", "main", "parse_wrk"]

STEPS = ("reports_10k", "api", "digests", "reports_50k", "reminders")


def run(bench: Bench, origin: str) -> None:
    args = bench.args
    only = set(args.only.split(",")) if args.only else set(STEPS)
    if not args.reuse:
        bench.recreate_database()
    bench.manage("migrate", "--no-input", quiet=True)
    bench.django()
    bench.describe_postgres(origin)
    if args.only_reminders:
        reminders.run(bench)
        return
    if not args.reuse:
        bench.seed(args.couples, seed=1, name="seed_10k")
    ten_k = reports.reports_10k(bench) if "reports_10k" in only else None
    if not args.skip_api and "api" in only:
        api.run(bench)
    if not args.skip_digests and "digests" in only:
        digests.run(bench)
    if not args.skip_large and "reports_50k" in only:
        reports.reports_50k(bench, ten_k)
    # Last: its users sit in couples with no history, which the weekly runs above would
    # otherwise have had to report.
    if not args.skip_reminders and "reminders" in only:
        reminders.run(bench)
    if not args.only:
        write_markdown(bench)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="a server of yours (default: a cluster of the bench's, deploy/postgresql.conf)",
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
    parser.add_argument(
        "--only", default="", help=f"comma-separated steps of {', '.join(STEPS)} (writes no doc)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database an earlier run seeded"
    )
    args = parser.parse_args(argv)
    if args.database_url:
        run(Bench(args), "the server of BENCH_DATABASE_URL")
        return
    with own_cluster(bench_port()) as cluster:
        log(f"PostgreSQL {cluster.version} of the bench in {cluster.data}, port {cluster.port}")
        args.database_url = f"postgres://postgres@127.0.0.1:{cluster.port}/duet_bench"
        args.postmaster = cluster.postmaster_pid()
        sized = f"deploy/postgresql.conf sized for {cluster.memory / 2**30:.0f} GiB"
        run(Bench(args), f"the bench's own cluster, {sized}")


if __name__ == "__main__":
    main()
