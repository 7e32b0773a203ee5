"""Stored weekly reports for admin tests, shaped as the pipeline stores them (SPEC 5.2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import User
from engagement.models import Couple
from engagement.models import WeeklyReport
from tests.engagement.reports.builders import partner_entry as stored_entry

MONDAY = dt.date(2026, 11, 16)


def partner_entry(partner: User, score: float | None, **figures: Any) -> dict[str, Any]:
    """A partner's figures as the pipeline stores them (SPEC 5.2), with a score, ratings for
    effort, resentment and wellbeing, and five check-in days."""
    ratings = {"effort_avg": 5.0, "resentment_avg": 4.0, "wellbeing_avg": 2.0}
    return stored_entry(
        partner, **{"engagement_score": score, "checkin_days": 5, **ratings, **figures}
    )


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
