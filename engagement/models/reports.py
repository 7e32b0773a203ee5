"""The stored weekly imbalance report of a couple (methodology in docs/reports.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.model_base import UUIDModel
from engagement.models.couples import Couple


class WeeklyReport(UUIDModel):
    class Balance(models.TextChoices):
        BALANCED = "balanced", "Balanced"
        LEANING = "leaning", "Leaning"
        ONE_SIDED = "one_sided", "One-sided"
        INSUFFICIENT_DATA = "insufficient_data", "Insufficient data"

    class GapTrend(models.TextChoices):
        WIDENING = "widening", "Widening"
        STABLE = "stable", "Stable"
        NARROWING = "narrowing", "Narrowing"

    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="reports")
    week_start = models.DateField()
    methodology = models.CharField(max_length=8, default="v1")
    computed_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    # Late data marks a report stale; the periodic run recomputes it (SPEC 5.7).
    stale = models.BooleanField(default=False, db_index=True)
    balance = models.CharField(max_length=17, choices=Balance.choices)
    gap = models.FloatField(null=True, blank=True)
    # null is meaningful here: fewer than three weeks with a gap (SPEC 5.3).
    gap_trend = models.CharField(  # noqa: DJ001
        max_length=9, choices=GapTrend.choices, null=True, blank=True
    )
    less_engaged_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    partners = models.JSONField(default=list)
    flags = models.JSONField(default=list)
    recommendations = models.JSONField(default=list)
    # The shared balance of SPEC 5.6, from shared inputs only: what partners may read.
    shared_balance = models.CharField(
        max_length=17, choices=Balance.choices, default=Balance.INSUFFICIENT_DATA
    )
    shared_gap = models.FloatField(null=True, blank=True)
    shared_gap_trend = models.CharField(  # noqa: DJ001
        max_length=9, choices=GapTrend.choices, null=True, blank=True
    )
    # Per partner: their own score without participation and their shared score (5.6).
    partner_views = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ("-week_start", "id")
        constraints = [
            models.UniqueConstraint(fields=["couple", "week_start"], name="report_one_per_week"),
        ]

    def __str__(self) -> str:
        return f"Report {self.week_start} r{self.revision} ({self.balance})"


class ReportReaderState(models.Model):
    """What one reader of a report sees change: its revision, computed_at and updated_at as
    that reader's view of the report last changed (SPEC 1, "Derived changes stay invisible").

    `reader_key` is "therapists" for the full view, else the partner's user id: a partner's
    values move only when their partner view of the report moves.
    """

    THERAPISTS = "therapists"

    id = models.BigAutoField(primary_key=True)
    report = models.ForeignKey(WeeklyReport, on_delete=models.CASCADE, related_name="reader_states")
    reader_key = models.CharField(max_length=36)
    revision = models.PositiveIntegerField(default=1)
    computed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    # sha256 of the reader's rendered view, without its own revision and timestamps.
    view_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "reader_key"], name="report_reader_once"),
        ]

    def __str__(self) -> str:
        return f"{self.reader_key} r{self.revision}"
