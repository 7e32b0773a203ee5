"""Cursor pagination with a fixed, documented order per list (SPEC section 3)."""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.request import Request
from rest_framework.views import APIView

SYNC_ORDERING = ("updated_at", "id")


class CursorPagination(pagination.CursorPagination):
    """`page_size` up to 100 (default 50); `updated_since` switches to (updated_at, id) order."""

    page_size = 50
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = ("-created_at", "id")

    def get_ordering(
        self, request: Request, queryset: Any, view: APIView | None
    ) -> tuple[str, ...]:
        if request.query_params.get("updated_since") and getattr(view, "supports_sync", True):
            return SYNC_ORDERING
        return tuple(getattr(view, "list_ordering", self.ordering))
