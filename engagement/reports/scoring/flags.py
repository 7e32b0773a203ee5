"""Flags over the weeks w-5 .. w (SPEC 5.4) and the recommendations each flag brings (SPEC 5.5).

FLAG_CODES and RECOMMENDATION_CODES are the one list of each: the order reports list them in,
and the choices the API and its schema offer (engagement/api/serializers/reports.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import timedelta
from fractions import Fraction
from typing import Final
from typing import Literal
from typing import TypeAlias
from typing import get_args

from engagement.reports.scoring.figures import _SCORE_SCALE
from engagement.reports.scoring.figures import AVERAGE_PLACES
from engagement.reports.scoring.figures import RATIO_PLACES
from engagement.reports.scoring.figures import BalanceResult
from engagement.reports.scoring.figures import PartnerFigures
from engagement.reports.scoring.figures import _balance
from engagement.reports.scoring.figures import _half_up
from engagement.reports.scoring.figures import _partner_figures
from engagement.reports.scoring.figures import _score_units
from engagement.reports.scoring.figures import _shared_score_units
from engagement.reports.scoring.figures import _shown_ratio
from engagement.reports.scoring.inputs import FEEDBACK_POINTS
from engagement.reports.scoring.inputs import CoupleWeekInput
from engagement.reports.scoring.inputs import JsonValue
from engagement.reports.scoring.inputs import PartnerId
from engagement.reports.scoring.inputs import PartnerWeekInput
from engagement.reports.scoring.inputs import RatingTally
from engagement.reports.scoring.inputs import SessionFeedbackScore
from engagement.reports.scoring.inputs import _to_json

FlagCode: TypeAlias = Literal[
    "low_engagement_streak",
    "engagement_gap_streak",
    "rising_resentment",
    "commitments_unkept",
    "wellbeing_decline",
    "safety_concern",
    "split_alliance",
    "low_alliance",
    "goal_mismatch",
]
RecommendationCode: TypeAlias = Literal[
    "assess_commitment",
    "consider_individual_sessions",
    "support_engaged_partner",
    "revisit_commitments",
    "address_resentment",
    "screen_individually",
    "check_alliance",
    "discernment_conversation",
]

# Ordering of flags and recommendations in a report: the order in which SPEC
# 5.4 and 5.5 list them, then partners in input order (docs/reports.md).
FLAG_CODES: Final[tuple[FlagCode, ...]] = get_args(FlagCode)
RECOMMENDATION_CODES: Final[tuple[RecommendationCode, ...]] = get_args(RecommendationCode)

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
# split_alliance: among the last 3 sessions with feedback from both partners, at least 2 in
# which one partner's alliance is 0.2 or more below the other's. In points of 40: 0.2 = 8.
SPLIT_SESSIONS: Final = 3
SPLIT_MIN_SESSIONS: Final = 2
SPLIT_GAP: Final = Fraction(1, 5)
# low_alliance: below 0.7 on each of the partner's last 2 sessions with feedback, the later in
# w-1 or w. In points of 40: below 28.
LOW_ALLIANCE_SESSIONS: Final = 2
LOW_ALLIANCE_BELOW: Final = Fraction(7, 10)
LOW_ALLIANCE_RECENT_WEEKS: Final = 2  # w-1 .. w
# goal_mismatch: one partner wants to work on it, the other to decide or to separate well.
MISMATCH_WORK: Final = "work_on_it"
MISMATCH_LEAVING: Final = frozenset({"decide", "separate_well"})


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
    """A next step for the therapist to consider, about one partner or (None) the couple
    (SPEC 5.5)."""

    code: RecommendationCode
    partner: PartnerId | None

    def to_dict(self) -> dict[str, JsonValue]:
        return {"code": self.code, "partner": self.partner}


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


# --- v1.1: safety, alliance and goals -------------------------------------------------------


def _safety_concern(look: _Lookback, partner: PartnerId) -> Flag | None:
    current = look.partner_input(look.week_start, partner)
    if current is None or not current.unsafe_dates:
        return None
    return Flag("safety_concern", partner, {"dates": _iso(sorted(current.unsafe_dates))})


def safety_in_lookback(look: _Lookback) -> bool:
    """Whether any partner has an unsafe day in w-5 .. w (SPEC 5.5: while a safety_concern
    lies in those weeks, every recommendation but screen_individually is withheld)."""
    return any(p.unsafe_dates for week in look.weeks.values() for p in week.week.partners)


def _alliance(points: int) -> float:
    return _half_up(points, FEEDBACK_POINTS, RATIO_PLACES)


def _feedback_of(look: _Lookback, partner: PartnerId) -> list[tuple[date, SessionFeedbackScore]]:
    """The partner's feedback over w-5 .. w, with its week, oldest session first."""
    found = [
        (start, feedback)
        for start in look.before(LOOKBACK_WEEKS)
        if (p := look.partner_input(start, partner)) is not None
        for feedback in p.feedback
    ]
    return sorted(found, key=lambda item: (item[1].starts_at, item[1].session))


def _split_alliance(look: _Lookback) -> Flag | None:
    partners = list(look.current.inputs)
    if len(partners) != 2:
        return None
    first, second = partners
    theirs = {f.session: f for _, f in _feedback_of(look, second)}
    both = [(f, theirs[f.session]) for _, f in _feedback_of(look, first) if f.session in theirs]
    last = both[-SPLIT_SESSIONS:]
    # alliance(q) <= alliance(other) - 0.2, in points of 40: other - q >= 8, exactly.
    gap = SPLIT_GAP * FEEDBACK_POINTS
    for q, index in ((first, 0), (second, 1)):
        below = [pair for pair in last if pair[1 - index].points - pair[index].points >= gap]
        if len(below) >= SPLIT_MIN_SESSIONS:
            return Flag(
                "split_alliance",
                q,
                {
                    "sessions": [pair[0].session for pair in last],
                    "dates": _iso(pair[0].day for pair in last),
                    "alliance": [_alliance(pair[index].points) for pair in last],
                    "other_alliance": [_alliance(pair[1 - index].points) for pair in last],
                    "sessions_below": len(below),
                },
            )
    return None


def _low_alliance(look: _Lookback, partner: PartnerId) -> Flag | None:
    feedback = _feedback_of(look, partner)[-LOW_ALLIANCE_SESSIONS:]
    if len(feedback) < LOW_ALLIANCE_SESSIONS:
        return None
    if feedback[-1][0] not in look.before(LOW_ALLIANCE_RECENT_WEEKS - 1):
        return None
    # points / 40 < 0.7, cross-multiplied: points * 10 < 7 * 40.
    below = LOW_ALLIANCE_BELOW
    if not all(
        f.points * below.denominator < below.numerator * FEEDBACK_POINTS for _, f in feedback
    ):
        return None
    return Flag(
        "low_alliance",
        partner,
        {
            "sessions": [f.session for _, f in feedback],
            "dates": _iso(f.day for _, f in feedback),
            "alliance": [_alliance(f.points) for _, f in feedback],
        },
    )


def _goal_mismatch(look: _Lookback) -> Flag | None:
    week = look.current.week
    goals = {g.partner: g for g in week.goals if g.partner in look.current.inputs}
    if len(goals) != 2:
        return None
    values = {g.goal for g in goals.values()}
    if MISMATCH_WORK not in values or not values & MISMATCH_LEAVING:
        return None
    # Keyed by partner, so the evidence does not depend on the order partners are listed in.
    return Flag(
        "goal_mismatch",
        None,
        {
            "week_end": (look.week_start + timedelta(days=6)).isoformat(),
            "goals": {g.partner: g.goal for g in goals.values()},
            "set_on": {g.partner: g.set_on.isoformat() for g in goals.values()},
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
        found.append(_safety_concern(look, partner))
        found.append(_low_alliance(look, partner))
    found.append(_engagement_gap_streak(look))
    found.append(_split_alliance(look))
    found.append(_goal_mismatch(look))
    flags = [flag for flag in found if flag is not None]
    return sorted(flags, key=lambda f: (FLAG_CODES.index(f.code), _position(partners, f.partner)))


def _position(partners: Sequence[PartnerId], partner: PartnerId | None) -> int:
    return -1 if partner is None else partners.index(partner)


def _recommendations(
    flags: Sequence[Flag], partners: Sequence[PartnerId], *, safety_hold_back: bool = False
) -> list[Recommendation]:
    """The recommendations the flags bring (SPEC 5.5). With ``safety_hold_back`` (a
    safety_concern in w-5 .. w), every recommendation but screen_individually is withheld."""
    wanted: set[tuple[RecommendationCode, PartnerId | None]] = set()
    for flag in flags:
        if flag.code == "safety_concern":
            wanted.add(("screen_individually", None))
        if flag.code == "goal_mismatch":
            wanted.add(("discernment_conversation", None))
        if flag.partner is None:
            continue
        if flag.code in ("split_alliance", "low_alliance"):
            wanted.add(("check_alliance", flag.partner))
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
    if safety_hold_back:
        wanted = {w for w in wanted if w[0] in SAFETY_RECOMMENDATIONS}
    ordered = sorted(
        wanted, key=lambda w: (RECOMMENDATION_CODES.index(w[0]), _position(partners, w[1]))
    )
    return [Recommendation(code, partner) for code, partner in ordered]


# Recommendations shown while a safety signal holds the others back (SPEC 5.5): engagement
# advice misfires under coercion.
SAFETY_RECOMMENDATIONS: Final[frozenset[RecommendationCode]] = frozenset({"screen_individually"})
