"""Property tests of the weekly report methodology v1 (SPEC section 5, docs/reports.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from engagement.reports.scoring import CheckinRatings
from engagement.reports.scoring import CoupleWeekInput
from engagement.reports.scoring import Flag
from engagement.reports.scoring import GoalAtEnd
from engagement.reports.scoring import PartnerWeekInput
from engagement.reports.scoring import RatingTally
from engagement.reports.scoring import SelfReportRatings
from engagement.reports.scoring import SessionFeedbackScore
from engagement.reports.scoring import WeekReport
from engagement.reports.scoring import compute_balance
from engagement.reports.scoring import compute_partner_figures
from engagement.reports.scoring import compute_week_report
from engagement.reports.scoring import gap_trend
from engagement.reports.scoring import self_report_ratings
from engagement.reports.scoring import urgency_key
from tests.engagement.dates import W

# Per test, not a global profile: other hypothesis tests keep their own settings.
thorough = settings(deadline=None, max_examples=200)

SWAP = {"a": "b", "b": "a"}

ratings_1_to_5 = st.lists(st.integers(1, 5), max_size=7).map(RatingTally.of)
targets = st.integers(0, 7)
goals = st.sampled_from(["work_on_it", "decide", "separate_well", "unsure"])


@st.composite
def self_reports(draw: st.DrawFn) -> SelfReportRatings:
    return SelfReportRatings(
        mood=draw(ratings_1_to_5),
        effort=draw(ratings_1_to_5),
        connection=draw(ratings_1_to_5),
        resentment=draw(ratings_1_to_5),
        wellbeing=draw(ratings_1_to_5),
    )


@st.composite
def feedbacks(draw: st.DrawFn, week_start: date) -> tuple[SessionFeedbackScore, ...]:
    """Feedback on some of the week's three sessions (the same ids for both partners)."""
    sessions = sorted(draw(st.sets(st.integers(0, 2), max_size=3)))
    return tuple(
        SessionFeedbackScore(
            f"{week_start}-{k}",
            datetime(week_start.year, week_start.month, week_start.day, 18, tzinfo=UTC)
            + timedelta(days=2 * k),
            week_start + timedelta(days=2 * k),
            draw(st.integers(0, 40)),
        )
        for k in sessions
    )


@st.composite
def partner_weeks(draw: st.DrawFn, pid: str = "a", week_start: date = W) -> PartnerWeekInput:
    attended = draw(st.integers(0, 6))
    missed = draw(st.integers(0, 6))
    commitments_missed = draw(st.integers(0, 5))
    return PartnerWeekInput(
        pid,
        sessions_attended=attended,
        sessions_missed=missed,
        participation_ratings=tuple(draw(st.lists(st.integers(0, 3), max_size=attended))),
        checkin_days=draw(st.integers(0, 7)),
        joined_before_week_end=draw(st.booleans()),
        commitments_kept=draw(st.integers(0, 5)),
        commitments_missed=commitments_missed,
        commitments_unreported=draw(st.integers(0, 3)),
        missed_renewals_of_missed=draw(st.integers(0, commitments_missed)),
        self_reports=draw(self_reports()),
        away_days=(away := draw(st.integers(0, 7))),
        shared_away_days=draw(st.integers(0, away)),
        unsafe_dates=tuple(
            sorted(
                draw(
                    st.sets(
                        st.sampled_from([week_start + timedelta(days=d) for d in range(7)]),
                        max_size=2,
                    )
                )
            )
        ),
        feedback=draw(feedbacks(week_start)),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[CoupleWeekInput]:
    """Up to seven weeks ending in w, some missing, with one or two partners."""
    offsets = [0, *draw(st.sets(st.integers(1, 6)))]
    pids = draw(st.sampled_from([("a", "b"), ("b", "a"), ("a",)]))
    return [
        CoupleWeekInput(
            W - timedelta(weeks=n),
            draw(targets),
            tuple(draw(partner_weeks(pid, W - timedelta(weeks=n))) for pid in pids),
            goals=tuple(
                GoalAtEnd(pid, draw(goals), W - timedelta(weeks=n))
                for pid in pids
                if draw(st.booleans())
            ),
        )
        for n in offsets
    ]


def relabelled(history: list[CoupleWeekInput]) -> list[CoupleWeekInput]:
    """The same weeks with the partners' ids swapped: a's data now belongs to b."""
    return [
        replace(
            week,
            partners=tuple(replace(p, partner=SWAP[p.partner]) for p in week.partners),
            goals=tuple(replace(g, partner=SWAP[g.partner]) for g in week.goals),
        )
        for week in history
    ]


def flag_set(report: WeekReport) -> set[str]:
    return {json.dumps(f.to_dict(), sort_keys=True) for f in report.flags}


def swapped(flag: Flag) -> Flag:
    evidence = dict(flag.evidence)
    if flag.code == "goal_mismatch":
        # Its evidence is keyed by partner.
        for key in ("goals", "set_on"):
            evidence[key] = {SWAP[k]: v for k, v in evidence[key].items()}  # type: ignore[union-attr]
    return replace(
        flag, partner=None if flag.partner is None else SWAP[flag.partner], evidence=evidence
    )


@thorough
@given(partner_weeks(), targets)
def test_engagement_score_stays_within_0_and_100(p: PartnerWeekInput, target: int) -> None:
    score = compute_partner_figures(p, target).engagement_score

    assert score is None or 0.0 <= score <= 100.0


@thorough
@given(partner_weeks(), targets)
def test_every_rate_stays_within_0_and_1(p: PartnerWeekInput, target: int) -> None:
    figures = compute_partner_figures(p, target)

    for rate in (
        figures.attendance_rate,
        figures.participation,
        figures.checkin_rate,
        figures.follow_through,
    ):
        assert rate is None or 0.0 <= rate <= 1.0


@thorough
@given(partner_weeks(), targets)
def test_one_more_kept_commitment_never_lowers_follow_through_or_score(
    p: PartnerWeekInput, target: int
) -> None:
    before = compute_partner_figures(p, target)
    after = compute_partner_figures(replace(p, commitments_kept=p.commitments_kept + 1), target)

    assert after.follow_through is not None
    assert before.follow_through is None or after.follow_through >= before.follow_through
    assert after.engagement_score is not None
    assert before.engagement_score is None or after.engagement_score >= before.engagement_score


@thorough
@given(partner_weeks(), targets)
def test_one_more_attended_session_never_lowers_the_score(p: PartnerWeekInput, target: int) -> None:
    before = compute_partner_figures(p, target).engagement_score
    after = compute_partner_figures(
        replace(p, sessions_attended=p.sessions_attended + 1), target
    ).engagement_score

    assert after is not None
    assert before is None or after >= before


@thorough
@given(partner_weeks(), targets)
def test_an_absence_turned_into_attendance_never_lowers_the_score(
    p: PartnerWeekInput, target: int
) -> None:
    if p.sessions_missed == 0:
        p = replace(p, sessions_missed=1)
    before = compute_partner_figures(p, target).engagement_score
    after = compute_partner_figures(
        replace(
            p, sessions_attended=p.sessions_attended + 1, sessions_missed=p.sessions_missed - 1
        ),
        target,
    ).engagement_score

    assert before is not None
    assert after is not None
    assert after >= before


@thorough
@given(st.lists(st.integers(1, 5)), st.lists(st.integers(1, 5)))
def test_adding_tallies_is_pooling_the_ratings(first: list[int], second: list[int]) -> None:
    pooled = RatingTally.of(first) + RatingTally.of(second)

    assert pooled == RatingTally.of(first + second)
    if first or second:
        assert pooled.mean() == Fraction(sum(first + second), len(first + second))


checkins = st.builds(
    CheckinRatings,
    visibility=st.sampled_from(["therapist", "couple"]),
    mood=st.none() | st.integers(1, 5),
    effort=st.none() | st.integers(1, 5),
    connection=st.none() | st.integers(1, 5),
    resentment=st.none() | st.integers(1, 5),
    wellbeing=st.none() | st.integers(1, 5),
)
private_checkins = st.builds(
    CheckinRatings,
    visibility=st.just("private"),
    mood=st.none() | st.integers(1, 5),
    effort=st.none() | st.integers(1, 5),
    connection=st.none() | st.integers(1, 5),
    resentment=st.none() | st.integers(1, 5),
    wellbeing=st.none() | st.integers(1, 5),
)


@thorough
@given(
    st.lists(checkins, max_size=4),
    st.lists(private_checkins, min_size=1, max_size=3),
    st.randoms(use_true_random=False),
)
def test_private_checkins_never_change_an_average(
    visible: list[CheckinRatings], private: list[CheckinRatings], rnd: object
) -> None:
    mixed = visible + private
    rnd.shuffle(mixed)  # type: ignore[attr-defined]
    partner = PartnerWeekInput("a", checkin_days=len(mixed))

    without = compute_partner_figures(
        replace(partner, self_reports=self_report_ratings(visible)), 4
    )
    with_private = compute_partner_figures(
        replace(partner, self_reports=self_report_ratings(mixed)), 4
    )

    assert with_private == without


@thorough
@given(histories())
def test_swapping_the_partners_data_swaps_their_figures(history: list[CoupleWeekInput]) -> None:
    report = compute_week_report(history)
    other = compute_week_report(relabelled(history))

    assert other.partners == tuple(replace(f, partner=SWAP[f.partner]) for f in report.partners)
    assert (other.balance, other.gap, other.gap_trend) == (
        report.balance,
        report.gap,
        report.gap_trend,
    )
    assert other.less_engaged_partner == (
        None if report.less_engaged_partner is None else SWAP[report.less_engaged_partner]
    )
    assert other.flags == tuple(swapped(f) for f in report.flags)
    assert other.recommendations == tuple(
        replace(r, partner=None if r.partner is None else SWAP[r.partner])
        for r in report.recommendations
    )


@thorough
@given(histories())
def test_the_order_of_partners_changes_only_the_order_of_the_report(
    history: list[CoupleWeekInput],
) -> None:
    reordered = [replace(week, partners=week.partners[::-1]) for week in history]

    report = compute_week_report(history)
    other = compute_week_report(reordered)

    assert other.partners == report.partners[::-1]
    assert (other.balance, other.gap, other.gap_trend, other.less_engaged_partner) == (
        report.balance,
        report.gap,
        report.gap_trend,
        report.less_engaged_partner,
    )
    assert flag_set(other) == flag_set(report)
    assert set(other.recommendations) == set(report.recommendations)


@thorough
@given(histories(), st.randoms(use_true_random=False))
def test_the_order_of_history_never_changes_the_report(
    history: list[CoupleWeekInput], rnd: object
) -> None:
    shuffled = list(history)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]

    assert compute_week_report(shuffled) == compute_week_report(history)


@thorough
@given(histories())
def test_flags_and_recommendations_name_only_partners_of_the_reported_week(
    history: list[CoupleWeekInput],
) -> None:
    report = compute_week_report(history)
    partners = {p.partner for p in history[0].partners}

    assert {f.partner for f in report.flags} - {None} <= partners
    assert {r.partner for r in report.recommendations} - {None} <= partners
    assert len(set(report.recommendations)) == len(report.recommendations)
    if report.flags == ():
        assert report.recommendations == ()


@thorough
@given(histories())
def test_the_report_is_plain_json(history: list[CoupleWeekInput]) -> None:
    result = compute_week_report(history).to_dict()

    assert json.loads(json.dumps(result, allow_nan=False)) == result


tenths = st.integers(0, 1000).map(lambda n: n / 10)


@thorough
@given(tenths, tenths)
def test_balance_follows_the_gap_thresholds_whichever_partner_comes_first(
    a: float, b: float
) -> None:
    result = compute_balance({"a": a, "b": b})
    mirrored = compute_balance({"b": b, "a": a})
    gap_in_tenths = abs(round(a * 10) - round(b * 10))

    assert result == mirrored
    assert result.gap == gap_in_tenths / 10
    expected = (
        "balanced" if gap_in_tenths < 150 else "leaning" if gap_in_tenths < 350 else "one_sided"
    )
    assert result.balance == expected
    if gap_in_tenths >= 150:
        assert result.less_engaged_partner == ("a" if a < b else "b")
    else:
        assert result.less_engaged_partner is None


gaps = st.lists(st.none() | tenths, min_size=4, max_size=4)


@thorough
@given(gaps, st.integers(0, 100))
def test_gap_trend_ignores_a_constant_shift_and_reverses_with_time(
    weekly: list[float | None], shift: int
) -> None:
    trend = gap_trend(weekly)
    shifted = gap_trend([None if g is None else g + shift for g in weekly])
    reversed_trend = gap_trend(weekly[::-1])

    assert shifted == trend
    opposite = {"widening": "narrowing", "narrowing": "widening", "stable": "stable", None: None}
    assert reversed_trend == opposite[trend]


@thorough
@given(
    st.lists(st.sampled_from(["wellbeing_decline", "low_engagement_streak", "x"])) | st.none(),
    st.none() | tenths,
    st.lists(st.sampled_from(["rising_resentment", "commitments_unkept"])) | st.none(),
    st.none() | tenths,
)
def test_a_safety_hold_always_comes_before_a_couple_without_one(
    hold_flags: list[str] | None,
    hold_gap: float | None,
    other_flags: list[str] | None,
    other_gap: float | None,
) -> None:
    hold = urgency_key(safety_hold=True, report_flags=hold_flags, gap=hold_gap)
    other = urgency_key(safety_hold=False, report_flags=other_flags, gap=other_gap)

    assert hold < other


# --- v1.1: away days, feedback, goals, safety (SPEC 5.2, 5.4, 5.5) ---------------------------


@thorough
@given(partner_weeks(), targets, st.integers(0, 7))
def test_away_days_never_lower_a_checkin_rate(p: PartnerWeekInput, target: int, more: int) -> None:
    """More days away (the shared ones with them) never lower the check-in rate: the target
    shrinks, the days checked in stay."""
    before = replace(p, away_days=0, shared_away_days=0)
    after = replace(p, away_days=more, shared_away_days=more)
    rate_before = compute_partner_figures(before, target).checkin_rate
    rate_after = compute_partner_figures(after, target).checkin_rate
    if rate_before is None:
        # Nothing expected without away days: nothing expected with them either.
        assert rate_after is None
    elif rate_after is not None:
        assert rate_after >= rate_before
    else:
        assert more == 7


@thorough
@given(histories(), st.data())
def test_feedback_never_changes_an_engagement_score(
    history: list[CoupleWeekInput], data: st.DataObject
) -> None:
    """Session feedback is not part of the score (SPEC 5.2): with other feedback, or none,
    every score, balance, gap and trend stays."""
    other = [
        replace(
            week,
            partners=tuple(
                replace(p, feedback=data.draw(feedbacks(week.week_start))) for p in week.partners
            ),
        )
        for week in history
    ]
    report, changed = compute_week_report(history), compute_week_report(other)

    assert [f.engagement_score for f in changed.partners] == [
        f.engagement_score for f in report.partners
    ]
    assert (changed.balance, changed.gap, changed.gap_trend, changed.less_engaged_partner) == (
        report.balance,
        report.gap,
        report.gap_trend,
        report.less_engaged_partner,
    )
    assert (changed.shared_balance, changed.shared_gap, changed.shared_gap_trend) == (
        report.shared_balance,
        report.shared_gap,
        report.shared_gap_trend,
    )
    assert changed.partner_views == report.partner_views


@thorough
@given(histories())
def test_a_safety_signal_in_the_lookback_withholds_every_other_recommendation(
    history: list[CoupleWeekInput],
) -> None:
    report = compute_week_report(history)
    unsafe = any(
        p.unsafe_dates
        for week in history
        if week.week_start >= W - timedelta(weeks=5)
        for p in week.partners
    )
    if unsafe:
        assert {r.code for r in report.recommendations} <= {"screen_individually"}
    concern = any(f.code == "safety_concern" for f in report.flags)
    assert (
        ("screen_individually", None) in {(r.code, r.partner) for r in report.recommendations}
    ) == concern


@thorough
@given(
    st.lists(st.sampled_from(["safety_concern", "goal_mismatch", "x"])) | st.none(),
    st.none() | tenths,
    st.booleans(),
    st.lists(st.sampled_from(["rising_resentment", "split_alliance", "commitments_unkept"]))
    | st.none(),
    st.none() | tenths,
)
def test_a_safety_signal_comes_before_every_couple_without_one(
    flags: list[str] | None,
    gap: float | None,
    hold: bool,
    other_flags: list[str] | None,
    other_gap: float | None,
) -> None:
    alert = urgency_key(safety_hold=False, report_flags=flags, gap=gap, unacknowledged_alert=True)
    other = urgency_key(safety_hold=hold, report_flags=other_flags, gap=other_gap)

    assert alert < other
