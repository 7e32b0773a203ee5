"""The peer design `reports_10k` is compared with: each couple's report from ordinary per-couple
ORM queries, one partner and one week at a time, then the same scoring and an upsert."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.db.models import Sum

from engagement.models import Attendance
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.reports import scoring

SCALES = ("mood", "effort", "connection", "resentment", "wellbeing")


def _partner_week(couple: Couple, partner_id: UUID, monday: date) -> scoring.PartnerWeekInput:
    zone = ZoneInfo(couple.timezone)
    start = datetime.combine(monday, time(0), zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(weeks=1), time(0), zone).astimezone(UTC)
    sunday = monday + timedelta(days=6)
    attendance = Attendance.objects.filter(
        partner_id=partner_id,
        session__couple=couple,
        session__status="completed",
        session__starts_at__gte=start,
        session__starts_at__lt=end,
    )
    attended = attendance.filter(status__in=["attended", "late"])
    ratings = [r for r in attended.values_list("participation", flat=True) if r is not None]
    checkins = CheckIn.objects.filter(
        couple=couple, author_id=partner_id, date__range=(monday, sunday)
    )
    shared = checkins.exclude(visibility="private")
    tallies = {}
    for scale in SCALES:
        row = shared.aggregate(total=Sum(scale), count=Count(scale))
        tallies[scale] = scoring.RatingTally(total=row["total"] or 0, count=row["count"])
    commitments = Commitment.objects.filter(
        couple=couple, owner_id=partner_id, due_on__range=(monday, sunday)
    )
    return scoring.PartnerWeekInput(
        partner=str(partner_id),
        sessions_attended=attended.count(),
        sessions_missed=attendance.filter(status="absent").count(),
        participation_ratings=tuple(ratings),
        checkin_days=checkins.count(),
        commitments_kept=commitments.filter(status="kept").count(),
        commitments_missed=commitments.filter(status="missed").count(),
        commitments_unreported=commitments.filter(status="open").count(),
        missed_renewals_of_missed=commitments.filter(
            status="missed", renewed_from__status="missed"
        ).count(),
        self_reports=scoring.SelfReportRatings(**tallies),
    )


def compute_couple_naively(couple_id: UUID, week_start: date) -> None:
    """One couple's report the obvious way: a handful of queries per partner and week."""
    couple = Couple.objects.get(pk=couple_id)
    partner_ids = list(
        Membership.objects.filter(couple=couple, role="partner", left_at=None).values_list(
            "user_id", flat=True
        )
    )
    history = [
        scoring.CoupleWeekInput(
            week_start=monday,
            checkin_target=couple.checkin_target_per_week,
            partners=tuple(_partner_week(couple, pid, monday) for pid in partner_ids),
        )
        for monday in (week_start - timedelta(weeks=n) for n in range(5, -1, -1))
    ]
    report = scoring.compute_week_report(history).to_dict()
    WeeklyReport.objects.update_or_create(
        couple=couple,
        week_start=week_start,
        defaults={
            "balance": report["balance"],
            "gap": report["gap"],
            "gap_trend": report["gap_trend"],
            "partners": report["partners"],
            "flags": report["flags"],
            "recommendations": report["recommendations"],
        },
    )
