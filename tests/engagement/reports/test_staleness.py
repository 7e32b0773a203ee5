"""Late data through the write services marks the reports it changes stale (SPEC 5.7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from accounts.models import User
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from engagement.reports.pipeline import compute_reports
from engagement.reports.staleness import mark_stale_for_alert
from engagement.reports.staleness import mark_stale_for_away
from engagement.reports.staleness import mark_stale_for_feedback
from engagement.reports.staleness import mark_stale_for_goal
from engagement.services.checkins import checkin_delete
from engagement.services.checkins import checkin_upsert
from engagement.services.commitments import commitment_resolve
from engagement.services.commitments import commitment_update
from engagement.services.sessions import AttendanceEntry
from engagement.services.sessions import attendance_record
from engagement.services.sessions import session_update
from tests.engagement.dates import W
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import commitment
from tests.engagement.reports.builders import couple_in
from tests.engagement.reports.builders import session

pytestmark = pytest.mark.django_db

UTC = dt.UTC
TODAY = dt.datetime(2026, 11, 25, 12, tzinfo=UTC)  # Wednesday after W


@pytest.fixture
def reported() -> Iterator[tuple[Couple, User, User, User]]:
    """A Tokyo couple whose weeks up to W are reported, and who write on Wednesday after W."""
    couple, a, b, therapist = couple_in(
        "Asia/Tokyo", created_at=dt.datetime(2026, 1, 1, tzinfo=UTC)
    )
    weeks = [W - dt.timedelta(weeks=n) for n in range(9)]
    compute_reports({couple.pk: weeks}, now=TODAY)
    with time_machine.travel(TODAY, tick=False):
        yield couple, a, b, therapist


def stale_weeks(couple: Any) -> list[dt.date]:
    return sorted(
        WeeklyReport.objects.filter(couple=couple, stale=True).values_list("week_start", flat=True)
    )


def weeks_from(first: dt.date) -> list[dt.date]:
    return [w for w in (first + dt.timedelta(weeks=n) for n in range(6)) if w <= W]


def test_a_backfilled_checkin_marks_its_week_and_the_ones_after(reported: Any) -> None:
    couple, a, _, _ = reported
    day = W - dt.timedelta(days=1)  # Sunday of the week before W

    checkin_upsert(couple=couple, author=a, date=day, visibility="private", ratings={"mood": 2})

    assert stale_weeks(couple) == [W - dt.timedelta(weeks=1), W]


def test_a_checkin_changed_only_in_its_note_leaves_reports_alone(reported: Any) -> None:
    couple, a, _, _ = reported
    checkin(couple, a, W, "couple", mood=3)

    checkin_upsert(
        couple=couple, author=a, date=W, visibility="couple", ratings={"mood": 3}, note="later"
    )

    assert stale_weeks(couple) == []
    checkin_upsert(
        couple=couple, author=a, date=W, visibility="private", ratings={"mood": 3}, note="later"
    )
    assert stale_weeks(couple) == [W]


def test_a_deleted_checkin_marks_its_week(reported: Any) -> None:
    couple, a, _, _ = reported
    row = checkin(couple, a, W - dt.timedelta(weeks=2), "couple", mood=3)

    checkin_delete(checkin=row)

    assert stale_weeks(couple) == weeks_from(W - dt.timedelta(weeks=2))


def test_attendance_recorded_late_marks_the_local_week_of_the_session(reported: Any) -> None:
    couple, a, b, _ = reported
    # Monday 00:30 in Tokyo is Sunday 15:30 UTC: the week W, not the one before.
    starts_at = dt.datetime(2026, 11, 15, 15, 30, tzinfo=UTC)
    row = session(couple, starts_at, {}, status=TherapySession.Status.SCHEDULED)

    attendance_record(
        session=row,
        entries=[AttendanceEntry(a.pk, "attended", 2), AttendanceEntry(b.pk, "absent", None)],
    )

    assert stale_weeks(couple) == [W]


def test_moving_a_completed_session_marks_both_weeks(reported: Any) -> None:
    couple, a, _, _ = reported
    row = session(couple, dt.datetime(2026, 10, 20, 9, tzinfo=UTC), {a: ("attended", 2)})

    session_update(session=row, starts_at=dt.datetime(2026, 11, 17, 9, tzinfo=UTC))

    assert stale_weeks(couple) == weeks_from(dt.date(2026, 10, 19))


def test_a_resolved_commitment_marks_its_due_week(reported: Any) -> None:
    couple, _, b, _ = reported
    row = commitment(couple, b, W - dt.timedelta(weeks=3))

    commitment_resolve(commitment=row, status=Commitment.Status.MISSED)

    assert stale_weeks(couple) == weeks_from(W - dt.timedelta(weeks=3))


def test_a_commitment_moved_to_another_week_marks_both(reported: Any) -> None:
    couple, _, b, _ = reported
    row = commitment(couple, b, W - dt.timedelta(weeks=8), Commitment.Status.KEPT)

    commitment_update(commitment=row, due_on=W - dt.timedelta(weeks=1))

    expected = set(weeks_from(W - dt.timedelta(weeks=8))) | {W - dt.timedelta(weeks=1), W}
    assert stale_weeks(couple) == sorted(expected)


# --- v1.1 inputs: the helpers their writers call (engagement/reports/staleness.py) ------------


def test_an_away_period_marks_every_week_it_covers_and_the_five_after(reported: Any) -> None:
    couple, _, _, _ = reported
    # Sunday of w-8 to Tuesday of w-7: the weeks w-8 and w-7, and the five after each.
    starts = W - dt.timedelta(weeks=7, days=1)

    marked = mark_stale_for_away(
        couple_id=couple.pk, starts_on=starts, ends_on=starts + dt.timedelta(days=2)
    )

    assert stale_weeks(couple) == [W - dt.timedelta(weeks=n) for n in range(8, 1, -1)]
    assert marked == 7


def test_an_edited_away_period_marks_the_weeks_it_left_too(reported: Any) -> None:
    couple, _, _, _ = reported
    old = (W - dt.timedelta(weeks=8), W - dt.timedelta(weeks=8) + dt.timedelta(days=1))

    mark_stale_for_away(couple_id=couple.pk, starts_on=W, ends_on=W, before=old)

    assert stale_weeks(couple) == [W - dt.timedelta(weeks=n) for n in range(8, 2, -1)] + [W]


def test_feedback_counts_in_the_local_week_of_its_session(reported: Any) -> None:
    couple, _, _, _ = reported
    # Sunday 16:00 UTC of w-1 is Monday 01:00 in Tokyo: week W.
    starts = dt.datetime.combine(W - dt.timedelta(days=1), dt.time(16), tzinfo=UTC)

    mark_stale_for_feedback(
        couple_id=couple.pk, timezone_name=couple.timezone, session_starts_at=starts
    )

    assert stale_weeks(couple) == [W]


def test_a_safety_alert_marks_its_week_and_the_five_after(reported: Any) -> None:
    couple, _, _, _ = reported

    mark_stale_for_alert(couple_id=couple.pk, day=W - dt.timedelta(weeks=6))

    assert stale_weeks(couple) == [W - dt.timedelta(weeks=n) for n in range(6, 0, -1)]


def test_a_goal_marks_every_report_from_its_week_on(reported: Any) -> None:
    couple, _, _, _ = reported
    set_at = dt.datetime.combine(W - dt.timedelta(weeks=8), dt.time(12), tzinfo=UTC)

    marked = mark_stale_for_goal(couple_id=couple.pk, timezone_name=couple.timezone, set_at=set_at)

    assert stale_weeks(couple) == [W - dt.timedelta(weeks=n) for n in range(8, -1, -1)]
    assert marked == 9
