"""Rows for digest tests: couples with stored weekly reports, and the week they summarise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from accounts.models import User
from engagement.digests.tasks import send_due_digests
from engagement.models import Couple
from engagement.models import WeeklyReport
from tests.factories import make_couple

FRONTEND_URL = "https://app.duet.test"
SITE_URL = "https://api.duet.test"
# The week the tests summarise, and the Monday after it, when digests go out by default.
WEEK = dt.date(2026, 2, 2)
NEXT_MONDAY = dt.date(2026, 2, 9)
LONG_AGO = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def figures(partner: User, **values: Any) -> dict[str, Any]:
    """One partner's entry of a stored report (SPEC 5.2), with plausible defaults."""
    entry: dict[str, Any] = {
        "partner": str(partner.id),
        "engagement_score": 72.5,
        "attendance_rate": 1.0,
        "participation": 0.6667,
        "checkin_rate": 0.75,
        "follow_through": 0.5,
        "sessions_expected": 1,
        "sessions_attended": 1,
        "checkin_days": 3,
        "commitments_due": 2,
        "commitments_kept": 1,
        "commitments_missed": 1,
        "commitments_unreported": 1,
        "mood_avg": 3.5,
        "effort_avg": 4.0,
        "connection_avg": 3.0,
        "resentment_avg": 2.0,
        "wellbeing_avg": 3.25,
    }
    entry.update(values)
    return entry


def store_report(
    couple: Couple,
    week: dt.date,
    partners: Sequence[dict[str, Any]],
    *,
    balance: str = WeeklyReport.Balance.LEANING,
    gap: float | None = 20.0,
    gap_trend: str | None = WeeklyReport.GapTrend.STABLE,
    flags: Sequence[dict[str, Any]] = (),
    less_engaged_partner: User | None = None,
    shared: Sequence[dict[str, Any]] | None = None,
) -> WeeklyReport:
    """A report as the pipeline stores it, written straight to the database.

    ``shared`` are the partners' shared counts (`partner_views`); by default each partner's
    counts as if every record of theirs were shared. The shared balance is the full one.
    """
    return WeeklyReport.objects.create(
        couple=couple,
        week_start=week,
        methodology="v1.1",
        balance=balance,
        gap=gap,
        gap_trend=gap_trend,
        shared_balance=balance,
        shared_gap=gap,
        shared_gap_trend=gap_trend,
        partners=list(partners),
        flags=list(flags),
        less_engaged_partner=less_engaged_partner,
        recommendations=[],
        partner_views=list(shared) if shared is not None else [as_shared(p) for p in partners],
    )


def as_shared(entry: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A partner's shared counts (SPEC 5.6), by default all of their counts."""
    counts = {
        "partner": entry["partner"],
        "engagement_score_without_participation": entry.get("engagement_score"),
        "shared_engagement_score": entry.get("engagement_score"),
        "joint_sessions_expected": entry.get("sessions_expected") or 0,
        "joint_sessions_attended": entry.get("sessions_attended") or 0,
        "shared_checkin_days": entry.get("checkin_days") or 0,
        "shared_commitments_kept": entry.get("commitments_kept") or 0,
        "shared_commitments_missed": entry.get("commitments_missed") or 0,
        "shared_commitments_unreported": entry.get("commitments_unreported") or 0,
    }
    counts.update(values)
    return counts


def local(day: dt.date, hour: int, tz: str = "UTC", minute: int = 0) -> dt.datetime:
    """An aware datetime: that day and hour in that timezone."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(tz))


# Five past 08:00 UTC on the Monday after WEEK: a digest's default send time has come.
SEND = local(NEXT_MONDAY, 8, minute=5)


def send_digests_at(at: dt.datetime = SEND) -> None:
    """The scheduled digest run at ``at``, the clock standing still."""
    with time_machine.travel(at, tick=False):
        send_due_digests()


def reported_couple(
    tz: str = "UTC", *, therapist: User | bool = True, **couple_fields: Any
) -> tuple[Couple, User, User, User | None]:
    """A couple (partners ``a`` and ``b``) with a stored report of WEEK.

    ``b``'s figures are distinctive numbers that must never reach ``a``'s digest.
    """
    # Created long before the week it summarises (a digest never speaks of weeks before).
    couple_fields.setdefault("created_at", LONG_AGO)
    couple, a, b, therapist_user = make_couple(therapist=therapist, timezone=tz, **couple_fields)
    # Names no template word contains (random first names like "Will" could), so that
    # "the name is absent" means what it says.
    for person, name in ((a, "Arvessa"), (b, "Quillon")):
        person.display_name = name
        person.save(update_fields=["display_name"])
    store_report(couple, WEEK, [figures(a), other_figures(b)])
    return couple, a, b, therapist_user


def other_figures(partner: User) -> dict[str, Any]:
    """Figures of the partner who is not the recipient: numbers found nowhere else."""
    return figures(
        partner,
        engagement_score=12.3,
        sessions_expected=2,
        sessions_attended=0,
        checkin_days=6,
        commitments_kept=0,
        commitments_missed=4,
        commitments_unreported=5,
        resentment_avg=4.75,
        wellbeing_avg=1.25,
    )
