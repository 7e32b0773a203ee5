"""`manage.py send_reminders [--async]`: send now the check-in reminders that are due."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.utils import timezone

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
    help = (
        "Send now the check-in reminders that are due (users whose reminder hour has passed "
        "and who have not checked in today). Safe to run again: one reminder per day at most."
    )

    def handle(self, *args: Any, run_async: bool, **options: Any) -> None:
        now = timezone.now()
        self.report_released(delivery.release_abandoned_claims(now=now))
        if run_async:
            queued = queue_chunks(planner.due_user_ids(now=now), send_reminder_chunk)
            self.stdout.write(
                f"Queued reminders for {queued.users} user(s) in {queued.tasks} task(s)."
            )
            return
        counts: Counter[str] = Counter()
        for page in planner.user_pages():
            counts += delivery.send_reminders(page, now=now)
        self.report_counts("Check-in reminders:", counts, nothing="nothing due")
