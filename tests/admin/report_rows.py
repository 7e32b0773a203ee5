"""Stored weekly reports for admin tests, shaped as the pipeline stores them (SPEC 5.2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import User
from engagement.models import Couple
from engagement.models import WeeklyReport

MONDAY = dt.date(2026, 11, 16)


def partner_entry(partner: User, score: float | None, **figures: Any) -> dict[str, Any]:
    """A partner's figures as the pipeline stores them (SPEC 5.2)."""
    entry: dict[str, Any] = {
        "partner": str(partner.pk),
        "engagement_score": score,
        "attendance_rate": 1.0,
        "participation": 1.0,
        "checkin_rate": 1.0,
        "follow_through": 1.0,
        "sessions_expected": 1,
        "sessions_attended": 1,
        "checkin_days": 5,
        "commitments_due": 1,
        "commitments_kept": 1,
        "commitments_missed": 0,
        "commitments_unreported": 0,
        "mood_avg": None,
        "effort_avg": 5.0,
        "connection_avg": None,
        "resentment_avg": 4.0,
        "wellbeing_avg": 2.0,
    }
    entry.update(figures)
    return entry


def store_report(
    couple: Couple,
    week_start: dt.date,
    partners: list[tuple[User, float | None]],
    **fields: Any,
) -> WeeklyReport:
    """A stored report with these partners' scores (the rest of the figures as in SPEC 5.2)."""
    values: dict[str, Any] = {
        "balance": WeeklyReport.Balance.BALANCED,
        "partners": [partner_entry(user, score) for user, score in partners],
    }
    values.update(fields)
    return WeeklyReport.objects.create(couple=couple, week_start=week_start, **values)
