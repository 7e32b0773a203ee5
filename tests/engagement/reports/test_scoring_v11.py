"""Exact-number tests of what methodology v1.1 adds (SPEC 5.1-5.5): away days, session
feedback (alliance), goals and safety, each rule at its boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest

from engagement.reports.scoring import CoupleWeekInput
from engagement.reports.scoring import GoalAtEnd
from engagement.reports.scoring import PartnerWeekInput
from engagement.reports.scoring import SessionFeedbackScore
from engagement.reports.scoring import compute_partner_figures
from engagement.reports.scoring import compute_week_report
from engagement.reports.scoring import urgency_key
from tests.engagement.dates import W

A, B = "a", "b"


def monday(n: int) -> date:
    return W - timedelta(weeks=n)


def fb(n: int, day: int, points: int, session: str | None = None) -> SessionFeedbackScore:
    """Feedback of `points` (of 40) on the session `day` days into week w-n."""
    start = monday(n) + timedelta(days=day)
    return SessionFeedbackScore(
        session or f"s{n}-{day}",
        datetime(start.year, start.month, start.day, 18, tzinfo=UTC),
        start,
        points,
    )


def week(n: int, *partners: PartnerWeekInput, **kwargs: Any) -> CoupleWeekInput:
    return CoupleWeekInput(monday(n), kwargs.pop("target", 0), partners, **kwargs)


def report(*weeks: CoupleWeekInput) -> Any:
    return compute_week_report(list(weeks))


def codes(*weeks: CoupleWeekInput) -> list[tuple[str, str | None]]:
    return [(f.code, f.partner) for f in report(*weeks).flags]


# --- 5.2: the away-adjusted check-in rate --------------------------------------------------


@pytest.mark.parametrize(
    ("days", "target", "away", "rate"),
    [
        (2, 4, 0, 0.5),  # 2 of 4
        (2, 4, 3, 0.875),  # expected 4 x 4/7 = 16/7: 2 / (16/7) = 14/16
        (3, 4, 3, 1.0),  # 21/16, capped at 1
        (0, 4, 6, 0.0),  # expected 4/7, none done
        (1, 4, 6, 1.0),  # one day meets 4/7
        (0, 4, 7, None),  # a whole week away: nothing expected, no rate
        (3, 4, 7, None),  # even with check-ins (while away)
        (2, 0, 0, None),  # no target
        (1, 7, 1, 0.1667),  # expected 6: 1/6
    ],
)
def test_checkin_rate_is_pro_rated_by_away_days(
    days: int, target: int, away: int, rate: float | None
) -> None:
    p = PartnerWeekInput(A, checkin_days=days, away_days=away)
    figures = compute_partner_figures(p, target)

    assert figures.checkin_rate == rate
    assert figures.away_days == away
    assert figures.engagement_score == (None if rate is None else round(100 * rate, 1))


def test_a_week_away_leaves_the_checkin_rate_out_of_the_score() -> None:
    # Attended (1.0 x 0.35) and nothing else: 100; with 0 check-ins and no away days, the
    # rate 0 weighs 0.20: 100 x 0.35 / 0.55 = 63.6.
    p = PartnerWeekInput(A, sessions_attended=1)
    assert compute_partner_figures(p, 4).engagement_score == 63.6
    assert compute_partner_figures(replace(p, away_days=7), 4).engagement_score == 100.0


def test_the_shared_balance_counts_only_couple_away_days() -> None:
    # Both checked in 2 days (shared) against 4. a was away 4 days, only 2 of them shared:
    # a's shared rate 2 / (4 x 5/7) = 0.7, b's 2 / 4 = 0.5: shared scores 70 and 50.
    a = PartnerWeekInput(A, checkin_days=2, shared_checkin_days=2, away_days=4, shared_away_days=2)
    b = PartnerWeekInput(B, checkin_days=2, shared_checkin_days=2)
    result = report(week(0, a, b, target=4))

    assert [v.shared_engagement_score for v in result.partner_views] == [70.0, 50.0]
    assert (result.shared_balance, result.shared_gap) == ("leaning", 20.0)
    # The full balance pro-rates by every away day: 2 / (4 x 3/7) >= 1.
    assert [f.checkin_rate for f in result.partners] == [1.0, 0.5]
    assert (result.balance, result.gap) == ("one_sided", 50.0)
    assert [v.shared_away_days for v in result.partner_views] == [2, 0]


# --- 5.2: alliance ----------------------------------------------------------------------------


def test_alliance_is_the_mean_of_the_weeks_feedback_over_40() -> None:
    p = PartnerWeekInput(A, feedback=(fb(0, 1, 30), fb(0, 3, 25)))
    figures = compute_partner_figures(p, 0)

    assert figures.alliance == 0.6875  # 55 / 80
    assert figures.engagement_score is None  # not part of the score
    assert compute_partner_figures(PartnerWeekInput(A), 0).alliance is None


# --- 5.4: safety_concern and the withholding of 5.5 -------------------------------------------


def engaged(pid: str, **kw: Any) -> PartnerWeekInput:
    return PartnerWeekInput(pid, sessions_attended=1, commitments_kept=1, **kw)


def half(pid: str, **kw: Any) -> PartnerWeekInput:
    """A score of 50: one of two sessions attended."""
    return PartnerWeekInput(pid, sessions_attended=1, sessions_missed=1, **kw)


def one_sided_weeks(**current: Any) -> list[CoupleWeekInput]:
    """w-2 .. w one-sided (100 against 50), b less engaged: engagement_gap_streak in w."""
    return [week(n, engaged(A), half(B)) for n in (2, 1)] + [
        week(0, engaged(A, **current), half(B))
    ]


def test_safety_concern_names_the_partner_and_its_dates() -> None:
    unsafe = (W + timedelta(days=4), W + timedelta(days=1))
    result = report(*one_sided_weeks(unsafe_dates=unsafe))

    flag = next(f for f in result.flags if f.code == "safety_concern")
    assert (flag.partner, flag.to_dict()["evidence"]) == (
        A,
        {"dates": ["2026-11-17", "2026-11-20"]},
    )
    assert result.partners[0].unsafe_days == 2
    # The engagement flags still show; their recommendations are withheld.
    assert [f.code for f in result.flags] == ["engagement_gap_streak", "safety_concern"]
    assert [(r.code, r.partner) for r in result.recommendations] == [("screen_individually", None)]


def test_without_a_safety_signal_the_same_weeks_bring_their_recommendations() -> None:
    result = report(*one_sided_weeks())
    assert [(r.code, r.partner) for r in result.recommendations] == [
        ("assess_commitment", B),
        ("consider_individual_sessions", B),
        ("support_engaged_partner", A),
    ]


@pytest.mark.parametrize(("n", "withheld"), [(5, True), (6, False)])
def test_an_unsafe_day_in_w_minus_5_still_withholds_recommendations(n: int, withheld: bool) -> None:
    weeks = one_sided_weeks()
    earlier = week(n, PartnerWeekInput(A, unsafe_dates=(monday(n),)), PartnerWeekInput(B))
    result = report(earlier, *weeks)

    assert "safety_concern" not in [f.code for f in result.flags]  # only w's own days flag
    assert [f.code for f in result.flags] == ["engagement_gap_streak"]
    assert (result.recommendations == ()) is withheld


# --- 5.4: split_alliance --------------------------------------------------------------------


def both(n: int, day: int, a_points: int, b_points: int) -> tuple[SessionFeedbackScore, ...]:
    return (fb(n, day, a_points), fb(n, day, b_points))


def split_history(pairs: list[tuple[int, int, int, int]]) -> list[CoupleWeekInput]:
    """(week offset, day, a's points, b's points) of sessions with feedback from both."""
    by_week: dict[int, tuple[list[SessionFeedbackScore], list[SessionFeedbackScore]]] = {}
    for n, day, a_points, b_points in pairs:
        a_list, b_list = by_week.setdefault(n, ([], []))
        a_list.append(fb(n, day, a_points))
        b_list.append(fb(n, day, b_points))
    by_week.setdefault(0, ([], []))
    return [
        week(n, PartnerWeekInput(A, feedback=tuple(a)), PartnerWeekInput(B, feedback=tuple(b)))
        for n, (a, b) in sorted(by_week.items(), reverse=True)
    ]


def test_split_alliance_at_a_gap_of_exactly_0_2_in_2_of_the_last_3_sessions() -> None:
    # b is 8 points (0.2) below a in two of the last three sessions: flagged on b.
    history = split_history([(2, 1, 36, 28), (1, 1, 36, 36), (0, 1, 30, 22)])
    result = report(*history)

    flag = next(f for f in result.flags if f.code == "split_alliance")
    assert flag.partner == B
    assert flag.to_dict()["evidence"] == {
        "sessions": ["s2-1", "s1-1", "s0-1"],
        "dates": ["2026-11-03", "2026-11-10", "2026-11-17"],
        "alliance": [0.7, 0.9, 0.55],
        "other_alliance": [0.9, 0.9, 0.75],
        "sessions_below": 2,
    }
    assert [(r.code, r.partner) for r in result.recommendations] == [("check_alliance", B)]


def test_a_gap_of_0_175_is_not_split() -> None:
    history = split_history([(2, 1, 36, 29), (1, 1, 36, 36), (0, 1, 30, 23)])
    assert "split_alliance" not in [c for c, _ in codes(*history)]


def test_split_alliance_needs_2_of_the_last_3_not_of_all_sessions() -> None:
    # Two split sessions, then three even ones: the last three hold none.
    even = [(1, 1, 30, 30), (1, 3, 30, 30), (0, 1, 30, 30)]
    history = split_history([(3, 1, 36, 20), (2, 1, 36, 20), *even])
    assert "split_alliance" not in [c for c, _ in codes(*history)]
    # One split session among the last three is not enough either.
    history = split_history([(1, 1, 30, 30), (1, 3, 30, 30), (0, 1, 36, 20)])
    assert "split_alliance" not in [c for c, _ in codes(*history)]


def test_sessions_with_feedback_from_one_partner_only_do_not_count() -> None:
    # b gave no feedback on w's two sessions: the last 3 with both are w-3 .. w-1's.
    history = split_history([(3, 1, 36, 20), (2, 1, 36, 20), (1, 1, 30, 30)])
    current = history[-1]
    only_a = replace(current.partners[0], feedback=(fb(0, 1, 36, "x1"), fb(0, 3, 36, "x2")))
    history[-1] = replace(current, partners=(only_a, current.partners[1]))

    assert ("split_alliance", B) in codes(*history)


def test_split_alliance_looks_back_no_further_than_w_minus_5() -> None:
    history = split_history([(6, 1, 36, 20), (5, 1, 36, 20), (0, 1, 30, 30)])
    assert "split_alliance" not in [c for c, _ in codes(*history)]
    history = split_history([(5, 1, 36, 20), (5, 3, 36, 20), (0, 1, 30, 30)])
    assert ("split_alliance", B) in codes(*history)


# --- 5.4: low_alliance --------------------------------------------------------------------


def own(n_days_points: list[tuple[int, int, int]], pid: str = A) -> list[CoupleWeekInput]:
    by_week: dict[int, list[SessionFeedbackScore]] = {0: []}
    for n, day, points in n_days_points:
        by_week.setdefault(n, []).append(fb(n, day, points))
    return [
        week(n, PartnerWeekInput(pid, feedback=tuple(items)), PartnerWeekInput(B))
        for n, items in sorted(by_week.items(), reverse=True)
    ]


def test_low_alliance_below_0_7_on_the_last_2_sessions() -> None:
    history = own([(3, 1, 40), (2, 1, 27), (1, 1, 20)])
    result = report(*history)

    flag = next(f for f in result.flags if f.code == "low_alliance")
    assert (flag.partner, flag.to_dict()["evidence"]) == (
        A,
        {
            "sessions": ["s2-1", "s1-1"],
            "dates": ["2026-11-03", "2026-11-10"],
            "alliance": [0.675, 0.5],
        },
    )
    assert [(r.code, r.partner) for r in result.recommendations] == [("check_alliance", A)]


def test_an_alliance_of_exactly_0_7_is_not_low() -> None:
    assert "low_alliance" not in [c for c, _ in codes(*own([(2, 1, 28), (1, 1, 20)]))]
    assert "low_alliance" not in [c for c, _ in codes(*own([(2, 1, 20), (1, 1, 28)]))]


def test_low_alliance_needs_two_sessions_the_later_in_w_minus_1_or_w() -> None:
    assert "low_alliance" not in [c for c, _ in codes(*own([(0, 1, 10)]))]
    # Later session in w-2: too old.
    assert "low_alliance" not in [c for c, _ in codes(*own([(3, 1, 10), (2, 1, 10)]))]
    assert ("low_alliance", A) in codes(*own([(5, 1, 10), (0, 1, 10)]))
    # Only the last two count: a good earlier session does not save them, a good later one does.
    assert ("low_alliance", A) in codes(*own([(2, 1, 40), (1, 1, 10), (0, 1, 10)]))
    assert "low_alliance" not in [c for c, _ in codes(*own([(2, 1, 10), (1, 1, 10), (0, 1, 40)]))]


# --- 5.4: goal_mismatch -------------------------------------------------------------------


def goals(a: str | None, b: str | None) -> tuple[GoalAtEnd, ...]:
    found = []
    if a is not None:
        found.append(GoalAtEnd(A, a, W + timedelta(days=2)))
    if b is not None:
        found.append(GoalAtEnd(B, b, W - timedelta(days=20)))
    return tuple(found)


@pytest.mark.parametrize(
    ("a", "b", "mismatch"),
    [
        ("work_on_it", "decide", True),
        ("separate_well", "work_on_it", True),
        ("work_on_it", "work_on_it", False),
        ("work_on_it", "unsure", False),
        ("decide", "separate_well", False),
        ("work_on_it", None, False),
    ],
)
def test_goal_mismatch(a: str, b: str | None, mismatch: bool) -> None:
    result = report(week(0, PartnerWeekInput(A), PartnerWeekInput(B), goals=goals(a, b)))
    flags = [f for f in result.flags if f.code == "goal_mismatch"]

    assert bool(flags) is mismatch
    if mismatch:
        assert flags[0].partner is None
        assert flags[0].to_dict()["evidence"] == {
            "week_end": "2026-11-22",
            "goals": {A: a, B: b},
            "set_on": {A: "2026-11-18", B: "2026-10-27"},
        }
        assert [(r.code, r.partner) for r in result.recommendations] == [
            ("discernment_conversation", None)
        ]


def test_goal_mismatch_under_a_safety_signal_shows_the_flag_and_no_discernment() -> None:
    a = PartnerWeekInput(A, unsafe_dates=(W,))
    result = report(week(0, a, PartnerWeekInput(B), goals=goals("work_on_it", "decide")))

    assert [f.code for f in result.flags] == ["safety_concern", "goal_mismatch"]
    assert [(r.code, r.partner) for r in result.recommendations] == [("screen_individually", None)]


# --- 5.8: urgency ----------------------------------------------------------------------------


def test_urgency_levels_in_the_order_of_spec_5_8() -> None:
    keys = [
        urgency_key(safety_hold=False, report_flags=["safety_concern"], gap=10.0),
        urgency_key(safety_hold=False, report_flags=None, gap=None, unacknowledged_alert=True),
        urgency_key(safety_hold=True, report_flags=None, gap=None),
        urgency_key(safety_hold=False, report_flags=["rising_resentment"], gap=None),
        urgency_key(safety_hold=False, report_flags=["split_alliance"], gap=50.0),
        urgency_key(safety_hold=False, report_flags=["goal_mismatch"], gap=40.0),
        urgency_key(safety_hold=False, report_flags=["low_alliance"], gap=None),
        urgency_key(safety_hold=False, report_flags=["commitments_unkept"], gap=90.0),
        urgency_key(safety_hold=False, report_flags=[], gap=90.0),
        urgency_key(safety_hold=False, report_flags=None, gap=None),
    ]
    assert [k[0] for k in keys] == [0, 0, 1, 2, 3, 3, 3, 4, 5, 6]
    assert keys == sorted(keys)
