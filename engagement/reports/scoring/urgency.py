"""Urgency of a couple in a therapist's caseload (SPEC 5.8), from its report's flag codes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from engagement.reports.scoring.flags import FlagCode

# The levels, most urgent first; the caseload API names them (engagement/api/reports.py).
URGENCY_LEVELS: Final = (
    "safety",
    "safety_hold",
    "wellbeing",
    "engagement",
    "commitments",
    "other",
    "no_report",
)

_URGENT_SAFETY: Final[frozenset[FlagCode]] = frozenset({"safety_concern"})
_URGENT_WELLBEING: Final[frozenset[FlagCode]] = frozenset(
    {"wellbeing_decline", "rising_resentment"}
)
_URGENT_ENGAGEMENT: Final[frozenset[FlagCode]] = frozenset(
    {
        "low_engagement_streak",
        "engagement_gap_streak",
        "split_alliance",
        "low_alliance",
        "goal_mismatch",
    }
)


def urgency_key(
    *,
    safety_hold: bool,
    report_flags: Collection[str] | None,
    gap: float | None,
    unacknowledged_alert: bool = False,
) -> tuple[int, int, float]:
    """Sort key for a caseload, most urgent first; ``report_flags`` is None without a report.

    Levels (URGENCY_LEVELS): a safety alert not yet acknowledged or `safety_concern` in the
    latest report, with or without a report; a safety hold; wellbeing_decline or
    rising_resentment; an engagement streak, split or low alliance, or goal mismatch;
    commitments_unkept; the rest; no report. Within a level the larger gap comes first and a
    null gap last. Append the couple's id for a total order.
    """
    level: int
    if unacknowledged_alert or (
        report_flags is not None and _URGENT_SAFETY.intersection(report_flags)
    ):
        level = 0
    elif safety_hold:
        # A hold outranks every other signal, even a couple with no report yet: the
        # therapist put it there because something may be unsafe.
        level = 1
    elif report_flags is None:
        level = 6
    elif _URGENT_WELLBEING.intersection(report_flags):
        level = 2
    elif _URGENT_ENGAGEMENT.intersection(report_flags):
        level = 3
    elif "commitments_unkept" in report_flags:
        level = 4
    else:
        level = 5
    if gap is None:
        return (level, 1, 0.0)
    return (level, 0, -float(gap))
