"""What `send_digests` and `send_reminders` share: `--async`, releasing the claims of workers
that died mid-send (never resent: the outcome is unknown), and the printed tally."""

from __future__ import annotations

from argparse import ArgumentParser
from collections import Counter

from django.core.management.base import BaseCommand


class LedgerSendCommand(BaseCommand):
    # What each count means, in the order they are printed.
    outcomes: dict[str, str]

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="hand the work to the Celery workers instead of sending in this process",
        )

    def report_released(self, released: int) -> None:
        if released:
            self.stdout.write(
                f"{released} abandoned claim(s) marked failed, outcome unknown (not resent)."
            )

    def report_counts(self, title: str, counts: Counter[str], nothing: str) -> None:
        self.stdout.write(title)
        if not +counts:
            self.stdout.write(f"  {nothing}")
        for key, label in self.outcomes.items():
            if counts[key]:
                self.stdout.write(f"  {counts[key]:>5}  {label}")
