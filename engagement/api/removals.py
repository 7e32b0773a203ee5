"""Removals API: what the caller could see and no longer can, for mobile sync."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from engagement.api.conditional import ConditionalListMixin
from engagement.api.filters import RemovalFilter
from engagement.api.serializers.removals import RemovalSerializer
from engagement.models import Removal


class RemovalViewSet(ConditionalListMixin, mixins.ListModelMixin, viewsets.GenericViewSet[Removal]):
    """Deleted, erased, left or narrowed: drop these from the local store."""

    serializer_class = RemovalSerializer
    filterset_class = RemovalFilter
    # Oldest first, so a client can store the last `removed_at` as its next `since`.
    list_ordering = ("removed_at", "id")
    supports_sync = False

    def get_queryset(self) -> QuerySet[Removal]:
        if getattr(self, "swagger_fake_view", False):
            return Removal.objects.none()
        user = self.request.user
        assert isinstance(user, User)  # the route requires authentication
        return Removal.objects.filter(user=user)

    @extend_schema(
        summary="What the caller can no longer see since a moment",
        description=(
            "`{type, id, removed_at}` for every object the caller could see and no longer can "
            "(deleted, erased, left, narrowed), `removed_at` ≥ `since` (with an offset), oldest "
            "first. To sync: apply these removals first, then the `updated_since` lists, which "
            "only hold what the caller sees now (so an object shown again comes back)."
        ),
        examples=[
            OpenApiExample(
                "A deleted session",
                value={
                    "type": "session",
                    "id": "5d0c2f9e-8a1b-4c3d-9e2f-1a2b3c4d5e6f",
                    "removed_at": "2026-11-23T19:10:00Z",
                },
            ),
        ],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
