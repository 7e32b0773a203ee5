"""Session feedback: the partner's own, the therapists' list, and the body of the PUT."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.api.fields import StringField
from config.api.fields import utc_timestamp
from engagement.models import SessionFeedback

COMMENT_MAX_LENGTH = 1_000


def _item(text: str) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=10, help_text=text)


class FeedbackPutSerializer(serializers.Serializer):
    """The caller's whole feedback on the session: four items 0-10 (Duet's own, not a
    licensed scale), each required, and an optional comment."""

    understood = _item("I felt understood by the therapist today.")
    helpful = _item("Today's session helped with what matters to me.")
    spoke_freely = _item("I could say what I needed to say in this session.")
    coming_back = _item("I want to come to the next session.")
    comment = StringField(max_length=COMMENT_MAX_LENGTH, allow_blank=True, default="")


class FeedbackSerializer(serializers.Serializer):
    """One partner's feedback on one session, as its author and the therapists read it."""

    partner = serializers.UUIDField(read_only=True)
    understood = serializers.IntegerField(read_only=True)
    helpful = serializers.IntegerField(read_only=True)
    spoke_freely = serializers.IntegerField(read_only=True)
    coming_back = serializers.IntegerField(read_only=True)
    comment = serializers.CharField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: SessionFeedback) -> dict[str, Any]:
        return {
            "partner": str(instance.partner_id),
            "understood": instance.understood,
            "helpful": instance.helpful,
            "spoke_freely": instance.spoke_freely,
            "coming_back": instance.coming_back,
            "comment": instance.comment,
            "submitted_at": utc_timestamp(instance.submitted_at),
            "updated_at": utc_timestamp(instance.updated_at),
        }


class SessionFeedbackListSerializer(serializers.Serializer):
    """What a therapist reads: every partner's feedback on the session (those who gave it)."""

    results = FeedbackSerializer(many=True, read_only=True)
