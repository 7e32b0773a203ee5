"""Aggregation: database rows to the exact inputs of scoring, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engagement.models import Attendance
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Membership
from engagement.reports.aggregates import couple_histories
from engagement.reports.scoring import CoupleWeekInput
from engagement.reports.scoring import PartnerWeekInput
from engagement.reports.scoring import RatingTally
from engagement.reports.scoring import SelfReportRatings
from engagement.reports.weeks import LocalWeek
from engagement.reports.weeks import last_completed_week
from engagement.reports.weeks import local_week_start
from tests.engagement.dates import LONG_AGO
from tests.engagement.dates import YEAR_END
from tests.engagement.dates import W
from tests.engagement.reports.builders import away
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import commitment
from tests.engagement.reports.builders import couple_in
from tests.engagement.reports.builders import feedback
from tests.engagement.reports.builders import goal
from tests.engagement.reports.builders import safety_alert
from tests.engagement.reports.builders import session
from tests.engagement.reports.builders import status_change

pytestmark = pytest.mark.django_db

UTC = dt.UTC

ATTENDED, LATE, ABSENT, EXCUSED = "attended", "late", "absent", "excused"
KEPT, MISSED, OPEN, RELEASED = "kept", "missed", "open", "released"


def at(day: dt.date, hour: int = 18, minute: int = 0, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(tz))


def week_of(couple: Couple, week_start: dt.date, *, now: dt.datetime = YEAR_END) -> CoupleWeekInput:
    history = couple_histories({couple.pk: [week_start]}, now=now)[couple.pk]
    return history.weeks[week_start]


def partner_input(week: CoupleWeekInput, user: Any) -> PartnerWeekInput:
    return next(p for p in week.partners if p.partner == str(user.pk))


# --- one week, row by row -------------------------------------------------------------------


def test_a_week_of_rows_becomes_the_exact_scoring_input() -> None:
    couple, a, b, _ = couple_in(created_at=LONG_AGO)
    tuesday, thursday = W + dt.timedelta(days=1), W + dt.timedelta(days=3)
    session(couple, at(tuesday), {a: (ATTENDED, 3), b: (ABSENT, None)})
    session(couple, at(thursday), {a: (LATE, None), b: (EXCUSED, None)})
    session(couple, at(thursday, 9), {a: (ATTENDED, 1)}, focus_partner=a)
    # Not completed: its attendance does not count.
    session(couple, at(W), {a: (ABSENT, 0), b: (ABSENT, 0)}, status="cancelled")
    checkin(couple, a, W, "couple", mood=4, resentment=2)
    checkin(couple, a, tuesday, "therapist", mood=2, wellbeing=3)
    checkin(couple, a, thursday, "private", mood=1, effort=1, resentment=5, wellbeing=1)
    commitment(couple, a, tuesday, KEPT)
    commitment(couple, a, thursday, MISSED)
    commitment(couple, a, thursday, RELEASED)
    commitment(couple, a, W + dt.timedelta(days=6), OPEN)
    commitment(couple, b, thursday, OPEN)

    week = week_of(couple, W)

    assert week == CoupleWeekInput(
        week_start=W,
        checkin_target=4,
        partners=(
            PartnerWeekInput(
                str(a.pk),
                sessions_attended=3,
                sessions_missed=0,
                participation_ratings=(1, 3),
                checkin_days=3,
                joined_before_week_end=True,
                commitments_kept=1,
                commitments_missed=1,
                commitments_unreported=1,
                missed_renewals_of_missed=0,
                self_reports=SelfReportRatings(
                    mood=RatingTally(total=6, count=2),
                    resentment=RatingTally(total=2, count=1),
                    wellbeing=RatingTally(total=3, count=1),
                ),
                # What both partners can read: the two joint sessions, the `couple` check-in,
                # the `couple` commitments (the builder's default visibility).
                joint_attended=2,
                shared_checkin_days=1,
                shared_commitments_kept=1,
                shared_commitments_missed=1,
                shared_commitments_unreported=1,
            ),
            PartnerWeekInput(
                str(b.pk),
                sessions_missed=1,
                commitments_unreported=1,
                joined_before_week_end=True,
                joint_missed=1,
                shared_commitments_unreported=1,
            ),
        ),
    )


def test_private_checkins_count_as_days_and_never_in_an_average() -> None:
    couple, a, _, _ = couple_in(created_at=LONG_AGO)
    for n in range(4):
        checkin(couple, a, W + dt.timedelta(days=n), "private", mood=1, resentment=5, wellbeing=1)

    p = partner_input(week_of(couple, W), a)

    assert p.checkin_days == 4
    assert p.self_reports == SelfReportRatings()


def test_checkins_of_the_other_partner_and_other_weeks_stay_out() -> None:
    couple, a, b, _ = couple_in(created_at=LONG_AGO)
    checkin(couple, a, W - dt.timedelta(days=1), mood=5)  # Sunday before: w-1
    checkin(couple, a, W + dt.timedelta(days=7), mood=5)  # next Monday
    checkin(couple, b, W, mood=1)
    other, c, _, _ = couple_in(created_at=LONG_AGO)
    checkin(other, c, W, mood=1)

    week = week_of(couple, W)

    assert partner_input(week, a).checkin_days == 0
    assert partner_input(week, b).self_reports.mood == RatingTally(total=1, count=1)


def test_an_open_commitment_is_unreported_only_once_its_week_has_ended() -> None:
    couple, a, _, _ = couple_in(created_at=LONG_AGO)
    commitment(couple, a, W + dt.timedelta(days=2))

    during = week_of(couple, W, now=at(W + dt.timedelta(days=4)))
    after = week_of(couple, W, now=at(W + dt.timedelta(days=7), 0, 1))

    assert partner_input(during, a).commitments_unreported == 0
    assert partner_input(after, a).commitments_unreported == 1


def test_a_missed_renewal_of_a_missed_commitment_is_counted_in_its_own_week() -> None:
    couple, a, _, _ = couple_in(created_at=LONG_AGO)
    first = commitment(couple, a, W - dt.timedelta(weeks=2), MISSED)
    kept = commitment(couple, a, W - dt.timedelta(weeks=1), KEPT)
    commitment(couple, a, W + dt.timedelta(days=1), MISSED, renewed_from=first)  # counts
    commitment(couple, a, W + dt.timedelta(days=2), MISSED, renewed_from=kept)  # of a kept one
    commitment(couple, a, W + dt.timedelta(days=3), KEPT, renewed_from=first)  # kept this time
    renewal = commitment(couple, a, W - dt.timedelta(weeks=1), MISSED, renewed_from=first)

    history = couple_histories({couple.pk: [W]}, now=YEAR_END)[couple.pk]

    this_week = partner_input(history.weeks[W], a)
    assert (this_week.commitments_missed, this_week.missed_renewals_of_missed) == (2, 1)
    assert this_week.commitments_kept == 1
    last_week = partner_input(history.weeks[W - dt.timedelta(weeks=1)], a)
    assert (last_week.commitments_missed, last_week.missed_renewals_of_missed) == (1, 1)
    assert renewal.renewed_from_id == first.pk


# --- who the partners of a week are ----------------------------------------------------------


def test_a_partner_who_joined_mid_history_counts_from_before_joining_but_was_not_expected() -> None:
    joined = at(W - dt.timedelta(weeks=2) + dt.timedelta(days=2))  # Wednesday of w-2
    couple, a, b, _ = couple_in(created_at=LONG_AGO)
    Membership.objects.filter(couple=couple, user=b).update(joined_at=joined)
    checkin(couple, b, W - dt.timedelta(weeks=4), mood=4)  # back-filled, before joining
    session(couple, at(W - dt.timedelta(weeks=3)), {a: (ATTENDED, 2), b: (ATTENDED, 2)})

    history = couple_histories({couple.pk: [W]}, now=YEAR_END)[couple.pk]

    joined_flags = {
        week: partner_input(history.weeks[week], b).joined_before_week_end
        for week in sorted(history.weeks)
    }
    assert list(joined_flags.values()) == [False, False, False, True, True, True]
    assert partner_input(history.weeks[W - dt.timedelta(weeks=4)], b).checkin_days == 1
    assert partner_input(history.weeks[W - dt.timedelta(weeks=3)], b).sessions_attended == 1
    assert [p.partner for p in history.weeks[W].partners] == [str(a.pk), str(b.pk)]


def test_a_partner_who_left_before_the_week_is_replaced_by_the_one_who_took_the_place() -> None:
    couple, a, b, _ = couple_in(created_at=LONG_AGO)
    left = at(W - dt.timedelta(weeks=1))
    Membership.objects.filter(couple=couple, user=b).update(left_at=left, partner_slot=None)
    newcomer = Membership.objects.create(
        couple=couple, user=_user(), role="partner", partner_slot=2, joined_at=at(W, 12)
    )

    history = couple_histories({couple.pk: [W]}, now=YEAR_END)[couple.pk]

    assert [p.partner for p in history.weeks[W].partners] == [str(a.pk), str(newcomer.user_id)]
    two_weeks_ago = history.weeks[W - dt.timedelta(weeks=2)]
    assert [p.partner for p in two_weeks_ago.partners] == [str(a.pk), str(b.pk)]


def _user() -> Any:
    from tests.factories import UserFactory

    return UserFactory.create()


# --- weeks that are absent ---------------------------------------------------------------------


def test_a_week_touched_by_a_pause_is_absent_and_the_weeks_around_it_are_not() -> None:
    couple, _, _, _ = couple_in(created_at=LONG_AGO)
    status_change(couple, Couple.Status.PAUSED, at(W - dt.timedelta(weeks=2) + dt.timedelta(2)))
    status_change(couple, Couple.Status.ACTIVE, at(W - dt.timedelta(weeks=1) + dt.timedelta(1)))

    history = couple_histories({couple.pk: [W]}, now=YEAR_END)[couple.pk]

    assert sorted(history.weeks) == [
        W - dt.timedelta(weeks=5),
        W - dt.timedelta(weeks=4),
        W - dt.timedelta(weeks=3),
        W,
    ]
    assert history.history_for(W - dt.timedelta(weeks=1)) is None


def test_an_ended_couple_has_no_week_from_the_one_it_ended_in() -> None:
    couple, _, _, _ = couple_in(created_at=LONG_AGO)
    status_change(couple, Couple.Status.ENDED, at(W, 9))

    history = couple_histories({couple.pk: [W]}, now=YEAR_END)[couple.pk]

    assert W not in history.weeks
    assert max(history.weeks) == W - dt.timedelta(weeks=1)


def test_weeks_before_the_creation_week_without_earlier_data_are_absent() -> None:
    couple, _, _, _ = couple_in(created_at=at(W - dt.timedelta(weeks=2) + dt.timedelta(days=6)))
    history = couple_histories({couple.pk: [W]}, now=YEAR_END)[couple.pk]

    assert sorted(history.weeks) == [W - dt.timedelta(weeks=2), W - dt.timedelta(weeks=1), W]


def test_weeks_before_creation_are_present_from_the_earliest_one_holding_data() -> None:
    # Onboarding history (SPEC 5): created in week W, a session logged in w-4, a private
    # check-in in w-3. Every week from w-4 is reported, empty w-2 and w-1 too.
    couple, a, b, _ = couple_in(created_at=at(W + dt.timedelta(days=2)))
    session(couple, at(W - dt.timedelta(weeks=4)), {a: (ATTENDED, 2), b: (ABSENT, None)})
    checkin(couple, b, W - dt.timedelta(weeks=3), "private")

    history = couple_histories({couple.pk: [W]}, now=YEAR_END)[couple.pk]

    assert sorted(history.weeks) == [W - dt.timedelta(weeks=n) for n in (4, 3, 2, 1, 0)]
    early = partner_input(history.weeks[W - dt.timedelta(weeks=4)], a)
    assert (early.sessions_attended, early.joint_attended, early.participation_ratings) == (
        1,
        1,
        (2,),
    )


def test_a_week_without_data_is_present_and_empty() -> None:
    couple, a, b, _ = couple_in(created_at=LONG_AGO)

    assert week_of(couple, W) == CoupleWeekInput(
        W, 4, (PartnerWeekInput(str(a.pk)), PartnerWeekInput(str(b.pk)))
    )


# --- local weeks: DST and the far side of the date line -----------------------------------


@pytest.mark.parametrize(
    ("tz", "week_start", "starts_at", "ends_at", "hours"),
    [
        # Berlin springs forward on Sunday 2026-03-29: a week of 167 hours.
        ("Europe/Berlin", "2026-03-23", "2026-03-22T23:00", "2026-03-29T22:00", 167),
        # ... and falls back on Sunday 2026-10-25: 169 hours.
        ("Europe/Berlin", "2026-10-19", "2026-10-18T22:00", "2026-10-25T23:00", 169),
        ("America/Chicago", "2026-03-02", "2026-03-02T06:00", "2026-03-09T05:00", 167),
        ("America/Chicago", "2026-10-26", "2026-10-26T05:00", "2026-11-02T06:00", 169),
        ("Asia/Tokyo", "2026-11-16", "2026-11-15T15:00", "2026-11-22T15:00", 168),
    ],
)
def test_a_week_runs_from_local_monday_midnight_to_the_next(
    tz: str, week_start: str, starts_at: str, ends_at: str, hours: int
) -> None:
    week = LocalWeek.of(ZoneInfo(tz), dt.date.fromisoformat(week_start))

    assert week.starts_at == dt.datetime.fromisoformat(starts_at).replace(tzinfo=UTC)
    assert week.ends_at == dt.datetime.fromisoformat(ends_at).replace(tzinfo=UTC)
    assert week.ends_at - week.starts_at == dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("tz", "utc_start", "expected_week"),
    [
        # Sunday 23:30 CEST, the night Berlin springs forward: still that week.
        ("Europe/Berlin", "2026-03-29T21:30", "2026-03-23"),
        # Monday 00:30 CEST: an hour of standard time would have put it on Sunday.
        ("Europe/Berlin", "2026-03-29T22:30", "2026-03-30"),
        # Sunday 23:30 CET after falling back: summer time would have said Monday.
        ("Europe/Berlin", "2026-10-25T22:30", "2026-10-19"),
        ("Europe/Berlin", "2026-10-25T23:30", "2026-10-26"),
        ("America/Chicago", "2026-03-09T04:30", "2026-03-02"),
        # Monday 00:30 CDT; standard time would have said Sunday 23:30.
        ("America/Chicago", "2026-03-09T05:30", "2026-03-09"),
        # Sunday 23:30 CST after falling back; daylight time would have said Monday.
        ("America/Chicago", "2026-11-02T05:30", "2026-10-26"),
        ("America/Chicago", "2026-11-02T06:30", "2026-11-02"),
        # Sunday 23:30 in Tokyo is Sunday 14:30 UTC: that local week.
        ("Asia/Tokyo", "2026-11-22T14:30", "2026-11-16"),
        # Monday 00:30 in Tokyo is still Sunday 15:30 UTC: the next local week.
        ("Asia/Tokyo", "2026-11-22T15:30", "2026-11-23"),
    ],
)
def test_a_session_counts_in_the_local_week_it_started_in(
    tz: str, utc_start: str, expected_week: str
) -> None:
    starts_at = dt.datetime.fromisoformat(utc_start).replace(tzinfo=UTC)
    expected = dt.date.fromisoformat(expected_week)
    couple, a, b, _ = couple_in(tz, created_at=LONG_AGO)
    session(couple, starts_at, {a: (ATTENDED, 2), b: (ABSENT, None)})

    histories = couple_histories({couple.pk: [expected + dt.timedelta(weeks=1)]}, now=YEAR_END)
    weeks = histories[couple.pk]

    attended = {w: partner_input(week, a).sessions_attended for w, week in weeks.weeks.items()}
    assert {w for w, n in attended.items() if n} == {expected}
    assert local_week_start(tz, starts_at) == expected


def test_checkins_and_commitments_count_by_their_local_date_whatever_the_timezone() -> None:
    # A Sunday and the Monday after, in a couple that lives on Tokyo time.
    couple, a, _, _ = couple_in("Asia/Tokyo", created_at=LONG_AGO)
    sunday = W + dt.timedelta(days=6)
    checkin(couple, a, sunday, mood=4)
    commitment(couple, a, sunday, KEPT)
    checkin(couple, a, sunday + dt.timedelta(days=1), mood=2)

    p = partner_input(week_of(couple, W), a)

    assert (p.checkin_days, p.commitments_kept, p.self_reports.mood) == (
        1,
        1,
        RatingTally(total=4, count=1),
    )


def test_the_last_completed_week_depends_on_the_timezone() -> None:
    # Monday 2026-11-23 02:00 UTC: already Monday in Tokyo and Berlin, still Sunday in Chicago.
    now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    assert last_completed_week("Asia/Tokyo", now) == dt.date(2026, 11, 16)
    assert last_completed_week("Europe/Berlin", now) == dt.date(2026, 11, 16)
    assert last_completed_week("America/Chicago", now) == dt.date(2026, 11, 9)


# --- order, and the number of queries ----------------------------------------------------------


def _busy_couple(tz: str = "UTC", *, seed: int = 0) -> Couple:
    couple, a, b, _ = couple_in(tz, created_at=LONG_AGO)
    for n in range(6):
        week = W - dt.timedelta(weeks=n)
        session(couple, at(week + dt.timedelta(days=1), tz=tz), {a: (ATTENDED, 3), b: (LATE, 1)})
        checkin(couple, a, week, "couple", resentment=(n + seed) % 5 + 1)
        checkin(couple, b, week + dt.timedelta(days=2), "private", wellbeing=2)
        first = commitment(couple, b, week + dt.timedelta(days=3), MISSED)
        commitment(couple, b, week + dt.timedelta(days=4), MISSED, renewed_from=first)
    _v11_rows(couple, a, b)
    return couple


def _v11_rows(couple: Couple, a: Any, b: Any) -> None:
    """One of each v1.1 input in week w: feedback, away periods, a goal each, an alert."""
    row = session(couple, at(W + dt.timedelta(days=2)), {a: (ATTENDED, 2), b: (ATTENDED, 2)})
    feedback(row, a, (9, 9, 9, 9))
    feedback(row, b, (5, 5, 5, 5))
    away(couple, a, W - dt.timedelta(days=2), W + dt.timedelta(days=1), "couple")
    away(couple, b, W + dt.timedelta(days=5), W + dt.timedelta(days=9), "therapist")
    goal(couple, a, "work_on_it", at(W - dt.timedelta(days=3)))
    goal(couple, b, "decide", at(W + dt.timedelta(days=1)))
    safety_alert(couple, b, W + dt.timedelta(days=3))


def test_histories_are_the_same_whatever_the_chunk_and_the_order_of_weeks() -> None:
    couples = [_busy_couple(tz, seed=n) for n, tz in enumerate(["UTC", "Asia/Tokyo"])]
    alone = {c.pk: couple_histories({c.pk: [W]}, now=YEAR_END)[c.pk].weeks for c in couples}

    together = couple_histories({c.pk: [W] for c in reversed(couples)}, now=YEAR_END)
    several = couple_histories(
        {c.pk: [W, W - dt.timedelta(weeks=2), W - dt.timedelta(weeks=1)] for c in couples},
        now=YEAR_END,
    )

    for c in couples:
        assert together[c.pk].weeks == alone[c.pk]
        assert {w: several[c.pk].weeks[w] for w in alone[c.pk]} == alone[c.pk]


@pytest.mark.parametrize("n_couples", [2, 20])
def test_a_chunk_takes_ten_queries_however_many_couples_it_holds(
    n_couples: int, django_assert_num_queries: Callable[..., Any]
) -> None:
    zones = ["UTC", "Europe/Berlin", "America/Chicago", "Asia/Tokyo"]
    couples = [_busy_couple(zones[n % len(zones)]) for n in range(n_couples)]
    ended = Attendance.objects.count()
    assert ended == n_couples * 14

    with django_assert_num_queries(10):
        histories = couple_histories({c.pk: [W] for c in couples}, now=YEAR_END)

    assert len(histories) == n_couples
    assert all(len(h.weeks) == 6 for h in histories.values())
    assert Commitment.objects.count() == n_couples * 12


@pytest.mark.parametrize("n_couples", [10, 500])
def test_v11_inputs_add_four_queries_whatever_the_chunk(
    n_couples: int, django_assert_num_queries: Callable[..., Any]
) -> None:
    """Feedback, away periods, safety alerts and goals: one query each for 10 couples as for
    500 (SPEC 6: a fixed number of queries per chunk)."""
    couples = []
    for _ in range(n_couples):
        couple, a, b, _ = couple_in(created_at=LONG_AGO)
        _v11_rows(couple, a, b)
        couples.append(couple)

    with django_assert_num_queries(10):
        histories = couple_histories({c.pk: [W] for c in couples}, now=YEAR_END)

    for c in couples:
        week = histories[c.pk].weeks[W]
        assert [len(p.feedback) for p in week.partners] == [1, 1]
        assert [p.unsafe_dates for p in week.partners] == [(), (W + dt.timedelta(days=3),)]


# --- v1.1 inputs, row by row -------------------------------------------------------------------


def test_v11_rows_become_the_exact_scoring_input() -> None:
    couple, a, b, _ = couple_in("Europe/Berlin", created_at=LONG_AGO)
    _v11_rows(couple, a, b)
    # Overlapping periods count a day once; a period outside the week counts nothing here.
    away(couple, a, W, W + dt.timedelta(days=2), "therapist")
    away(couple, a, W + dt.timedelta(days=10), W + dt.timedelta(days=12), "couple")
    # A retracted alert keeps its day; two alerts on one day are one unsafe day.
    safety_alert(couple, b, W + dt.timedelta(days=3), retracted=True)
    safety_alert(couple, b, W + dt.timedelta(days=6), retracted=True)
    # A goal set after the week's local end (Monday 00:30 Berlin is Sunday 23:30 UTC) is not
    # the week's; one set at 23:30 Berlin on Sunday is.
    goal(couple, a, "separate_well", at(W + dt.timedelta(days=7), 0, 30, "Europe/Berlin"))
    goal(couple, b, "unsure", at(W + dt.timedelta(days=6), 23, 30, "Europe/Berlin"))

    week = week_of(couple, W)
    pa, pb = partner_input(week, a), partner_input(week, b)
    (fa,), (fb,) = pa.feedback, pb.feedback

    assert (pa.away_days, pa.shared_away_days) == (3, 2)  # Mon-Wed, of which Mon-Tue shared
    assert (pb.away_days, pb.shared_away_days) == (2, 0)  # Sat-Sun, therapist-only
    assert (fa.points, fb.points, fa.day) == (36, 20, W + dt.timedelta(days=2))
    assert fa.session == fb.session
    assert pa.unsafe_dates == ()
    assert pb.unsafe_dates == (W + dt.timedelta(days=3), W + dt.timedelta(days=6))
    assert [(g.partner, g.goal, g.set_on) for g in week.goals] == [
        (str(a.pk), "work_on_it", W - dt.timedelta(days=3)),
        (str(b.pk), "unsure", W + dt.timedelta(days=6)),
    ]
    # The week before: b had set no goal yet.
    earlier = week_of(couple, W - dt.timedelta(weeks=1))
    assert [(g.partner, g.goal) for g in earlier.goals] == [(str(a.pk), "work_on_it")]
    assert partner_input(earlier, a).away_days == 2  # Sat-Sun of w-1
