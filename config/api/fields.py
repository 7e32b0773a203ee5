"""Serializer fields shared by the API: timestamps in UTC with milliseconds and `Z`, refused
without an offset; strings and booleans that must be JSON strings and booleans."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """Accepts only ISO 8601 with an offset; writes UTC with `Z` (SPEC section 2)."""

    default_error_messages = {
        "naive": "Datetime must include a UTC offset, e.g. 2026-11-23T18:00:00Z.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                raw = parse_datetime(value)
            except ValueError:
                raw = None
            if raw is not None and timezone.is_naive(raw):
                self.fail("naive")
        result = super().to_internal_value(value)
        return result.astimezone(UTC)

    def to_representation(self, value: Any) -> Any:
        return utc_timestamp(value)


def utc_timestamp(value: datetime | None) -> str | None:
    """A datetime as the API writes it: ISO 8601 in UTC, milliseconds and `Z`, always the same
    width (`2026-11-23T12:00:03.000Z`), so one client formatter reads them all (SPEC section 3;
    Swift's ISO 8601 strategy refuses six digits)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StringField(serializers.CharField):
    """A JSON string of at most `max_length` characters as sent. DRF's CharField also takes a
    number and stores `0` as `"0"`; the schema says string, so anything else is a bad request
    (SPEC section 3), named after the field."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        # The limit is on what was sent: DRF measures after trimming whitespace, so a value
        # padded past the documented maxLength with spaces got through.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return str(super().to_internal_value(data))


class BoolField(serializers.BooleanField):
    """A JSON boolean. DRF's BooleanField also reads `0`, `0.0`, `"yes"` and `"off"` as booleans;
    the schema says boolean, so anything else is a bad request (SPEC section 3)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ModelSerializer(serializers.ModelSerializer):
    """The project's base ModelSerializer: its datetimes follow AwareDateTimeField's rules, its
    text fields take strings only and its booleans booleans only."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: AwareDateTimeField,
        models.CharField: StringField,
        models.TextField: StringField,
        models.BooleanField: BoolField,
    }
