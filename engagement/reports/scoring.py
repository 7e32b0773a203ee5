"""Weekly report methodology v1 (SPEC section 5) as pure functions over plain data."""

# No Django, no clock, no settings: the aggregation layer turns rows into the
# inputs below, and everything here is decided from those inputs alone, so a
# report can be recomputed, tested and explained number by number.
# The methodology, in words a therapist can check, lives in docs/reports.md.
#
# Arithmetic is exact (fractions.Fraction) until a figure is shown: a rule
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
from typing import Final, Literal, TypeAlias

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

METHODOLOGY: Final = "v1"

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
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
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

    def __post_init__(self) -> None:
        for name in (
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


@dataclass(frozen=True, slots=True)
class CoupleWeekInput:
    """One week of a couple: its check-in target and what counts for each partner."""

    week_start: date
    checkin_target: int
    partners: tuple[PartnerWeekInput, ...]

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
        return {f.name: getattr(self, f.name) for f in fields(self)}


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
class WeekReport:
    """The computed part of a weekly report in the full (therapist) view."""

    week_start: date
    balance: Balance
    gap: float | None
    gap_trend: GapTrend | None
    less_engaged_partner: PartnerId | None
    partners: tuple[PartnerFigures, ...]
    flags: tuple[Flag, ...]
    recommendations: tuple[Recommendation, ...]

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
        }


def _to_json(value: JsonValue) -> JsonValue:
    """A deep copy made of dicts and lists only, so callers can serialise or compare it."""
    if isinstance(value, Mapping):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_to_json(item) for item in value]
    return value


# --- exact arithmetic and rounding (docs/reports.md, "Rounding") -------------


def _rounded(value: Fraction, places: int) -> Fraction:
    """The exact value rounded half away from zero to ``places`` decimals."""
    scale = 10**places
    magnitude = math.floor(abs(value) * scale + Fraction(1, 2))
    return Fraction(magnitude if value >= 0 else -magnitude, scale)


def _round_half_up(value: Fraction, places: int) -> float:
    return float(_rounded(value, places))


def _shown(value: Fraction | None, places: int) -> float | None:
    return None if value is None else _round_half_up(value, places)


def _exact(value: float) -> Fraction:
    """The decimal a shown figure stands for: 62.3 is 623/10, not the nearest binary float."""
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return Fraction(repr(float(value)))


def _mean(values: Sequence[int] | Sequence[Fraction]) -> Fraction | None:
    if not values:
        return None
    return Fraction(sum(values, Fraction(0))) / len(values)


def _ratio(part: int, whole: int) -> Fraction | None:
    return None if whole == 0 else Fraction(part, whole)


# --- SPEC 5.2: per-partner figures -------------------------------------------


@dataclass(frozen=True, slots=True)
class _Components:
    attendance: Fraction | None
    participation: Fraction | None
    checkins: Fraction | None
    follow_through: Fraction | None

    def score(self) -> Fraction | None:
        """100 * sum weight*value / sum weight over the components that are not null, exactly."""
        weighted = [
            (ATTENDANCE_WEIGHT, self.attendance),
            (PARTICIPATION_WEIGHT, self.participation),
            (CHECKIN_WEIGHT, self.checkins),
            (FOLLOW_THROUGH_WEIGHT, self.follow_through),
        ]
        present = [(weight, value) for weight, value in weighted if value is not None]
        if not present:
            return None
        total_weight = sum((weight for weight, _ in present), Fraction(0))
        return 100 * sum((weight * value for weight, value in present), Fraction(0)) / total_weight


def _components(p: PartnerWeekInput, checkin_target: int) -> _Components:
    ratings_mean = _mean(p.participation_ratings)
    checkins: Fraction | None
    if checkin_target == 0:
        checkins = None
    elif not p.joined_before_week_end and p.checkin_days == 0:
        # No one is expected to have used an app they had not joined (SPEC 5.2).
        checkins = None
    else:
        checkins = min(Fraction(1), Fraction(p.checkin_days, checkin_target))
    return _Components(
        attendance=_ratio(p.sessions_attended, p.sessions_attended + p.sessions_missed),
        participation=None if ratings_mean is None else ratings_mean / 3,
        checkins=checkins,
        # Unreported commitments stay out: a forgotten tap is not a broken promise (SPEC 5.1).
        follow_through=_ratio(p.commitments_kept, p.commitments_kept + p.commitments_missed),
    )


def compute_partner_figures(p: PartnerWeekInput, checkin_target: int) -> PartnerFigures:
    """Every figure of SPEC 5.2 for one partner and one week."""
    _check_target(checkin_target)
    components = _components(p, checkin_target)
    reports = p.self_reports
    return PartnerFigures(
        partner=p.partner,
        # The score is the rounded value (SPEC 5.2): the gap and the below-40 rule
        # read this figure, so they agree with what the therapist sees.
        engagement_score=_shown(components.score(), SCORE_PLACES),
        attendance_rate=_shown(components.attendance, RATIO_PLACES),
        participation=_shown(components.participation, RATIO_PLACES),
        checkin_rate=_shown(components.checkins, RATIO_PLACES),
        follow_through=_shown(components.follow_through, RATIO_PLACES),
        sessions_expected=p.sessions_attended + p.sessions_missed,
        sessions_attended=p.sessions_attended,
        checkin_days=p.checkin_days,
        commitments_due=p.commitments_kept + p.commitments_missed,
        commitments_kept=p.commitments_kept,
        commitments_missed=p.commitments_missed,
        commitments_unreported=p.commitments_unreported,
        mood_avg=_shown(reports.mood.mean(), AVERAGE_PLACES),
        effort_avg=_shown(reports.effort.mean(), AVERAGE_PLACES),
        connection_avg=_shown(reports.connection.mean(), AVERAGE_PLACES),
        resentment_avg=_shown(reports.resentment.mean(), AVERAGE_PLACES),
        wellbeing_avg=_shown(reports.wellbeing.mean(), AVERAGE_PLACES),
    )


# --- SPEC 5.3: balance and its trend -----------------------------------------


def compute_balance(scores: Mapping[PartnerId, float | None]) -> BalanceResult:
    """Balance, gap and less engaged partner from the partners' (rounded) scores."""
    if len(scores) > 2:
        raise ValueError("a couple never has more than two partners")
    known = [(partner, _exact(score)) for partner, score in scores.items() if score is not None]
    if len(known) < 2:
        return BalanceResult("insufficient_data", None, None)
    (first, first_score), (second, second_score) = known
    gap = abs(first_score - second_score)
    balance: Balance
    if gap < LEANING_FROM:
        balance = "balanced"
    elif gap < ONE_SIDED_FROM:
        balance = "leaning"
    else:
        balance = "one_sided"
    less_engaged = None
    if gap >= LEANING_FROM:
        less_engaged = first if first_score < second_score else second
    return BalanceResult(balance, float(gap), less_engaged)


def _least_squares_slope(points: Sequence[tuple[int, Fraction]]) -> Fraction:
    n = len(points)
    mean_x = Fraction(sum(x for x, _ in points), n)
    mean_y = sum((y for _, y in points), Fraction(0)) / n
    numerator = sum(((x - mean_x) * (y - mean_y) for x, y in points), Fraction(0))
    denominator = sum(((x - mean_x) ** 2 for x, _ in points), Fraction(0))
    return numerator / denominator


def gap_trend(gaps: Sequence[float | None]) -> GapTrend | None:
    """Trend of consecutive weekly gaps, oldest first, None for a week without one (SPEC 5.3)."""
    # x is the week's position, so a week without a gap keeps the weeks around
    # it at their true distance in time instead of closing ranks.
    points = [(x, _exact(gap)) for x, gap in enumerate(gaps) if gap is not None]
    if len(points) < TREND_MIN_GAPS:
        return None
    slope = _least_squares_slope(points)
    if slope >= TREND_SLOPE:
        return "widening"
    if slope <= -TREND_SLOPE:
        return "narrowing"
    return "stable"


# --- SPEC 5.4 and 5.5: flags and recommendations over w-5 .. w ----------------


def _weeks_before(week_start: date, oldest: int, newest: int = 0) -> list[date]:
    """Mondays from w-oldest to w-newest, oldest first."""
    return [week_start - timedelta(weeks=n) for n in range(oldest, newest - 1, -1)]


def _iso(weeks: Iterable[date]) -> list[JsonValue]:
    return [week.isoformat() for week in weeks]


@dataclass(frozen=True, slots=True)
class _Week:
    week: CoupleWeekInput
    figures: Mapping[PartnerId, PartnerFigures]
    balance: BalanceResult

    @classmethod
    def of(cls, week: CoupleWeekInput) -> _Week:
        figures = {
            p.partner: compute_partner_figures(p, week.checkin_target) for p in week.partners
        }
        balance = compute_balance({pid: f.engagement_score for pid, f in figures.items()})
        return cls(week, figures, balance)

    def partner_input(self, partner: PartnerId) -> PartnerWeekInput | None:
        return next((p for p in self.week.partners if p.partner == partner), None)


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
        # A week absent from history (paused, or before the couple existed) has
        # no figures: its scores are null, its balance insufficient_data.
        self.weeks = {
            start: _Week.of(by_start[start])
            for start in _weeks_before(self.week_start, LOOKBACK_WEEKS)
            if start in by_start
        }
        self.current = self.weeks[self.week_start]

    def figures(self, start: date, partner: PartnerId) -> PartnerFigures | None:
        week = self.weeks.get(start)
        return None if week is None else week.figures.get(partner)

    def partner_input(self, start: date, partner: PartnerId) -> PartnerWeekInput | None:
        week = self.weeks.get(start)
        return None if week is None else week.partner_input(partner)

    def balance(self, start: date) -> BalanceResult | None:
        week = self.weeks.get(start)
        return None if week is None else week.balance

    def resentment(self, weeks: Iterable[date], partner: PartnerId) -> RatingTally:
        pooled = RatingTally()
        for start in weeks:
            p = self.partner_input(start, partner)
            if p is not None:
                pooled += p.self_reports.resentment
        return pooled

    def wellbeing_average(self, start: date, partner: PartnerId) -> Fraction | None:
        p = self.partner_input(start, partner)
        return None if p is None else p.self_reports.wellbeing.mean()


def _low_engagement_streak(look: _Lookback, partner: PartnerId) -> Flag | None:
    weeks = _weeks_before(look.week_start, STREAK_WEEKS - 1)
    scores = [_score_of(look.figures(start, partner)) for start in weeks]
    # A null score is not below 40: no data is not low engagement (SPEC 5.4).
    if not all(s is not None and _exact(s) < LOW_ENGAGEMENT_BELOW for s in scores):
        return None
    evidence_scores: list[JsonValue] = list(scores)
    return Flag("low_engagement_streak", partner, {"weeks": _iso(weeks), "scores": evidence_scores})


def _score_of(figures: PartnerFigures | None) -> float | None:
    return None if figures is None else figures.engagement_score


def _engagement_gap_streak(look: _Lookback) -> Flag | None:
    weeks = _weeks_before(look.week_start, STREAK_WEEKS - 1)
    balances = [look.balance(start) for start in weeks]
    less_engaged = look.current.balance.less_engaged_partner
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
    recent_weeks = _weeks_before(look.week_start, 1)
    earlier_weeks = _weeks_before(look.week_start, LOOKBACK_WEEKS, 2)
    recent = look.resentment(recent_weeks, partner)
    earlier = look.resentment(earlier_weeks, partner)
    if recent.count < RESENTMENT_MIN_RATINGS or earlier.count < RESENTMENT_MIN_RATINGS:
        return None
    recent_avg = Fraction(recent.total, recent.count)
    earlier_avg = Fraction(earlier.total, earlier.count)
    if recent_avg < RESENTMENT_HIGH or recent_avg - earlier_avg < RESENTMENT_RISE:
        return None
    return Flag(
        "rising_resentment",
        partner,
        {
            "recent_weeks": _iso(recent_weeks),
            "recent_count": recent.count,
            "recent_avg": _round_half_up(recent_avg, AVERAGE_PLACES),
            "earlier_weeks": _iso(earlier_weeks),
            "earlier_count": earlier.count,
            "earlier_avg": _round_half_up(earlier_avg, AVERAGE_PLACES),
        },
    )


def _commitments_unkept(look: _Lookback, partner: PartnerId) -> Flag | None:
    weeks = _weeks_before(look.week_start, UNKEPT_WEEKS - 1)
    inputs = [look.partner_input(start, partner) for start in weeks]
    kept = sum(p.commitments_kept for p in inputs if p is not None)
    missed = sum(p.commitments_missed for p in inputs if p is not None)
    follow_through = _ratio(kept, kept + missed)
    mostly_missed = (
        missed >= UNKEPT_MIN_MISSED
        and follow_through is not None
        and follow_through < UNKEPT_FOLLOW_THROUGH_BELOW
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
            "follow_through": _shown(follow_through, RATIO_PLACES),
            "missed_renewals_of_missed": renewals,
        },
    )


def _wellbeing_decline(look: _Lookback, partner: PartnerId) -> Flag | None:
    current = look.wellbeing_average(look.week_start, partner)
    if current is None:
        return None
    earlier = [
        (start, average)
        for start in _weeks_before(look.week_start, WELLBEING_WEEKS, 1)
        if (average := look.wellbeing_average(start, partner)) is not None
    ]
    # The mean of weekly averages, so each earlier week weighs the same however
    # often the partner checked in during it (SPEC 5.4).
    earlier_mean = (
        _mean([average for _, average in earlier])
        if len(earlier) >= WELLBEING_MIN_EARLIER_WEEKS
        else None
    )
    previous = look.wellbeing_average(look.week_start - timedelta(weeks=1), partner)
    dropped = earlier_mean is not None and earlier_mean - current >= WELLBEING_DROP
    stays_low = previous is not None and previous <= WELLBEING_LOW and current <= WELLBEING_LOW
    if not dropped and not stays_low:
        return None
    return Flag(
        "wellbeing_decline",
        partner,
        {
            "week": look.week_start.isoformat(),
            "wellbeing_avg": _round_half_up(current, AVERAGE_PLACES),
            "previous_week_avg": _shown(previous, AVERAGE_PLACES),
            "earlier_weeks": _iso(start for start, _ in earlier),
            "earlier_avgs": [_round_half_up(average, AVERAGE_PLACES) for _, average in earlier],
            "earlier_mean": _shown(earlier_mean, AVERAGE_PLACES),
        },
    )


def _flags(look: _Lookback) -> list[Flag]:
    partners = [p.partner for p in look.current.week.partners]
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
    gaps = [
        None if (balance := look.balance(start)) is None else balance.gap
        for start in _weeks_before(look.week_start, TREND_WEEKS - 1)
    ]
    partners = [p.partner for p in current.week.partners]
    flags = _flags(look)
    return WeekReport(
        week_start=look.week_start,
        balance=current.balance.balance,
        gap=current.balance.gap,
        gap_trend=gap_trend(gaps),
        less_engaged_partner=current.balance.less_engaged_partner,
        partners=tuple(current.figures[p] for p in partners),
        flags=tuple(flags),
        recommendations=tuple(_recommendations(flags, partners)),
    )


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
