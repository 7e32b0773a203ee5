"""`manage.py seed_synthetic`: benchmark-scale couples written with bulk inserts (COPY on PG)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.core.management.base import CommandParser
from django.db import connection
from django.db import transaction

from accounts.models import User
from engagement.synthetic.generate import EMAIL_DOMAIN
from engagement.synthetic.generate import SyntheticWorld

BATCH_COUPLES = 1000


class Command(BaseCommand):
    help = "Write N synthetic couples with W weeks of history (sessions, commitments, check-ins)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--couples", type=int, required=True)
        parser.add_argument("--weeks", type=int, default=12)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        couples, weeks, seed = options["couples"], options["weeks"], options["seed"]
        if couples < 1 or weeks < 1:
            raise CommandError("--couples and --weeks must be at least 1.")
        if User.objects.filter(
            email__startswith=f"partner-{seed}-", email__endswith=EMAIL_DOMAIN
        ).exists():
            raise CommandError(
                f"Synthetic data with --seed {seed} exists already; pick another seed."
            )
        world = SyntheticWorld(couples=couples, weeks=weeks, seed=seed)
        started = time.monotonic()
        rows = done = 0
        with transaction.atomic():
            for batch in world.batches(BATCH_COUPLES):
                rows += batch.write()
                done += len(batch.couples)
                if not options["quiet"]:
                    self._progress(done, couples, rows, time.monotonic() - started)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        if not options["quiet"]:
            sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Wrote {couples} couples x {weeks} weeks: {rows} rows in {elapsed:.1f} s "
            f"({connection.vendor})."
        )

    @staticmethod
    def _progress(done: int, total: int, rows: int, elapsed: float) -> None:
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total} couples, {rows} rows, {elapsed:.1f} s")
        sys.stderr.flush()
