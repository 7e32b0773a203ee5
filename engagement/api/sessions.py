"""Sessions API: list, schedule or log, read, edit, delete, and record attendance.

Order of answers: 401 without a token; 404 for a session outside the caller's reach (a
partner never learns of the other partner's individual sessions); 403 for one they see but
may not change; 400 for a bad body; 409 for a change the couple's state refuses (ended).
Who changes sessions: the couple's therapists; its partners only while the couple has no
therapist, and then only joint sessions and their own attendance, never a rating or notes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from engagement.api import openapi
from engagement.api.base import ReaderViewSet
from engagement.api.base import generating_schema
from engagement.api.base import validated
from engagement.api.filters import SessionFilter
from engagement.api.idempotency import idempotent
from engagement.api.permissions import may_manage
from engagement.api.permissions import may_manage_individual_sessions
from engagement.api.permissions import may_manage_session
from engagement.api.permissions import may_record_attendance
from engagement.api.permissions import may_write_session_notes
from engagement.api.permissions import require
from engagement.api.permissions import role_of
from engagement.api.serializers.sessions import AttendanceRecordSerializer
from engagement.api.serializers.sessions import SessionCreateSerializer
from engagement.api.serializers.sessions import SessionSerializer
from engagement.api.serializers.sessions import SessionUpdateSerializer
from engagement.models import TherapySession
from engagement.selectors.visibility import Reach
from engagement.selectors.visibility import active_partner_ids
from engagement.selectors.visibility import reach_of
from engagement.selectors.visibility import sessions_visible_to
from engagement.services.sessions import AttendanceEntry
from engagement.services.sessions import attendance_record
from engagement.services.sessions import session_create
from engagement.services.sessions import session_delete
from engagement.services.sessions import session_update


@extend_schema_view(
    list=extend_schema(
        summary="List the sessions the caller may see",
        description=(
            "Joint sessions of the caller's couples, their own individual sessions, and for "
            "therapists every session of their couples. Newest `starts_at` first; with "
            "`updated_since`, by (`updated_at`, `id`) ascending. Range filters are inclusive."
        ),
    ),
    retrieve=extend_schema(
        summary="Read a session",
        description=(
            "Partners never see `therapist_notes` nor a participation rating (null, their own "
            "included); they read both partners' attendance statuses of a joint session. "
            "`updated_at` and the ETag are the caller's own: a therapist's notes or ratings "
            "never move a partner's."
        ),
        examples=openapi.SESSION_READ,
    ),
)
class SessionViewSet(ReaderViewSet[TherapySession]):
    """Therapy sessions, joint or individual, newest first."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    # Newest first; with `updated_since`, (updated_at, id) ascending for sync.
    list_ordering = ("-starts_at", "id")

    def visible_to(self, user: User) -> QuerySet[TherapySession]:
        return sessions_visible_to(user, self._reach).prefetch_related("attendance")

    @cached_property
    def _reach(self) -> Reach:
        return reach_of(self.caller)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not generating_schema(self):
            # Who reads notes and ratings, from the reach the queryset was built on.
            reach = self._reach
            context["roles"] = {
                couple_id: reach.role(couple_id)
                for couple_id in (*reach.therapist_of, *reach.partner_of)
            }
        return context

    def _within_reach(self, write: Callable[[], TherapySession]) -> TherapySession:
        """Run a write, and undo it (400 on `starts_at`) when the caller could not read the
        result: a partner without a therapist cannot place a joint session outside their own
        time in the couple (SPEC section 1, membership periods), where nobody could answer it."""
        with transaction.atomic():
            session = write()
            if not self.get_queryset().filter(pk=session.pk).exists():
                raise ValidationError(
                    {
                        "starts_at": [
                            ErrorDetail(
                                "This moment lies outside your time in this couple.",
                                code="out_of_reach",
                            )
                        ]
                    }
                )
        return session

    def _require_manager(self, user: User, session: TherapySession) -> None:
        """403 unless the caller may change this session."""
        require(
            may_manage(user, session.couple),
            "Sessions of this couple are managed by its therapist.",
        )
        require(
            may_manage_session(user, session), "Individual sessions are managed by the therapist."
        )

    @extend_schema(
        summary="Schedule a session, or log a past one",
        description=(
            "Therapists, for either kind. Partners only in a couple with no therapist, and only "
            "joint sessions, without notes. `focus_partner` is required for an individual "
            "session and must be an active partner of the couple."
        ),
        request=SessionCreateSerializer,
        examples=openapi.SESSION_CREATE,
    )
    @idempotent()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.caller
        data = validated(SessionCreateSerializer, request)
        couple = data["couple"]
        require(may_manage(user, couple), "Sessions of this couple are scheduled by its therapist.")
        if data["kind"] == TherapySession.Kind.INDIVIDUAL:
            require(
                may_manage_individual_sessions(user, couple),
                "Individual sessions are scheduled by a therapist.",
            )
        if data["therapist_notes"]:
            require(may_write_session_notes(user, couple), "Only therapists write session notes.")
        session = self._within_reach(
            lambda: session_create(
                couple=couple,
                created_by=user,
                kind=data["kind"],
                focus_partner_id=data["focus_partner"],
                starts_at=data["starts_at"],
                duration_minutes=data["duration_minutes"],
                therapist_notes=data["therapist_notes"],
            )
        )
        return self.answer(session.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a session",
        description=(
            "`starts_at`, `duration_minutes`, `status` (`scheduled` or `cancelled`) and, for "
            "therapists, `therapist_notes`. `kind`, `focus_partner` and `couple` cannot change: "
            "a different value answers 400 naming the field."
        ),
        request=SessionUpdateSerializer,
        examples=openapi.SESSION_UPDATE,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.caller
        session = self.get_object()
        self._require_manager(user, session)
        data = validated(SessionUpdateSerializer, request, session=session)
        # Any value at all from a partner is refused, so that no answer can confirm a guess.
        if "therapist_notes" in data:
            require(
                may_write_session_notes(user, session.couple),
                "Only therapists write session notes.",
            )
        session = self._within_reach(
            lambda: session_update(
                session=session,
                starts_at=data.get("starts_at"),
                duration_minutes=data.get("duration_minutes"),
                status=data.get("status"),
                therapist_notes=data.get("therapist_notes"),
            )
        )
        return self.answer(session.pk)

    @extend_schema(
        summary="Delete a session",
        description="Everyone who could see it finds it in their removals.",
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        self._require_manager(self.caller, session)
        session_delete(session=session)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Record attendance; the session becomes completed",
        description=(
            '`{"attendance": [{partner, status, participation}]}` (a bare list is accepted '
            "too). A therapist gives exactly one entry per expected partner (both partners of "
            "a joint session, the focus partner of an individual one) and may rate "
            "participation (0 to 3) of an attended or late partner. In a couple with no therapist, "
            "a partner records only their own entry, never a rating. Recording again replaces "
            "the entries given."
        ),
        request=AttendanceRecordSerializer,
        examples=openapi.SESSION_ATTENDANCE,
    )
    @action(detail=True, methods=["put"], url_path="attendance")
    def attendance(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.caller
        session = self.get_object()
        couple = session.couple
        require(
            may_record_attendance(user, couple), "Attendance is recorded by the couple's therapist."
        )
        expected = (
            {session.focus_partner_id}
            if session.kind == TherapySession.Kind.INDIVIDUAL
            else active_partner_ids(couple.pk)
        )
        raw = request.data
        body = AttendanceRecordSerializer(
            data={"attendance": raw} if isinstance(raw, list) else raw,
            context={
                "request": request,
                "session": session,
                "expected": expected,
                "recorder_role": role_of(user, couple),
            },
        )
        body.is_valid(raise_exception=True)
        entries = [
            AttendanceEntry(
                partner_id=entry["partner_id"],
                status=entry["status"],
                participation=entry["participation"],
            )
            for entry in body.validated_data["attendance"]
        ]
        session = attendance_record(session=session, entries=entries)
        return self.answer(session.pk)
