"""Reports of a chunk of couples: aggregate, score, upsert; and which reports are due."""

# docs/reports.md, "How it is computed". Per chunk, whatever its size: one query for the
# reports that exist, at most one to clear their stale marks, six to aggregate, and one
# upsert (INSERT .. ON CONFLICT DO UPDATE; SQLite splits it into batches of ~60 rows).
# A report's revision grows only when its results change; running a chunk twice leaves one
# report per couple and week, with the same revision.

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from engagement.models import Couple, CoupleStatusChange, Membership, WeeklyReport
from engagement.reports import aggregates
from engagement.reports.aggregates import LocalWeek, last_completed_week, monday_of
from engagement.reports.scoring import METHODOLOGY, WeekReport, compute_week_report

T = TypeVar("T")

# What a recomputation compares: every stored result of the methodology.
RESULT_FIELDS = (
    "methodology",
    "balance",
    "gap",
    "gap_trend",
    "less_engaged_partner",
    "partners",
    "flags",
    "recommendations",
)
UPSERT_FIELDS = [
    "methodology",
    "computed_at",
    "revision",
    "balance",
    "gap",
    "gap_trend",
    "less_engaged_partner",
    "partners",
    "flags",
    "recommendations",
    "updated_at",
]


@dataclass(slots=True)
class RunSummary:
    """What a run did, report by report."""

    created: int = 0
    updated: int = 0  # recomputed with changed results: revision + 1
    unchanged: int = 0  # recomputed, same results: same revision
    skipped: int = 0  # paused, ended, before the couple existed, or no partner: no report
    pending: int = 0  # the week has not ended yet in the couple's timezone

    def __add__(self, other: RunSummary) -> RunSummary:
        return RunSummary(**{k: v + getattr(other, k) for k, v in asdict(self).items()})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _results(report: WeekReport) -> dict[str, Any]:
    data = report.to_dict()
    return {name: data[name] for name in RESULT_FIELDS}


def _stored_results(row: WeeklyReport) -> dict[str, Any]:
    return {
        "methodology": row.methodology,
        "balance": row.balance,
        "gap": row.gap,
        "gap_trend": row.gap_trend,
        "less_engaged_partner": (
            None if row.less_engaged_partner_id is None else str(row.less_engaged_partner_id)
        ),
        "partners": row.partners,
        "flags": row.flags,
        "recommendations": row.recommendations,
    }


def _report_row(
    couple_id: UUID, report: WeekReport, *, revision: int, computed_at: datetime
) -> WeeklyReport:
    results = _results(report)
    less_engaged = results["less_engaged_partner"]
    return WeeklyReport(
        couple_id=couple_id,
        week_start=report.week_start,
        methodology=METHODOLOGY,
        computed_at=computed_at,
        revision=revision,
        stale=False,
        balance=results["balance"],
        gap=results["gap"],
        gap_trend=results["gap_trend"],
        less_engaged_partner_id=None if less_engaged is None else UUID(less_engaged),
        partners=results["partners"],
        flags=results["flags"],
        recommendations=results["recommendations"],
    )


def compute_reports(
    couple_weeks: Mapping[UUID, Collection[date]], *, now: datetime | None = None
) -> RunSummary:
    """Compute and store the reports of these weeks (Mondays) of these couples."""
    now = now or timezone.now()
    targets = {
        UUID(str(cid)): {monday_of(w) for w in weeks}
        for cid, weeks in couple_weeks.items()
        if weeks
    }
    summary = RunSummary()
    if not targets:
        return summary
    all_weeks = {w for weeks in targets.values() for w in weeks}
    existing = {
        (row.couple_id, row.week_start): row
        for row in WeeklyReport.objects.filter(
            couple_id__in=list(targets), week_start__in=sorted(all_weeks)
        ).only("id", "couple_id", "week_start", "revision", "stale", *RESULT_FIELDS)
        if row.week_start in targets[row.couple_id]
    }
    # Stale marks are cleared before the data is read: late data that lands while this run
    # aggregates marks the report again, and the next run picks it up (SPEC 5.7). The upsert
    # below never writes `stale`, so it cannot undo such a mark.
    stale_ids = [row.pk for row in existing.values() if row.stale]
    if stale_ids:
        WeeklyReport.objects.filter(pk__in=stale_ids).update(stale=False)

    histories = aggregates.couple_histories(targets, now=now)
    rows: list[WeeklyReport] = []
    for couple_id, weeks in targets.items():
        history = histories.get(couple_id)
        for week_start in sorted(weeks):
            if history is None:
                summary.skipped += 1
                continue
            if LocalWeek.of(ZoneInfo(history.timezone), week_start).ends_at > now:
                summary.pending += 1
                continue
            weeks_input = history.history_for(week_start)
            if weeks_input is None:
                summary.skipped += 1
                continue
            report = compute_week_report(weeks_input)
            previous = existing.get((couple_id, week_start))
            if previous is None:
                summary.created += 1
                rows.append(_report_row(couple_id, report, revision=1, computed_at=now))
            elif _stored_results(previous) != _results(report):
                summary.updated += 1
                rows.append(
                    _report_row(couple_id, report, revision=previous.revision + 1, computed_at=now)
                )
            else:
                summary.unchanged += 1
    if rows:
        WeeklyReport.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["couple", "week_start"],
            update_fields=UPSERT_FIELDS,
        )
    return summary


def compute_reports_for_chunk(
    couple_ids: Iterable[UUID | str], week_start: date, *, now: datetime | None = None
) -> RunSummary:
    """Compute and store the report of one week for each couple of a chunk."""
    week = monday_of(week_start)
    return compute_reports({UUID(str(cid)): [week] for cid in couple_ids}, now=now)


def compute_current_report(couple: Couple, *, now: datetime | None = None) -> WeeklyReport | None:
    """The week so far, computed on request and never stored (SPEC section 4).

    Returns an unsaved report with `id` and `revision` None, or None when the week has no
    report (the couple is paused or ended this week, or has no partner).
    """
    now = now or timezone.now()
    week_start = aggregates.local_week_start(couple.timezone, now)
    history = aggregates.couple_histories({couple.pk: [week_start]}, now=now).get(couple.pk)
    weeks_input = None if history is None else history.history_for(week_start)
    if weeks_input is None:
        return None
    row = _report_row(couple.pk, compute_week_report(weeks_input), revision=1, computed_at=now)
    row.id = None  # not stored: no id (SPEC section 4)
    row.revision = None  # type: ignore[assignment]
    row.couple = couple
    return row


# --- what is due --------------------------------------------------------------------------


def reports_due(*, now: datetime | None = None) -> dict[date, set[UUID]]:
    """Couples and weeks to compute: the last completed week of each couple that lacks a
    current (non-stale) report and would get one, plus every stale report."""
    now = now or timezone.now()
    due: dict[date, set[UUID]] = defaultdict(set)
    for couple_id, week_start in WeeklyReport.objects.filter(stale=True).values_list(
        "couple_id", "week_start"
    ):
        due[week_start].add(couple_id)

    candidates: dict[date, set[UUID]] = defaultdict(set)
    not_reported = [Couple.Status.PAUSED, Couple.Status.ENDED]
    partners = Membership.objects.filter(couple_id=OuterRef("pk"), role=Membership.Role.PARTNER)
    timezones = Couple.objects.order_by().values_list("timezone", flat=True).distinct()
    for timezone_name in sorted(set(timezones)):
        # One query per timezone in use: each has its own last week and its own week end.
        week_start = last_completed_week(timezone_name, now)
        week = LocalWeek.of(ZoneInfo(timezone_name), week_start)
        current = WeeklyReport.objects.filter(
            couple_id=OuterRef("pk"), week_start=week_start, stale=False
        )
        rows = (
            Couple.objects.filter(timezone=timezone_name, created_at__lt=week.ends_at)
            .filter(Exists(partners))
            .exclude(Exists(current))
            .annotate(
                last_change=Max("status_changes__changed_at"),
                ever_paused=Exists(
                    CoupleStatusChange.objects.filter(
                        couple_id=OuterRef("pk"), status__in=not_reported
                    )
                ),
                partner_left=Exists(partners.filter(left_at__isnull=False)),
            )
            .order_by()
            .values_list("id", "status", "last_change", "ever_paused", "partner_left")
        )
        for couple_id, status, last_change, ever_paused, partner_left in rows:
            # Paused or ended before the week ended: that week gets no report.
            if status in not_reported and (last_change is None or last_change < week.ends_at):
                continue
            if status in not_reported or ever_paused or partner_left:
                candidates[week_start].add(couple_id)
            else:
                # Never paused or ended, created before the week ended, with partners who all
                # still belong: the aggregation layer would find the week present (a partner
                # in it, or joined after it), so it is due without asking.
                due[week_start].add(couple_id)

    # A pause inside the week (since lifted), or partners who left before it, also mean no
    # report: ask the aggregation layer, so that such couples are not queued again every hour.
    for week_start, couple_ids in candidates.items():
        for chunk in chunked(sorted(couple_ids, key=str), 1000):
            present = aggregates.present_weeks({cid: [week_start] for cid in chunk})
            due[week_start].update(cid for cid, weeks in present.items() if week_start in weeks)
    return {week: ids for week, ids in due.items() if ids}


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), max(1, size)):
        yield list(items[start : start + max(1, size)])
