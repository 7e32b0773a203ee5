"""Goals: a partner's own, the therapists' view of current goals and history, the PUT body."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.api.fields import StringField
from config.api.fields import utc_timestamp
from engagement.api.serializers.fields import ChoiceField
from engagement.models import Goal

NOTE_MAX_LENGTH = 1_000


class GoalPutSerializer(serializers.Serializer):
    goal = ChoiceField(choices=Goal.Choice.choices)
    note = StringField(max_length=NOTE_MAX_LENGTH, allow_blank=True, default="")


class OwnGoalSerializer(serializers.Serializer):
    """The caller's own current goal; `updated_at` is when it was last set."""

    goal = serializers.ChoiceField(choices=Goal.Choice.choices, read_only=True)
    note = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Goal) -> dict[str, Any]:
        return {
            "goal": instance.goal,
            "note": instance.note,
            "updated_at": utc_timestamp(instance.set_at),
        }


class PartnerGoalSerializer(serializers.Serializer):
    """One partner's goal as set at one moment (a current goal, or an entry of the history)."""

    partner = serializers.UUIDField(read_only=True)
    goal = serializers.ChoiceField(choices=Goal.Choice.choices, read_only=True)
    note = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, help_text="When it was set.")

    def to_representation(self, instance: Goal) -> dict[str, Any]:
        return {
            "partner": str(instance.partner_id),
            "goal": instance.goal,
            "note": instance.note,
            "updated_at": utc_timestamp(instance.set_at),
        }


class CoupleGoalsSerializer(serializers.Serializer):
    """Therapists: each active partner's current goal, and every goal set in the couple, oldest
    first (a goal that moves is itself a signal)."""

    current = PartnerGoalSerializer(many=True, read_only=True)
    history = PartnerGoalSerializer(many=True, read_only=True)
