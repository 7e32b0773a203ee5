"""Couple serializers: the representation (role-dependent) and the bodies of its commands."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.models import validate_timezone
from accounts.validators import validate_name
from config.api.fields import AwareDateTimeField
from config.api.fields import BoolField
from config.api.fields import ModelSerializer
from config.api.fields import StringField
from config.api.fields import utc_timestamp
from engagement.api.permissions import role_of
from engagement.api.serializers.safety import SafeContactSerializer
from engagement.api.serializers.safety import safe_contact_data
from engagement.models import Couple
from engagement.models import Membership

Role = Membership.Role


class PartnerEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = StringField()
    joined_at = AwareDateTimeField()
    shares_balance = BoolField(
        help_text="This partner's consent to see the couple's balance (withdrawable)."
    )
    safe_contact = SafeContactSerializer(
        required=False,
        help_text="Therapists only: how to reach this partner safely after a safety alert "
        "(every key null when none was given); absent from what partners receive.",
    )


class TherapistEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = StringField()
    joined_at = AwareDateTimeField()


class FormerMemberSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = StringField()
    left_at = AwareDateTimeField()


def _memberships(couple: Couple) -> list[Membership]:
    # Views prefetch them with their users (engagement.api.permissions.members_prefetch).
    return list(couple.memberships.all())


class CoupleSerializer(ModelSerializer):
    """A couple as its member sees it; `safety_hold` is in the therapist's view only."""

    # Not read-only, so that the schema marks it optional: partners never receive it.
    safety_hold = BoolField(
        required=False,
        help_text="Therapists only; absent from what partners receive.",
    )
    partners = serializers.SerializerMethodField()
    therapists = serializers.SerializerMethodField()
    former_members = serializers.SerializerMethodField(
        help_text="People who left, so that ids on older objects still resolve."
    )

    class Meta:
        model = Couple
        fields = (
            "id",
            *Couple.SETTINGS,
            "partners",
            "therapists",
            "former_members",
            "created_at",
            "updated_at",
        )
        read_only_fields = tuple(field for field in fields if field != "safety_hold")

    @extend_schema_field(PartnerEntrySerializer(many=True))
    def get_partners(self, couple: Couple) -> list[dict[str, Any]]:
        entries = [m for m in _memberships(couple) if m.left_at is None and m.role == Role.PARTNER]
        entries.sort(key=lambda m: m.partner_slot or 0)
        return [
            {
                "id": str(m.user_id),
                "display_name": m.user.display_name,
                "joined_at": AwareDateTimeField().to_representation(m.joined_at),
                "shares_balance": m.shares_balance,
            }
            for m in entries
        ]

    @extend_schema_field(TherapistEntrySerializer(many=True))
    def get_therapists(self, couple: Couple) -> list[dict[str, Any]]:
        return [
            {
                "id": str(m.user_id),
                "display_name": m.user.display_name,
                "joined_at": AwareDateTimeField().to_representation(m.joined_at),
            }
            for m in _memberships(couple)
            if m.left_at is None and m.role == Role.THERAPIST
        ]

    @extend_schema_field(FormerMemberSerializer(many=True))
    def get_former_members(self, couple: Couple) -> list[dict[str, Any]]:
        memberships = _memberships(couple)
        current = {m.user_id for m in memberships if m.left_at is None}
        # One entry per person who is not a member now, with the last time they left.
        last_left: dict[Any, Membership] = {}
        for m in memberships:
            if m.left_at is None or m.user_id in current:
                continue
            seen = last_left.get(m.user_id)
            if seen is None or (seen.left_at and m.left_at > seen.left_at):
                last_left[m.user_id] = m
        return [
            {
                "id": str(m.user_id),
                "display_name": m.user.display_name,
                "left_at": AwareDateTimeField().to_representation(m.left_at),
            }
            for m in sorted(last_left.values(), key=lambda m: (m.left_at, str(m.user_id)))
        ]

    def to_representation(self, instance: Couple) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        user = self.context["request"].user
        role = role_of(user, instance)
        # The reader's own clock (annotated by `couples_visible_to`; else from the role): the
        # hold moves only the therapists'.
        clock = getattr(
            instance,
            "reader_updated_at",
            instance.updated_at if role == Role.THERAPIST else instance.partner_updated_at,
        )
        data["updated_at"] = utc_timestamp(clock)
        if role == Role.THERAPIST:
            # SPEC section 2, "Couple": the therapist's couple carries each partner's safe
            # contact (never the other partner's view, never a digest).
            contacts = {c.partner_id: c for c in instance.safe_contacts.all()}
            for entry in data["partners"]:
                entry["safe_contact"] = safe_contact_data(contacts.get(UUID(entry["id"])))
        if role != Role.THERAPIST:
            # Partners never see the hold itself (SPEC section 1), not even its key.
            data.pop("safety_hold", None)
        return data


class _CoupleFieldsSerializer(serializers.Serializer):
    name = StringField(max_length=80, allow_blank=True, required=False, validators=[validate_name])
    timezone = StringField(
        max_length=64, required=False, validators=[validate_timezone], help_text="IANA name."
    )
    checkin_target_per_week = serializers.IntegerField(min_value=0, max_value=7, required=False)
    partners_see_balance = BoolField(required=False)
    safety_hold = BoolField(
        required=False, help_text="Therapists only; ignored when a partner sends it."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not self.context.get("is_therapist", False):
            # Unknown to partners: ignored like any unknown field (SPEC section 3).
            attrs.pop("safety_hold", None)
        return attrs


class CoupleCreateSerializer(_CoupleFieldsSerializer):
    """`timezone` defaults to the creator's; `partners_see_balance` to true, or false when a
    therapist creates the couple."""


class CoupleSettingsSerializer(_CoupleFieldsSerializer):
    """Settings a PATCH may change; `ended` is final (afterwards every write answers 409)."""

    status = serializers.ChoiceField(choices=Couple.Status.choices, required=False)


class ShareBalanceSerializer(serializers.Serializer):
    share = BoolField(
        help_text="true to consent to seeing the couple's balance, false to withdraw."
    )


class MemberField(serializers.PrimaryKeyRelatedField):
    """An active member of the couple in the serializer's context; anyone else does not exist."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(pk_field=serializers.UUIDField(), **kwargs)

    def get_queryset(self) -> QuerySet[User]:
        couple: Couple = self.context["couple"]
        return User.objects.filter(
            memberships__couple=couple, memberships__left_at__isnull=True
        ).distinct()


class RemoveMemberSerializer(serializers.Serializer):
    user = MemberField(help_text="The id of a partner or therapist of the couple.")
