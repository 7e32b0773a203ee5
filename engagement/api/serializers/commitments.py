"""Commitments: the representation, and what a create, edit or renewal may say."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.api.fields import ModelSerializer
from config.api.fields import StringField
from config.api.fields import utc_timestamp
from engagement.api.serializers.fields import CalendarDateField
from engagement.api.serializers.fields import ChoiceField
from engagement.api.serializers.fields import VisibleCoupleField
from engagement.api.serializers.fields import does_not_exist
from engagement.models import Commitment
from engagement.selectors.visibility import active_partner_ids

TITLE_MAX_LENGTH = 200
DETAILS_MAX_LENGTH = 2_000


class CommitmentSerializer(ModelSerializer):
    """A commitment as the caller reads it (querysets of `commitments_visible_to`): `created_at`
    is when the caller gained access to it, `renewed_from` null when the caller cannot read the
    commitment it renews (SPEC section 1)."""

    class Meta:
        model = Commitment
        fields = list(Commitment.SHOWN_FIELDS)
        read_only_fields = fields

    def to_representation(self, instance: Commitment) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        data["created_at"] = utc_timestamp(instance.reader_created_at)  # type: ignore[attr-defined]
        data["updated_at"] = utc_timestamp(instance.reader_updated_at)  # type: ignore[attr-defined]
        if not instance.renewed_from_readable:  # type: ignore[attr-defined]
            data["renewed_from"] = None
        return data


class CommitmentCreateSerializer(serializers.Serializer):
    """A new commitment. `visibility` is required: a default could show a promise to someone
    its owner did not mean to show it to. A partner may leave out `owner` (themselves)."""

    couple = VisibleCoupleField()
    owner = serializers.UUIDField(
        required=False, help_text="An active partner of the couple; defaults to the caller."
    )
    title = StringField(max_length=TITLE_MAX_LENGTH)
    details = StringField(max_length=DETAILS_MAX_LENGTH, allow_blank=True, default="")
    due_on = CalendarDateField()
    visibility = ChoiceField(choices=Commitment.Visibility.choices)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        owner = attrs.setdefault("owner", self.context["request"].user.pk)
        if owner not in active_partner_ids(attrs["couple"].pk):
            # A therapist (who owns nothing) or anyone outside the couple: as if unknown.
            raise serializers.ValidationError({"owner": [does_not_exist(owner)]})
        return attrs


class CommitmentUpdateSerializer(serializers.Serializer):
    """A PATCH: title, details, due date and visibility. `status`, `resolved_at`, `owner`,
    `couple` and `renewed_from` are read-only: sent, they are ignored (SPEC section 2)."""

    title = StringField(max_length=TITLE_MAX_LENGTH, required=False)
    details = StringField(max_length=DETAILS_MAX_LENGTH, allow_blank=True, required=False)
    due_on = CalendarDateField(required=False)
    visibility = ChoiceField(choices=Commitment.Visibility.choices, required=False)


class CommitmentRenewSerializer(serializers.Serializer):
    """`{due_on, title?}`: the promise made again, by default under the same title."""

    due_on = CalendarDateField()
    title = StringField(max_length=TITLE_MAX_LENGTH, required=False)
