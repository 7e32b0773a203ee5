"""Urgency of a couple in a therapist's caseload (SPEC 5.8), from its report's flag codes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from engagement.reports.scoring.flags import FlagCode

_URGENT_WELLBEING: Final[frozenset[FlagCode]] = frozenset(
    {"wellbeing_decline", "rising_resentment"}
)
_URGENT_STREAKS: Final[frozenset[FlagCode]] = frozenset(
    {"low_engagement_streak", "engagement_gap_streak"}
)


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
