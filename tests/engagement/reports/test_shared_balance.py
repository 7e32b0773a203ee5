"""The shared balance of SPEC 5.6: from shared inputs only, with exact figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from engagement.reports.scoring import CoupleWeekInput
from engagement.reports.scoring import GoalAtEnd
from engagement.reports.scoring import PartnerWeekInput
from engagement.reports.scoring import SessionFeedbackScore
from engagement.reports.scoring import compute_week_report
from tests.engagement.dates import W


def carrying(pid: str = "a") -> PartnerWeekInput:
    """A: a joint session and an individual one attended (both rated 3), five check-in days of
    which two `couple`, two commitments kept of which one `couple`."""
    return PartnerWeekInput(
        pid,
        sessions_attended=2,
        joint_attended=1,
        participation_ratings=(3, 3),
        checkin_days=5,
        shared_checkin_days=2,
        commitments_kept=2,
        shared_commitments_kept=1,
    )


def withdrawn(pid: str = "b") -> PartnerWeekInput:
    """B: absent from the joint session, four private check-ins, a `couple` commitment missed
    and a therapist-only one kept."""
    return PartnerWeekInput(
        pid,
        sessions_missed=1,
        joint_missed=1,
        checkin_days=4,
        commitments_kept=1,
        commitments_missed=1,
        shared_commitments_missed=1,
    )


def test_the_shared_balance_counts_shared_inputs_only_with_weights_renormalised() -> None:
    report = compute_week_report([CoupleWeekInput(W, 4, (carrying(), withdrawn()))])

    # Full: A 100; B (0.35 * 0 + 0.20 * 4/4 + 0.30 * 1/2) / 0.85 = 35/85 = 41.18 -> 41.2.
    assert [p.engagement_score for p in report.partners] == [100.0, 41.2]
    assert (report.balance, report.gap) == ("one_sided", 58.8)
    # Shared: A (0.35 * 1 + 0.20 * 2/4 + 0.30 * 1) / 0.85 = 75/85 = 88.24 -> 88.2;
    # B 0 (the joint session missed, no `couple` check-in, the `couple` commitment missed).
    assert [v.shared_engagement_score for v in report.partner_views] == [88.2, 0.0]
    assert (report.shared_balance, report.shared_gap) == ("one_sided", 88.2)
    # Own scores without participation: A's other components are all 1; B has no rating.
    assert [v.engagement_score_without_participation for v in report.partner_views] == [
        100.0,
        41.2,
    ]


def test_participation_is_left_out_of_the_partners_own_score() -> None:
    # Attendance 1/2, participation 0/3, no target, nothing due.
    p = PartnerWeekInput("a", sessions_attended=1, sessions_missed=1, participation_ratings=(0,))
    report = compute_week_report([CoupleWeekInput(W, 0, (p,))])

    # Full: (0.35 * 1/2 + 0.15 * 0) / 0.5 = 35.0; without participation: 1/2 = 50.0.
    assert report.partners[0].engagement_score == 35.0
    assert report.partner_views[0].engagement_score_without_participation == 50.0


def test_a_week_before_joining_counts_shared_checkins_only() -> None:
    # B had not joined: four private check-ins do not make a shared check-in rate.
    b = PartnerWeekInput("b", checkin_days=4, joined_before_week_end=False)
    a = PartnerWeekInput("a", checkin_days=2, shared_checkin_days=2)
    report = compute_week_report([CoupleWeekInput(W, 4, (a, b))])

    assert [v.shared_engagement_score for v in report.partner_views] == [50.0, None]
    assert (report.shared_balance, report.shared_gap) == ("insufficient_data", None)
    # The full balance counts B's days (they checked in): 4/4 against 2/4.
    assert (report.balance, report.gap) == ("one_sided", 50.0)


def _shared_week(n: int, a_days: int, *, partnership: int | None = 0) -> CoupleWeekInput:
    """w-n with a target of 4: A with `a_days` shared days, B with none (gap 25 * a_days)."""
    a = PartnerWeekInput("a", checkin_days=a_days, shared_checkin_days=a_days)
    return CoupleWeekInput(W - timedelta(weeks=n), 4, (a, PartnerWeekInput("b")), partnership)


def test_the_shared_trend_is_the_slope_of_the_shared_gaps() -> None:
    # Shared gaps 25, 50, 75 over w-2 .. w: +25 a week.
    report = compute_week_report([_shared_week(2, 1), _shared_week(1, 2), _shared_week(0, 3)])

    assert (report.shared_gap, report.shared_gap_trend) == (75.0, "widening")


def test_the_shared_trend_reads_only_weeks_of_the_reported_weeks_partnership() -> None:
    # w-2 belonged to another partnership: two gaps left, too few for a trend.
    report = compute_week_report(
        [
            _shared_week(2, 1, partnership=0),
            _shared_week(1, 2, partnership=1),
            _shared_week(0, 3, partnership=1),
        ]
    )

    assert report.shared_gap_trend is None


def test_a_week_across_a_change_of_partners_has_no_shared_trend() -> None:
    report = compute_week_report(
        [
            _shared_week(2, 1, partnership=None),
            _shared_week(1, 2, partnership=None),
            _shared_week(0, 3, partnership=None),
        ]
    )

    assert report.shared_gap_trend is None
    assert report.shared_gap == 75.0


# --- property: what a partner may not read never moves the shared balance ---------------


@st.composite
def shared_partner(draw: st.DrawFn, pid: str) -> PartnerWeekInput:
    joint_attended = draw(st.integers(0, 3))
    joint_missed = draw(st.integers(0, 3))
    shared_days = draw(st.integers(0, 4))
    kept = draw(st.integers(0, 3))
    missed = draw(st.integers(0, 3))
    shared_away = draw(st.integers(0, 7))
    return PartnerWeekInput(
        pid,
        away_days=shared_away,
        shared_away_days=shared_away,
        sessions_attended=joint_attended,
        sessions_missed=joint_missed,
        joint_attended=joint_attended,
        joint_missed=joint_missed,
        checkin_days=shared_days,
        shared_checkin_days=shared_days,
        commitments_kept=kept,
        commitments_missed=missed,
        shared_commitments_kept=kept,
        shared_commitments_missed=missed,
        joined_before_week_end=draw(st.booleans()),
    )


@st.composite
def hidden_additions(draw: st.DrawFn, p: PartnerWeekInput) -> PartnerWeekInput:
    """The same partner with what the other partner may not read added: individual sessions
    (attended, rated, or missed), private or therapist-only check-in days, therapist-only
    commitments kept or missed, participation ratings of any attended session; v1.1's
    therapist-only away days, session feedback, unsafe days and (in the week) goals."""
    individual_attended = draw(st.integers(0, 3))
    attended = p.sessions_attended + individual_attended
    missed_commitments = p.commitments_missed + draw(st.integers(0, 3))
    return replace(
        p,
        sessions_attended=attended,
        sessions_missed=p.sessions_missed + draw(st.integers(0, 3)),
        participation_ratings=tuple(draw(st.lists(st.integers(0, 3), max_size=attended))),
        checkin_days=draw(st.integers(p.checkin_days, 7)),
        commitments_kept=p.commitments_kept + draw(st.integers(0, 3)),
        commitments_missed=missed_commitments,
        missed_renewals_of_missed=draw(st.integers(0, missed_commitments)),
        away_days=draw(st.integers(p.away_days, 7)),
        unsafe_dates=tuple(
            sorted(draw(st.sets(st.sampled_from([W + timedelta(days=d) for d in range(7)]))))
        ),
        feedback=tuple(
            SessionFeedbackScore(f"s{k}", datetime(2026, 11, 17, k, tzinfo=UTC), W, points)
            for k, points in enumerate(draw(st.lists(st.integers(0, 40), max_size=3)))
        ),
    )


def _shared(report_input: list[CoupleWeekInput]) -> tuple[object, ...]:
    report = compute_week_report(report_input)
    return (
        report.shared_balance,
        report.shared_gap,
        report.shared_gap_trend,
        tuple(v.shared_engagement_score for v in report.partner_views),
    )


@settings(deadline=None, max_examples=200)
@given(data=st.data(), target=st.integers(0, 7), weeks=st.integers(1, 6))
def test_nothing_hidden_from_a_partner_ever_moves_the_shared_balance(
    data: st.DataObject, target: int, weeks: int
) -> None:
    history = [
        CoupleWeekInput(
            W - timedelta(weeks=n),
            target,
            (data.draw(shared_partner("a")), data.draw(shared_partner("b"))),
        )
        for n in range(weeks - 1, -1, -1)
    ]
    with_hidden = [
        replace(
            week,
            partners=tuple(data.draw(hidden_additions(p)) for p in week.partners),
            goals=tuple(
                GoalAtEnd(pid, data.draw(st.sampled_from(["work_on_it", "decide"])), W)
                for pid in ("a", "b")
            ),
        )
        for week in history
    ]

    assert _shared(with_hidden) == _shared(history)
