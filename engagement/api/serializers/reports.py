"""Weekly reports: the representation (full or partner view), a recompute request, the caseload."""

# The shape of a report for a viewer is decided once, in engagement.selectors.reports (SPEC
# 5.6); these serializers only describe it for the schema and hand it over.

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from engagement.api.serializers.fields import CalendarDateField
from engagement.api.serializers.fields import VisibleCoupleField
from engagement.models import Couple
from engagement.models import WeeklyReport
from engagement.reports.scoring import FLAG_CODES
from engagement.reports.scoring import RECOMMENDATION_CODES
from engagement.reports.scoring import URGENCY_LEVELS
from engagement.reports.weeks import LocalWeek
from engagement.selectors.reports import report_for_viewer


def _ratio() -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, min_value=0.0, max_value=1.0)


def _average() -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, min_value=1.0, max_value=5.0)


class PartnerFiguresSerializer(serializers.Serializer):
    """One partner's figures of SPEC 5.2. In the partner view, every figure of the other
    partner is null (only `partner` stays)."""

    partner = serializers.UUIDField()
    engagement_score = serializers.FloatField(allow_null=True, min_value=0.0, max_value=100.0)
    attendance_rate = _ratio()
    participation = _ratio()
    checkin_rate = _ratio()
    follow_through = _ratio()
    sessions_expected = serializers.IntegerField(allow_null=True, min_value=0)
    sessions_attended = serializers.IntegerField(allow_null=True, min_value=0)
    checkin_days = serializers.IntegerField(allow_null=True, min_value=0, max_value=7)
    away_days = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        max_value=7,
        help_text="Days of the week inside the partner's away periods; the check-in target is "
        "pro-rated by them (SPEC 5.2).",
    )
    commitments_due = serializers.IntegerField(allow_null=True, min_value=0)
    commitments_kept = serializers.IntegerField(allow_null=True, min_value=0)
    commitments_missed = serializers.IntegerField(allow_null=True, min_value=0)
    commitments_unreported = serializers.IntegerField(allow_null=True, min_value=0)
    unsafe_days = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        max_value=7,
        help_text="Full view only: days with a safety alert (SPEC 5.1). Null in the partner "
        "view, even one's own.",
    )
    alliance = serializers.FloatField(
        allow_null=True,
        min_value=0.0,
        max_value=1.0,
        help_text="Mean of the partner's session feedback of the week, items summed / 40 "
        "(SPEC 5.2); not part of the score.",
    )
    mood_avg = _average()
    effort_avg = _average()
    connection_avg = _average()
    resentment_avg = _average()
    wellbeing_avg = _average()


def _numbers(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(allow_null=True), required=False, help_text=help_text
    )


def _days(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.DateField(), required=False, help_text=help_text)


def _number(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, required=False, help_text=help_text)


def _count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, help_text=help_text)


class FlagEvidenceSerializer(serializers.Serializer):
    """The numbers a flag was decided on (SPEC 5.4). Which keys appear depends on the flag's
    `code` (each key says for which); a later version may add keys, which clients ignore."""

    weeks = _days("low_engagement_streak, engagement_gap_streak, commitments_unkept: the weeks.")
    scores = _numbers("low_engagement_streak: the partner's score in each of `weeks`.")
    gaps = _numbers("engagement_gap_streak: the gap in each of `weeks`.")
    recent_weeks = _days("rising_resentment: w-1 and w.")
    recent_count = _count("rising_resentment: resentment ratings in `recent_weeks`.")
    recent_avg = _number("rising_resentment: their average.")
    earlier_weeks = _days("rising_resentment, wellbeing_decline: the earlier weeks compared.")
    earlier_count = _count("rising_resentment: resentment ratings in `earlier_weeks`.")
    earlier_avg = _number("rising_resentment: their average.")
    kept = _count("commitments_unkept: kept over `weeks`.")
    missed = _count("commitments_unkept: missed over `weeks`.")
    follow_through = _number("commitments_unkept: kept / (kept + missed).")
    missed_renewals_of_missed = _count(
        "commitments_unkept: commitments missed in w that renew a missed one."
    )
    week = serializers.DateField(required=False, help_text="wellbeing_decline: week w.")
    wellbeing_avg = _number("wellbeing_decline: the average in w.")
    previous_week_avg = _number("wellbeing_decline: the average in w-1.")
    earlier_avgs = _numbers("wellbeing_decline: the weekly averages of `earlier_weeks`.")
    earlier_mean = _number("wellbeing_decline: their mean.")
    dates = _days(
        "safety_concern: the unsafe days of w; split_alliance, low_alliance: the sessions' dates."
    )
    sessions = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        help_text="split_alliance, low_alliance: the sessions compared, oldest first.",
    )
    alliance = _numbers("split_alliance, low_alliance: the flagged partner's alliance in each.")
    other_alliance = _numbers("split_alliance: the other partner's alliance in each.")
    sessions_below = _count("split_alliance: sessions 0.2 or more below the other partner.")
    week_end = serializers.DateField(required=False, help_text="goal_mismatch: w's last day.")
    goals = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="goal_mismatch: each partner's latest goal at the end of w, by partner id.",
    )
    set_on = serializers.DictField(
        child=serializers.DateField(),
        required=False,
        help_text="goal_mismatch: the day each of those goals was set, by partner id.",
    )


class FlagSerializer(serializers.Serializer):
    """A pattern found in the data (SPEC 5.4); codes name patterns, not people."""

    code = serializers.ChoiceField(choices=list(FLAG_CODES))
    partner = serializers.UUIDField(allow_null=True)
    evidence = FlagEvidenceSerializer(help_text="The numbers the flag was decided on.")

    def to_representation(self, instance: Any) -> Any:
        # As scoring stored it: every key kept, none added (the serializer above types them).
        return {
            "code": instance["code"],
            "partner": instance["partner"],
            "evidence": instance["evidence"],
        }


class RecommendationSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=list(RECOMMENDATION_CODES))
    partner = serializers.UUIDField(
        allow_null=True, help_text="Null for one about the couple (SPEC 5.5)."
    )


class WeeklyReportSerializer(serializers.Serializer):
    """A weekly report as the caller may read it: `view` is `full` for the couple's therapists
    and `partner` for everyone else (SPEC 5.6)."""

    id = serializers.UUIDField(allow_null=True, help_text="Null for the week so far.")
    couple = serializers.UUIDField()
    week_start = serializers.DateField(help_text="The Monday that names the week.")
    methodology = serializers.CharField()
    view = serializers.ChoiceField(choices=["full", "partner"])
    revision = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        help_text="The caller's own: it grows only when the caller's view changes. Null for "
        "the week so far.",
    )
    computed_at = AwareDateTimeField(help_text="When the caller's view was last computed.")
    updated_at = AwareDateTimeField(help_text="When the caller's view last changed.")
    balance = serializers.ChoiceField(
        choices=WeeklyReport.Balance.choices,
        allow_null=True,
        help_text="In the partner view, the shared balance (SPEC 5.6), null unless shared.",
    )
    gap = serializers.FloatField(allow_null=True, min_value=0.0, max_value=100.0)
    gap_trend = serializers.ChoiceField(choices=WeeklyReport.GapTrend.choices, allow_null=True)
    less_engaged_partner = serializers.UUIDField(allow_null=True)
    partners = PartnerFiguresSerializer(many=True)
    flags = FlagSerializer(many=True)
    recommendations = RecommendationSerializer(many=True)
    shared_balance = serializers.ChoiceField(
        choices=WeeklyReport.Balance.choices,
        allow_null=True,
        help_text="Full view: the balance partners may see (SPEC 5.6). Null in the partner "
        "view, whose `balance` it is.",
    )
    shared_gap = serializers.FloatField(allow_null=True, min_value=0.0, max_value=100.0)
    shared_gap_trend = serializers.ChoiceField(
        choices=WeeklyReport.GapTrend.choices, allow_null=True
    )

    def to_representation(self, instance: WeeklyReport) -> dict[str, Any]:
        """The one shaping of SPEC 5.6, with what the view already knows passed in."""
        viewer = self.context["request"].user
        roles: dict[Any, str] = self.context.get("roles", {})
        return report_for_viewer(instance, viewer, role=roles.get(instance.couple_id))


class RecomputeSerializer(serializers.Serializer):
    """A week of a couple to compute again: a Monday whose week has ended for the couple."""

    couple = VisibleCoupleField()
    week_start = CalendarDateField(help_text="A Monday.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        week_start = attrs["week_start"]
        if week_start.weekday() != 0:
            raise serializers.ValidationError(
                {"week_start": ["Must be a Monday."]}, code="not_a_monday"
            )
        week = LocalWeek.of(ZoneInfo(attrs["couple"].timezone), week_start)
        now: datetime = timezone.now()
        if week.ends_at > now:
            # SPEC section 5: a week is reported once it has ended (see /reports/current/).
            raise serializers.ValidationError(
                {"week_start": ["This week has not ended yet in the couple's timezone."]},
                code="week_not_ended",
            )
        return attrs


class RecomputeAcceptedSerializer(serializers.Serializer):
    couple = serializers.UUIDField()
    week_start = serializers.DateField()


class ReportSummarySerializer(serializers.Serializer):
    """The latest report of a couple, in short."""

    id = serializers.UUIDField()
    week_start = serializers.DateField()
    revision = serializers.IntegerField(min_value=1)
    balance = serializers.ChoiceField(choices=WeeklyReport.Balance.choices)
    gap = serializers.FloatField(allow_null=True)
    gap_trend = serializers.ChoiceField(choices=WeeklyReport.GapTrend.choices, allow_null=True)
    less_engaged_partner = serializers.UUIDField(allow_null=True)
    flags = serializers.ListField(
        child=serializers.CharField(), help_text="The codes of the report's flags."
    )


class CaseloadPartnerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()


class CaseloadEntrySerializer(serializers.Serializer):
    """A couple of the therapist's caseload, with its latest report (SPEC 5.8)."""

    couple = serializers.UUIDField()
    name = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Couple.Status.choices)
    safety_hold = serializers.BooleanField()
    partners = CaseloadPartnerSerializer(many=True)
    urgency = serializers.ChoiceField(
        choices=list(URGENCY_LEVELS),
        help_text="The level of SPEC 5.8 the couple ranks at, most urgent first.",
    )
    latest_report = ReportSummarySerializer(allow_null=True)


class CaseloadSerializer(serializers.Serializer):
    results = CaseloadEntrySerializer(many=True)
