"""`manage.py send_reminders [--async]`: send now the check-in reminders that are due."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from accounts.models import User
from engagement.chunks import Queued
from engagement.chunks import queue_chunks
from engagement.management.sending import LedgerSendCommand
from engagement.reminders import delivery
from engagement.reminders import planner
from engagement.reminders.tasks import send_reminder_chunk

# What each count means, in the order they are printed.
OUTCOMES = {
    "push_sent": "pushed to the user's devices",
    "push_failed": "push failed (no device took it; see its ledger row)",
    "email_sent": "emailed",
    "email_failed": "email failed (see its ledger row; not resent)",
    "skipped": "no longer due (checked in since an earlier run)",
    "done": "already sent or settled today",
    "taken": "being sent by another worker",
}


class Command(LedgerSendCommand):
    outcomes = OUTCOMES
    nothing = "nothing due"
    help = (
        "Send now the check-in reminders that are due (users whose reminder hour has passed "
        "and who have not checked in today). Safe to run again: one reminder per day at most."
    )

    def release_abandoned_claims(self, *, now: dt.datetime) -> int:
        return delivery.release_abandoned_claims(now=now)

    def what(self, **options: Any) -> str:
        return "reminders"

    def title(self, **options: Any) -> str:
        return "Check-in reminders:"

    def queue(self, *, now: dt.datetime, **options: Any) -> Queued:
        return queue_chunks(planner.due_user_ids(now=now), send_reminder_chunk)

    def pages(self) -> Iterable[list[User]]:
        return planner.user_pages()

    def send(self, page: list[User], *, now: dt.datetime, **options: Any) -> Counter[str]:
        return delivery.send_reminders(page, now=now)
