"""Late data: the reports it changes are marked stale, for the next run to recompute."""

# SPEC 5.7: a check-in, an attendance or a resolved commitment that arrives after its week's
# report changes that report, and the reports of the five weeks after it, whose flags look
# back at it (w-5 .. w). They are marked here, in the writer's transaction, so the mark
# commits with the data; the hourly run recomputes them (docs/reports.md, "Late data").

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from datetime import datetime
from datetime import timedelta
from functools import reduce
from operator import or_
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Q

from engagement.models import WeeklyReport
from engagement.reports.scoring import LOOKBACK_WEEKS
from engagement.reports.weeks import WEEK
from engagement.reports.weeks import monday_of


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


# --- v1.1 inputs (SPEC 5.7): what each write makes stale ----------------------------------------
#
# The services that write session feedback, away periods, goals and safety alerts call these in
# their transaction (or mark_stale with the dates below). Each returns how many reports it marked.


def away_dates(starts_on: date, ends_on: date) -> list[date]:
    """Every day of an away period (inclusive local dates): each week it touches changes."""
    return [starts_on + timedelta(days=n) for n in range((ends_on - starts_on).days + 1)]


def mark_stale_for_away(
    *, couple_id: UUID, starts_on: date, ends_on: date, before: tuple[date, date] | None = None
) -> int:
    """An away period created, edited (``before``: its old starts_on and ends_on), re-scoped or
    deleted: the weeks of every day it covers, or covered, and the five weeks after each."""
    days = away_dates(starts_on, ends_on)
    if before is not None:
        days += away_dates(*before)
    return mark_stale(couple_id=couple_id, dates=days)


def mark_stale_for_feedback(
    *, couple_id: UUID, timezone_name: str, session_starts_at: datetime
) -> int:
    """Feedback given, changed or deleted: it counts in the local week its session started in."""
    return mark_stale(couple_id=couple_id, dates=[local_date(timezone_name, session_starts_at)])


def mark_stale_for_alert(*, couple_id: UUID, day: date) -> int:
    """A safety alert raised or retracted: its date's week (unsafe days, safety_concern) and
    the five after it (recommendations are withheld while it lies in w-5 .. w)."""
    return mark_stale(couple_id=couple_id, dates=[day])


def mark_stale_for_goal(*, couple_id: UUID, timezone_name: str, set_at: datetime) -> int:
    """A goal set (or a goal row deleted): a partner's latest goal stays theirs at the end of
    every later week, so every report from the week it was set in on is marked, not only five
    (goal_mismatch reads the goals at the end of w)."""
    first = monday_of(local_date(timezone_name, set_at))
    return WeeklyReport.objects.filter(
        couple_id=couple_id, week_start__gte=first, stale=False
    ).update(stale=True)
