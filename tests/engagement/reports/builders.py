"""Rows for report tests, written straight to the database (the API tests build theirs through
the API): couples in a timezone, completed sessions with attendance, check-ins, commitments,
and v1.1's session feedback, away periods, goals and safety alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import User
from engagement.models import Attendance
from engagement.models import AwayPeriod
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Goal
from engagement.models import SafetyAlert
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from tests.factories import make_couple

# A partner's figures in a report, in SPEC 5.2's order, for the week of a partner who attended
# their one session with full participation, checked in on 4 days against a target of 4, kept
# their one promise and rated nothing: every rate 1, no alliance, no averages. Tests name where
# theirs differ.
ENGAGED_FIGURES: dict[str, Any] = {
    "engagement_score": 100.0,
    **dict.fromkeys(("attendance_rate", "participation", "checkin_rate", "follow_through"), 1.0),
    **dict.fromkeys(("sessions_expected", "sessions_attended"), 1),
    "checkin_days": 4,
    "away_days": 0,
    **dict.fromkeys(("commitments_due", "commitments_kept"), 1),
    **dict.fromkeys(("commitments_missed", "commitments_unreported", "unsafe_days"), 0),
    "alliance": None,
    **dict.fromkeys(
        ("mood_avg", "effort_avg", "connection_avg", "resentment_avg", "wellbeing_avg")
    ),
}


def figures(**values: Any) -> dict[str, Any]:
    """A partner's figures (SPEC 5.2): the engaged week's, but for ``values``."""
    unknown = set(values) - set(ENGAGED_FIGURES)
    assert not unknown, f"no such figure: {sorted(unknown)}"
    return {**ENGAGED_FIGURES, **values}


def partner_entry(partner: User, **values: Any) -> dict[str, Any]:
    """A partner's entry of a report (SPEC 5.2): their id and `figures`."""
    return {"partner": str(partner.pk), **figures(**values)}


def partner_view(
    partner: User, without_participation: float | None, shared: float | None
) -> dict[str, Any]:
    """A partner's own scores beside the full ones (SPEC 5.6): their score without
    participation, and their shared engagement score."""
    return {
        "partner": str(partner.pk),
        "engagement_score_without_participation": without_participation,
        "shared_engagement_score": shared,
    }


def couple_in(
    timezone: str = "UTC",
    *,
    created_at: dt.datetime,
    joined_at: dt.datetime | None = None,
    checkin_target_per_week: int = 4,
    **fields: Any,
) -> tuple[Couple, User, User, User]:
    """A couple with two partners and a therapist, created (and joined) at the given time."""
    couple, a, b, therapist = make_couple(
        timezone=timezone,
        created_at=created_at,
        joined_at=joined_at or created_at,
        checkin_target_per_week=checkin_target_per_week,
        **fields,
    )
    assert therapist is not None
    return couple, a, b, therapist


def session(
    couple: Couple,
    starts_at: dt.datetime,
    attendance: dict[User, tuple[str, int | None]],
    *,
    status: str = TherapySession.Status.COMPLETED,
    focus_partner: User | None = None,
) -> TherapySession:
    """A session with one attendance entry per partner: {partner: (status, participation)}."""
    kind = TherapySession.Kind.INDIVIDUAL if focus_partner else TherapySession.Kind.JOINT
    row = TherapySession.objects.create(
        couple=couple, kind=kind, focus_partner=focus_partner, starts_at=starts_at, status=status
    )
    Attendance.objects.bulk_create(
        Attendance(session=row, partner=partner, status=entry_status, participation=rating)
        for partner, (entry_status, rating) in attendance.items()
    )
    return row


def checkin(
    couple: Couple,
    author: User,
    day: dt.date,
    visibility: str = "couple",
    *,
    mood: int | None = None,
    effort: int | None = None,
    connection: int | None = None,
    resentment: int | None = None,
    wellbeing: int | None = None,
    note: str = "",
) -> CheckIn:
    """A check-in; with no rating given, a mood of 3 (a check-in rates something)."""
    ratings = {
        "mood": mood,
        "effort": effort,
        "connection": connection,
        "resentment": resentment,
        "wellbeing": wellbeing,
    }
    if all(value is None for value in ratings.values()):
        ratings["mood"] = 3
    return CheckIn.objects.create(
        couple=couple, author=author, date=day, visibility=visibility, note=note, **ratings
    )


def commitment(
    couple: Couple,
    owner: User,
    due_on: dt.date,
    status: str = Commitment.Status.OPEN,
    *,
    renewed_from: Commitment | None = None,
    visibility: str = Commitment.Visibility.COUPLE,
) -> Commitment:
    return Commitment.objects.create(
        couple=couple,
        owner=owner,
        created_by=owner,
        title=f"Promise due {due_on}",
        due_on=due_on,
        status=status,
        renewed_from=renewed_from,
        visibility=visibility,
    )


def status_change(couple: Couple, status: str, at: dt.datetime) -> None:
    """Record a pause, a resumption or an end at ``at`` (and keep the couple's status)."""
    CoupleStatusChange.objects.create(couple=couple, status=status, changed_at=at)
    Couple.objects.filter(pk=couple.pk).update(status=status)
    couple.refresh_from_db()


def feedback(
    session_row: TherapySession, partner: User, points: tuple[int, int, int, int]
) -> SessionFeedback:
    """A partner's feedback on a session: (understood, helpful, spoke_freely, coming_back)."""
    understood, helpful, spoke_freely, coming_back = points
    return SessionFeedback.objects.create(
        session=session_row,
        partner=partner,
        understood=understood,
        helpful=helpful,
        spoke_freely=spoke_freely,
        coming_back=coming_back,
    )


def away(
    couple: Couple, partner: User, starts_on: dt.date, ends_on: dt.date, visibility: str = "couple"
) -> AwayPeriod:
    return AwayPeriod.objects.create(
        couple=couple, partner=partner, starts_on=starts_on, ends_on=ends_on, visibility=visibility
    )


def goal(couple: Couple, partner: User, value: str, set_at: dt.datetime) -> Goal:
    return Goal.objects.create(couple=couple, partner=partner, goal=value, set_at=set_at)


def safety_alert(
    couple: Couple,
    partner: User,
    day: dt.date,
    *,
    retracted: bool = False,
    acknowledged_at: dt.datetime | None = None,
) -> SafetyAlert:
    """An alert as the safety service records one (its check-in left out: reports read only
    the alert's date)."""
    return SafetyAlert.objects.create(
        couple=couple,
        partner=partner,
        date=day,
        retracted_at=dt.datetime.now(dt.UTC) if retracted else None,
        acknowledged_at=acknowledged_at,
    )
