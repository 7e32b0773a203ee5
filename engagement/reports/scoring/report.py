"""The weekly report of one couple (SPEC 5): figures, balances, flags and recommendations of
week w, and each partner's own view (SPEC 5.6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields
from datetime import date
from typing import Final

from engagement.reports.scoring.figures import _SCORE_SCALE
from engagement.reports.scoring.figures import TREND_WEEKS
from engagement.reports.scoring.figures import Balance
from engagement.reports.scoring.figures import GapTrend
from engagement.reports.scoring.figures import PartnerFigures
from engagement.reports.scoring.figures import _own_score_units
from engagement.reports.scoring.figures import _shared_score_units
from engagement.reports.scoring.figures import _trend
from engagement.reports.scoring.flags import Flag
from engagement.reports.scoring.flags import Recommendation
from engagement.reports.scoring.flags import _flags
from engagement.reports.scoring.flags import _Lookback
from engagement.reports.scoring.flags import _recommendations
from engagement.reports.scoring.flags import safety_in_lookback
from engagement.reports.scoring.inputs import CoupleWeekInput
from engagement.reports.scoring.inputs import JsonValue
from engagement.reports.scoring.inputs import PartnerId

METHODOLOGY: Final = "v1.1"


@dataclass(frozen=True, slots=True)
class PartnerViewScores:
    """What a partner's own view needs beyond SPEC 5.2's figures (SPEC 5.6): their score
    without participation, their score of the shared balance, and the shared counts it is
    computed from (what the other partner can read too: the partner digest shows these)."""

    partner: PartnerId
    engagement_score_without_participation: float | None
    shared_engagement_score: float | None
    # No defaults: compute_week_report gives every count, so one left out fails instead of
    # showing 0.
    joint_sessions_expected: int
    joint_sessions_attended: int
    shared_checkin_days: int
    shared_commitments_kept: int
    shared_commitments_missed: int
    shared_commitments_unreported: int
    # Days of the week in the partner's `couple` away periods: the partner digest shows them.
    shared_away_days: int

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
            shared_away_days=p.shared_away_days,
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
        recommendations=tuple(
            _recommendations(flags, partners, safety_hold_back=safety_in_lookback(look))
        ),
        shared_balance=shared_now.balance,
        shared_gap=shared_now.gap,
        shared_gap_trend=_trend(shared_points, _SCORE_SCALE),
        partner_views=views,
    )


def _shown_units(units: int | None) -> float | None:
    return None if units is None else units / _SCORE_SCALE
