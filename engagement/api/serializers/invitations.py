"""Invitation serializers: the representation, the create and accept bodies."""

from __future__ import annotations

from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from config.api.fields import ModelSerializer
from config.api.fields import StringField
from engagement.api.serializers.fields import VisibleCoupleField
from engagement.models import Invitation
from engagement.models import Membership


class InvitationApprovalSerializer(serializers.Serializer):
    partner = serializers.UUIDField(read_only=True)
    approved_at = AwareDateTimeField(read_only=True)


class InvitationSerializer(ModelSerializer):
    status = serializers.ChoiceField(
        choices=Invitation.Status.choices,
        source="effective_status",
        read_only=True,
        help_text="A pending invitation past `expires_at` reads `expired`.",
    )
    approvals = InvitationApprovalSerializer(
        many=True,
        read_only=True,
        allow_null=True,
        source="approval_entries",
        help_text=(
            "A therapist invitation sent by a partner: the partners who approved it, in order "
            "(it is accepted only once every other active partner has). Null for invitations "
            "that need no approval."
        ),
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
            "approvals",
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
