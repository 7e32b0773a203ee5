"""Serializer fields for sessions, commitments and check-ins: a caller's couple, sane calendars."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from engagement.models import Couple
from engagement.selectors.visibility import couples_visible_to

# Dates outside these years are typos in a therapy app; refusing them also keeps week
# arithmetic downstream (reports, staleness) far from date.min and date.max.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


class CalendarDateField(serializers.DateField):
    """An ISO date between 2000-01-01 and 2100-12-31."""

    default_error_messages = {
        "out_of_range": f"Date must be between {EARLIEST_DATE} and {LATEST_DATE}.",
    }

    def to_internal_value(self, value: Any) -> date:
        result = super().to_internal_value(value)
        if not EARLIEST_DATE <= result <= LATEST_DATE:
            self.fail("out_of_range")
        return result


class CalendarDateTimeField(AwareDateTimeField):
    """An ISO datetime with an offset, between 2000 and 2100 (UTC)."""

    default_error_messages = {
        "out_of_range": f"Datetime must be between {EARLIEST_DATE} and {LATEST_DATE}.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        result = super().to_internal_value(value)
        if not EARLIEST_DATE <= result.date() <= LATEST_DATE:
            self.fail("out_of_range")
        return result


class VisibleCoupleField(serializers.PrimaryKeyRelatedField):
    """A couple id; a couple the caller cannot see is refused as if it did not exist (400
    `does_not_exist`, SPEC section 3)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(pk_field=serializers.UUIDField(), **kwargs)

    def get_queryset(self) -> QuerySet[Couple]:
        return couples_visible_to(self.context["request"].user)


def does_not_exist(pk: object) -> serializers.ErrorDetail:
    """The error for an id the caller cannot see, worded as DRF words a missing object."""
    return serializers.ErrorDetail(
        f'Invalid pk "{pk}" - object does not exist.', code="does_not_exist"
    )


class ChoiceField(serializers.ChoiceField):
    """DRF's ChoiceField, whose error names the allowed values instead of echoing the input:
    an echoed lone surrogate (JSON "\\ud800") cannot be encoded and would answer 500."""

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices, **kwargs)
        allowed = ", ".join(str(choice) for choice in self.choices)
        self.error_messages["invalid_choice"] = f"Must be one of: {allowed}."
