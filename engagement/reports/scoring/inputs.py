"""What scoring reads: one week of a couple, each partner's counts and self-report tallies.

Inputs are validated when built, so every figure below is computed from well-formed counts.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from fractions import Fraction
from typing import Final
from typing import TypeAlias

PartnerId: TypeAlias = str
JsonValue: TypeAlias = (
    "str | int | float | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
)

# SPEC 1 and 5.1: averages only ever come from check-ins a therapist may read.
# An allow-list, not "everything but private", so that a visibility added
# later stays out of every average until someone decides otherwise.
SELF_REPORT_VISIBILITIES: Final = frozenset({"therapist", "couple"})


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


# SPEC 2: a session's feedback is four items of 0-10; alliance = their sum / 40.
FEEDBACK_POINTS: Final = 40

# SPEC 2: the goals a partner may set.
GOALS: Final = frozenset({"work_on_it", "decide", "separate_well", "unsure"})


@dataclass(frozen=True, slots=True)
class SessionFeedbackScore:
    """One partner's feedback on one session: its four items summed (0-40).

    ``starts_at`` orders sessions ("the last 3 sessions", SPEC 5.4); ``day`` is the session's
    local date, shown in evidence.
    """

    session: str
    starts_at: datetime
    day: date
    points: int

    def __post_init__(self) -> None:
        _check_count("points", self.points)
        if self.points > FEEDBACK_POINTS:
            raise ValueError(f"points sum four items of 0-10, got {self.points}")


@dataclass(frozen=True, slots=True)
class GoalAtEnd:
    """A partner's latest goal at the end of a week (SPEC 5.4, goal_mismatch), and the local
    date it was set."""

    partner: PartnerId
    goal: str
    set_on: date

    def __post_init__(self) -> None:
        if self.goal not in GOALS:
            raise ValueError(f"unknown goal {self.goal!r}")


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
    away_days: int = 0
    shared_away_days: int = 0
    unsafe_dates: tuple[date, ...] = ()
    feedback: tuple[SessionFeedbackScore, ...] = ()

    def __post_init__(self) -> None:
        # Inputs are built by the thousand per chunk: each check first runs over all the
        # fields at once, and only a failure walks them one by one for its message.
        if not all(type(v) is int and v >= 0 for v in _counts_of(self)):
            for name in _COUNTS:
                _check_count(name, getattr(self, name))
        _check_ratings("participation_ratings", self.participation_ratings, 0, 3)
        if len(self.participation_ratings) > self.sessions_attended:
            raise ValueError("participation_ratings can only rate attended or late entries")
        if self.checkin_days > 7:
            raise ValueError("checkin_days cannot exceed the 7 days of a week")
        if self.away_days > 7:
            raise ValueError("away_days cannot exceed the 7 days of a week")
        if len(set(self.unsafe_dates)) != len(self.unsafe_dates) or len(self.unsafe_dates) > 7:
            raise ValueError("unsafe_dates are distinct days of the week")
        if len({f.session for f in self.feedback}) != len(self.feedback):
            raise ValueError("a partner gives feedback on a session once")
        if self.missed_renewals_of_missed > self.commitments_missed:
            raise ValueError("missed_renewals_of_missed cannot exceed commitments_missed")
        if any(map(operator.gt, _parts_of(self), _wholes_of(self))):
            for part, whole in _PARTS:
                if getattr(self, part) > getattr(self, whole):
                    raise ValueError(f"{part} counts a part of {whole}, so cannot exceed it")


_COUNTS: Final = (
    "away_days",
    "shared_away_days",
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
)
_PARTS: Final = (
    ("joint_attended", "sessions_attended"),
    ("joint_missed", "sessions_missed"),
    ("shared_checkin_days", "checkin_days"),
    ("shared_commitments_kept", "commitments_kept"),
    ("shared_commitments_missed", "commitments_missed"),
    ("shared_commitments_unreported", "commitments_unreported"),
    ("shared_away_days", "away_days"),
)
_counts_of = operator.attrgetter(*_COUNTS)
_parts_of = operator.attrgetter(*(part for part, _ in _PARTS))
_wholes_of = operator.attrgetter(*(whole for _, whole in _PARTS))


@dataclass(frozen=True, slots=True)
class CoupleWeekInput:
    """One week of a couple: its check-in target and what counts for each partner."""

    week_start: date
    checkin_target: int
    partners: tuple[PartnerWeekInput, ...]
    # Which partnership (SPEC 1, "Membership periods") the whole week lies in, None for a week
    # across a change of partners. The shared gap_trend only reads weeks of w's partnership.
    partnership: int | None = 0
    # Each partner's latest goal at the end of the week (none for a partner without one).
    goals: tuple[GoalAtEnd, ...] = ()

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
        if len({g.partner for g in self.goals}) != len(self.goals):
            raise ValueError("a partner has one latest goal")


def _check_target(target: int) -> None:
    _check_count("checkin_target", target)
    if target > 7:
        raise ValueError("checkin_target is a number of days a week, 0 to 7")


def _to_json(value: JsonValue) -> JsonValue:
    """A deep copy made of dicts and lists only, so callers can serialise or compare it."""
    if isinstance(value, Mapping):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_to_json(item) for item in value]
    return value
