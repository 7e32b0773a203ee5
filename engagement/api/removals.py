"""Removals API: what the caller could see and no longer can, for mobile sync."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from engagement.api import openapi
from engagement.api.base import CallerListViewSet
from engagement.api.filters import RemovalFilter
from engagement.api.serializers.removals import RemovalSerializer
from engagement.models import Removal


class RemovalViewSet(CallerListViewSet[Removal]):
    """Deleted, erased, left or narrowed: drop these from the local store."""

    model = Removal
    serializer_class = RemovalSerializer
    filterset_class = RemovalFilter
    # Oldest first, so a client can store the last `removed_at` as its next `since`.
    list_ordering = ("removed_at", "id")

    def visible_to(self, user: User) -> QuerySet[Removal]:
        return Removal.objects.filter(user=user)

    @extend_schema(
        summary="What the caller can no longer see since a moment",
        description=(
            "`{type, id, removed_at}` for every object the caller could see and no longer can "
            "(deleted, erased, left, narrowed), `removed_at` ≥ `since` (with an offset), oldest "
            "first. To sync: apply these removals first, then the `updated_since` lists, which "
            "only hold what the caller sees now (so an object shown again comes back)."
        ),
        examples=openapi.REMOVAL_LIST,
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
