"""Per-partner figures (SPEC 5.2) and the balance between partners with its trend (SPEC 5.3),
used for the full balance and the shared balance (SPEC 5.6) alike."""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields
from fractions import Fraction
from typing import Final
from typing import Literal
from typing import TypeAlias
from typing import TypeVar

from engagement.reports.scoring.inputs import FEEDBACK_POINTS
from engagement.reports.scoring.inputs import JsonValue
from engagement.reports.scoring.inputs import PartnerId
from engagement.reports.scoring.inputs import PartnerWeekInput
from engagement.reports.scoring.inputs import _check_target

Balance: TypeAlias = Literal["balanced", "leaning", "one_sided", "insufficient_data"]
GapTrend: TypeAlias = Literal["widening", "stable", "narrowing"]

# SPEC 5.2: the weights of the engagement score's components.
ATTENDANCE_WEIGHT: Final = Fraction(35, 100)
PARTICIPATION_WEIGHT: Final = Fraction(15, 100)
CHECKIN_WEIGHT: Final = Fraction(20, 100)
FOLLOW_THROUGH_WEIGHT: Final = Fraction(30, 100)

# SPEC 5.3: balance thresholds on the gap, and the trend's slope in points per week.
LEANING_FROM: Final = 15
ONE_SIDED_FROM: Final = 35
TREND_SLOPE: Final = 5
TREND_WEEKS: Final = 4  # w-3 .. w
TREND_MIN_GAPS: Final = 3

RATIO_PLACES: Final = 4
AVERAGE_PLACES: Final = 2
SCORE_PLACES: Final = 1


@dataclass(frozen=True, slots=True)
class PartnerFigures:
    """One partner's figures for one week, with the field names of SPEC 5.2."""

    partner: PartnerId
    engagement_score: float | None
    attendance_rate: float | None
    participation: float | None
    checkin_rate: float | None
    follow_through: float | None
    sessions_expected: int
    sessions_attended: int
    checkin_days: int
    away_days: int
    commitments_due: int
    commitments_kept: int
    commitments_missed: int
    commitments_unreported: int
    unsafe_days: int
    alliance: float | None
    mood_avg: float | None
    effort_avg: float | None
    connection_avg: float | None
    resentment_avg: float | None
    wellbeing_avg: float | None

    def to_dict(self) -> dict[str, JsonValue]:
        """The partner's entry of a report, keys in SPEC 5.2's order."""
        return {name: getattr(self, name) for name in _PARTNER_FIGURE_NAMES}


_PARTNER_FIGURE_NAMES: Final = tuple(f.name for f in fields(PartnerFigures))


@dataclass(frozen=True, slots=True)
class BalanceResult:
    """Balance of one week between the partners (SPEC 5.3)."""

    balance: Balance
    gap: float | None
    less_engaged_partner: PartnerId | None


# --- exact arithmetic and rounding (docs/reports.md, "Rounding") -------------
#
# Figures are ratios of small integers, so the hot paths keep them as integer
# numerators and denominators and round with integer floor division: the same
# exact values as fractions.Fraction, without building one per figure (a chunk
# of 500 couples rounds tens of thousands of figures).


# Exact numbers: scores in tenths of a point as ints, or any value as a Fraction.
_Exact = TypeVar("_Exact", int, Fraction)


def _half_up(numerator: int, denominator: int, places: int) -> float:
    """numerator / denominator (denominator > 0), rounded half away from zero to ``places``
    decimals: floor(|n| / d * 10**places + 1/2), computed exactly in integers."""
    scale = 10**places
    magnitude = (2 * abs(numerator) * scale + denominator) // (2 * denominator)
    # int / int is correctly rounded, as float(Fraction(magnitude, scale)) is.
    return (magnitude if numerator >= 0 else -magnitude) / scale


def _shown_ratio(part: int, whole: int, places: int) -> float | None:
    """part / whole shown to ``places`` decimals, None when whole is 0."""
    return None if whole == 0 else _half_up(part, whole, places)


def _exact(value: float) -> Fraction:
    """The decimal a shown figure stands for: 62.3 is 623/10, not the nearest binary float."""
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return Fraction(repr(float(value)))


# --- SPEC 5.2: per-partner figures -------------------------------------------


def _percent(weight: Fraction) -> int:
    percent = weight * 100
    if percent.denominator != 1:
        raise ValueError(f"a weight is a whole percentage, got {weight}")
    return int(percent)


# The weights as integers: 100 * sum(w * v) / sum(w) is the same with every
# weight multiplied by 100.
_ATTENDANCE_PERCENT: Final = _percent(ATTENDANCE_WEIGHT)
_PARTICIPATION_PERCENT: Final = _percent(PARTICIPATION_WEIGHT)
_CHECKIN_PERCENT: Final = _percent(CHECKIN_WEIGHT)
_FOLLOW_THROUGH_PERCENT: Final = _percent(FOLLOW_THROUGH_WEIGHT)
_SCORE_SCALE: Final = 10**SCORE_PLACES


def _checkin_ratio(p: PartnerWeekInput, checkin_target: int) -> tuple[int, int] | None:
    """min(1, checkin_days / expected) as (numerator, denominator), or None (SPEC 5.2)."""
    return _days_ratio(p.checkin_days, p.joined_before_week_end, checkin_target, p.away_days)


def _days_ratio(
    days: int, joined: bool, checkin_target: int, away_days: int = 0
) -> tuple[int, int] | None:
    """min(1, days / expected), expected = target x (7 - away_days) / 7 (SPEC 5.2), exactly:
    days / expected = 7 x days / (target x (7 - away_days)). None when nothing is expected."""
    expected_sevenths = checkin_target * (7 - away_days)
    if expected_sevenths <= 0:
        # A target of 0, or a whole week away: nothing was expected, no rate.
        return None
    if not joined and days == 0:
        # No one is expected to have used an app they had not joined (SPEC 5.2).
        return None
    if 7 * days >= expected_sevenths:
        return (1, 1)
    return (7 * days, expected_sevenths)


def _units(
    attended: int,
    missed: int,
    ratings: tuple[int, ...],
    checkins: tuple[int, int] | None,
    kept: int,
    commitments_missed: int,
) -> int | None:
    """100 * sum(weight * value) / sum(weight) over the components that are not null, in
    tenths of a point, summed exactly as one fraction of integers, then rounded half up."""
    numerator, denominator, weights = 0, 1, 0
    expected = attended + missed
    if expected:
        numerator = numerator * expected + _ATTENDANCE_PERCENT * attended * denominator
        denominator *= expected
        weights += _ATTENDANCE_PERCENT
    if ratings:
        # The mean rating over 3.
        whole = 3 * len(ratings)
        numerator = numerator * whole + _PARTICIPATION_PERCENT * sum(ratings) * denominator
        denominator *= whole
        weights += _PARTICIPATION_PERCENT
    if checkins is not None:
        part, whole = checkins
        numerator = numerator * whole + _CHECKIN_PERCENT * part * denominator
        denominator *= whole
        weights += _CHECKIN_PERCENT
    # Unreported commitments stay out: a forgotten tap is not a broken promise (SPEC 5.1).
    due = kept + commitments_missed
    if due:
        numerator = numerator * due + _FOLLOW_THROUGH_PERCENT * kept * denominator
        denominator *= due
        weights += _FOLLOW_THROUGH_PERCENT
    if not weights:
        return None
    # score = 100 * numerator / (denominator * weights); in tenths, rounded half up.
    whole = 2 * denominator * weights
    return (2 * 100 * _SCORE_SCALE * numerator + denominator * weights) // whole


def _score_units(p: PartnerWeekInput, checkin_target: int) -> int | None:
    """The engagement score as shown, in tenths of a point (623 for 62.3), or None (SPEC 5.2)."""
    return _units(
        p.sessions_attended,
        p.sessions_missed,
        p.participation_ratings,
        _checkin_ratio(p, checkin_target),
        p.commitments_kept,
        p.commitments_missed,
    )


def _own_score_units(p: PartnerWeekInput, checkin_target: int) -> int | None:
    """The partner's own score as the partner view shows it: participation left out, the
    other weights renormalised (SPEC 1, "Aggregates", and 5.6)."""
    return _units(
        p.sessions_attended,
        p.sessions_missed,
        (),
        _checkin_ratio(p, checkin_target),
        p.commitments_kept,
        p.commitments_missed,
    )


def _shared_score_units(p: PartnerWeekInput, checkin_target: int) -> int | None:
    """The score of SPEC 5.6's shared balance: joint-session attendance, `couple` check-in
    days against the target reduced by `couple` away periods only, and `couple` commitments,
    without participation. A week before p joined counts shared check-ins only (5.6)."""
    return _units(
        p.joint_attended,
        p.joint_missed,
        (),
        # Only `couple` away periods reduce the shared target (SPEC 5.6).
        _days_ratio(
            p.shared_checkin_days, p.joined_before_week_end, checkin_target, p.shared_away_days
        ),
        p.shared_commitments_kept,
        p.shared_commitments_missed,
    )


def _partner_figures(
    p: PartnerWeekInput, checkin_target: int, score_units: int | None
) -> PartnerFigures:
    checkins = _checkin_ratio(p, checkin_target)
    reports = p.self_reports
    mood, effort, connection = reports.mood, reports.effort, reports.connection
    resentment, wellbeing = reports.resentment, reports.wellbeing
    return PartnerFigures(
        partner=p.partner,
        # The score is the rounded value (SPEC 5.2): the gap and the below-40 rule
        # read this figure, so they agree with what the therapist sees.
        engagement_score=None if score_units is None else score_units / _SCORE_SCALE,
        attendance_rate=_shown_ratio(
            p.sessions_attended, p.sessions_attended + p.sessions_missed, RATIO_PLACES
        ),
        participation=_shown_ratio(
            sum(p.participation_ratings), 3 * len(p.participation_ratings), RATIO_PLACES
        ),
        checkin_rate=None if checkins is None else _half_up(*checkins, RATIO_PLACES),
        follow_through=_shown_ratio(
            p.commitments_kept, p.commitments_kept + p.commitments_missed, RATIO_PLACES
        ),
        sessions_expected=p.sessions_attended + p.sessions_missed,
        sessions_attended=p.sessions_attended,
        checkin_days=p.checkin_days,
        away_days=p.away_days,
        commitments_due=p.commitments_kept + p.commitments_missed,
        commitments_kept=p.commitments_kept,
        commitments_missed=p.commitments_missed,
        commitments_unreported=p.commitments_unreported,
        unsafe_days=len(p.unsafe_dates),
        # Mean over the week's feedback of points / 40: sum of points / (40 x count).
        alliance=_shown_ratio(
            sum(f.points for f in p.feedback), FEEDBACK_POINTS * len(p.feedback), RATIO_PLACES
        ),
        mood_avg=_shown_ratio(mood.total, mood.count, AVERAGE_PLACES),
        effort_avg=_shown_ratio(effort.total, effort.count, AVERAGE_PLACES),
        connection_avg=_shown_ratio(connection.total, connection.count, AVERAGE_PLACES),
        resentment_avg=_shown_ratio(resentment.total, resentment.count, AVERAGE_PLACES),
        wellbeing_avg=_shown_ratio(wellbeing.total, wellbeing.count, AVERAGE_PLACES),
    )


def compute_partner_figures(p: PartnerWeekInput, checkin_target: int) -> PartnerFigures:
    """Every figure of SPEC 5.2 for one partner and one week."""
    _check_target(checkin_target)
    return _partner_figures(p, checkin_target, _score_units(p, checkin_target))


# --- SPEC 5.3: balance and its trend -----------------------------------------


def compute_balance(scores: Mapping[PartnerId, float | None]) -> BalanceResult:
    """Balance, gap and less engaged partner from the partners' (rounded) scores."""
    if len(scores) > 2:
        raise ValueError("a couple never has more than two partners")
    known = [(partner, _exact(score)) for partner, score in scores.items() if score is not None]
    return _balance(known, 1)


def _balance(known: Sequence[tuple[PartnerId, _Exact]], unit: int) -> BalanceResult:
    """The balance of two known scores, each in 1/unit points (exact: Fractions or ints)."""
    if len(known) < 2:
        return BalanceResult("insufficient_data", None, None)
    (first, first_score), (second, second_score) = known
    gap = abs(first_score - second_score)
    balance: Balance
    if gap < LEANING_FROM * unit:
        balance = "balanced"
    elif gap < ONE_SIDED_FROM * unit:
        balance = "leaning"
    else:
        balance = "one_sided"
    less_engaged = None
    if gap >= LEANING_FROM * unit:
        less_engaged = first if first_score < second_score else second
    # int / int and Fraction / int are both exact until shown as the nearest float.
    return BalanceResult(balance, float(gap / unit), less_engaged)


def _trend(points: Sequence[tuple[int, _Exact]], unit: int) -> GapTrend | None:
    """The trend of (week position, gap in 1/unit points) points, from their least-squares
    slope, decided exactly: slope = (n*Sxy - Sx*Sy) / (n*Sxx - Sx^2), whose denominator is
    positive for points at distinct positions."""
    n = len(points)
    if n < TREND_MIN_GAPS:
        return None
    sum_x = sum(x for x, _ in points)
    sum_y = sum(y for _, y in points)
    sum_xy = sum(x * y for x, y in points)
    sum_xx = sum(x * x for x, _ in points)
    numerator = n * sum_xy - sum_x * sum_y
    denominator = (n * sum_xx - sum_x * sum_x) * unit
    if numerator >= TREND_SLOPE * denominator:
        return "widening"
    if numerator <= -TREND_SLOPE * denominator:
        return "narrowing"
    return "stable"


def gap_trend(gaps: Sequence[float | None]) -> GapTrend | None:
    """Trend of consecutive weekly gaps, oldest first, None for a week without one (SPEC 5.3)."""
    # x is the week's position, so a week without a gap keeps the weeks around
    # it at their true distance in time instead of closing ranks.
    return _trend([(x, _exact(gap)) for x, gap in enumerate(gaps) if gap is not None], 1)
