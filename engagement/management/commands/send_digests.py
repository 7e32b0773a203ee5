"""`manage.py send_digests [--week YYYY-MM-DD] [--async]`: send a week's digests now."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from collections import Counter
from collections.abc import Iterable
from typing import Any

from accounts.models import User
from engagement.chunks import Queued
from engagement.chunks import queue_chunks
from engagement.digests import delivery
from engagement.digests import pipeline
from engagement.digests import schedule
from engagement.digests.tasks import send_digest_chunk
from engagement.management.commands.compute_reports import monday
from engagement.management.sending import LedgerSendCommand

# What each count means, in the order they are printed.
OUTCOMES = {
    "sent": "sent",
    "retrying": "refused for now, will retry",
    "failed": "failed (see the error on its delivery row)",
    "unknown": "failed, outcome unknown (not resent; see docs/operations.md)",
    "skipped": "skipped: their report never came",
    "waiting": "waiting for their report",
    "backing_off": "waiting to retry",
    "done": "already sent or settled",
    "taken": "being sent by another worker",
}


class Command(LedgerSendCommand):
    outcomes = OUTCOMES
    nothing = "nothing to send (no verified, subscribed user in an active couple)"
    help = (
        "Send now every digest summarising a week that was not sent yet, whatever the "
        "recipients' send times. Safe to run again: a digest is never sent twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--week",
            type=monday,
            help="the Monday of the week (default: each recipient's last completed week)",
        )
        super().add_arguments(parser)

    def release_abandoned_claims(self, *, now: dt.datetime) -> int:
        return delivery.release_abandoned_claims(now=now)

    def what(self, *, week: dt.date | None = None, **options: Any) -> str:
        which = f"the week of {week}" if week else "each recipient's last completed week"
        return f"digests of {which}"

    def queue(self, *, now: dt.datetime, week: dt.date | None = None, **options: Any) -> Queued:
        pages = schedule.user_pages(pipeline.CHUNK_SIZE)
        return queue_chunks(
            ([str(user.id) for user in page] for page in pages),
            send_digest_chunk,
            week.isoformat() if week else None,
            False,
        )

    def pages(self) -> Iterable[list[User]]:
        return schedule.user_pages(pipeline.CHUNK_SIZE)

    def send(
        self, page: list[User], *, now: dt.datetime, week: dt.date | None = None, **options: Any
    ) -> Counter[str]:
        return pipeline.send_digests(page, now=now, week=week, on_schedule=False)
