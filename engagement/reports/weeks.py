"""The week calendar: local Monday-to-Monday weeks of a couple's timezone (SPEC 5).

A week is named by its Monday and runs from Monday 00:00 to Monday 00:00 local time, DST or
not. Pure date arithmetic, no database: the SQL of a chunk (aggregates.py), the pipeline, the
digests' schedule and the API all take their weeks from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from engagement.reports.scoring import LOOKBACK_WEEKS

WEEK = timedelta(weeks=1)


def monday_of(day: date) -> date:
    """The Monday that names the week of ``day``."""
    return day - timedelta(days=day.weekday())


def local_midnight(zone: ZoneInfo, day: date) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``.

    Where a DST change skips midnight, fold=0 reads it with the offset in force before the
    change, which lands exactly on the first instant of the day.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LocalWeek:
    """A week of a couple: its Monday, and the UTC instants it starts and ends at."""

    start: date
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, zone: ZoneInfo, start: date) -> LocalWeek:
        return _local_week(zone, start)


@lru_cache(maxsize=4096)
def _local_week(zone: ZoneInfo, start: date) -> LocalWeek:
    # A chunk asks for the same few weeks in the same few timezones thousands of times.
    return LocalWeek(start, local_midnight(zone, start), local_midnight(zone, start + WEEK))


def local_week_start(timezone_name: str, instant: datetime) -> date:
    """The Monday of the local week ``instant`` falls in."""
    return monday_of(instant.astimezone(ZoneInfo(timezone_name)).date())


def last_completed_week(timezone_name: str, now: datetime) -> date:
    """The Monday of the latest week that has ended in this timezone."""
    return local_week_start(timezone_name, now) - WEEK


def lookback(week_start: date) -> list[date]:
    """w-5 .. w, the weeks a report of w looks at (SPEC 5.4)."""
    return [week_start - n * WEEK for n in range(LOOKBACK_WEEKS, -1, -1)]
