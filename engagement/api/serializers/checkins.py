"""Check-ins: the representation, and the body of the PUT that creates or replaces one."""

from __future__ import annotations

from datetime import date
from typing import Any

from rest_framework import serializers

from config.api.fields import BoolField
from config.api.fields import ModelSerializer
from config.api.fields import StringField
from config.api.fields import utc_timestamp
from config.api.views import SafetyResourceSerializer
from engagement.api.serializers.fields import ChoiceField
from engagement.api.serializers.fields import VisibleCoupleField
from engagement.models import CheckIn
from engagement.models import Visibility
from engagement.models.checkins import SCALES
from engagement.services.checkins import checkin_date_window

NOTE_MAX_LENGTH = 2_000


class CheckInSerializer(ModelSerializer):
    """A check-in as the caller reads it (querysets of `checkins_visible_to`)."""

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "couple",
            "author",
            "date",
            *SCALES,
            "note",
            "visibility",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: CheckIn) -> dict[str, Any]:
        return checkin_representation(instance)


# The columns `checkin_representation` reads, for a list that fetches rows instead of model
# instances (`values_list(*CHECKIN_ROW, named=True)` of a `checkins_visible_to` queryset).
CHECKIN_ROW = (
    "id",
    "couple_id",
    "author_id",
    "date",
    *SCALES,
    "note",
    "visibility",
    "reader_created_at",
    "reader_updated_at",
)


def checkin_representation(row: Any) -> dict[str, Any]:
    """A check-in as the caller reads it, from a `checkins_visible_to` instance or a row of
    `CHECKIN_ROW`: what CheckInSerializer's fields would give one by one (the same values and
    types, but ids already as text, which JSON writes the same; the fields still define the
    schema, and tests/engagement/test_checkins.py compares the two), read straight from the
    row, as a list page holds up to 100 check-ins."""
    return {
        # Ids as the text JSON writes them: the same bytes, but encoded twice per page (the
        # body and the ETag's sorted form), a UUID left to the encoders costs a call back into
        # Python each time (issue 20).
        "id": str(row.id),
        "couple": str(row.couple_id),
        "author": str(row.author_id),
        "date": row.date.isoformat(),
        **{scale: getattr(row, scale) for scale in SCALES},
        "note": row.note,
        "visibility": row.visibility,
        # The reader's own: the other partner reads when it was shared with them.
        "created_at": utc_timestamp(row.reader_created_at),
        "updated_at": utc_timestamp(row.reader_updated_at),
    }


class CheckInPutAnswerSerializer(CheckInSerializer):
    """The answer to a check-in PUT: the check-in, and beside it `safety_resources` (the
    services of SAFETY_RESOURCES in the caller's language when this PUT answered
    `afraid_or_hurt: true`, else empty)."""

    safety_resources = SafetyResourceSerializer(many=True, read_only=True)

    class Meta(CheckInSerializer.Meta):
        fields = [*CheckInSerializer.Meta.fields, "safety_resources"]
        read_only_fields = fields

    def to_representation(self, instance: CheckIn) -> dict[str, Any]:
        return {
            **super().to_representation(instance),
            "safety_resources": self.context.get("safety_resources", []),
        }


def _scale() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=5, allow_null=True, default=None)


class CheckInPutSerializer(serializers.Serializer):
    """The whole check-in of the caller for one couple and the date in the path.

    `couple` and `visibility` are required: a missing field must never widen who reads a note.
    A scale left out is null, a note left out is empty (PUT replaces the whole check-in).
    """

    couple = VisibleCoupleField()
    visibility = ChoiceField(choices=Visibility.choices)
    # ...one field per name in SCALES (see get_fields), then:
    note = StringField(max_length=NOTE_MAX_LENGTH, allow_blank=True, default="")
    afraid_or_hurt = BoolField(
        allow_null=True,
        required=False,
        write_only=True,
        help_text="Today, did your partner hurt, threaten or force you, or were you afraid of "
        "what they might do? Write-only: no read returns it. It reaches the couple's therapists "
        "as a safety alert whatever the visibility. Left out, the stored answer stays.",
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        declared = super().get_fields()
        note = declared.pop("note")
        return {**declared, **{scale: _scale() for scale in SCALES}, "note": note}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if all(attrs[scale] is None for scale in SCALES):
            # Named on every scale: any one of them fixes it.
            detail = serializers.ErrorDetail(
                f"At least one of {', '.join(SCALES)} is required.", code="at_least_one_rating"
            )
            raise serializers.ValidationError({scale: [detail] for scale in SCALES})
        day: date = self.context["date"]
        earliest, latest = checkin_date_window(couple=attrs["couple"])
        if not earliest <= day <= latest:
            raise serializers.ValidationError(
                {
                    "date": [
                        serializers.ErrorDetail(
                            f"In this couple's timezone a check-in may be dated from {earliest} "
                            f"to {latest}.",
                            code="out_of_window",
                        )
                    ]
                }
            )
        return attrs
