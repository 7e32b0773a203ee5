"""Safety alerts (therapists), safe contacts (partners, read by therapists) and consents."""

from __future__ import annotations

import re
from typing import Any

from django.core.validators import validate_slug
from rest_framework import serializers

from config.api.fields import BoolField
from config.api.fields import ModelSerializer
from config.api.fields import StringField
from engagement.models import Consent
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.models.safety import SAFETY_ALERT_SHOWN_FIELDS

# Digits with the separators people write: +34 600 000 000, (555) 010-0000.
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,30}$")


class SafetyAlertSerializer(ModelSerializer):
    """An alert as a therapist of the couple reads it: who and which day, never the check-in."""

    class Meta:
        model = SafetyAlert
        fields = list(SAFETY_ALERT_SHOWN_FIELDS)
        read_only_fields = fields


class _OptionalEmailField(serializers.EmailField):
    """An email address, or null for none; an empty string is taken as null. Not `allow_blank`:
    drf-spectacular writes that as a `oneOf` beside `nullable` without a `type`, which OpenAPI
    3.0 tools refuse."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        return super().run_validation(None if data == "" else data)


class SafeContactSerializer(serializers.Serializer):
    """How a therapist may reach a partner safely; every key optional (null when not given)."""

    phone = StringField(
        max_length=32, allow_null=True, allow_blank=True, required=False, default=None
    )
    email = _OptionalEmailField(
        max_length=254,
        allow_null=True,
        required=False,
        default=None,
        help_text="An address only they read; empty or null clears it.",
    )
    times = StringField(
        max_length=200,
        allow_null=True,
        allow_blank=True,
        required=False,
        default=None,
        help_text="When a call or message is safe, in the partner's words.",
    )
    voicemail_ok = BoolField(allow_null=True, required=False, default=None)

    def validate_phone(self, value: str | None) -> str | None:
        if value is not None and value.strip() and not _PHONE.match(value.strip()):
            raise serializers.ValidationError(
                "Enter a phone number: digits, with an optional leading + and spaces, dashes "
                "or brackets.",
                code="invalid",
            )
        return value.strip() or None if value is not None else None


def safe_contact_data(contact: SafeContact | None) -> dict[str, Any]:
    """The representation of a safe contact; every key null when none was given."""
    if contact is None:
        return {"phone": None, "email": None, "times": None, "voicemail_ok": None}
    return {
        "phone": contact.phone or None,
        "email": contact.email or None,
        "times": contact.times or None,
        "voicemail_ok": contact.voicemail_ok,
    }


class ConsentSerializer(ModelSerializer):
    """An acceptance of a version of a document of data rules (`privacy`, `safety`, ...)."""

    document = StringField(max_length=64, validators=[validate_slug])
    version = StringField(max_length=32)

    class Meta:
        model = Consent
        fields = ["document", "version", "accepted_at"]
        read_only_fields = ["accepted_at"]
