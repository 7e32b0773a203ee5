"""Check-ins API: list what the caller may see; read, put and delete their own, by date.

`/checkins/{date}/` is always the caller's own check-in in one couple: `couple` in the PUT
body, `?couple=` on GET and DELETE. PUT is idempotent by design: 201 when it creates, 200 when
it replaces, and a retry with the same body changes nothing. Only partners check in: a
therapist's PUT answers 403 (they can see the couple, but a check-in is a partner's own).
"""

from __future__ import annotations

from collections import namedtuple
from datetime import date
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from config.safety_resources import resources_for
from engagement.api import openapi
from engagement.api.audit import record_therapist_reads
from engagement.api.base import ReaderViewSet
from engagement.api.base import couple_query_param
from engagement.api.base import put_answer
from engagement.api.base import validated
from engagement.api.conditional import conditional
from engagement.api.filters import CheckInFilter
from engagement.api.permissions import may_check_in
from engagement.api.permissions import require
from engagement.api.serializers.checkins import CHECKIN_ROW
from engagement.api.serializers.checkins import CheckInPutAnswerSerializer
from engagement.api.serializers.checkins import CheckInPutSerializer
from engagement.api.serializers.checkins import CheckInSerializer
from engagement.api.serializers.checkins import checkin_representation
from engagement.models import CheckIn
from engagement.models.checkins import SCALES
from engagement.selectors.visibility import checkin_page_of_couple
from engagement.selectors.visibility import checkins_visible_to
from engagement.services.checkins import checkin_delete
from engagement.services.checkins import checkin_upsert

# The FilterSet's own field for `couple` (django-filter's UUIDFilter): what it reads as a UUID.
_COUPLE_FIELD = forms.UUIDField(required=False)


def _only_a_couple(request: Request) -> Any:
    """The couple of a list asked with `?couple=` (given once, a UUID) and nothing else but a
    single `page_size`, else None (the filters then decide, and refuse what they refuse)."""
    params = request.query_params
    if not params.keys() <= {"couple", "page_size"} or len(params.getlist("page_size")) > 1:
        return None
    couples = params.getlist("couple")
    if len(couples) != 1:
        return None
    try:
        return _COUPLE_FIELD.clean(couples[0])
    except DjangoValidationError:
        return None


CheckInRow = namedtuple("CheckInRow", CHECKIN_ROW)  # type: ignore[misc]


class _FirstPageOfCouple:
    """What the cursor paginator reads of a queryset for a first page (no cursor: it orders and
    takes the first rows), from `checkin_page_of_couple`: SQL compiled once per shape of the
    caller's reach, the rows of `checkins_of_couple_visible_to` (issue 20)."""

    def __init__(self, user: User, couple_id: UUID, ordering: tuple[str, ...]) -> None:
        self._user, self._couple_id, self._ordering = user, couple_id, ordering

    def order_by(self, *ordering: str) -> _FirstPageOfCouple:
        if ordering != self._ordering:
            raise ValueError(f"Only the list's own order: {ordering}")
        return self

    def __getitem__(self, window: slice) -> list[Any]:
        if window.start not in (0, None) or window.step is not None or window.stop is None:
            raise ValueError(f"Only a first page: {window}")
        rows = checkin_page_of_couple(
            self._user, self._couple_id, CHECKIN_ROW, self._ordering, window.stop
        )
        return [CheckInRow._make(row) for row in rows]


class CheckInViewSet(ReaderViewSet[CheckIn]):
    """Daily check-ins; the newest date first."""

    model = CheckIn
    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter
    lookup_field = "date"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"
    # Newest date first; with `updated_since`, (updated_at, id) ascending for sync.
    list_ordering = ("-date", "id")

    def visible_to(self, user: User) -> QuerySet[CheckIn]:
        return checkins_visible_to(user)

    def _day(self) -> date:
        try:
            return date.fromisoformat(self.kwargs["date"])
        except ValueError:
            raise ValidationError(
                {"date": [serializers.ErrorDetail("Not a calendar date.", code="invalid")]}
            ) from None

    def get_object(self) -> CheckIn:
        """The caller's own check-in for `?couple=` and the date in the path, or 404."""
        day, couple_id = self._day(), couple_query_param(self.request)
        checkin = (
            self.get_queryset().filter(author=self.caller, couple_id=couple_id, date=day).first()
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
        # The list of one couple (`?couple=` and at most `page_size`, the common read) is built
        # for that couple alone: the same rows as the caller's whole rule narrowed by the filter
        # (`checkins_of_couple_visible_to`), without the FilterSet's form and the other couples'
        # terms (issue 20). Anything else goes through the filters, which refuse what they refuse.
        couple_id = _only_a_couple(request)
        if couple_id is None:
            # Rows, not model instances: a page holds up to 100 check-ins (issue 20).
            rows: Any = self.filter_queryset(self.get_queryset()).values_list(
                *CHECKIN_ROW, named=True
            )
        else:
            rows = _FirstPageOfCouple(self.caller, couple_id, self.list_ordering)
        page = self.paginate_queryset(rows)
        items = [checkin_representation(row) for row in page]
        return conditional(request, self.get_paginated_response(items))

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        # A therapist reading partners' check-ins leaves a trace (docs/security.md).
        record_therapist_reads(
            self.request, action="checkin.list", object_type="checkin", objects=page or []
        )
        return page

    @extend_schema(
        summary="Read the caller's own check-in for a date",
        parameters=[openapi.CHECKIN_DATE_PARAMETER, openapi.CHECKIN_COUPLE_PARAMETER],
        examples=openapi.CHECKIN_READ,
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
        parameters=[openapi.CHECKIN_DATE_PARAMETER],
        request=CheckInPutSerializer,
        responses={200: CheckInPutAnswerSerializer, 201: CheckInPutAnswerSerializer},
        examples=openapi.CHECKIN_PUT,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.caller
        data = validated(CheckInPutSerializer, request, date=self._day())
        couple = data["couple"]
        require(may_check_in(user, couple), "Only partners check in.")
        # Write-only and kept when left out (docs/safety.md): passed on only when it was sent.
        answer = {"afraid_or_hurt": data["afraid_or_hurt"]} if "afraid_or_hurt" in data else {}
        checkin, created = checkin_upsert(
            couple=couple,
            author=user,
            date=self._day(),
            visibility=data["visibility"],
            ratings={scale: data[scale] for scale in SCALES},
            note=data["note"],
            **answer,
        )
        resources = (
            resources_for(settings.SAFETY_RESOURCES, translation.get_language() or "en")
            if data.get("afraid_or_hurt") is True
            else []
        )
        # Read back as the caller sees it (their own timestamps).
        return put_answer(
            CheckInPutAnswerSerializer(
                self.read_back(checkin.pk),
                context={"safety_resources": resources},
            ).data,
            created=created,
        )

    @extend_schema(
        summary="Delete the caller's own check-in for a date",
        description="Everyone who could see it finds it in their removals.",
        parameters=[openapi.CHECKIN_DATE_PARAMETER, openapi.CHECKIN_COUPLE_PARAMETER],
        responses={204: None},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        checkin_delete(checkin=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
