"""Sessions and attendance: what each viewer reads, and what a create, edit or recording may say."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from config.api.fields import ModelSerializer
from config.api.fields import StringField
from config.api.fields import utc_timestamp
from engagement.api.serializers.fields import CalendarDateTimeField
from engagement.api.serializers.fields import ChoiceField
from engagement.api.serializers.fields import VisibleCoupleField
from engagement.api.serializers.fields import does_not_exist
from engagement.models import Attendance
from engagement.models import Membership
from engagement.models import TherapySession
from engagement.selectors.visibility import active_partner_ids

Kind = TherapySession.Kind
NOTES_MAX_LENGTH = 10_000


class AttendanceSerializer(serializers.Serializer):
    """One expected partner at a session: `{partner, status, participation}`."""

    partner = serializers.UUIDField(source="partner_id")
    status = ChoiceField(choices=Attendance.Status.choices)
    # 0 disengaged, 1 guarded, 2 engaged, 3 fully engaged: presence, not who talks most.
    participation = serializers.IntegerField(
        min_value=0,
        max_value=3,
        allow_null=True,
        default=None,
        help_text="The therapist's rating; always null for partners, their own included.",
    )


# Fields only therapists read: absent for partners here, and never in anyone's export.
THERAPIST_ONLY_FIELDS = ("therapist_notes",)


class SessionSerializer(ModelSerializer):
    """A session as one viewer may read it.

    Therapists read everything. A partner never reads `therapist_notes` (the key is absent)
    nor a participation rating, not even their own (always null), and reads both partners'
    attendance statuses of a joint session (SPEC section 1). `updated_at` is the reader's own
    clock (`reader_updated_at`, annotated by `sessions_visible_to`).
    """

    attendance = AttendanceSerializer(many=True, read_only=True)
    # Not read-only so that the schema shows it as optional: it is absent for partners.
    therapist_notes = StringField(required=False, help_text="Therapists only; absent for partners.")

    class Meta:
        model = TherapySession
        fields = [*TherapySession.SHOWN_FIELDS, "attendance", "created_at", "updated_at"]
        read_only_fields = [name for name in fields if name != "therapist_notes"]

    def to_representation(self, instance: TherapySession) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        data["updated_at"] = utc_timestamp(instance.reader_updated_at)  # type: ignore[attr-defined]
        roles: dict[UUID, str] = self.context["roles"]
        if roles.get(instance.couple_id) != Membership.Role.THERAPIST:
            for name in THERAPIST_ONLY_FIELDS:
                del data[name]
            for entry in data["attendance"]:
                entry["participation"] = None
        return data


def _check_focus_partner(attrs: dict[str, Any], couple_id: UUID) -> None:
    focus = attrs.get("focus_partner")
    if attrs["kind"] == Kind.INDIVIDUAL:
        if focus is None:
            raise serializers.ValidationError(
                {
                    "focus_partner": [
                        serializers.ErrorDetail(
                            "An individual session needs a focus partner.", code="required"
                        )
                    ]
                }
            )
        if focus not in active_partner_ids(couple_id):
            raise serializers.ValidationError({"focus_partner": [does_not_exist(focus)]})
    elif focus is not None:
        raise serializers.ValidationError(
            {
                "focus_partner": [
                    serializers.ErrorDetail("A joint session has no focus partner.", code="invalid")
                ]
            }
        )


class SessionCreateSerializer(serializers.Serializer):
    """A new session: joint, or individual with a focus partner; past sessions are allowed."""

    couple = VisibleCoupleField()
    kind = ChoiceField(choices=Kind.choices)
    focus_partner = serializers.UUIDField(
        allow_null=True, default=None, help_text="Required for an individual session."
    )
    starts_at = CalendarDateTimeField()
    duration_minutes = serializers.IntegerField(min_value=15, max_value=240, default=50)
    therapist_notes = StringField(
        max_length=NOTES_MAX_LENGTH, allow_blank=True, default="", help_text="Therapists only."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_focus_partner(attrs, attrs["couple"].pk)
        return attrs


class SessionUpdateSerializer(serializers.Serializer):
    """A PATCH: `kind`, `focus_partner` and `couple` may be sent back unchanged, never changed;
    `completed` comes only from recording attendance."""

    IMMUTABLE = ("couple", "kind", "focus_partner")

    couple = serializers.UUIDField(required=False, help_text="Immutable.")
    kind = ChoiceField(choices=Kind.choices, required=False, help_text="Immutable.")
    focus_partner = serializers.UUIDField(required=False, allow_null=True, help_text="Immutable.")
    starts_at = CalendarDateTimeField(required=False)
    duration_minutes = serializers.IntegerField(min_value=15, max_value=240, required=False)
    status = ChoiceField(
        choices=TherapySession.Status.choices,
        required=False,
        help_text="`scheduled` or `cancelled`; `completed` comes from recording attendance.",
    )
    therapist_notes = StringField(
        max_length=NOTES_MAX_LENGTH, allow_blank=True, required=False, help_text="Therapists only."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        session: TherapySession = self.context["session"]
        current = {
            "couple": session.couple_id,
            "kind": session.kind,
            "focus_partner": session.focus_partner_id,
        }
        errors = {
            name: [serializers.ErrorDetail(f"`{name}` cannot be changed.", code="immutable")]
            for name in self.IMMUTABLE
            if name in attrs and attrs[name] != current[name]
        }
        if errors:
            raise serializers.ValidationError(errors)
        if (
            attrs.get("status") == TherapySession.Status.COMPLETED
            and session.status != TherapySession.Status.COMPLETED
        ):
            raise serializers.ValidationError(
                {
                    "status": [
                        serializers.ErrorDetail(
                            "Record attendance to complete a session.", code="invalid"
                        )
                    ]
                }
            )
        return attrs


class AttendanceRecordSerializer(serializers.Serializer):
    """`{"attendance": [...]}`: exactly one entry per partner the caller records.

    The context says who that is: `session`, `expected` (the session's expected partners: both for a
    joint session, the focus partner for an individual one) and `recorder_role`. A therapist
    records every expected partner and may rate them; a partner (only in a couple with no
    therapist) records themselves alone and never a rating.
    """

    attendance = serializers.ListField(
        child=AttendanceSerializer(), allow_empty=False, max_length=2
    )

    def validate_attendance(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        session: TherapySession = self.context["session"]
        if session.starts_at > timezone.now():
            # Nobody can have attended, or missed, a session that has not begun.
            raise serializers.ValidationError(
                serializers.ErrorDetail(
                    "This session has not started yet.", code="session_not_started"
                )
            )
        expected: set[UUID] = self.context["expected"]
        viewer: UUID = self.context["request"].user.pk
        is_therapist = self.context["recorder_role"] == Membership.Role.THERAPIST
        errors: list[dict[str, list[serializers.ErrorDetail]]] = [{} for _ in entries]
        seen: set[UUID] = set()
        for index, entry in enumerate(entries):
            partner = entry["partner_id"]
            if partner not in expected:
                errors[index]["partner"] = [does_not_exist(partner)]
            elif partner in seen:
                errors[index]["partner"] = [
                    serializers.ErrorDetail("One entry per partner.", code="duplicate")
                ]
            elif entry["participation"] is not None and entry["status"] not in (
                Attendance.Status.ATTENDED,
                Attendance.Status.LATE,
            ):
                # Participation rates presence: there is nothing to rate in an absence.
                errors[index]["participation"] = [
                    serializers.ErrorDetail(
                        "Only an attended or late partner can be rated.", code="invalid"
                    )
                ]
            seen.add(partner)
        if any(errors):
            raise serializers.ValidationError(errors)
        if not is_therapist:
            if any(entry["partner_id"] != viewer for entry in entries):
                raise PermissionDenied("A partner records only their own attendance.")
            if any(entry["participation"] is not None for entry in entries):
                raise PermissionDenied("Participation is rated by therapists only.")
        required = expected if is_therapist else {viewer} & expected
        if seen != required:
            raise serializers.ValidationError(
                serializers.ErrorDetail(
                    "Give exactly one entry for each expected partner"
                    + (" (both partners for a joint session)." if is_therapist else ": yourself."),
                    code="missing_partners",
                )
            )
        return entries
