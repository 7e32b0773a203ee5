"""Admin of weekly reports: read-only, audited; figures, flags and a chart of recent weeks."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import admin
from django.contrib import messages
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from accounts.models import User
from config.admin_base import ViewOnlyAdmin
from engagement.admin.audit import AuditedReadsMixin
from engagement.admin.report_chart import Series
from engagement.admin.report_chart import engagement_chart
from engagement.models import ReportReaderState
from engagement.models import WeeklyReport
from engagement.reports import pipeline

CHART_WEEKS = 12
WEEK = timedelta(weeks=1)
MISSING = "—"

# The per-partner figures of SPEC 5.2 in reading order, with how each is written.
FIGURES = (
    ("engagement_score", "Engagement score", "score"),
    ("attendance_rate", "Attendance", "rate"),
    ("participation", "Participation", "rate"),
    ("checkin_rate", "Check-ins", "rate"),
    ("follow_through", "Follow-through", "rate"),
    ("sessions_expected", "Sessions expected", "count"),
    ("sessions_attended", "Sessions attended", "count"),
    ("checkin_days", "Check-in days", "count"),
    ("commitments_due", "Commitments due", "count"),
    ("commitments_kept", "Commitments kept", "count"),
    ("commitments_missed", "Commitments missed", "count"),
    ("commitments_unreported", "Commitments unreported", "count"),
    ("mood_avg", "Mood (avg)", "average"),
    ("effort_avg", "Effort (avg)", "average"),
    ("connection_avg", "Connection (avg)", "average"),
    ("resentment_avg", "Resentment (avg)", "average"),
    ("wellbeing_avg", "Wellbeing (avg)", "average"),
)


def figure_text(value: Any, kind: str = "") -> str:
    """A figure as a person reads it; whatever a later methodology stores still shows."""
    if value is None:
        return MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "rate":
        return f"{value * 100:.0f}%"
    if kind in ("score", "average"):
        return f"{value:.1f}"
    return str(value)


def evidence_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(figure_text(item) for item in value)
    return figure_text(value)


def dict_entries(stored: Any) -> list[dict[str, Any]]:
    """The entries of a report's stored list (partners, flags, recommendations) that can be
    shown; anything else in it is passed over rather than failing the page."""
    return [entry for entry in stored or [] if isinstance(entry, dict)]


def evidence_html(flag: dict[str, Any]) -> SafeString:
    """A flag's evidence, a line per figure."""
    evidence = flag.get("evidence") or {}
    return format_html_join(
        "", "<div>{}: {}</div>", ((key, evidence_text(value)) for key, value in evidence.items())
    )


class _ReportPage:
    """What a report's page shows besides its own row, loaded once per page: the couple's
    reports of the chart's weeks (one query) and the partners' names (one query)."""

    def __init__(self, report: WeeklyReport) -> None:
        first = report.week_start - (CHART_WEEKS - 1) * WEEK
        self.history = list(
            WeeklyReport.objects.filter(
                couple_id=report.couple_id, week_start__range=(first, report.week_start)
            )
            .order_by("week_start")
            .only("week_start", "partners")
        )
        # This report's partners first, then any former partner seen in earlier weeks.
        order: list[str] = []
        for row in [report, *self.history]:
            for entry in row.partners or []:
                partner = str(entry.get("partner"))
                if partner not in order:
                    order.append(partner)
        self.partner_ids = order
        found = User.objects.filter(pk__in=_uuids(order)).values_list("pk", "display_name")
        names = {str(pk): name for pk, name in found}
        self.names = {pid: names.get(pid) or f"partner {pid[:8]}" for pid in order}

    def name(self, partner: Any) -> str:
        return MISSING if partner is None else self.names.get(str(partner), f"partner {partner}")


def _table(css_class: str, head: SafeString, rows: SafeString) -> SafeString:
    """A table of the report's page: its header cells `head`, its body rows `rows`."""
    return format_html(
        "<table class='{}'><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        css_class,
        head,
        rows,
    )


def _flags_table(flags: list[dict[str, Any]], page: _ReportPage) -> SafeString:
    rows = format_html_join(
        "",
        "<tr><td><strong>{}</strong></td><td>{}</td><td>{}</td></tr>",
        ((flag.get("code"), page.name(flag.get("partner")), evidence_html(flag)) for flag in flags),
    )
    head = format_html_join("", "<th>{}</th>", (("flag",), ("about",), ("evidence",)))
    return _table("duet-flags", head, rows)


def _recommendation_list(items: list[dict[str, Any]], page: _ReportPage) -> SafeString:
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li><strong>{}</strong> for {}</li>",
            ((item.get("code"), page.name(item.get("partner"))) for item in items),
        ),
    )


def _uuids(values: list[str]) -> list[UUID]:
    ids = []
    for value in values:
        try:
            ids.append(UUID(value))
        except ValueError:
            continue
    return ids


@admin.register(WeeklyReport)
class WeeklyReportAdmin(AuditedReadsMixin, ViewOnlyAdmin[WeeklyReport]):
    """Reports are computed, never written by hand: no add, change or delete for anyone."""

    audit_object_type = "report"
    list_display = (
        "week_start",
        "couple",
        "balance",
        "gap",
        "gap_trend",
        "less_engaged_partner",
        "flag_codes",
        "revision",
        "stale",
        "computed_at",
    )
    list_filter = ("balance", "gap_trend", "stale", "methodology")
    list_select_related = ("couple", "less_engaged_partner")
    search_fields = ("couple__name",)
    date_hierarchy = "week_start"
    autocomplete_fields = ("couple", "less_engaged_partner")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "couple",
                    "week_start",
                    "methodology",
                    "revision",
                    "computed_at",
                    "stale",
                )
            },
        ),
        ("Balance", {"fields": ("balance", "gap", "gap_trend", "less_engaged_partner")}),
        (f"Engagement, last {CHART_WEEKS} weeks", {"fields": ("engagement_chart",)}),
        ("Each partner's figures", {"fields": ("partner_figures",)}),
        ("Flags and recommendations", {"fields": ("flags_shown", "recommendations_shown")}),
        (
            "As stored",
            {"classes": ("collapse",), "fields": ("partners", "flags", "recommendations")},
        ),
    )
    readonly_fields = (
        "engagement_chart",
        "partner_figures",
        "flags_shown",
        "recommendations_shown",
    )
    actions = ("recompute",)

    def _page(self, report: WeeklyReport) -> _ReportPage:
        page = getattr(report, "_admin_page", None)
        if page is None:
            page = _ReportPage(report)
            report._admin_page = page  # type: ignore[attr-defined]
        return page

    @admin.display(description="flags")
    def flag_codes(self, report: WeeklyReport) -> str:
        return ", ".join(str(flag.get("code")) for flag in report.flags or []) or MISSING

    @admin.display(description="chart")
    def engagement_chart(self, report: WeeklyReport) -> SafeString:
        page = self._page(report)
        scores = {
            row.week_start: {str(e.get("partner")): e.get("engagement_score") for e in row.partners}
            for row in page.history
        }
        first = page.history[0].week_start if page.history else report.week_start
        weeks: list[date] = []
        week = first
        while week <= report.week_start:
            weeks.append(week)
            week += WEEK
        series = [
            Series(
                label=page.names[pid],
                scores=[_score(scores.get(week, {}).get(pid)) for week in weeks],
            )
            for pid in page.partner_ids
        ]
        return engagement_chart(weeks, series, current=report.week_start)

    @admin.display(description="figures")
    def partner_figures(self, report: WeeklyReport) -> SafeString:
        page = self._page(report)
        entries = dict_entries(report.partners)
        if not entries:
            return format_html("<p>{}</p>", "No partner in this report.")
        known = {key for key, _, _ in FIGURES}
        # Figures a later methodology adds still show, after the known ones.
        extra = sorted({key for e in entries for key in e} - known - {"partner"})
        rows = [*FIGURES, *((key, key, "") for key in extra)]
        less_engaged = str(report.less_engaged_partner_id or "")
        header = format_html_join(
            "",
            "<th scope='col'>{}{}</th>",
            (
                (
                    page.name(e.get("partner")),
                    " (less engaged)" if str(e.get("partner")) == less_engaged else "",
                )
                for e in entries
            ),
        )
        body = format_html_join(
            "",
            "<tr><th scope='row'>{}</th>{}</tr>",
            (
                (
                    label,
                    format_html_join(
                        "", "<td>{}</td>", ((figure_text(e.get(key), kind),) for e in entries)
                    ),
                )
                for key, label, kind in rows
            ),
        )
        head = format_html("<th scope='col'>{}</th>{}", "figure", header)
        return _table("duet-figures", head, body)

    @admin.display(description="flags")
    def flags_shown(self, report: WeeklyReport) -> SafeString:
        return self._listed(report, report.flags, "No flag this week.", _flags_table)

    @admin.display(description="recommendations")
    def recommendations_shown(self, report: WeeklyReport) -> SafeString:
        return self._listed(report, report.recommendations, "None.", _recommendation_list)

    def _listed(
        self,
        report: WeeklyReport,
        stored: Any,
        empty: str,
        shown: Callable[[list[dict[str, Any]], _ReportPage], SafeString],
    ) -> SafeString:
        """A stored list of the report (flags, recommendations) `shown` with the partners'
        names, or the sentence `empty` when it holds nothing."""
        entries = dict_entries(stored)
        if not entries:
            return format_html("<p>{}</p>", empty)
        return shown(entries, self._page(report))

    def has_recompute_permission(self, request: HttpRequest) -> bool:
        # Nothing on the page is editable; recomputing is for those who may change reports.
        return request.user.has_perm("engagement.change_weeklyreport")

    @admin.action(description="Recompute the selected reports", permissions=["recompute"])
    def recompute(self, request: HttpRequest, queryset: QuerySet[WeeklyReport]) -> None:
        selected = list(queryset.values_list("pk", "couple_id", "week_start"))
        targets: dict[UUID, set[date]] = defaultdict(set)
        for _, couple_id, week_start in selected:
            targets[couple_id].add(week_start)
        ids = [pk for pk, _, _ in selected]
        # Marked stale first: should this request die half-way, the hourly run finishes it.
        WeeklyReport.objects.filter(pk__in=ids).update(stale=True)
        summary = pipeline.RunSummary()
        for chunk in pipeline.chunked(sorted(targets, key=str), settings.REPORTS_CHUNK_SIZE):
            summary += pipeline.compute_reports({cid: targets[cid] for cid in chunk})
        assert request.user.pk is not None  # the admin is for signed-in staff
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=WeeklyReport.objects.filter(pk__in=ids),
            action_flag=CHANGE,
            change_message="Recomputed from the admin.",
        )
        recomputed = summary.updated + summary.unchanged
        self.message_user(
            request,
            f"{recomputed} report(s) recomputed: {summary.updated} with changed results "
            f"(new revision), {summary.unchanged} unchanged.",
            messages.SUCCESS,
        )
        if summary.skipped:
            self.message_user(
                request,
                f"{summary.skipped} not recomputed: the couple was paused or ended that week, "
                "or has no partner; the stored report is kept as it was.",
                messages.WARNING,
            )


def _score(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@admin.register(ReportReaderState)
class ReportReaderStateAdmin(ViewOnlyAdmin[ReportReaderState]):
    """Each reader's revision and timestamps of a report (SPEC 1, "Derived changes stay
    invisible"): written by the pipeline, read here to explain what a reader was shown."""

    list_display = ("report", "reader_key", "revision", "computed_at", "updated_at")
    list_select_related = ("report",)
    search_fields = ("report__couple__name",)
    raw_id_fields = ("report",)
