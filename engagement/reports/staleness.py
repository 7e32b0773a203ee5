"""Late data: the reports it changes are marked stale, for the next run to recompute."""

# SPEC 5.7: a check-in, an attendance or a resolved commitment that arrives after its week's
# report changes that report, and the reports of the five weeks after it, whose flags look
# back at it (w-5 .. w). They are marked here, in the writer's transaction, so the mark
# commits with the data; the hourly run recomputes them (docs/reports.md, "Late data").

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import reduce
from operator import or_
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Q

from engagement.models import WeeklyReport
from engagement.reports.scoring import LOOKBACK_WEEKS
from engagement.reports.weeks import WEEK, monday_of


def local_date(timezone_name: str, instant: datetime) -> date:
    """The couple's local date of an instant (a session's start, for instance)."""
    return instant.astimezone(ZoneInfo(timezone_name)).date()


def mark_stale(*, couple_id: UUID, dates: Iterable[date]) -> int:
    """Mark stale the reports of the weeks holding these local dates and the five weeks
    after each, in one UPDATE; returns how many reports were marked."""
    ranges = [
        Q(week_start__gte=monday_of(day), week_start__lte=monday_of(day) + LOOKBACK_WEEKS * WEEK)
        for day in set(dates)
    ]
    if not ranges:
        return 0
    # `update()` leaves updated_at alone: a stale mark is internal, not news for sync clients.
    return WeeklyReport.objects.filter(
        reduce(or_, ranges), couple_id=couple_id, stale=False
    ).update(stale=True)
