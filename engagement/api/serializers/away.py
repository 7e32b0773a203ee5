"""Away periods: the representation, and what a create or an edit may say."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.api.fields import utc_timestamp
from engagement.api.serializers.fields import CalendarDateField
from engagement.api.serializers.fields import ChoiceField
from engagement.api.serializers.fields import VisibleCoupleField
from engagement.models import AwayPeriod


class AwayPeriodSerializer(serializers.Serializer):
    """An away period as the caller reads it (querysets of `away_visible_to`): `created_at` is
    when the caller gained access to it (SPEC section 1); `reason` null when none was given."""

    id = serializers.UUIDField(read_only=True)
    couple = serializers.UUIDField(read_only=True)
    partner = serializers.UUIDField(read_only=True, help_text="The author.")
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    reason = serializers.ChoiceField(
        choices=AwayPeriod.Reason.choices, allow_null=True, read_only=True
    )
    visibility = serializers.ChoiceField(choices=AwayPeriod.Visibility.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: AwayPeriod) -> dict[str, Any]:
        return {
            "id": str(instance.id),
            "couple": str(instance.couple_id),
            "partner": str(instance.partner_id),
            "starts_on": instance.starts_on.isoformat(),
            "ends_on": instance.ends_on.isoformat(),
            "reason": instance.reason or None,
            "visibility": instance.visibility,
            "created_at": utc_timestamp(instance.reader_created_at),  # type: ignore[attr-defined]
            "updated_at": utc_timestamp(instance.reader_updated_at),  # type: ignore[attr-defined]
        }


def _reason(**kwargs: Any) -> ChoiceField:
    return ChoiceField(choices=AwayPeriod.Reason.choices, allow_null=True, **kwargs)


class AwayPeriodCreateSerializer(serializers.Serializer):
    """A new away period of the caller's. `visibility` is required: a default could show the
    other partner something its author did not mean to show."""

    couple = VisibleCoupleField()
    starts_on = CalendarDateField()
    ends_on = CalendarDateField()
    reason = _reason(default=None)
    visibility = ChoiceField(choices=AwayPeriod.Visibility.choices)


class AwayPeriodUpdateSerializer(serializers.Serializer):
    """A PATCH: dates, reason (null clears it) and visibility. `couple` and `partner` are
    read-only: sent, they are ignored."""

    starts_on = CalendarDateField(required=False)
    ends_on = CalendarDateField(required=False)
    reason = _reason(required=False)
    visibility = ChoiceField(choices=AwayPeriod.Visibility.choices, required=False)
