"""Away periods API: list, record, read, edit and delete (SPEC section 2).

Order of answers: 401 without a token; 404 for a period outside the caller's reach; 403 for
one they see but may not change (only its author changes it); 400 for a bad body, naming the
field (`ends_on` `too_long` past 28 days, `starts_on` `overlap`); 409 for an ended couple.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from engagement.api.base import ReaderViewSet
from engagement.api.base import caller
from engagement.api.base import validated
from engagement.api.filters import AwayPeriodFilter
from engagement.api.idempotency import idempotent
from engagement.api.permissions import role_of
from engagement.api.serializers.away import AwayPeriodCreateSerializer
from engagement.api.serializers.away import AwayPeriodSerializer
from engagement.api.serializers.away import AwayPeriodUpdateSerializer
from engagement.models import AwayPeriod
from engagement.models import Membership
from engagement.selectors.visibility import away_visible_to
from engagement.services.away import away_create
from engagement.services.away import away_delete
from engagement.services.away import away_update

_AWAY_EXAMPLE = {
    "id": "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b",
    "couple": "0b9e6a52-3f1d-4e8a-9c7b-2d1e0f9a8b7c",
    "partner": "93c2d1e0-6b5a-4f3e-8d2c-1b0a9f8e7d6c",
    "starts_on": "2026-12-07",
    "ends_on": "2026-12-11",
    "reason": "travel",
    "visibility": "couple",
    "created_at": "2026-12-05T20:10:00.000Z",
    "updated_at": "2026-12-05T20:10:00.000Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="List the away periods the caller may see",
        description=(
            "Partners: their own (both visibilities) and the other partner's `couple` ones; "
            "therapists: every away period of their couples. Latest `starts_on` first; with "
            "`updated_since`, by (`updated_at`, `id`) ascending."
        ),
    ),
    retrieve=extend_schema(
        summary="Read an away period",
        examples=[OpenApiExample("A week away", value=_AWAY_EXAMPLE)],
    ),
)
class AwayPeriodViewSet(ReaderViewSet[AwayPeriod]):
    """A partner travelling, ill or otherwise away; the latest start first."""

    model = AwayPeriod
    serializer_class = AwayPeriodSerializer
    filterset_class = AwayPeriodFilter
    # Latest start first; with `updated_since`, (updated_at, id) ascending for sync.
    list_ordering = ("-starts_on", "id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    visible_to = staticmethod(away_visible_to)

    def _own(self, user: User) -> AwayPeriod:
        """The period in the path, if the caller wrote it (else 403; 404 when out of reach)."""
        away = self.get_object()
        if away.partner_id != user.pk:
            raise PermissionDenied("Only its author changes an away period.")
        return away

    @extend_schema(
        summary="Record an away period",
        description=(
            "Partners only, for themselves. `starts_on` and `ends_on` are local dates of the "
            "couple, at most 28 days together, not overlapping the caller's other periods in "
            "that couple; `reason` is `travel`, `illness`, `other` or null; `visibility` "
            "(`couple` or `therapist`) is required."
        ),
        request=AwayPeriodCreateSerializer,
        examples=[
            OpenApiExample(
                "A week of travel",
                request_only=True,
                value={
                    "couple": "0b9e6a52-3f1d-4e8a-9c7b-2d1e0f9a8b7c",
                    "starts_on": "2026-12-07",
                    "ends_on": "2026-12-11",
                    "reason": "travel",
                    "visibility": "couple",
                },
            ),
            OpenApiExample("Recorded", response_only=True, value=_AWAY_EXAMPLE),
        ],
    )
    @idempotent()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = caller(request)
        data = validated(AwayPeriodCreateSerializer, request)
        couple = data["couple"]
        if role_of(user, couple) != Membership.Role.PARTNER:
            raise PermissionDenied("Away periods are recorded by the partners, for themselves.")
        away = away_create(
            couple=couple,
            author=user,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            reason=data["reason"] or "",
            visibility=data["visibility"],
        )
        return self.answer(away.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit an away period",
        description=(
            "Its author: `starts_on`, `ends_on`, `reason` (null clears it), `visibility`, under "
            "the same rules as when recording it. `couple` and `partner` are read-only."
        ),
        request=AwayPeriodUpdateSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        away = self._own(caller(request))
        data = validated(AwayPeriodUpdateSerializer, request)
        reason = data.get("reason", ...)
        away = away_update(
            away=away,
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            reason=None if reason is ... else (reason or ""),
            visibility=data.get("visibility"),
        )
        return self.answer(away.pk)

    @extend_schema(
        summary="Delete an away period",
        description="Its author. Everyone who could see it finds it in their removals.",
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        away_delete(away=self._own(caller(request)))
        return Response(status=status.HTTP_204_NO_CONTENT)
