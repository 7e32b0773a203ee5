"""Invitation serializers: the representation, the create and accept bodies."""

from __future__ import annotations

from rest_framework import serializers

from config.api.fields import ModelSerializer, StringField
from engagement.api.serializers.fields import VisibleCoupleField
from engagement.models import Invitation, Membership


class InvitationSerializer(ModelSerializer):
    status = serializers.ChoiceField(
        choices=Invitation.Status.choices,
        source="effective_status",
        read_only=True,
        help_text="A pending invitation past `expires_at` reads `expired`.",
    )

    class Meta:
        model = Invitation
        fields: tuple[str, ...] = (
            "id",
            "couple",
            "email",
            "role",
            "invited_by",
            "status",
            "expires_at",
            "accepted_by",
            "accepted_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class InvitationCreatedSerializer(InvitationSerializer):
    """The create answer: the only time the token is shown. A replay of the same
    Idempotency-Key answers `token: null` and `url: null`."""

    token = StringField(allow_null=True, read_only=True)
    url = StringField(allow_null=True, read_only=True, help_text="`{FRONTEND_URL}/invite?token=…`")

    class Meta(InvitationSerializer.Meta):
        fields = (*InvitationSerializer.Meta.fields, "token", "url")
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    couple = VisibleCoupleField()
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class InvitationAcceptSerializer(serializers.Serializer):
    token = StringField(max_length=128, help_text="The token from the invitation link.")
