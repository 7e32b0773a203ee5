"""Cursor pagination with a fixed, documented order per list (SPEC section 3)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import pagination, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

SYNC_ORDERING = ("updated_at", "id")
_DIGITS = re.compile(r"[0-9]+")


def _refuse(name: str, message: str, code: str) -> ValidationError:
    return ValidationError({name: [serializers.ErrorDetail(message, code=code)]})


class CursorPagination(pagination.CursorPagination):
    """`page_size` up to 100 (default 50); `updated_since` switches to (updated_at, id) order.

    A `page_size` that is not a whole number of at least 1, or a `page_size` or `cursor` given
    twice, answers 400 instead of silently falling back to the default: the client asked for
    something else than it gets. Above 100 reads as 100, as documented.
    """

    page_size = 50
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = ("-created_at", "id")

    def get_ordering(
        self, request: Request, queryset: Any, view: APIView | None
    ) -> tuple[str, ...]:
        if request.query_params.get("updated_since") and getattr(view, "supports_sync", True):
            # A view whose `updated_at` is per reader names its own (reports: the caller's).
            return tuple(getattr(view, "sync_ordering", SYNC_ORDERING))
        return tuple(getattr(view, "list_ordering", self.ordering))

    def get_page_size(self, request: Request) -> int:
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1:
            raise _refuse("page_size", "Give page_size once.", "multiple_values")
        raw = values[0]
        significant = raw.lstrip("0")
        if not _DIGITS.fullmatch(raw) or not significant:
            raise _refuse(
                "page_size",
                f"page_size must be a whole number from 1 (at most {self.max_page_size} are sent).",
                "invalid",
            )
        # Compared by length first: int() refuses strings of thousands of digits (a 500).
        if len(significant) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(significant), self.max_page_size)

    def decode_cursor(self, request: Request) -> Any:
        if len(request.query_params.getlist(self.cursor_query_param)) > 1:
            raise _refuse("cursor", "Give cursor once.", "multiple_values")
        return super().decode_cursor(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "default": self.page_size}
                parameter["description"] = (
                    f"Results per page, default {self.page_size}; at most "
                    f"{self.max_page_size} are sent (a larger value reads as {self.max_page_size})."
                )
        return parameters
