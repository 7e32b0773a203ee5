"""`manage.py compute_reports [--week YYYY-MM-DD] [--couple UUID] [--async]`: compute reports."""

from __future__ import annotations

import datetime as dt
import uuid
from argparse import ArgumentParser
from argparse import ArgumentTypeError
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.utils import timezone

from engagement.models import Couple
from engagement.models import WeeklyReport
from engagement.reports.pipeline import RunSummary
from engagement.reports.pipeline import chunked
from engagement.reports.pipeline import compute_reports
from engagement.reports.pipeline import onboarding_history_due
from engagement.reports.tasks import queue_chunks
from engagement.reports.weeks import last_completed_week


def monday(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from exc
    if day.weekday() != 0:
        raise ArgumentTypeError(f"{value} is not a Monday: weeks are named by their Monday")
    return day


def couple_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ArgumentTypeError(f"{value!r} is not a couple id (UUID)") from exc


class Command(BaseCommand):
    help = (
        "Compute weekly reports now: by default the last completed week of each couple, in "
        "its timezone, and every stale report. Safe to run again: one report per couple and "
        "week, whose revision grows only when its results change."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--week", type=monday, help="the Monday of the week to compute, for every couple"
        )
        parser.add_argument("--couple", type=couple_id, help="only this couple")
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="hand the chunks to the Celery workers instead of computing in this process",
        )

    def handle(
        self,
        *args: Any,
        week: dt.date | None,
        couple: uuid.UUID | None,
        run_async: bool,
        **options: Any,
    ) -> None:
        now = timezone.now()
        couples = Couple.objects.order_by("id")
        stale = WeeklyReport.objects.filter(stale=True)
        if couple is not None:
            if not couples.filter(pk=couple).exists():
                raise CommandError(f"No couple {couple}.")
            couples = couples.filter(pk=couple)
            stale = stale.filter(couple_id=couple)

        targets: dict[uuid.UUID, set[dt.date]] = defaultdict(set)
        for cid, timezone_name in couples.values_list("id", "timezone"):
            targets[cid].add(week or last_completed_week(timezone_name, now))
        if week is None:
            for cid, stale_week in stale.values_list("couple_id", "week_start"):
                targets[cid].add(stale_week)
            # Onboarding history: weeks before creation holding data, not yet reported.
            for history_week, cids in onboarding_history_due(couple).items():
                for cid in cids:
                    targets[cid].add(history_week)

        if run_async:
            by_week: dict[dt.date, set[uuid.UUID]] = defaultdict(set)
            for cid, weeks in targets.items():
                for target_week in weeks:
                    by_week[target_week].add(cid)
            queued = queue_chunks(by_week)
            total = sum(len(ids) for ids in by_week.values())
            self.stdout.write(
                f"Queued {queued} chunks ({total} couple-weeks) on the reports queue."
            )
            return

        summary = RunSummary()
        for chunk in chunked(sorted(targets, key=str), settings.REPORTS_CHUNK_SIZE):
            summary += compute_reports({cid: targets[cid] for cid in chunk}, now=now)
        self.stdout.write(
            f"Reports: {summary.created} created, {summary.updated} updated (revision + 1), "
            f"{summary.unchanged} unchanged, {summary.skipped} skipped (paused, ended, before "
            f"the couple existed or no partner), {summary.pending} not ended yet."
        )
