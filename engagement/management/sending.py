"""What `send_digests` and `send_reminders` share: `--async`, releasing the claims of workers
that died mid-send (never resent: the outcome is unknown), the run itself (here, page by page,
or handed to the workers a chunk a task) and the printed tally."""

from __future__ import annotations

import datetime as dt
from abc import ABCMeta
from abc import abstractmethod
from argparse import ArgumentParser
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import User
from config.celery import imported_objects_frozen
from engagement.chunks import Queued


class LedgerSendCommand(BaseCommand, metaclass=ABCMeta):
    # What each count means, in the order they are printed.
    outcomes: dict[str, str]
    # What nothing to send means, printed under the title of an empty tally.
    nothing: str

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="hand the work to the Celery workers instead of sending in this process",
        )

    # What a command says: these five, and the tally's title if not "<What>:".
    @abstractmethod
    def release_abandoned_claims(self, *, now: dt.datetime) -> int:
        """Mark failed, outcome unknown, the rows whose worker died mid-send; how many."""

    @abstractmethod
    def queue(self, *, now: dt.datetime, **options: Any) -> Queued:
        """Hand the work to the workers, a chunk task per page of users."""

    @abstractmethod
    def pages(self) -> Iterable[list[User]]:
        """Every user who may be owed a send, page by page."""

    @abstractmethod
    def send(self, page: list[User], *, now: dt.datetime, **options: Any) -> Counter[str]:
        """Send in this process what these users are owed."""

    @abstractmethod
    def what(self, **options: Any) -> str:
        """What is sent ("reminders", "digests of the week of 2026-11-23")."""

    def title(self, **options: Any) -> str:
        """The tally's title."""
        what = self.what(**options)
        return f"{what[:1].upper()}{what[1:]}:"

    def handle(self, *args: Any, run_async: bool, **options: Any) -> None:
        now = timezone.now()
        released = self.release_abandoned_claims(now=now)
        if released:
            self.stdout.write(
                f"{released} abandoned claim(s) marked failed, outcome unknown (not resent)."
            )
        if run_async:
            queued = self.queue(now=now, **options)
            self.stdout.write(
                f"Queued {self.what(**options)} for {queued.users} user(s) in {queued.tasks} "
                "task(s)."
            )
            return
        counts: Counter[str] = Counter()
        with imported_objects_frozen():  # as in a worker pool process: a week's sends are long
            for page in self.pages():
                counts += self.send(page, now=now, **options)
        self.stdout.write(self.title(**options))
        if not +counts:
            self.stdout.write(f"  {self.nothing}")
        for key, label in self.outcomes.items():
            if counts[key]:
                self.stdout.write(f"  {counts[key]:>5}  {label}")
