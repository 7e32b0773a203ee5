"""Exact-number tests of the weekly report methodology v1 (SPEC section 5, docs/reports.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from datetime import datetime
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest

from engagement.reports.scoring import CheckinRatings
from engagement.reports.scoring import CoupleWeekInput
from engagement.reports.scoring import PartnerWeekInput
from engagement.reports.scoring import RatingTally
from engagement.reports.scoring import SelfReportRatings
from engagement.reports.scoring import compute_balance
from engagement.reports.scoring import compute_partner_figures
from engagement.reports.scoring import compute_week_report
from engagement.reports.scoring import gap_trend
from engagement.reports.scoring import self_report_ratings
from engagement.reports.scoring import urgency_key
from tests.engagement.dates import W
from tests.engagement.reports.spec_example import ENGAGED
from tests.engagement.reports.spec_example import RELUCTANT
from tests.engagement.reports.spec_example import spec_example


def week_before(n: int) -> date:
    return W - timedelta(weeks=n)


def week(n: int, *partners: PartnerWeekInput, target: int = 0) -> CoupleWeekInput:
    """Week w-n of a couple; with no check-in target, partners with only ratings have no score."""
    return CoupleWeekInput(week_start=week_before(n), checkin_target=target, partners=partners)


def engaged(pid: str, **overrides: Any) -> PartnerWeekInput:
    """A partner scoring 100: attended, fully engaged, checked in 4 days, kept a promise."""
    p = PartnerWeekInput(
        pid, sessions_attended=1, participation_ratings=(3,), checkin_days=4, commitments_kept=1
    )
    return replace(p, **overrides)


def absent(pid: str, **overrides: Any) -> PartnerWeekInput:
    """A partner scoring 0: missed the session and the promise, no check-in."""
    return replace(PartnerWeekInput(pid, sessions_missed=1, commitments_missed=1), **overrides)


def attending(pid: str, attended: int, expected: int) -> PartnerWeekInput:
    """With a check-in target of 0 and no commitments, the score is the attendance rate."""
    return PartnerWeekInput(pid, sessions_attended=attended, sessions_missed=expected - attended)


def scores_week(n: int, a: tuple[int, int], b: tuple[int, int]) -> CoupleWeekInput:
    """Week w-n where partner a and b score 100 * attended / expected."""
    return week(n, attending("a", *a), attending("b", *b))


def wellbeing(pid: str, *ratings: int) -> PartnerWeekInput:
    """A partner who checked in once a day with these wellbeing ratings."""
    reports = SelfReportRatings(wellbeing=RatingTally.of(ratings))
    return PartnerWeekInput(pid, checkin_days=min(7, len(ratings)), self_reports=reports)


def resentment(pid: str, *ratings: int) -> PartnerWeekInput:
    """A partner who checked in once a day with these resentment ratings."""
    reports = SelfReportRatings(resentment=RatingTally.of(ratings))
    return PartnerWeekInput(pid, checkin_days=min(7, len(ratings)), self_reports=reports)


def commitments(pid: str, kept: int, missed: int, **overrides: Any) -> PartnerWeekInput:
    p = PartnerWeekInput(pid, commitments_kept=kept, commitments_missed=missed)
    return replace(p, **overrides)


def codes(history: list[CoupleWeekInput]) -> list[tuple[str, str | None]]:
    return [(f.code, f.partner) for f in compute_week_report(history).flags]


# --- 5.2 per-partner figures ---------------------------------------------------------


def figures_case(
    name: str, partner: PartnerWeekInput, target: int, **expected: float | int | None
) -> Any:
    """A row of the figures table: a partner's week, the check-in target, and the figures it
    must yield (those named; the others are another row's business)."""
    return pytest.param(partner, target, expected, id=name)


FIGURES = [
    figures_case(
        "partner who did everything scores 100",
        engaged("a"),
        4,
        engagement_score=100.0,
        attendance_rate=1.0,
        participation=1.0,
        checkin_rate=1.0,
        follow_through=1.0,
    ),
    figures_case("partner who did nothing scores 0", absent("a"), 4, engagement_score=0.0),
    # attendance 1/2 (0.35) and follow-through 1 (0.30); participation and check-ins null:
    # 100 * (0.35 * 0.5 + 0.30 * 1) / 0.65 = 73.0769...
    figures_case(
        "score renormalises the weights of components that are not null",
        PartnerWeekInput("a", sessions_attended=1, sessions_missed=1, commitments_kept=1),
        0,
        participation=None,
        checkin_rate=None,
        engagement_score=73.1,
    ),
    # 100 * (0.35 * 1 + 0.20 * 0.5) / (0.35 + 0.20) = 81.818...
    figures_case(
        "the worked example of docs/reports scores 81.8",
        PartnerWeekInput("a", sessions_attended=1, checkin_days=2),
        4,
        engagement_score=81.8,
    ),
    # 100 * (0.35 * 1/2 + 0.15 * 2/3 + 0.20 * 1/4 + 0.30 * 1/3) / 1.0 = 42.5
    figures_case(
        "score weighs all four components",
        PartnerWeekInput(
            "a",
            sessions_attended=1,
            sessions_missed=1,
            participation_ratings=(2,),
            checkin_days=1,
            commitments_kept=1,
            commitments_missed=2,
        ),
        4,
        engagement_score=42.5,
    ),
    figures_case(
        "score is null when every component is null",
        PartnerWeekInput("a", commitments_unreported=2, joined_before_week_end=False),
        4,
        engagement_score=None,
        attendance_rate=None,
        follow_through=None,
    ),
    # 100 * 0.35 / 0.55 = 63.636...
    figures_case(
        "score below half way rounds down",
        PartnerWeekInput("a", sessions_attended=1),
        4,
        engagement_score=63.6,
    ),
    figures_case(
        "attendance rate is attended over expected rounded to four places",
        attending("a", 2, 3),
        4,
        sessions_expected=3,
        sessions_attended=2,
        attendance_rate=0.6667,
    ),
    figures_case(
        "participation is the mean rating over three",
        PartnerWeekInput("a", sessions_attended=2, participation_ratings=(3, 2)),
        4,
        participation=0.8333,
    ),
    figures_case(
        "participation of zero is a rating not a null",
        PartnerWeekInput("a", sessions_attended=1, participation_ratings=(0,)),
        4,
        participation=0.0,
    ),
    figures_case(
        "participation is null when no entry has a rating",
        PartnerWeekInput("a", sessions_attended=2),
        4,
        participation=None,
    ),
    figures_case(
        "checkin rate is days over target",
        PartnerWeekInput("a", checkin_days=3),
        4,
        checkin_rate=0.75,
    ),
    figures_case(
        "checkin rate stops at one above the target",
        PartnerWeekInput("a", checkin_days=6),
        4,
        checkin_rate=1.0,
        checkin_days=6,
    ),
    figures_case(
        "checkin rate is null when the target is zero even with checkins",
        PartnerWeekInput("a", checkin_days=3, sessions_attended=1),
        0,
        checkin_rate=None,
        engagement_score=100.0,
    ),
    figures_case(
        "checkin rate is null for a week that ended before the partner joined",
        PartnerWeekInput("a", sessions_attended=1, joined_before_week_end=False),
        4,
        checkin_rate=None,
        engagement_score=100.0,
    ),
    figures_case(
        "checkin rate counts checkins of a week that ended before the partner joined",
        PartnerWeekInput("a", checkin_days=2, joined_before_week_end=False),
        4,
        checkin_rate=0.5,
    ),
    figures_case(
        "no checkin in a week after joining is a checkin rate of zero",
        PartnerWeekInput("a", sessions_attended=1),
        4,
        checkin_rate=0.0,
        engagement_score=63.6,
    ),
    figures_case(
        "unreported commitments are left out of follow-through",
        PartnerWeekInput("a", commitments_kept=1, commitments_missed=1, commitments_unreported=5),
        4,
        follow_through=0.5,
        commitments_due=2,
        commitments_unreported=5,
    ),
    figures_case(
        "follow-through is null when nothing was due",
        PartnerWeekInput("a", commitments_unreported=1),
        4,
        follow_through=None,
        commitments_due=0,
    ),
    figures_case(
        "self-report averages are rounded half up to two places",
        PartnerWeekInput(
            "a",
            self_reports=SelfReportRatings(
                mood=RatingTally(total=13, count=3),
                effort=RatingTally(total=33, count=8),  # 33/8 = 4.125; round() would give 4.12
                connection=RatingTally(total=3, count=2),
                resentment=RatingTally(total=7, count=3),
                wellbeing=RatingTally(total=3, count=1),
            ),
        ),
        4,
        mood_avg=4.33,
        effort_avg=4.13,
        connection_avg=1.5,
        resentment_avg=2.33,
        wellbeing_avg=3.0,
    ),
    figures_case(
        "self-report averages are null without ratings",
        PartnerWeekInput("a", checkin_days=3),
        4,
        mood_avg=None,
        effort_avg=None,
        connection_avg=None,
        resentment_avg=None,
        wellbeing_avg=None,
    ),
]


@pytest.mark.parametrize(("partner", "target", "expected"), FIGURES)
def test_partner_figures(
    partner: PartnerWeekInput, target: int, expected: dict[str, float | int | None]
) -> None:
    figures = compute_partner_figures(partner, target)

    assert {name: getattr(figures, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("p", "target", "expected"),
    [
        # 100 * (0.35 * 1/2 + 0.15 * 0 + 0.30 * 1/4) / 0.80 = 31.25 exactly
        (
            PartnerWeekInput(
                "a",
                sessions_attended=1,
                sessions_missed=1,
                participation_ratings=(0,),
                commitments_kept=1,
                commitments_missed=3,
            ),
            0,
            31.3,
        ),
        # 100 * (0.35 * 1 + 0.15 * 0 + 0.30 * 1/3) / 0.80 = 56.25 exactly
        (
            PartnerWeekInput(
                "a",
                sessions_attended=1,
                participation_ratings=(0,),
                commitments_kept=1,
                commitments_missed=2,
            ),
            0,
            56.3,
        ),
        # 100 * (0.35 * 1/4 + 0.15 * 0 + 0.20 * 0 + 0.30 * 1/4) / 1.0 = 16.25 exactly
        (
            PartnerWeekInput(
                "a",
                sessions_attended=1,
                sessions_missed=3,
                participation_ratings=(0,),
                commitments_kept=1,
                commitments_missed=3,
            ),
            4,
            16.3,
        ),
    ],
)
def test_score_exactly_half_way_between_tenths_rounds_up(
    p: PartnerWeekInput, target: int, expected: float
) -> None:
    # Python's round() would give 31.2, 56.2 and 16.2 (half to even).
    assert compute_partner_figures(p, target).engagement_score == expected


def test_private_checkins_never_reach_the_self_report_ratings() -> None:
    ratings = self_report_ratings(
        [
            CheckinRatings("couple", mood=4, resentment=2),
            CheckinRatings("therapist", mood=2, wellbeing=3),
            CheckinRatings("private", mood=1, effort=1, connection=1, resentment=5, wellbeing=1),
        ]
    )

    assert ratings == SelfReportRatings(
        mood=RatingTally(total=6, count=2),
        resentment=RatingTally(total=2, count=1),
        wellbeing=RatingTally(total=3, count=1),
    )


def test_a_tally_counts_its_ratings_and_pools_exactly() -> None:
    first = RatingTally.of([3, 4])
    second = RatingTally.of([3, 4, 4])

    assert first == RatingTally(total=7, count=2)
    assert first + second == RatingTally.of([3, 4, 3, 4, 4])
    assert (first + second).mean() == Fraction(18, 5)
    assert RatingTally().mean() is None


def test_a_visibility_the_methodology_does_not_know_is_kept_out_of_averages() -> None:
    ratings = self_report_ratings([CheckinRatings("public", mood=5)])

    assert ratings == SelfReportRatings()


@pytest.mark.parametrize(
    "build",
    [
        lambda: PartnerWeekInput("a", participation_ratings=(2,)),  # no attended entry
        lambda: PartnerWeekInput("a", sessions_attended=1, participation_ratings=(4,)),
        lambda: PartnerWeekInput("a", checkin_days=8),
        lambda: PartnerWeekInput("a", sessions_missed=-1),
        lambda: PartnerWeekInput("a", missed_renewals_of_missed=1),
        lambda: RatingTally.of([0]),
        lambda: RatingTally.of([6]),
        lambda: RatingTally(total=-1, count=0),
        lambda: SelfReportRatings(mood=RatingTally(total=0, count=1)),  # a rating below 1
        lambda: SelfReportRatings(wellbeing=RatingTally(total=6, count=1)),  # above 5
        lambda: SelfReportRatings(effort=RatingTally(total=3, count=0)),  # a total of nothing
        lambda: CoupleWeekInput(W + timedelta(days=1), 4, ()),
        lambda: CoupleWeekInput(W, 8, ()),
        lambda: CoupleWeekInput(W, 4, (PartnerWeekInput("a"), PartnerWeekInput("a"))),
        lambda: CoupleWeekInput(
            W, 4, (PartnerWeekInput("a"), PartnerWeekInput("b"), PartnerWeekInput("c"))
        ),
    ],
)
def test_inputs_that_cannot_come_from_real_data_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each case has its own message)
        build()


def test_self_reports_must_be_tallies_not_raw_ratings() -> None:
    with pytest.raises(TypeError):
        SelfReportRatings(mood=(4, 2))  # type: ignore[arg-type]


def test_week_start_must_be_a_date_not_a_datetime() -> None:
    with pytest.raises(TypeError):
        CoupleWeekInput(datetime(2026, 11, 16), 4, ())


# --- 5.3 balance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        pytest.param(
            {"a": 60.0, "b": 45.1},
            {"balance": "balanced", "gap": 14.9, "less_engaged_partner": None},
            id="gap just below 15 is balanced",
        ),
        # In binary floating point 16.4 - 1.4 is 14.999999999999998.
        pytest.param(
            {"a": 16.4, "b": 1.4},
            {"balance": "leaning", "gap": 15.0, "less_engaged_partner": "b"},
            id="gap of exactly 15 is leaning",
        ),
        pytest.param(
            {"a": 80.0, "b": 45.1},
            {"balance": "leaning", "gap": 34.9},
            id="gap just below 35 is leaning",
        ),
        # In binary floating point 64.1 - 29.1 is 34.99999999999999.
        pytest.param(
            {"a": 29.1, "b": 64.1},
            {"balance": "one_sided", "gap": 35.0, "less_engaged_partner": "a"},
            id="gap of exactly 35 is one-sided",
        ),
        pytest.param(
            {"a": 80.0, "b": None},
            {"balance": "insufficient_data", "gap": None, "less_engaged_partner": None},
            id="balance is insufficient data when a score is null",
        ),
        pytest.param(
            {"a": 50.0, "b": 50.0},
            {"balance": "balanced", "gap": 0.0, "less_engaged_partner": None},
            id="equal scores are balanced with a gap of zero",
        ),
    ],
)
def test_balance(scores: dict[str, float | None], expected: dict[str, Any]) -> None:
    result = compute_balance(scores)

    assert {name: getattr(result, name) for name in expected} == expected


def test_gap_is_between_the_rounded_scores() -> None:
    # Exact scores 78.571... and 63.636... are 14.94 apart; rounded, 78.6 and 63.6 are 15.0.
    a = PartnerWeekInput("a", sessions_attended=1, participation_ratings=(0,), checkin_days=4)
    b = PartnerWeekInput("b", sessions_attended=1)

    report = compute_week_report([week(0, a, b, target=4)])

    assert [p.engagement_score for p in report.partners] == [78.6, 63.6]
    assert report.balance == "leaning"
    assert report.gap == 15.0
    assert report.less_engaged_partner == "b"


def test_balance_is_insufficient_data_with_a_single_partner() -> None:
    report = compute_week_report([week(0, engaged("a"))])

    assert report.balance == "insufficient_data"
    assert report.gap is None
    assert [p.partner for p in report.partners] == ["a"]


# --- 5.3 gap trend ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [
        pytest.param([10.0, 15.0, 20.0, 25.0], "widening", id="slope of exactly 5 is widening"),
        # slope = (3 * (26.6 - 10) + (20.1 - 20)) / 10 = 4.99
        pytest.param([10.0, 20.0, 20.1, 26.6], "stable", id="slope of 4.99 is stable"),
        pytest.param([25.0, 20.0, 15.0, 10.0], "narrowing", id="slope of exactly -5 is narrowing"),
        pytest.param([26.6, 20.1, 20.0, 10.0], "stable", id="slope of -4.99 is stable"),
        # (1, 55), (2, 100), (3, 100): slope 22.5
        pytest.param([None, 55.0, 100.0, 100.0], "widening", id="three gaps use their slope"),
        pytest.param([None, 10.0, None, 50.0], None, id="null with fewer than three gaps"),
        # Points (0, 0), (2, 8), (3, 12) have slope 4: stable. Closing ranks to
        # (0, 0), (1, 8), (2, 12) would give 6: widening.
        pytest.param([0.0, None, 8.0, 12.0], "stable", id="a week without a gap keeps its place"),
    ],
)
def test_gap_trend(gaps: list[float | None], expected: str | None) -> None:
    assert gap_trend(gaps) == expected


def test_report_gap_trend_counts_a_missing_week_by_its_date() -> None:
    history = [
        scores_week(3, (100, 100), (100, 100)),  # gap 0
        # w-2 missing (paused)
        scores_week(1, (100, 100), (92, 100)),  # gap 8
        scores_week(0, (100, 100), (88, 100)),  # gap 12
    ]

    assert compute_week_report(history).gap_trend == "stable"


def test_report_gap_trend_looks_at_w_minus_3_to_w_only() -> None:
    history = [
        scores_week(5, (100, 100), (0, 100)),  # gap 100, outside the trend
        scores_week(4, (100, 100), (0, 100)),  # gap 100, outside the trend
        scores_week(2, (100, 100), (100, 100)),
        scores_week(1, (100, 100), (90, 100)),
        scores_week(0, (100, 100), (80, 100)),
    ]

    report = compute_week_report(history)

    assert report.gap == 20.0
    assert report.gap_trend == "widening"


# --- 5.4 flags: low engagement ---------------------------------------------------------


def test_three_weeks_below_40_is_a_low_engagement_streak() -> None:
    history = [
        scores_week(2, (100, 100), (399, 1000)),
        scores_week(1, (100, 100), (0, 1)),
        scores_week(0, (100, 100), (1, 4)),
    ]

    report = compute_week_report(history)

    low = [f for f in report.flags if f.code == "low_engagement_streak"]
    assert [(f.partner, dict(f.evidence)) for f in low] == [
        (
            "b",
            {
                "weeks": ["2026-11-02", "2026-11-09", "2026-11-16"],
                "scores": [39.9, 0.0, 25.0],
            },
        )
    ]


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(scores_week(2, (100, 100), (40, 100)), id="a score of exactly 40"),
        # 39.96 is shown, and counted, as 40.0
        pytest.param(scores_week(2, (100, 100), (3996, 10000)), id="a score rounding up to 40"),
        pytest.param(
            week(2, engaged("a"), PartnerWeekInput("b", commitments_unreported=1)),
            id="a null score is not below 40",
        ),
        pytest.param(scores_week(3, (100, 100), (0, 1)), id="a week missing from history"),
    ],
)
def test_what_breaks_a_low_engagement_streak(first: CoupleWeekInput) -> None:
    history = [first, scores_week(1, (100, 100), (0, 1)), scores_week(0, (100, 100), (0, 1))]

    assert "low_engagement_streak" not in [code for code, _ in codes(history)]


def test_both_partners_can_have_a_low_engagement_streak() -> None:
    history = [scores_week(n, (1, 10), (2, 10)) for n in (2, 1, 0)]

    assert codes(history) == [("low_engagement_streak", "a"), ("low_engagement_streak", "b")]


# --- 5.4 flags: each raised with its evidence ------------------------------------------


@pytest.mark.parametrize(
    ("history", "flag"),
    [
        pytest.param(
            [
                scores_week(2, (50, 100), (85, 100)),
                scores_week(1, (40, 100), (90, 100)),
                scores_week(0, (40, 100), (100, 100)),
            ],
            {
                "code": "engagement_gap_streak",
                "partner": "a",
                "evidence": {
                    "weeks": ["2026-11-02", "2026-11-09", "2026-11-16"],
                    "gaps": [35.0, 50.0, 60.0],
                },
            },
            id="three one-sided weeks with the same less engaged partner is a gap streak",
        ),
        pytest.param(
            [
                week(5, resentment("a", 3, 3)),
                week(3, resentment("a", 3, 2)),  # earlier: 3, 3, 3, 2 = 2.75
                week(1, resentment("a", 3, 4)),
                week(0, resentment("a", 3, 4)),  # recent: 3, 4, 3, 4 = 3.5
            ],
            {
                "code": "rising_resentment",
                "partner": "a",
                "evidence": {
                    "recent_weeks": ["2026-11-09", "2026-11-16"],
                    "recent_count": 4,
                    "recent_avg": 3.5,
                    "earlier_weeks": ["2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02"],
                    "earlier_count": 4,
                    "earlier_avg": 2.75,
                },
            },
            id="pooled resentment of 3.5 and 0.75 above earlier is rising",
        ),
        pytest.param(
            [
                week(3, commitments("a", 1, 1)),
                week(2, commitments("a", 0, 1)),
                week(0, commitments("a", 1, 1)),
            ],
            {
                "code": "commitments_unkept",
                "partner": "a",
                "evidence": {
                    "weeks": ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"],
                    "kept": 2,
                    "missed": 3,
                    "follow_through": 0.4,
                    "missed_renewals_of_missed": 0,
                },
            },
            id="three missed and follow-through below half over four weeks is unkept",
        ),
        # Weekly averages 4 and 3 have mean 3.5; this week 2.5 is 1.0 below. Pooled,
        # the earlier ratings (4, 3, 3, 3) would average 3.25, only 0.75 above.
        pytest.param(
            [
                week(4, wellbeing("a", 4)),
                week(2, wellbeing("a", 3, 3, 3)),
                week(0, wellbeing("a", 2, 3)),
            ],
            {
                "code": "wellbeing_decline",
                "partner": "a",
                "evidence": {
                    "week": "2026-11-16",
                    "wellbeing_avg": 2.5,
                    "previous_week_avg": None,
                    "earlier_weeks": ["2026-10-19", "2026-11-02"],
                    "earlier_avgs": [4.0, 3.0],
                    "earlier_mean": 3.5,
                },
            },
            id="wellbeing a point below the mean of earlier weekly averages is a decline",
        ),
    ],
)
def test_a_flag_is_raised_with_its_evidence(
    history: list[CoupleWeekInput], flag: dict[str, Any]
) -> None:
    assert [f.to_dict() for f in compute_week_report(history).flags] == [flag]


# --- 5.4 flags: engagement gap -----------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(
            scores_week(2, (100, 100), (50, 100)), id="a gap streak needs the same partner"
        ),
        pytest.param(scores_week(2, (40, 100), (749, 1000)), id="a leaning week (gap 34.9)"),
    ],
)
def test_what_breaks_a_gap_streak(first: CoupleWeekInput) -> None:
    history = [first, scores_week(1, (40, 100), (90, 100)), scores_week(0, (40, 100), (100, 100))]

    assert codes(history) == []


# --- 5.4 flags: rising resentment --------------------------------------------------------


@pytest.mark.parametrize(
    "history",
    [
        pytest.param(
            [week(3, resentment("a", 1, 1, 1)), week(0, resentment("a", 5, 5))],
            id="two recent ratings are not enough",
        ),
        pytest.param(
            [week(3, resentment("a", 1, 1)), week(0, resentment("a", 5, 5, 5))],
            id="two earlier ratings are not enough",
        ),
        pytest.param(
            [week(2, resentment("a", 3, 3, 3)), week(0, resentment("a", 3, 4, 3, 4))],
            id="rising by less than 0.75",
        ),
        pytest.param(
            [week(2, resentment("a", 1, 1, 1)), week(0, resentment("a", 3, 4, 3))],
            id="below 3.5 however much it rose",
        ),
        # Weekly averages 5 and 3 would average 4; the five ratings pooled average 3.4.
        pytest.param(
            [
                week(2, resentment("a", 1, 1, 1)),
                week(1, resentment("a", 5)),
                week(0, resentment("a", 3, 3, 3, 3)),
            ],
            id="ratings are pooled not averaged week by week",
        ),
        pytest.param(
            [week(6, resentment("a", 1, 1, 1)), week(0, resentment("a", 5, 5, 5))],
            id="before w-5 is not looked at",
        ),
    ],
)
def test_resentment_that_is_not_flagged(history: list[CoupleWeekInput]) -> None:
    assert codes(history) == []


# --- 5.4 flags: commitments unkept -------------------------------------------------------


def test_a_missed_renewal_of_a_missed_commitment_is_unkept() -> None:
    history = [
        week(1, commitments("a", 0, 1)),
        week(0, commitments("a", 4, 1, missed_renewals_of_missed=1)),
    ]

    report = compute_week_report(history)

    assert [(f.code, f.partner) for f in report.flags] == [("commitments_unkept", "a")]
    assert report.flags[0].evidence["missed_renewals_of_missed"] == 1
    assert report.flags[0].evidence["follow_through"] == 0.6667


@pytest.mark.parametrize(
    "history",
    [
        pytest.param(
            [week(3, commitments("a", 3, 2)), week(0, commitments("a", 0, 1))],
            id="follow-through of exactly half",
        ),
        pytest.param(
            [week(1, commitments("a", 0, 1)), week(0, commitments("a", 0, 1))],
            id="two missed commitments are not a pattern",
        ),
        pytest.param(
            [
                week(1, commitments("a", 0, 1, commitments_unreported=3)),
                week(0, commitments("a", 0, 1, commitments_unreported=3)),
            ],
            id="unreported commitments are not missed ones",
        ),
        pytest.param(
            [week(4, commitments("a", 0, 5)), week(0, commitments("a", 0, 1))],
            id="commitments before w-3 do not count",
        ),
        pytest.param(
            [
                week(1, commitments("a", 0, 1, missed_renewals_of_missed=1)),
                week(0, commitments("a", 1, 0)),
            ],
            id="a missed renewal in an earlier week does not flag this week",
        ),
    ],
)
def test_commitments_that_are_not_unkept(history: list[CoupleWeekInput]) -> None:
    assert codes(history) == []


# --- 5.4 flags: wellbeing decline --------------------------------------------------------


def test_wellbeing_of_2_or_less_in_two_weeks_running_is_a_decline() -> None:
    history = [week(1, wellbeing("a", 2)), week(0, wellbeing("a", 1, 3))]

    report = compute_week_report(history)

    assert [(f.code, f.partner) for f in report.flags] == [("wellbeing_decline", "a")]
    assert report.flags[0].evidence["previous_week_avg"] == 2.0
    assert report.flags[0].evidence["wellbeing_avg"] == 2.0
    assert report.flags[0].evidence["earlier_mean"] is None


@pytest.mark.parametrize(
    "history",
    [
        pytest.param(
            [week(2, wellbeing("a", 5, 5, 5)), week(0, wellbeing("a", 3))],
            id="a decline needs two earlier weekly averages",
        ),
        pytest.param(
            [
                week(3, wellbeing("a", 4)),
                week(2, wellbeing("a", 4)),
                week(0, wellbeing("a", 3, 3, 3, 4)),  # 3.25, 0.75 below
            ],
            id="less than a point below earlier",
        ),
        pytest.param(
            [week(5, wellbeing("a", 5)), week(2, wellbeing("a", 5)), week(0, wellbeing("a", 3))],
            id="before w-4 is not looked at",
        ),
        pytest.param(
            [week(1, wellbeing("a", 3)), week(0, wellbeing("a", 1))],
            id="low wellbeing in one week only",
        ),
        pytest.param(
            [week(2, wellbeing("a", 1)), week(0, wellbeing("a", 1))],
            id="low wellbeing with a gap week between is not two weeks running",
        ),
    ],
)
def test_wellbeing_that_is_not_a_decline(history: list[CoupleWeekInput]) -> None:
    assert codes(history) == []


# --- 5.5 recommendations and ordering ---------------------------------------------------


def recommendations(history: list[CoupleWeekInput]) -> list[tuple[str, str | None]]:
    return [(r.code, r.partner) for r in compute_week_report(history).recommendations]


def test_low_engagement_streak_recommends_assessing_commitment_and_individual_sessions() -> None:
    history = [scores_week(n, (10, 100), (30, 100)) for n in (2, 1, 0)]

    assert recommendations(history) == [
        ("assess_commitment", "a"),
        ("assess_commitment", "b"),
        ("consider_individual_sessions", "a"),
        ("consider_individual_sessions", "b"),
    ]


def test_gap_streak_recommends_support_for_the_more_engaged_partner_once() -> None:
    # b has both a low-engagement and a gap streak: each recommendation appears once.
    history = [scores_week(n, (100, 100), (0, 100)) for n in (2, 1, 0)]

    assert codes(history) == [("low_engagement_streak", "b"), ("engagement_gap_streak", "b")]
    assert recommendations(history) == [
        ("assess_commitment", "b"),
        ("consider_individual_sessions", "b"),
        ("support_engaged_partner", "a"),
    ]


def test_each_flag_leads_to_its_recommendation() -> None:
    history = [
        week(4, PartnerWeekInput("a"), wellbeing("b", 4)),
        week(3, commitments("a", 0, 2), wellbeing("b", 4)),
        week(2, resentment("a", 1, 1, 1)),
        week(1, commitments("a", 0, 1)),
        week(0, resentment("a", 4, 4, 4), wellbeing("b", 2)),
    ]

    assert codes(history) == [
        ("rising_resentment", "a"),
        ("commitments_unkept", "a"),
        ("wellbeing_decline", "b"),
    ]
    assert recommendations(history) == [
        ("support_engaged_partner", "b"),
        ("revisit_commitments", "a"),
        ("address_resentment", "a"),
    ]


def test_flags_follow_the_spec_order_then_partner_order() -> None:
    # b (listed first) has felt low two weeks running; a scored 0 three weeks
    # running and felt low too.
    low_a = PartnerWeekInput(
        "a",
        sessions_missed=1,
        checkin_days=1,
        self_reports=SelfReportRatings(wellbeing=RatingTally.of([1])),
    )
    history = [
        week(2, wellbeing("b", 1), PartnerWeekInput("a", sessions_missed=1)),
        week(1, wellbeing("b", 1), low_a),
        week(0, wellbeing("b", 1), low_a),
    ]

    assert codes(history) == [
        ("low_engagement_streak", "a"),
        ("wellbeing_decline", "b"),
        ("wellbeing_decline", "a"),
    ]


# --- the report as a whole ---------------------------------------------------------------


def spec_example_history() -> list[CoupleWeekInput]:
    """Weeks 2026-10-12 to 2026-11-16 of a couple whose second partner has not joined yet."""
    not_joined: dict[str, Any] = {"joined_before_week_end": False}
    return [
        # w-5: two resentment ratings are too few to be a baseline
        week(5, resentment(ENGAGED, 2, 2), PartnerWeekInput(RELUCTANT, **not_joined), target=4),
        # w-3: the reluctant partner has no figures at all, so no gap
        week(3, wellbeing(ENGAGED, 3), PartnerWeekInput(RELUCTANT, **not_joined), target=4),
        # w-2: 100 against 100 * (0.35 * 1/2 + 0.15 * 1/3) / 0.5 = 45, a gap of 55
        week(
            2,
            engaged(ENGAGED),
            PartnerWeekInput(
                RELUCTANT,
                sessions_attended=1,
                sessions_missed=1,
                participation_ratings=(1,),
                **not_joined,
            ),
            target=4,
        ),
        week(1, engaged(ENGAGED), absent(RELUCTANT, **not_joined), target=4),
        week(
            0,
            engaged(
                ENGAGED,
                checkin_days=5,
                # Private check-ins count as days, never in an average.
                self_reports=self_report_ratings(
                    [
                        CheckinRatings("couple", effort=5, resentment=4, wellbeing=2),
                        CheckinRatings("therapist", effort=5, resentment=4),
                        CheckinRatings("couple", effort=5),
                        CheckinRatings("private", mood=1, effort=1, resentment=5, wellbeing=5),
                        CheckinRatings("private", connection=1),
                    ]
                ),
            ),
            absent(RELUCTANT, **not_joined),
            target=4,
        ),
    ]


def test_the_spec_example_report_is_reproduced_exactly() -> None:
    expected = spec_example()
    # What the stored row and the API add to scoring's result; the shared balance (SPEC 5.6)
    # is asserted below, from no shared input at all in this history.
    for key in ("id", "couple", "view", "revision", "computed_at", "updated_at"):
        del expected[key]
    for key in ("shared_balance", "shared_gap", "shared_gap_trend"):
        del expected[key]

    result = compute_week_report(spec_example_history()).to_dict()
    # Beside SPEC 5.2's fields: the shared balance (5.6), here from no shared input at all,
    # and each partner's own score without participation.
    assert result.pop("shared_balance") == "insufficient_data"
    assert result.pop("shared_gap") is None
    assert result.pop("shared_gap_trend") is None
    no_shared_counts = {
        "joint_sessions_expected": 0,
        "joint_sessions_attended": 0,
        "shared_checkin_days": 0,
        "shared_commitments_kept": 0,
        "shared_commitments_missed": 0,
        "shared_commitments_unreported": 0,
        "shared_away_days": 0,
    }
    assert result.pop("partner_views") == [
        {
            "partner": ENGAGED,
            "engagement_score_without_participation": 100.0,
            # Joined, with no `couple` check-in against a target of 4: a shared rate of 0.
            "shared_engagement_score": 0.0,
            **no_shared_counts,
        },
        {
            "partner": RELUCTANT,
            "engagement_score_without_participation": 0.0,
            "shared_engagement_score": None,
            **no_shared_counts,
        },
    ]
    # v1.1's figures the SPEC example leaves out: nobody was away, felt unsafe or gave
    # feedback that week. They sit where SPEC 5.2 lists them.
    for entry in result["partners"]:  # type: ignore[union-attr]
        assert isinstance(entry, dict)
        keys = list(entry)
        assert keys.index("away_days") == keys.index("checkin_days") + 1
        assert keys.index("unsafe_days") == keys.index("commitments_unreported") + 1
        assert keys.index("alliance") == keys.index("unsafe_days") + 1
        assert (entry.pop("away_days"), entry.pop("unsafe_days"), entry.pop("alliance")) == (
            0,
            0,
            None,
        )

    assert result == expected
    assert list(result) == list(expected)
    partners = result["partners"]
    assert isinstance(partners, list)
    assert [list(p) for p in partners] == [list(p) for p in expected["partners"]]


def test_the_report_is_plain_json() -> None:
    result = compute_week_report(spec_example_history()).to_dict()

    assert json.loads(json.dumps(result)) == result


def test_the_report_is_the_same_whatever_the_order_of_history() -> None:
    history = spec_example_history()

    assert compute_week_report(history[::-1]) == compute_week_report(history)


def test_the_report_is_of_the_latest_week_and_ignores_weeks_before_w_minus_5() -> None:
    history = [
        scores_week(7, (0, 1), (1, 1)),
        scores_week(6, (0, 1), (1, 1)),
        scores_week(0, (1, 1), (1, 1)),
    ]

    report = compute_week_report(history)

    assert report.week_start == W
    assert report.gap_trend is None
    assert report.flags == ()


def test_partners_keep_the_order_of_the_reported_week() -> None:
    history = [week(1, engaged("a"), absent("b")), week(0, absent("b"), engaged("a"))]

    assert [p.partner for p in compute_week_report(history).partners] == ["b", "a"]


def test_a_history_without_weeks_is_refused() -> None:
    with pytest.raises(ValueError, match="history"):
        compute_week_report([])


def test_a_week_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        compute_week_report([week(0, engaged("a")), week(0, engaged("a"))])


# --- 5.8 urgency -------------------------------------------------------------------------


def test_caseload_is_ordered_by_urgency_level_then_larger_gap_first() -> None:
    couples = {
        "no report": urgency_key(safety_hold=False, report_flags=None, gap=None),
        "quiet": urgency_key(safety_hold=False, report_flags=[], gap=10.0),
        "unkept": urgency_key(safety_hold=False, report_flags=["commitments_unkept"], gap=5.0),
        "streak small gap": urgency_key(
            safety_hold=False, report_flags=["low_engagement_streak"], gap=20.0
        ),
        "streak large gap": urgency_key(
            safety_hold=False,
            report_flags=["engagement_gap_streak", "commitments_unkept"],
            gap=60.0,
        ),
        "streak no gap": urgency_key(
            safety_hold=False, report_flags=["low_engagement_streak"], gap=None
        ),
        "resentment": urgency_key(
            safety_hold=False,
            report_flags=["commitments_unkept", "rising_resentment"],
            gap=0.0,
        ),
        "wellbeing": urgency_key(safety_hold=False, report_flags=["wellbeing_decline"], gap=30.0),
        "hold": urgency_key(safety_hold=True, report_flags=[], gap=0.0),
    }

    assert sorted(couples, key=lambda name: couples[name]) == [
        "hold",
        "wellbeing",
        "resentment",
        "streak large gap",
        "streak small gap",
        "streak no gap",
        "unkept",
        "quiet",
        "no report",
    ]


def test_a_safety_hold_comes_first_even_without_a_report() -> None:
    hold = urgency_key(safety_hold=True, report_flags=None, gap=None)
    wellbeing = urgency_key(safety_hold=False, report_flags=["wellbeing_decline"], gap=100.0)

    assert hold < wellbeing
