"""Weekly report methodology v1.1 (SPEC section 5) as pure functions over plain data."""

# No Django, no clock, no settings: the aggregation layer turns rows into the
# inputs below, and everything here is decided from those inputs alone, so a
# report can be recomputed, tested and explained number by number.
# The methodology, in words a therapist can check, lives in docs/reports.md.
#
# Arithmetic is exact (integers, or fractions.Fraction) until a figure is shown: a rule
# such as "gap of 15 or more" or "slope from +5" must not fall on the wrong
# side of its threshold because of binary floating point. Shown figures are
# rounded half up (away from zero), as decimal.ROUND_HALF_UP does; see
# docs/reports.md, "Rounding".

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Final, Literal, TypeAlias, TypeVar

PartnerId: TypeAlias = str
Balance: TypeAlias = Literal["balanced", "leaning", "one_sided", "insufficient_data"]
GapTrend: TypeAlias = Literal["widening", "stable", "narrowing"]
FlagCode: TypeAlias = Literal[
    "low_engagement_streak",
    "engagement_gap_streak",
    "rising_resentment",
    "commitments_unkept",
    "wellbeing_decline",
]
RecommendationCode: TypeAlias = Literal[
    "assess_commitment",
    "consider_individual_sessions",
    "support_engaged_partner",
    "revisit_commitments",
    "address_resentment",
]
JsonValue: TypeAlias = (
    "str | int | float | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
)

METHODOLOGY: Final = "v1.1"

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

# SPEC 5.4: flags look back over w-5 .. w.
LOOKBACK_WEEKS: Final = 5
STREAK_WEEKS: Final = 3  # w-2 .. w
LOW_ENGAGEMENT_BELOW: Final = 40
RESENTMENT_MIN_RATINGS: Final = 3
RESENTMENT_HIGH: Final = Fraction(7, 2)
RESENTMENT_RISE: Final = Fraction(3, 4)
UNKEPT_WEEKS: Final = 4  # w-3 .. w
UNKEPT_MIN_MISSED: Final = 3
UNKEPT_FOLLOW_THROUGH_BELOW: Final = Fraction(1, 2)
WELLBEING_WEEKS: Final = 4  # w-4 .. w-1
WELLBEING_MIN_EARLIER_WEEKS: Final = 2
WELLBEING_DROP: Final = 1
WELLBEING_LOW: Final = 2

# Ordering of flags and recommendations in a report: the order in which SPEC
# 5.4 and 5.5 list them, then partners in input order (docs/reports.md).
FLAG_ORDER: Final[tuple[FlagCode, ...]] = (
    "low_engagement_streak",
    "engagement_gap_streak",
    "rising_resentment",
    "commitments_unkept",
    "wellbeing_decline",
)
RECOMMENDATION_ORDER: Final[tuple[RecommendationCode, ...]] = (
    "assess_commitment",
    "consider_individual_sessions",
    "support_engaged_partner",
    "revisit_commitments",
    "address_resentment",
)

# SPEC 1 and 5.1: averages only ever come from check-ins a therapist may read.
# An allow-list, not "everything but private", so that a visibility added
# later stays out of every average until someone decides otherwise.
SELF_REPORT_VISIBILITIES: Final = frozenset({"therapist", "couple"})

RATIO_PLACES: Final = 4
AVERAGE_PLACES: Final = 2
SCORE_PLACES: Final = 1


def _check_count(name: str, value: int) -> None:
    # `type(...) is int` first: inputs are built by the thousand per chunk, and a plain int
    # (never a bool) is the common case; anything else takes the full check.
    if (
        type(value) is not int and (isinstance(value, bool) or not isinstance(value, int))
    ) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _check_ratings(name: str, values: tuple[int, ...], low: int, high: int) -> None:
    if not isinstance(values, tuple):
        raise TypeError(f"{name} must be a tuple of integers, got {type(values).__name__}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must hold integers from {low} to {high}, got {value!r}")


@dataclass(frozen=True, slots=True)
class RatingTally:
    """The sum and the number of some ratings of one scale.

    The aggregation layer counts ratings with SQL (SUM and COUNT), never one by
    one, so averages are carried as tallies: a pooled mean over several weeks is
    sum of totals / sum of counts, exactly as if the ratings had been pooled.
    """

    total: int = 0
    count: int = 0

    def __post_init__(self) -> None:
        _check_count("total", self.total)
        _check_count("count", self.count)

    @classmethod
    def of(cls, ratings: Iterable[int]) -> RatingTally:
        """The tally of these ratings."""
        values = tuple(ratings)
        _check_ratings("ratings", values, 1, 5)
        return cls(total=sum(values), count=len(values))

    def __add__(self, other: RatingTally) -> RatingTally:
        return RatingTally(self.total + other.total, self.count + other.count)

    def mean(self) -> Fraction | None:
        return None if self.count == 0 else Fraction(self.total, self.count)


def _check_tally(name: str, tally: RatingTally, low: int, high: int) -> None:
    if not isinstance(tally, RatingTally):
        raise TypeError(f"{name} must be a RatingTally, got {type(tally).__name__}")
    # Only totals that some ratings from low to high could add up to.
    if not low * tally.count <= tally.total <= high * tally.count:
        raise ValueError(
            f"{name} cannot total {tally.total} over {tally.count} ratings from {low} to {high}"
        )


@dataclass(frozen=True, slots=True)
class SelfReportRatings:
    """One partner's 1-5 ratings for one week, from check-ins a therapist may read, tallied."""

    mood: RatingTally = RatingTally()
    effort: RatingTally = RatingTally()
    connection: RatingTally = RatingTally()
    resentment: RatingTally = RatingTally()
    wellbeing: RatingTally = RatingTally()

    def __post_init__(self) -> None:
        for name in ("mood", "effort", "connection", "resentment", "wellbeing"):
            _check_tally(name, getattr(self, name), 1, 5)


@dataclass(frozen=True, slots=True)
class CheckinRatings:
    """What one check-in rates, and who may read it."""

    visibility: str
    mood: int | None = None
    effort: int | None = None
    connection: int | None = None
    resentment: int | None = None
    wellbeing: int | None = None


def self_report_ratings(checkins: Iterable[CheckinRatings]) -> SelfReportRatings:
    """Ratings of the check-ins a therapist may read; private ones never reach an average."""
    visible = [c for c in checkins if c.visibility in SELF_REPORT_VISIBILITIES]
    return SelfReportRatings(
        mood=RatingTally.of(c.mood for c in visible if c.mood is not None),
        effort=RatingTally.of(c.effort for c in visible if c.effort is not None),
        connection=RatingTally.of(c.connection for c in visible if c.connection is not None),
        resentment=RatingTally.of(c.resentment for c in visible if c.resentment is not None),
        wellbeing=RatingTally.of(c.wellbeing for c in visible if c.wellbeing is not None),
    )


@dataclass(frozen=True, slots=True)
class PartnerWeekInput:
    """What counts for one partner in one week (SPEC 5.1), as counted by the aggregation layer.

    ``sessions_attended`` counts attended and late entries, ``sessions_missed``
    absent ones; excused entries are not counted at all. ``participation_ratings``
    are the ratings of attended or late entries that have one. ``checkin_days``
    counts check-ins of any visibility. ``joined_before_week_end`` is False for a
    week that ended before the partner joined the couple. Commitments are those
    due in the week, released ones left out; ``commitments_unreported`` are still
    open once the week ended. ``missed_renewals_of_missed`` counts the partner's
    commitments missed in the week that renew a commitment that was also missed.
    """

    partner: PartnerId
    sessions_attended: int = 0
    sessions_missed: int = 0
    participation_ratings: tuple[int, ...] = ()
    checkin_days: int = 0
    joined_before_week_end: bool = True
    commitments_kept: int = 0
    commitments_missed: int = 0
    commitments_unreported: int = 0
    missed_renewals_of_missed: int = 0
    self_reports: SelfReportRatings = field(default_factory=SelfReportRatings)
    joint_attended: int = 0
    joint_missed: int = 0
    shared_checkin_days: int = 0
    shared_commitments_kept: int = 0
    shared_commitments_missed: int = 0
    shared_commitments_unreported: int = 0

    def __post_init__(self) -> None:
        for name in (
            "shared_commitments_unreported",
            "joint_attended",
            "joint_missed",
            "shared_checkin_days",
            "shared_commitments_kept",
            "shared_commitments_missed",
            "sessions_attended",
            "sessions_missed",
            "checkin_days",
            "commitments_kept",
            "commitments_missed",
            "commitments_unreported",
            "missed_renewals_of_missed",
        ):
            _check_count(name, getattr(self, name))
        _check_ratings("participation_ratings", self.participation_ratings, 0, 3)
        if len(self.participation_ratings) > self.sessions_attended:
            raise ValueError("participation_ratings can only rate attended or late entries")
        if self.checkin_days > 7:
            raise ValueError("checkin_days cannot exceed the 7 days of a week")
        if self.missed_renewals_of_missed > self.commitments_missed:
            raise ValueError("missed_renewals_of_missed cannot exceed commitments_missed")
        for part, whole in (
            ("joint_attended", "sessions_attended"),
            ("joint_missed", "sessions_missed"),
            ("shared_checkin_days", "checkin_days"),
            ("shared_commitments_kept", "commitments_kept"),
            ("shared_commitments_missed", "commitments_missed"),
            ("shared_commitments_unreported", "commitments_unreported"),
        ):
            if getattr(self, part) > getattr(self, whole):
                raise ValueError(f"{part} counts a part of {whole}, so cannot exceed it")


@dataclass(frozen=True, slots=True)
class CoupleWeekInput:
    """One week of a couple: its check-in target and what counts for each partner."""

    week_start: date
    checkin_target: int
    partners: tuple[PartnerWeekInput, ...]
    # Which partnership (SPEC 1, "Membership periods") the whole week lies in, None for a week
    # across a change of partners. The shared gap_trend only reads weeks of w's partnership.
    partnership: int | None = 0

    def __post_init__(self) -> None:
        if isinstance(self.week_start, datetime) or not isinstance(self.week_start, date):
            raise TypeError("week_start must be a date")
        if self.week_start.weekday() != 0:
            raise ValueError(f"week_start must be a Monday, got {self.week_start.isoformat()}")
        _check_target(self.checkin_target)
        if len(self.partners) > 2:
            raise ValueError("a couple never has more than two partners")
        if len({p.partner for p in self.partners}) != len(self.partners):
            raise ValueError("a partner appears twice in the same week")


def _check_target(target: int) -> None:
    _check_count("checkin_target", target)
    if target > 7:
        raise ValueError("checkin_target is a number of days a week, 0 to 7")


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
    commitments_due: int
    commitments_kept: int
    commitments_missed: int
    commitments_unreported: int
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


@dataclass(frozen=True, slots=True)
class Flag:
    """A pattern found in the data, with the numbers it was decided on (SPEC 5.4)."""

    code: FlagCode
    partner: PartnerId | None
    evidence: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, JsonValue]:
        return {"code": self.code, "partner": self.partner, "evidence": _to_json(self.evidence)}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A next step for the therapist to consider, about one partner (SPEC 5.5)."""

    code: RecommendationCode
    partner: PartnerId

    def to_dict(self) -> dict[str, JsonValue]:
        return {"code": self.code, "partner": self.partner}


@dataclass(frozen=True, slots=True)
class PartnerViewScores:
    """What a partner's own view needs beyond SPEC 5.2's figures (SPEC 5.6): their score
    without participation, their score of the shared balance, and the shared counts it is
    computed from (what the other partner can read too: the partner digest shows these)."""

    partner: PartnerId
    engagement_score_without_participation: float | None
    shared_engagement_score: float | None
    joint_sessions_expected: int = 0
    joint_sessions_attended: int = 0
    shared_checkin_days: int = 0
    shared_commitments_kept: int = 0
    shared_commitments_missed: int = 0
    shared_commitments_unreported: int = 0

    def to_dict(self) -> dict[str, JsonValue]:
        return {name: getattr(self, name) for name in _PARTNER_VIEW_NAMES}


_PARTNER_VIEW_NAMES: Final = tuple(f.name for f in fields(PartnerViewScores))


@dataclass(frozen=True, slots=True)
class WeekReport:
    """The computed part of a weekly report: the full (therapist) view, the shared balance
    beside it, and each partner's own score as their partner view shows it."""

    week_start: date
    balance: Balance
    gap: float | None
    gap_trend: GapTrend | None
    less_engaged_partner: PartnerId | None
    partners: tuple[PartnerFigures, ...]
    flags: tuple[Flag, ...]
    recommendations: tuple[Recommendation, ...]
    shared_balance: Balance = "insufficient_data"
    shared_gap: float | None = None
    shared_gap_trend: GapTrend | None = None
    partner_views: tuple[PartnerViewScores, ...] = ()

    def to_dict(self) -> dict[str, JsonValue]:
        """JSON-ready fields of SPEC 5.2 (id, couple, view, revision, computed_at: the caller's)."""
        return {
            "week_start": self.week_start.isoformat(),
            "methodology": METHODOLOGY,
            "balance": self.balance,
            "gap": self.gap,
            "gap_trend": self.gap_trend,
            "less_engaged_partner": self.less_engaged_partner,
            "partners": [p.to_dict() for p in self.partners],
            "flags": [f.to_dict() for f in self.flags],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "shared_balance": self.shared_balance,
            "shared_gap": self.shared_gap,
            "shared_gap_trend": self.shared_gap_trend,
            "partner_views": [v.to_dict() for v in self.partner_views],
        }


def _to_json(value: JsonValue) -> JsonValue:
    """A deep copy made of dicts and lists only, so callers can serialise or compare it."""
    if isinstance(value, Mapping):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_to_json(item) for item in value]
    return value


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
    """min(1, checkin_days / target) as (numerator, denominator), or None (SPEC 5.2)."""
    return _days_ratio(p.checkin_days, p.joined_before_week_end, checkin_target)


def _days_ratio(days: int, joined: bool, checkin_target: int) -> tuple[int, int] | None:
    if checkin_target == 0:
        return None
    if not joined and days == 0:
        # No one is expected to have used an app they had not joined (SPEC 5.2).
        return None
    if days >= checkin_target:
        return (1, 1)
    return (days, checkin_target)


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
    days against the target and `couple` commitments only, without participation. A week
    before p joined counts shared check-ins only (5.6)."""
    return _units(
        p.joint_attended,
        p.joint_missed,
        (),
        _days_ratio(p.shared_checkin_days, p.joined_before_week_end, checkin_target),
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
        commitments_due=p.commitments_kept + p.commitments_missed,
        commitments_kept=p.commitments_kept,
        commitments_missed=p.commitments_missed,
        commitments_unreported=p.commitments_unreported,
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


# --- SPEC 5.4 and 5.5: flags and recommendations over w-5 .. w ----------------


def _weeks_before(week_start: date, oldest: int, newest: int = 0) -> list[date]:
    """Mondays from w-oldest to w-newest, oldest first."""
    return [week_start - timedelta(weeks=n) for n in range(oldest, newest - 1, -1)]


def _iso(weeks: Iterable[date]) -> list[JsonValue]:
    return [week.isoformat() for week in weeks]


class _Week:
    """One week of the look-back, with its scores and balance computed when first asked for:
    a report reads them for w-3 .. w only, and the full figures for w only."""

    __slots__ = ("_balance", "_scores", "_shared_balance", "inputs", "week")

    def __init__(self, week: CoupleWeekInput) -> None:
        self.week = week
        self.inputs = {p.partner: p for p in week.partners}
        self._scores: dict[PartnerId, int | None] | None = None
        self._balance: tuple[BalanceResult, int | None] | None = None
        self._shared_balance: tuple[BalanceResult, int | None] | None = None

    def shared_balance(self) -> tuple[BalanceResult, int | None]:
        """The week's shared balance (SPEC 5.6), and its gap in tenths of a point."""
        if self._shared_balance is None:
            target = self.week.checkin_target
            known = [
                (p.partner, s)
                for p in self.week.partners
                if (s := _shared_score_units(p, target)) is not None
            ]
            result = _balance(known, _SCORE_SCALE)
            units = abs(known[0][1] - known[1][1]) if result.gap is not None else None
            self._shared_balance = (result, units)
        return self._shared_balance

    def scores(self) -> dict[PartnerId, int | None]:
        """Each partner's score as shown, in tenths of a point."""
        if self._scores is None:
            target = self.week.checkin_target
            self._scores = {p.partner: _score_units(p, target) for p in self.week.partners}
        return self._scores

    def balance(self) -> tuple[BalanceResult, int | None]:
        """The week's balance, and its gap in tenths of a point (None without one)."""
        if self._balance is None:
            known = [(pid, s) for pid, s in self.scores().items() if s is not None]
            result = _balance(known, _SCORE_SCALE)
            units = abs(known[0][1] - known[1][1]) if result.gap is not None else None
            self._balance = (result, units)
        return self._balance

    def figures(self, partner: PartnerId) -> PartnerFigures:
        p = self.inputs[partner]
        return _partner_figures(p, self.week.checkin_target, self.scores()[partner])


class _Lookback:
    """The weeks w-5 .. w a report may look at, found by week_start, never by list position."""

    def __init__(self, history: Sequence[CoupleWeekInput]) -> None:
        if not history:
            raise ValueError("history must hold at least the week being reported")
        by_start: dict[date, CoupleWeekInput] = {}
        for week in history:
            if week.week_start in by_start:
                raise ValueError(f"week {week.week_start.isoformat()} appears twice")
            by_start[week.week_start] = week
        self.week_start = max(by_start)
        self.mondays = _weeks_before(self.week_start, LOOKBACK_WEEKS)
        # A week absent from history (paused, or before the couple existed) has
        # no figures: its scores are null, its balance insufficient_data.
        self.weeks = {start: _Week(by_start[start]) for start in self.mondays if start in by_start}
        self.current = self.weeks[self.week_start]

    def before(self, oldest: int, newest: int = 0) -> list[date]:
        """Mondays from w-oldest to w-newest (oldest at most w-5), oldest first."""
        return self.mondays[LOOKBACK_WEEKS - oldest : LOOKBACK_WEEKS - newest + 1]

    def score(self, start: date, partner: PartnerId) -> int | None:
        """The partner's score of that week in tenths of a point, None without one."""
        week = self.weeks.get(start)
        return None if week is None else week.scores().get(partner)

    def partner_input(self, start: date, partner: PartnerId) -> PartnerWeekInput | None:
        week = self.weeks.get(start)
        return None if week is None else week.inputs.get(partner)

    def balance(self, start: date) -> tuple[BalanceResult, int | None] | None:
        week = self.weeks.get(start)
        return None if week is None else week.balance()

    def resentment(self, weeks: Iterable[date], partner: PartnerId) -> RatingTally:
        total = count = 0
        for start in weeks:
            p = self.partner_input(start, partner)
            if p is not None:
                total += p.self_reports.resentment.total
                count += p.self_reports.resentment.count
        return RatingTally(total, count)

    def wellbeing(self, start: date, partner: PartnerId) -> RatingTally | None:
        """The partner's wellbeing ratings of that week, None without any."""
        p = self.partner_input(start, partner)
        tally = None if p is None else p.self_reports.wellbeing
        return None if tally is None or tally.count == 0 else tally


def _low_engagement_streak(look: _Lookback, partner: PartnerId) -> Flag | None:
    weeks = look.before(STREAK_WEEKS - 1)
    scores = [look.score(start, partner) for start in weeks]
    # A null score is not below 40: no data is not low engagement (SPEC 5.4).
    if not all(s is not None and s < LOW_ENGAGEMENT_BELOW * _SCORE_SCALE for s in scores):
        return None
    evidence_scores: list[JsonValue] = [None if s is None else s / _SCORE_SCALE for s in scores]
    return Flag("low_engagement_streak", partner, {"weeks": _iso(weeks), "scores": evidence_scores})


def _engagement_gap_streak(look: _Lookback) -> Flag | None:
    weeks = look.before(STREAK_WEEKS - 1)
    balances = [None if (b := look.balance(start)) is None else b[0] for start in weeks]
    less_engaged = look.current.balance()[0].less_engaged_partner
    for balance in balances:
        if balance is None or balance.balance != "one_sided":
            return None
        if balance.less_engaged_partner != less_engaged:
            return None
    gaps: list[JsonValue] = [b.gap for b in balances if b is not None]
    # Evidence keys exactly as in the SPEC 5.2 example.
    return Flag("engagement_gap_streak", less_engaged, {"weeks": _iso(weeks), "gaps": gaps})


def _rising_resentment(look: _Lookback, partner: PartnerId) -> Flag | None:
    # Ratings pooled over the weeks (their tallies added), not an average of weekly
    # averages: a week with one rating weighs as much as one rating (SPEC 5.4).
    recent_weeks = look.before(1)
    earlier_weeks = look.before(LOOKBACK_WEEKS, 2)
    recent = look.resentment(recent_weeks, partner)
    earlier = look.resentment(earlier_weeks, partner)
    if recent.count < RESENTMENT_MIN_RATINGS or earlier.count < RESENTMENT_MIN_RATINGS:
        return None
    # recent_avg >= 3.5 and recent_avg - earlier_avg >= 0.75, cross-multiplied in integers.
    high, rise = RESENTMENT_HIGH, RESENTMENT_RISE
    if recent.total * high.denominator < high.numerator * recent.count:
        return None
    difference = recent.total * earlier.count - earlier.total * recent.count
    if difference * rise.denominator < rise.numerator * recent.count * earlier.count:
        return None
    return Flag(
        "rising_resentment",
        partner,
        {
            "recent_weeks": _iso(recent_weeks),
            "recent_count": recent.count,
            "recent_avg": _half_up(recent.total, recent.count, AVERAGE_PLACES),
            "earlier_weeks": _iso(earlier_weeks),
            "earlier_count": earlier.count,
            "earlier_avg": _half_up(earlier.total, earlier.count, AVERAGE_PLACES),
        },
    )


def _commitments_unkept(look: _Lookback, partner: PartnerId) -> Flag | None:
    weeks = look.before(UNKEPT_WEEKS - 1)
    inputs = [look.partner_input(start, partner) for start in weeks]
    kept = sum(p.commitments_kept for p in inputs if p is not None)
    missed = sum(p.commitments_missed for p in inputs if p is not None)
    below = UNKEPT_FOLLOW_THROUGH_BELOW
    # kept / (kept + missed) < 0.5, cross-multiplied (3 missed or more: never 0 / 0).
    mostly_missed = missed >= UNKEPT_MIN_MISSED and kept * below.denominator < below.numerator * (
        kept + missed
    )
    current = look.partner_input(look.week_start, partner)
    # A promise made again and broken again (SPEC 5.4), counted for week w only.
    renewals = 0 if current is None else current.missed_renewals_of_missed
    if not mostly_missed and renewals == 0:
        return None
    return Flag(
        "commitments_unkept",
        partner,
        {
            "weeks": _iso(weeks),
            "kept": kept,
            "missed": missed,
            "follow_through": _shown_ratio(kept, kept + missed, RATIO_PLACES),
            "missed_renewals_of_missed": renewals,
        },
    )


def _wellbeing_decline(look: _Lookback, partner: PartnerId) -> Flag | None:
    current = look.wellbeing(look.week_start, partner)
    if current is None:
        return None
    earlier = [
        (start, tally)
        for start in look.before(WELLBEING_WEEKS, 1)
        if (tally := look.wellbeing(start, partner)) is not None
    ]
    # The mean of weekly averages, so each earlier week weighs the same however
    # often the partner checked in during it (SPEC 5.4), as one fraction of integers.
    earlier_mean: tuple[int, int] | None = None
    if len(earlier) >= WELLBEING_MIN_EARLIER_WEEKS:
        numerator, denominator = 0, 1
        for _, tally in earlier:
            numerator = numerator * tally.count + tally.total * denominator
            denominator *= tally.count
        earlier_mean = (numerator, denominator * len(earlier))
    previous = look.wellbeing(look.week_start - timedelta(weeks=1), partner)
    # earlier_mean - current >= 1 and both averages <= 2, cross-multiplied in integers.
    dropped = earlier_mean is not None and (
        earlier_mean[0] * current.count - current.total * earlier_mean[1]
        >= WELLBEING_DROP * earlier_mean[1] * current.count
    )
    stays_low = (
        previous is not None
        and previous.total <= WELLBEING_LOW * previous.count
        and current.total <= WELLBEING_LOW * current.count
    )
    if not dropped and not stays_low:
        return None
    return Flag(
        "wellbeing_decline",
        partner,
        {
            "week": look.week_start.isoformat(),
            "wellbeing_avg": _half_up(current.total, current.count, AVERAGE_PLACES),
            "previous_week_avg": (
                None
                if previous is None
                else _half_up(previous.total, previous.count, AVERAGE_PLACES)
            ),
            "earlier_weeks": _iso(start for start, _ in earlier),
            "earlier_avgs": [
                _half_up(tally.total, tally.count, AVERAGE_PLACES) for _, tally in earlier
            ],
            "earlier_mean": (
                None if earlier_mean is None else _half_up(*earlier_mean, AVERAGE_PLACES)
            ),
        },
    )


def _flags(look: _Lookback) -> list[Flag]:
    partners = list(look.current.inputs)
    found: list[Flag | None] = []
    for partner in partners:
        found.append(_low_engagement_streak(look, partner))
        found.append(_rising_resentment(look, partner))
        found.append(_commitments_unkept(look, partner))
        found.append(_wellbeing_decline(look, partner))
    found.append(_engagement_gap_streak(look))
    flags = [flag for flag in found if flag is not None]
    return sorted(flags, key=lambda f: (FLAG_ORDER.index(f.code), _position(partners, f.partner)))


def _position(partners: Sequence[PartnerId], partner: PartnerId | None) -> int:
    return -1 if partner is None else partners.index(partner)


def _recommendations(flags: Sequence[Flag], partners: Sequence[PartnerId]) -> list[Recommendation]:
    wanted: set[tuple[RecommendationCode, PartnerId]] = set()
    for flag in flags:
        if flag.partner is None:
            continue
        if flag.code in ("low_engagement_streak", "engagement_gap_streak"):
            wanted.add(("assess_commitment", flag.partner))
            wanted.add(("consider_individual_sessions", flag.partner))
        if flag.code == "engagement_gap_streak":
            # The more engaged partner carries the weight: support them too.
            wanted.update(("support_engaged_partner", p) for p in partners if p != flag.partner)
        if flag.code == "wellbeing_decline":
            wanted.add(("support_engaged_partner", flag.partner))
        if flag.code == "commitments_unkept":
            wanted.add(("revisit_commitments", flag.partner))
        if flag.code == "rising_resentment":
            wanted.add(("address_resentment", flag.partner))
    ordered = sorted(wanted, key=lambda w: (RECOMMENDATION_ORDER.index(w[0]), partners.index(w[1])))
    return [Recommendation(code, partner) for code, partner in ordered]


def compute_week_report(history: Sequence[CoupleWeekInput]) -> WeekReport:
    """The report of the latest week in ``history``, looking back at w-5 .. w by week_start.

    Weeks older than w-5 are ignored; a week missing from ``history`` counts
    as a week without figures. Partners keep the order of week w's input.
    """
    look = _Lookback(history)
    current = look.current
    # The gaps of w-3 .. w in tenths of a point, x being the week's position (gap_trend).
    trend_points: list[tuple[int, int]] = []
    for x, start in enumerate(look.before(TREND_WEEKS - 1)):
        balance = look.balance(start)
        if balance is not None and balance[1] is not None:
            trend_points.append((x, balance[1]))
    partners = [p.partner for p in current.week.partners]
    flags = _flags(look)
    balance_now = current.balance()[0]
    # The shared trend reads only weeks of w's own partnership: every partner who may read
    # the report can read each of them (SPEC 5.6, "uses only weeks the viewer can read").
    shared_points: list[tuple[int, int]] = []
    partnership = current.week.partnership
    for x, start in enumerate(look.before(TREND_WEEKS - 1)):
        week = look.weeks.get(start)
        if partnership is None or week is None or week.week.partnership != partnership:
            continue
        shared_units = week.shared_balance()[1]
        if shared_units is not None:
            shared_points.append((x, shared_units))
    shared_now = current.shared_balance()[0]
    target = current.week.checkin_target
    views = tuple(
        PartnerViewScores(
            p.partner,
            _shown_units(_own_score_units(p, target)),
            _shown_units(_shared_score_units(p, target)),
            joint_sessions_expected=p.joint_attended + p.joint_missed,
            joint_sessions_attended=p.joint_attended,
            shared_checkin_days=p.shared_checkin_days,
            shared_commitments_kept=p.shared_commitments_kept,
            shared_commitments_missed=p.shared_commitments_missed,
            shared_commitments_unreported=p.shared_commitments_unreported,
        )
        for p in current.week.partners
    )
    return WeekReport(
        week_start=look.week_start,
        balance=balance_now.balance,
        gap=balance_now.gap,
        gap_trend=_trend(trend_points, _SCORE_SCALE),
        less_engaged_partner=balance_now.less_engaged_partner,
        partners=tuple(current.figures(p) for p in partners),
        flags=tuple(flags),
        recommendations=tuple(_recommendations(flags, partners)),
        shared_balance=shared_now.balance,
        shared_gap=shared_now.gap,
        shared_gap_trend=_trend(shared_points, _SCORE_SCALE),
        partner_views=views,
    )


def _shown_units(units: int | None) -> float | None:
    return None if units is None else units / _SCORE_SCALE


# --- SPEC 5.8: urgency in a therapist's caseload -----------------------------

_URGENT_WELLBEING: Final = frozenset({"wellbeing_decline", "rising_resentment"})
_URGENT_STREAKS: Final = frozenset({"low_engagement_streak", "engagement_gap_streak"})


def urgency_key(
    *, safety_hold: bool, report_flags: Collection[str] | None, gap: float | None
) -> tuple[int, int, float]:
    """Sort key for a caseload, most urgent first; ``report_flags`` is None without a report.

    Levels: safety hold; wellbeing_decline or rising_resentment; a streak;
    commitments_unkept; the rest; no report. Within a level the larger gap
    comes first and a null gap last. Append the couple's id for a total order.
    """
    # A hold outranks everything, even a couple with no report yet: the
    # therapist put it there because something may be unsafe.
    level: int
    if safety_hold:
        level = 0
    elif report_flags is None:
        level = 5
    elif _URGENT_WELLBEING.intersection(report_flags):
        level = 1
    elif _URGENT_STREAKS.intersection(report_flags):
        level = 2
    elif "commitments_unkept" in report_flags:
        level = 3
    else:
        level = 4
    if gap is None:
        return (level, 1, 0.0)
    return (level, 0, -float(gap))
