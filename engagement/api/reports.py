"""Reports API: weekly reports (stored, and the week so far), recomputation, the caseload.

Order of answers: 401 without a token; 404 for a report or couple outside the caller's
reach; 403 for what the caller may see but not do (a partner asking for a recomputation or
for a caseload); 400 for a bad body. Every list costs the same few queries whatever its size.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import OuterRef
from django.db.models import Prefetch
from django.db.models import QuerySet
from django.db.models import Subquery
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer
from rest_framework import serializers
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from config.api.middleware import json_etag
from engagement.api import openapi
from engagement.api.audit import AuditedListMixin
from engagement.api.audit import record_therapist_reads
from engagement.api.base import VisibleViewSet
from engagement.api.base import caller
from engagement.api.base import couple_query_param
from engagement.api.base import found
from engagement.api.base import generating_schema
from engagement.api.base import validated
from engagement.api.filters import ReportFilter
from engagement.api.permissions import may_read_caseload
from engagement.api.permissions import may_recompute_reports
from engagement.api.permissions import require
from engagement.api.serializers.fields import VisibleCoupleField
from engagement.api.serializers.reports import CaseloadSerializer
from engagement.api.serializers.reports import RecomputeAcceptedSerializer
from engagement.api.serializers.reports import RecomputeSerializer
from engagement.api.serializers.reports import WeeklyReportSerializer
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import SafetyAlert
from engagement.models import WeeklyReport
from engagement.reports.pipeline import compute_current_report
from engagement.reports.scoring import URGENCY_LEVELS
from engagement.reports.scoring import urgency_key
from engagement.reports.tasks import compute_report_chunk
from engagement.selectors.reports import reports_readable_by
from engagement.selectors.reports import week_readable_by
from engagement.selectors.visibility import couples_visible_to
from engagement.selectors.visibility import couples_with_role
from engagement.selectors.visibility import roles_by_couple

Role = Membership.Role


def conditional(request: Request, response: Response) -> Response:
    """An ETag of the caller's own representation, and 304 when If-None-Match holds it
    (SPEC 3), as ConditionalRetrieveMixin does for details."""
    if response.status_code != status.HTTP_200_OK:
        return response
    body = json.dumps(response.data, sort_keys=True, separators=(",", ":"), default=str)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    tags = {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("If-None-Match", "").split(",")
    }
    if etag in tags or "*" in tags:
        response = Response(status=status.HTTP_304_NOT_MODIFIED)
    response["ETag"] = etag
    return response


class _RecomputeCoupleSerializer(serializers.Serializer):
    couple = VisibleCoupleField()


class ReportViewSet(AuditedListMixin, VisibleViewSet[WeeklyReport]):
    """Weekly reports, newest week first, in the view the caller may read (SPEC 5.6)."""

    model = WeeklyReport
    serializer_class = WeeklyReportSerializer
    filterset_class = ReportFilter
    # Newest week first; with `updated_since`, (updated_at, id) ascending for sync.
    list_ordering = ("-week_start", "id")
    # A therapist reading the full comparison leaves a trace (docs/security.md).
    list_audit = ("report.list", "report")
    sync_ordering = ("reader_updated_at", "id")

    def visible_to(self, user: User) -> QuerySet[WeeklyReport]:
        # The couple and its memberships come with the page: whether the balance is shared
        # is decided from them without a query per report.
        return (
            reports_readable_by(user)
            .select_related("couple")
            .prefetch_related(
                Prefetch("couple__memberships", queryset=Membership.objects.order_by("joined_at"))
            )
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not generating_schema(self):
            # One query for every couple of the page: who reads the full view.
            context["roles"] = roles_by_couple(self.caller)
        return context

    @extend_schema(
        summary="List the weekly reports the caller may see",
        description=(
            "Reports of the caller's couples: the full view for their therapists, the partner "
            "view for partners (own figures without participation or unsafe_days; the shared "
            "balance only when shared; only weeks lying entirely in a partnership of theirs). "
            "Therapists read a couple on safety hold with every recommendation but "
            "`screen_individually` withheld (SPEC 5.5). `revision`, "
            "`computed_at` and `updated_at` are the caller's own. Newest `week_start` first; "
            "with `updated_since`, by the caller's (`updated_at`, `id`) ascending. Range "
            "filters are inclusive."
        ),
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The ETag is of the caller's own page: their views and their own values.
        return conditional(request, super().list(request, *args, **kwargs))

    @extend_schema(
        summary="Read a weekly report",
        examples=openapi.REPORT_READ,
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def get_object(self) -> WeeklyReport:
        report: WeeklyReport = super().get_object()
        record_therapist_reads(
            self.request, action="report.retrieve", object_type="report", objects=[report]
        )
        return report

    @extend_schema(
        summary="The week so far",
        description=(
            "The current week of the couple, in its timezone, computed on request by the same "
            "methodology and never stored: `id` and `revision` are null. 404 when the couple "
            "is paused or ended this week, or has no partner (such weeks get no report)."
        ),
        parameters=[openapi.CURRENT_REPORT_COUPLE_PARAMETER],
        responses={200: WeeklyReportSerializer},
    )
    @action(detail=False, methods=["get"], url_path="current")
    def current(self, request: Request) -> Response:
        couple = found(
            couples_visible_to(self.caller).filter(pk=couple_query_param(request)).first()
        )
        report = compute_current_report(couple)
        if report is None or not week_readable_by(self.caller, couple, report.week_start):
            # A week across a change of partners is the therapist's alone (SPEC 1).
            raise NotFound("The couple has no report this week (paused, ended or no partner).")
        record_therapist_reads(
            request, action="report.current", object_type="report", objects=[report]
        )
        data = self.get_serializer(report).data
        response = Response(data)
        # Computed on request: the tag leaves out the moments of computing, so an unchanged week
        # answers 304 (SPEC section 3).
        response["ETag"] = json_etag(
            {k: v for k, v in data.items() if k not in ("computed_at", "updated_at")}
        )
        return response

    @extend_schema(
        summary="Compute a week's report again",
        description=(
            "Therapists of the couple: queue the computation of a week that has ended. The "
            "report's `revision` goes up only if anything in it changes; a week in which the "
            "couple was paused or ended stays without a report. Partners: 403."
        ),
        request=RecomputeSerializer,
        responses={202: RecomputeAcceptedSerializer},
        examples=openapi.REPORT_RECOMPUTE,
    )
    @action(detail=False, methods=["post"], url_path="recompute")
    def recompute(self, request: Request) -> Response:
        user = self.caller
        # The couple first: an invisible one is 400, a partner's own is 403, then the week.
        require(
            may_recompute_reports(user, validated(_RecomputeCoupleSerializer, request)["couple"]),
            "Reports are recomputed by the couple's therapist.",
        )
        data = validated(RecomputeSerializer, request)
        couple: Couple = data["couple"]
        week = data["week_start"].isoformat()
        transaction.on_commit(lambda: compute_report_chunk.delay([str(couple.pk)], week))
        return Response(
            {"couple": str(couple.pk), "week_start": week}, status=status.HTTP_202_ACCEPTED
        )


def _latest_reports(couple_ids: QuerySet[Couple, UUID]) -> dict[UUID, WeeklyReport]:
    """The latest report of each couple, in one query."""
    latest_week = (
        WeeklyReport.objects.filter(couple_id=OuterRef("couple_id"))
        .order_by("-week_start")
        .values("week_start")[:1]
    )
    return {
        report.couple_id: report
        for report in WeeklyReport.objects.filter(
            couple_id__in=couple_ids, week_start=Subquery(latest_week)
        )
    }


def _unacknowledged_alerts(couple_ids: QuerySet[Couple, UUID]) -> set[UUID]:
    """The couples with a safety alert no therapist has acknowledged yet, in one query (the
    partial index `safety_alert_unacknowledged`)."""
    return set(
        SafetyAlert.objects.filter(couple_id__in=couple_ids, acknowledged_at__isnull=True)
        .order_by()
        .values_list("couple_id", flat=True)
        .distinct()
    )


def _summary(report: WeeklyReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "id": str(report.pk),
        "week_start": report.week_start.isoformat(),
        "revision": report.revision,
        "balance": report.balance,
        "gap": report.gap,
        "gap_trend": report.gap_trend,
        "less_engaged_partner": (
            None if report.less_engaged_partner_id is None else str(report.less_engaged_partner_id)
        ),
        "flags": [flag["code"] for flag in report.flags],
    }


@dataclass(frozen=True)
class _CaseloadRead:
    """A couple as the audit log records a caseload read of it."""

    couple_id: UUID

    @property
    def id(self) -> UUID:
        return self.couple_id


class CaseloadView(APIView):
    """A therapist's couples with their latest report, most urgent first (SPEC 5.8).

    One object, not a paginated list: the order is the point, and a caseload is small.
    """

    def _couples(self, user: User) -> list[Couple]:
        partners = Membership.objects.filter(
            role=Role.PARTNER, left_at__isnull=True
        ).select_related("user")
        return list(
            couples_with_role(user, Role.THERAPIST).prefetch_related(
                Prefetch(
                    "memberships", queryset=partners.order_by("partner_slot"), to_attr="partners"
                )
            )
        )

    @extend_schema(
        summary="The caller's caseload, most urgent first",
        description=(
            "Therapists only (partners: 403). Every couple in which the caller is a therapist, "
            "with a summary of its latest report, ordered as SPEC 5.8 says: a safety alert not "
            "yet acknowledged or `safety_concern` in the latest report (`urgency: safety`); "
            "then a safety hold; then `wellbeing_decline` or `rising_resentment`; then "
            "`low_engagement_streak`, `engagement_gap_streak`, `split_alliance`, "
            "`low_alliance` or `goal_mismatch`; then `commitments_unkept`; then the rest; "
            "couples with no report last. Within a level, the larger gap first. Not paginated."
        ),
        # Partners are refused: a GET the schema would not otherwise document 403 for.
        responses={200: CaseloadSerializer, 403: ErrorResponse403Serializer},
    )
    def get(self, request: Request) -> Response:
        user = caller(request)
        require(may_read_caseload(user), "The caseload is the therapists'.")
        couples = self._couples(user)
        couple_ids = couples_with_role(user, Role.THERAPIST).values_list("id", flat=True)
        latest = _latest_reports(couple_ids)
        alerted = _unacknowledged_alerts(couple_ids)
        entries = []
        for couple in couples:
            report = latest.get(couple.pk)
            codes = None if report is None else [flag["code"] for flag in report.flags]
            key = urgency_key(
                safety_hold=couple.safety_hold,
                report_flags=codes,
                gap=None if report is None else report.gap,
                unacknowledged_alert=couple.pk in alerted,
            )
            entries.append(
                (
                    (*key, str(couple.pk)),
                    {
                        "couple": str(couple.pk),
                        "name": couple.name,
                        "status": couple.status,
                        "safety_hold": couple.safety_hold,
                        "partners": [
                            {"id": str(m.user_id), "display_name": m.user.display_name}
                            for m in couple.partners  # type: ignore[attr-defined]
                        ],
                        "urgency": URGENCY_LEVELS[key[0]],
                        "latest_report": _summary(report),
                    },
                )
            )
        entries.sort(key=lambda entry: entry[0])
        # The caseload shows each couple's balance and flags: a therapist read, audited like
        # the others (docs/security.md), one event per couple.
        record_therapist_reads(
            request,
            action="caseload.read",
            object_type="couple",
            objects=[_CaseloadRead(couple.pk) for couple in couples],
        )
        return Response({"results": [entry for _, entry in entries]})
