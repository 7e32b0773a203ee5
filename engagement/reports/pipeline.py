"""Reports of a chunk of couples: aggregate, score, upsert; and which reports are due."""

# docs/reports.md, "How it is computed". Per chunk, whatever its size: one query for the
# reports that exist, at most one to clear their stale marks, six to aggregate, and one
# upsert (INSERT .. ON CONFLICT DO UPDATE; SQLite splits it into batches of ~60 rows).
# A report's revision grows only when its results change; running a chunk twice leaves one
# report per couple and week, with the same revision.

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from functools import cache
from typing import Any
from typing import TypeVar
from uuid import UUID
from uuid import uuid4
from zoneinfo import ZoneInfo

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import DateField
from django.db.models import Exists
from django.db.models import F
from django.db.models import Max
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.reports import aggregates
from engagement.reports.reader_views import refresh_reader_states
from engagement.reports.scoring import METHODOLOGY
from engagement.reports.scoring import WeekReport
from engagement.reports.scoring import compute_week_report
from engagement.reports.weeks import WEEK
from engagement.reports.weeks import LocalWeek
from engagement.reports.weeks import last_completed_week
from engagement.reports.weeks import local_week_start
from engagement.reports.weeks import monday_of

T = TypeVar("T")

# What the methodology computes; a recomputation compares these and the methodology.
SCORE_FIELDS = (
    "balance",
    "gap",
    "gap_trend",
    "less_engaged_partner",
    "partners",
    "flags",
    "recommendations",
    "shared_balance",
    "shared_gap",
    "shared_gap_trend",
    "partner_views",
)
RESULT_FIELDS = ("methodology", *SCORE_FIELDS)
UPSERT_FIELDS = ["methodology", "computed_at", "revision", *SCORE_FIELDS, "updated_at"]


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
        "shared_balance": row.shared_balance,
        "shared_gap": row.shared_gap,
        "shared_gap_trend": row.shared_gap_trend,
        "partner_views": row.partner_views,
    }


@dataclass(frozen=True, slots=True)
class _ReportToStore:
    couple_id: UUID
    week_start: date
    revision: int
    results: dict[str, Any]  # _results() of the report


def _report_row(
    couple_id: UUID, report: WeekReport, *, revision: int, computed_at: datetime
) -> WeeklyReport:
    return _row(
        _ReportToStore(couple_id, report.week_start, revision, _results(report)), computed_at
    )


def _row(report: _ReportToStore, computed_at: datetime) -> WeeklyReport:
    results = report.results
    less_engaged = results["less_engaged_partner"]
    return WeeklyReport(
        couple_id=report.couple_id,
        week_start=report.week_start,
        methodology=METHODOLOGY,
        computed_at=computed_at,
        revision=report.revision,
        stale=False,
        balance=results["balance"],
        gap=results["gap"],
        gap_trend=results["gap_trend"],
        less_engaged_partner_id=None if less_engaged is None else UUID(less_engaged),
        partners=results["partners"],
        flags=results["flags"],
        recommendations=results["recommendations"],
        shared_balance=results["shared_balance"],
        shared_gap=results["shared_gap"],
        shared_gap_trend=results["shared_gap_trend"],
        partner_views=results["partner_views"],
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
    to_store: list[_ReportToStore] = []
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
            results = _results(compute_week_report(weeks_input))
            previous = existing.get((couple_id, week_start))
            if previous is None:
                summary.created += 1
                to_store.append(_ReportToStore(couple_id, week_start, 1, results))
            elif _stored_results(previous) != results:
                summary.updated += 1
                to_store.append(
                    _ReportToStore(couple_id, week_start, previous.revision + 1, results)
                )
            else:
                summary.unchanged += 1
    if to_store:
        _upsert(to_store, computed_at=now)
    # Each reader's revision and timestamps move only if their own view moved (SPEC 1).
    reported = [
        row
        for row in WeeklyReport.objects.filter(
            couple_id__in=list(targets), week_start__in=sorted(all_weeks)
        )
        if row.week_start in targets[row.couple_id]
    ]
    refresh_reader_states(reported, computed_at=now)
    return summary


def _upsert(reports: Sequence[_ReportToStore], *, computed_at: datetime) -> None:
    """Write the reports in one statement, INSERT .. ON CONFLICT (couple, week_start) DO
    UPDATE, never touching `stale` (see compute_reports)."""
    if connection.vendor != "postgresql":
        WeeklyReport.objects.bulk_create(
            [_row(report, computed_at) for report in reports],
            update_conflicts=True,
            unique_fields=["couple", "week_start"],
            update_fields=UPSERT_FIELDS,
        )
        return
    # On PostgreSQL the rows travel as one JSON document, read back by jsonb_to_recordset:
    # bulk_create would send each column as an array literal, whose quoting of the JSON
    # columns alone cost more than the rest of the upsert (docs/benchmarks.md).
    rows = [
        {
            "id": str(uuid4()),
            "couple_id": str(report.couple_id),
            "week_start": report.week_start.isoformat(),
            "revision": report.revision,
            **report.results,
        }
        for report in reports
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _postgresql_upsert_sql(),
            {
                "rows": json.dumps(rows, separators=(",", ":")),
                "computed_at": computed_at,
                "now": timezone.now(),
            },
        )


@cache
def _postgresql_upsert_sql() -> str:
    meta = WeeklyReport._meta
    column = {f.name: f.column for f in meta.concrete_fields}
    # Each column of the table, from the JSON rows or from a parameter; `stale` is false
    # for a new report and left alone for an existing one.
    values = {
        column["id"]: "r.id",
        column["couple"]: "r.couple_id",
        column["week_start"]: "r.week_start",
        column["methodology"]: "r.methodology",
        column["computed_at"]: "%(computed_at)s",
        column["revision"]: "r.revision",
        column["stale"]: "false",
        column["balance"]: "r.balance",
        column["gap"]: "r.gap",
        column["gap_trend"]: "r.gap_trend",
        column["less_engaged_partner"]: "r.less_engaged_partner",
        column["partners"]: "r.partners",
        column["flags"]: "r.flags",
        column["recommendations"]: "r.recommendations",
        column["shared_balance"]: "r.shared_balance",
        column["shared_gap"]: "r.shared_gap",
        column["shared_gap_trend"]: "r.shared_gap_trend",
        column["partner_views"]: "r.partner_views",
        column["created_at"]: "%(now)s",
        column["updated_at"]: "%(now)s",
    }
    if set(values) != set(column.values()):
        raise ImproperlyConfigured("the report upsert must name every column of WeeklyReport")
    record = (
        "id uuid, couple_id uuid, week_start date, revision integer, methodology text, "
        "balance text, gap double precision, gap_trend text, less_engaged_partner uuid, "
        "partners jsonb, flags jsonb, recommendations jsonb, shared_balance text, "
        "shared_gap double precision, shared_gap_trend text, partner_views jsonb"
    )
    updates = ", ".join(f"{column[name]} = EXCLUDED.{column[name]}" for name in UPSERT_FIELDS)
    return (
        f"INSERT INTO {meta.db_table} ({', '.join(values)}) "  # noqa: S608 - names from _meta
        f"SELECT {', '.join(values.values())} "
        f"FROM jsonb_to_recordset(%(rows)s::jsonb) AS r({record}) "
        f"ON CONFLICT ({column['couple']}, {column['week_start']}) DO UPDATE SET {updates}"
    )


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
    week_start = local_week_start(couple.timezone, now)
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
    due: dict[date, set[UUID]] = defaultdict(set)
    for week_start, couple_ids in reports_due_in_parts(now=now):
        due[week_start].update(couple_ids)
    return {week: ids for week, ids in due.items() if ids}


def reports_due_in_parts(*, now: datetime | None = None) -> Iterator[tuple[date, set[UUID]]]:
    """What reports_due finds, part by part as soon as each is known (stale reports, then
    timezone by timezone), so that the first chunks can be queued while the rest is planned.
    A couple may come up twice for the same week."""
    now = now or timezone.now()
    stale: dict[date, set[UUID]] = defaultdict(set)
    for couple_id, week_start in WeeklyReport.objects.filter(stale=True).values_list(
        "couple_id", "week_start"
    ):
        stale[week_start].add(couple_id)
    yield from stale.items()

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
        due: set[UUID] = set()
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
                due.add(couple_id)
        yield week_start, due

    yield from onboarding_history_due().items()

    # A pause inside the week (since lifted), or partners who left before it, also mean no
    # report: ask the aggregation layer, so that such couples are not queued again every hour.
    for week_start, couple_ids in candidates.items():
        for chunk in chunked(sorted(couple_ids, key=str), 1000):
            present = aggregates.present_weeks({cid: [week_start] for cid in chunk})
            yield week_start, {cid for cid, weeks in present.items() if week_start in weeks}


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), max(1, size)):
        yield list(items[start : start + max(1, size)])


def onboarding_history_due(couple_id: UUID | None = None) -> dict[date, set[UUID]]:
    """Weeks before a couple's creation week that hold its history and lack a report (SPEC 5:
    every earlier week from the earliest one holding any of its sessions, commitments or
    check-ins), in one query: couples with partners and with data dated before (or about) their
    creation, found by SQL as a superset; the exact local weeks are decided here."""
    partners = Membership.objects.filter(couple_id=OuterRef("pk"), role=Membership.Role.PARTNER)
    created_day = Cast("created_at", DateField())
    couples = Couple.objects.filter(Exists(partners))
    if couple_id is not None:
        couples = couples.filter(pk=couple_id)
    rows = (
        aggregates.with_first_data(couples)
        .annotate(
            first_report=Subquery(
                WeeklyReport.objects.filter(couple_id=OuterRef("pk"))
                .order_by("week_start")
                .values("week_start")[:1]
            )
        )
        # A local date can be a day either side of the UTC one: `<=` and a day's margin.
        .filter(
            Q(first_checkin__lte=created_day)
            | Q(first_due__lte=created_day)
            | Q(first_session__lt=F("created_at") + timedelta(days=1))
        )
        .order_by()
        .values_list(
            "id",
            "timezone",
            "created_at",
            "first_checkin",
            "first_due",
            "first_session",
            "first_report",
        )
    )
    due: dict[date, set[UUID]] = defaultdict(set)
    for found_id, timezone_name, created_at, *firsts, first_report in rows:
        first_week = aggregates.first_data_week(ZoneInfo(timezone_name), *firsts)
        creation_week = local_week_start(timezone_name, created_at)
        if first_week is None:
            continue
        last = creation_week - WEEK
        if first_report is not None:
            last = min(last, first_report - WEEK)
        week = first_week
        while week <= last:
            due[week].add(found_id)
            week += WEEK
    return dict(due)
