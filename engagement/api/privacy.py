"""The caller's own data as a whole: `GET /me/export/` and `DELETE /me/` (docs/privacy.md).

They live in engagement because both reach the couples; accounts' MeView keeps the profile."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from accounts.api import views as account_views
from accounts.api.serializers import DeviceSerializer
from accounts.api.serializers import MeSerializer
from accounts.api.serializers import PasswordConfirmSerializer
from accounts.throttling import AuthIPThrottle
from accounts.throttling import ExportThrottle
from accounts.throttling import RequestRateThrottle
from config.api.fields import AwareDateTimeField
from config.api.fields import StringField
from config.api.schema import AutoSchema
from engagement.api.base import caller
from engagement.api.serializers.away import AwayPeriodSerializer
from engagement.api.serializers.checkins import CheckInSerializer
from engagement.api.serializers.commitments import CommitmentSerializer
from engagement.api.serializers.sessions import SessionSerializer
from engagement.models import Attendance
from engagement.models import Goal
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.privacy import export
from engagement.privacy.erasure import user_erase
from engagement.privacy.export import export_for

NO_CONTENT = OpenApiResponse(description="Done.")


# --- The export, for the schema: engagement/privacy/export.py builds the document itself. ---


def _enum(choices: type[models.TextChoices], **kwargs: Any) -> StringField:
    """A string documented with its values. Not an enum component: many models share field
    names like `status`, and the schema's enum names would collide across them."""
    values = ", ".join(f"`{value}`" for value in choices.values)
    return StringField(help_text=f"One of {values}.", **kwargs)


class _ExportUserSerializer(MeSerializer):
    email_verified_at = AwareDateTimeField(allow_null=True)

    class Meta(MeSerializer.Meta):
        # What engagement/privacy/export.py writes of the user (the reminder preferences not yet).
        fields = (
            *(
                name
                for name in MeSerializer.Meta.fields
                if name not in ("checkin_reminder", "reminder_hour", "reminder_email", "language")
            ),
            "email_verified_at",
        )


class _ExportCoupleSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = StringField()
    role = _enum(Membership.Role)
    joined_at = AwareDateTimeField()
    left_at = AwareDateTimeField(allow_null=True)
    shares_balance = serializers.BooleanField(allow_null=True)


class _ExportAttendanceSerializer(serializers.Serializer):
    status = _enum(Attendance.Status)


class _ExportSessionSerializer(SessionSerializer):
    """A session the caller was expected at, with their own attendance status only."""

    attendance = _ExportAttendanceSerializer(  # type: ignore[assignment]
        allow_null=True, help_text="The caller's own entry."
    )

    class Meta(SessionSerializer.Meta):
        fields = [*export.SESSION_FIELDS, "attendance"]
        read_only_fields = fields


class _ExportCommitmentSerializer(CommitmentSerializer):
    """One of the caller's own commitments."""

    class Meta(CommitmentSerializer.Meta):
        fields = list(export.COMMITMENT_FIELDS)
        read_only_fields = fields


class _ExportCheckInSerializer(CheckInSerializer):
    """One of the caller's own check-ins."""

    class Meta(CheckInSerializer.Meta):
        fields = list(export.CHECKIN_FIELDS)
        read_only_fields = fields
        extra_kwargs = {
            "afraid_or_hurt": {"help_text": "The caller's own safety answer (read nowhere else)."}
        }


class _ExportFeedbackSerializer(serializers.Serializer):
    session = serializers.UUIDField()
    understood = serializers.IntegerField()
    helpful = serializers.IntegerField()
    spoke_freely = serializers.IntegerField()
    coming_back = serializers.IntegerField()
    comment = StringField()
    submitted_at = AwareDateTimeField()
    updated_at = AwareDateTimeField()


class _ExportGoalSerializer(serializers.Serializer):
    couple = serializers.UUIDField()
    goal = _enum(Goal.Choice)
    note = StringField()
    set_at = AwareDateTimeField()


class _ExportAwayPeriodSerializer(AwayPeriodSerializer):
    """One of the caller's own away periods, as its author reads it in the app."""

    partner = None  # type: ignore[assignment]


class _ExportReportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    couple = serializers.UUIDField()
    week_start = serializers.DateField()
    methodology = StringField()
    view = serializers.ChoiceField(choices=["partner"])
    computed_at = AwareDateTimeField()
    revision = serializers.IntegerField()
    balance = _enum(WeeklyReport.Balance, allow_null=True)
    gap = serializers.FloatField(allow_null=True)
    gap_trend = _enum(WeeklyReport.GapTrend, allow_null=True)
    less_engaged_partner = serializers.UUIDField(allow_null=True)
    partners = serializers.ListField(child=serializers.DictField())
    flags = serializers.ListField(child=serializers.DictField())
    recommendations = serializers.ListField(child=serializers.DictField())


class _ExportSafeContactSerializer(serializers.Serializer):
    couple = serializers.UUIDField()
    phone = StringField(allow_null=True)
    email = StringField(allow_null=True)
    times = StringField(allow_null=True)
    voicemail_ok = serializers.BooleanField(allow_null=True)
    updated_at = AwareDateTimeField()


class _ExportConsentSerializer(serializers.Serializer):
    document = StringField()
    version = StringField()
    accepted_at = AwareDateTimeField()


class ExportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["duet-export"])
    version = serializers.IntegerField()
    exported_at = AwareDateTimeField()
    user = _ExportUserSerializer()
    couples = _ExportCoupleSerializer(many=True)
    sessions = _ExportSessionSerializer(many=True)
    commitments = _ExportCommitmentSerializer(many=True)
    checkins = _ExportCheckInSerializer(many=True)
    session_feedback = _ExportFeedbackSerializer(many=True, help_text="The caller's own.")
    goals = _ExportGoalSerializer(many=True, help_text="Every goal the caller set, oldest first.")
    away_periods = _ExportAwayPeriodSerializer(many=True)
    reports = _ExportReportSerializer(many=True)
    devices = DeviceSerializer(many=True, help_text="The caller's push devices, never a token.")
    safe_contacts = _ExportSafeContactSerializer(
        many=True, help_text="The caller's own safe contacts; never a safety alert."
    )
    consents = _ExportConsentSerializer(many=True)


# --- Views ---


class BodyOnDeleteSchema(AutoSchema):
    """`DELETE /me/` takes the password in its body; document it (OpenAPI allows it)."""

    def _get_request_body(self, direction: str = "request") -> Any:
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class MeView(account_views.MeView):
    schema = BodyOnDeleteSchema()

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = super().get_throttles()
        if self.request.method == "DELETE":
            throttles.append(AuthIPThrottle())  # it takes a password
        return throttles

    @extend_schema(
        operation_id="me_destroy",
        request=PasswordConfirmSerializer,
        responses={204: NO_CONTENT},
        description=(
            "Erase the account and its personal data, and revoke its tokens. What is kept, "
            "anonymised, is listed in docs/privacy.md."
        ),
    )
    def delete(self, request: Request) -> Response:
        serializer = PasswordConfirmSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user_erase(user=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(account_views.SignedInView):
    throttle_classes = [RequestRateThrottle, ExportThrottle]

    @extend_schema(
        operation_id="me_export",
        responses={200: ExportSerializer},
        description=(
            "Everything stored about the caller, shaped by the same visibility rules as the "
            "API: never therapist notes, nor anything private of anyone else."
        ),
    )
    def get(self, request: Request) -> Response:
        document: dict[str, Any] = export_for(caller(request))
        return Response(
            document,
            headers={"Content-Disposition": 'attachment; filename="duet-export.json"'},
        )
