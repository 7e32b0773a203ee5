"""Check-ins API: list what the caller may see; read, put and delete their own, by date.

`/checkins/{date}/` is always the caller's own check-in in one couple: `couple` in the PUT
body, `?couple=` on GET and DELETE. PUT is idempotent by design: 201 when it creates, 200 when
it replaces, and a retry with the same body changes nothing. Only partners check in: a
therapist's PUT answers 403 (they can see the couple, but a check-in is a partner's own).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from config.safety_resources import resources_for
from engagement.api.audit import record_therapist_reads
from engagement.api.conditional import ConditionalListMixin, ConditionalRetrieveMixin
from engagement.api.filters import READER_SYNC_ORDERING, CheckInFilter
from engagement.api.permissions import role_of
from engagement.api.serializers.checkins import (
    CheckInPutAnswerSerializer,
    CheckInPutSerializer,
    CheckInSerializer,
)
from engagement.models import CheckIn, Membership
from engagement.selectors.visibility import checkins_visible_to
from engagement.services.checkins import checkin_delete, checkin_upsert

DATE_PARAMETER = OpenApiParameter(
    "date",
    OpenApiTypes.DATE,
    OpenApiParameter.PATH,
    description="The check-in's local date in the couple's timezone (YYYY-MM-DD).",
)
COUPLE_PARAMETER = OpenApiParameter(
    "couple",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=True,
    description="The couple the caller's check-in belongs to.",
)

_CHECKIN_EXAMPLE = {
    "id": "f0e1d2c3-b4a5-4968-8776-655443322110",
    "couple": "0b9e6a52-3f1d-4e8a-9c7b-2d1e0f9a8b7c",
    "author": "93c2d1e0-6b5a-4f3e-8d2c-1b0a9f8e7d6c",
    "date": "2026-11-23",
    "mood": 3,
    "effort": 4,
    "connection": None,
    "resentment": 2,
    "wellbeing": 3,
    "note": "Talked about the holidays without a fight.",
    "visibility": "therapist",
    "created_at": "2026-11-23T21:40:00Z",
    "updated_at": "2026-11-23T21:40:00Z",
}


def _caller(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # every route here requires authentication
    return user


class CheckInViewSet(
    ConditionalRetrieveMixin,
    ConditionalListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[CheckIn],
):
    """Daily check-ins; the newest date first."""

    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter
    lookup_field = "date"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"
    # Newest date first; with `updated_since`, (updated_at, id) ascending for sync.
    list_ordering = ("-date", "id")
    sync_ordering = READER_SYNC_ORDERING

    def get_queryset(self) -> QuerySet[CheckIn]:
        if getattr(self, "swagger_fake_view", False):
            return CheckIn.objects.none()
        return checkins_visible_to(_caller(self.request))

    def _day(self) -> date:
        try:
            return date.fromisoformat(self.kwargs["date"])
        except ValueError:
            raise ValidationError(
                {"date": [serializers.ErrorDetail("Not a calendar date.", code="invalid")]}
            ) from None

    def _couple_param(self) -> UUID:
        values = self.request.query_params.getlist("couple")
        if len(values) > 1:
            raise ValidationError(
                {"couple": [serializers.ErrorDetail("Give couple once.", code="multiple_values")]}
            )
        field = serializers.UUIDField()
        try:
            couple_id: UUID = field.run_validation(values[0] if values else empty)
            return couple_id
        except ValidationError as exc:
            raise ValidationError({"couple": exc.detail}) from None

    def get_object(self) -> CheckIn:
        """The caller's own check-in for `?couple=` and the date in the path, or 404."""
        day, couple_id = self._day(), self._couple_param()
        checkin = (
            self.get_queryset()
            .filter(author=_caller(self.request), couple_id=couple_id, date=day)
            .first()
        )
        if checkin is None:
            raise NotFound()
        return checkin

    @extend_schema(
        summary="List the check-ins the caller may see",
        description=(
            "Partners: their own (every visibility) and the other partner's `couple` ones; "
            "therapists: `therapist` and `couple` ones, never `private`. Newest `date` first; "
            "with `updated_since`, by (`updated_at`, `id`) ascending."
        ),
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        # A therapist reading partners' check-ins leaves a trace (docs/security.md).
        record_therapist_reads(
            self.request, action="checkin.list", object_type="checkin", objects=page or []
        )
        return page

    @extend_schema(
        summary="Read the caller's own check-in for a date",
        parameters=[DATE_PARAMETER, COUPLE_PARAMETER],
        examples=[OpenApiExample("A check-in for the therapist", value=_CHECKIN_EXAMPLE)],
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Check in: create or replace the caller's check-in for a date",
        description=(
            "Partners only. `couple` and `visibility` are required; scales are 1 to 5 or null, at "
            "least one present; `note` up to 2 000 characters. The date, in the couple's "
            "timezone, lies from today minus CHECKIN_BACKFILL_DAYS to tomorrow. 201 when "
            "created, 200 when replaced; the same body again changes nothing. "
            "`afraid_or_hurt` (true, false or null) is write-only and kept when left out; with "
            "`true` the answer carries `safety_resources` in the caller's language "
            "(docs/safety.md), else an empty list."
        ),
        parameters=[DATE_PARAMETER],
        request=CheckInPutSerializer,
        responses={200: CheckInPutAnswerSerializer, 201: CheckInPutAnswerSerializer},
        examples=[
            OpenApiExample(
                "Tonight's check-in, for the therapist's eyes",
                request_only=True,
                value={
                    "couple": "0b9e6a52-3f1d-4e8a-9c7b-2d1e0f9a8b7c",
                    "visibility": "therapist",
                    "mood": 3,
                    "effort": 4,
                    "resentment": 2,
                    "wellbeing": 3,
                    "note": "Talked about the holidays without a fight.",
                },
            ),
            OpenApiExample(
                "Created",
                response_only=True,
                status_codes=["201"],
                value={**_CHECKIN_EXAMPLE, "safety_resources": []},
            ),
        ],
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _caller(request)
        body = CheckInPutSerializer(
            data=request.data, context={"request": request, "date": self._day()}
        )
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        couple = data.pop("couple")
        if role_of(user, couple) != Membership.Role.PARTNER:
            raise PermissionDenied("Only partners check in.")
        checkin, created = checkin_upsert(couple=couple, author=user, date=self._day(), **data)
        resources = (
            resources_for(settings.SAFETY_RESOURCES, translation.get_language() or "en")
            if data.get("afraid_or_hurt") is True
            else []
        )
        return Response(
            # Read back as the caller sees it (their own timestamps).
            CheckInPutAnswerSerializer(
                self.get_queryset().get(pk=checkin.pk),
                context={"safety_resources": resources},
            ).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Delete the caller's own check-in for a date",
        description="Everyone who could see it finds it in their removals.",
        parameters=[DATE_PARAMETER, COUPLE_PARAMETER],
        responses={204: None},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        checkin_delete(checkin=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
