"""Removals: what a caller could see and no longer can, for mobile sync."""

from __future__ import annotations

from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from engagement.models import Removal


class RemovalSerializer(serializers.Serializer):
    """`{type, id, removed_at}`: drop the object `id` of kind `type` from the local store."""

    type = serializers.ChoiceField(choices=Removal.Type.choices, read_only=True)
    id = serializers.UUIDField(source="object_id", read_only=True)
    removed_at = AwareDateTimeField(read_only=True)
