"""Cursor pagination with a fixed, documented order per list (SPEC section 3)."""

from __future__ import annotations

import binascii
import datetime as dt
import re
from base64 import b64decode
from typing import Any
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db import models
from rest_framework import pagination
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

SYNC_ORDERING = ("updated_at", "id")
_DIGITS = re.compile(r"[0-9]+")
# Far longer than any cursor this API writes (an offset and a timestamp), short enough that
# decoding one costs nothing.
_MAX_CURSOR_LENGTH = 512


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
    _position_model_query: Any = None

    def get_ordering(
        self, request: Request, queryset: Any, view: APIView | None
    ) -> tuple[str, ...]:
        if request.query_params.get("updated_since") and getattr(view, "supports_sync", True):
            # Views whose rows carry a per-reader clock sync by it (SPEC section 1).
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

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        # decode_cursor checks the position against the type of what the list is ordered by.
        self._position_model_query = getattr(queryset, "query", None)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        """The client's cursor, or 400 `invalid_cursor` for anything this API could not have
        written (SPEC section 3): never a 404, never a 500 from the database.

        DRF's own decoding answers 404 to some forged cursors and hands others (`p=zz`, a
        position of the wrong type, an out-of-range timestamp) to the database unchecked.
        """
        values = request.query_params.getlist(self.cursor_query_param)
        if len(values) > 1:
            raise _refuse("cursor", "Give cursor once.", "multiple_values")
        if not values:
            return None
        encoded = values[0]
        try:
            if len(encoded) > _MAX_CURSOR_LENGTH:
                raise ValueError("too long")
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            if not set(tokens) <= {"o", "r", "p"} or any(len(v) > 1 for v in tokens.values()):
                raise ValueError("not a cursor of ours")
            offset = _offset(tokens.get("o", ["0"])[0], self.offset_cutoff)
            reverse = {"0": False, "1": True}[tokens.get("r", ["0"])[0]]
            position = tokens.get("p", [None])[0]
            if position is not None:
                self._check_position(position)
        except (ValueError, TypeError, KeyError, OverflowError, UnicodeError, binascii.Error):
            raise _refuse("cursor", "This cursor is not valid.", "invalid_cursor") from None
        # The stubs type the position as an int; DRF itself keeps and compares it as text.
        return pagination.Cursor(offset=offset, reverse=reverse, position=position)  # type: ignore[arg-type]

    def _check_position(self, position: str) -> None:
        """Raise ValueError unless the position reads as a value of the ordering's first field,
        one the database can compare against."""
        if "\x00" in position:
            raise ValueError("NUL in position")
        field = _ordering_field(self._position_model_query, self.ordering[0].lstrip("-"))
        if field is None:
            return  # not a model field: compared as text, which cannot fail
        try:
            value = field.to_python(position)
            if isinstance(field, models.DateTimeField):
                # Cursors carry aware timestamps; a naive or out-of-range one is forged.
                if not isinstance(value, dt.datetime) or value.tzinfo is None:
                    raise ValueError("naive timestamp")
                value.astimezone(dt.UTC)
            field.get_db_prep_value(field.get_prep_value(value), connection, prepared=True)
        except DjangoValidationError as exc:
            raise ValueError("position of the wrong type") from exc

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


def _offset(raw: str, cutoff: int) -> int:
    """A cursor's offset: a whole number no larger than DRF's cutoff (which it would otherwise
    clamp silently), in a few digits (int() of thousands of digits is itself an error)."""
    if not _DIGITS.fullmatch(raw) or len(raw) > len(str(cutoff)):
        raise ValueError("offset")
    offset = int(raw)
    if offset > cutoff:
        raise ValueError("offset")
    return offset


def _ordering_field(query: Any, name: str) -> models.Field[Any, Any] | None:
    """The model field (or annotation's output field) a list is ordered by, if any."""
    if query is None:
        return None
    annotation = query.annotations.get(name)
    if annotation is not None:
        field: models.Field[Any, Any] = annotation.output_field
        return field
    model, found = query.model, None
    for part in name.split("__"):  # a field of a related row, too (`partner_view__updated_at`)
        if model is None:
            return None
        try:
            found = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = found.related_model
    return found if isinstance(found, models.Field) else None
