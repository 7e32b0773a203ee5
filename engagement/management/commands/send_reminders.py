"""`manage.py send_reminders [--async]`: send now the check-in reminders that are due."""

from __future__ import annotations

from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from engagement.reminders import delivery, planner
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


class Command(BaseCommand):
    help = (
        "Send now the check-in reminders that are due (users whose reminder hour has passed "
        "and who have not checked in today). Safe to run again: one reminder per day at most."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="hand the work to the Celery workers instead of sending in this process",
        )

    def handle(self, *args: Any, run_async: bool, **options: Any) -> None:
        now = timezone.now()
        released = delivery.release_abandoned_claims(now=now)
        if released:
            self.stdout.write(
                f"{released} abandoned claim(s) marked failed, outcome unknown (not resent)."
            )
        if run_async:
            users = chunks = 0
            for user_ids in planner.due_user_ids(now=now):
                send_reminder_chunk.delay(user_ids)
                users += len(user_ids)
                chunks += 1
            self.stdout.write(f"Queued reminders for {users} user(s) in {chunks} task(s).")
            return
        counts: Counter[str] = Counter()
        for page in planner.user_pages():
            counts += delivery.send_reminders(page, now=now)
        self.stdout.write("Check-in reminders:")
        if not +counts:
            self.stdout.write("  nothing due")
        for key, label in OUTCOMES.items():
            if counts[key]:
                self.stdout.write(f"  {counts[key]:>5}  {label}")
