"""The safety API (SPEC sections 2 and 4): safety alerts for the couple's therapists, each
partner's safe contact, and the caller's consents to the data rules.

Who reads what: an alert, only the active therapists of its couple (everyone else 404); a safe
contact, its author and (with `?partner=`) the couple's therapists, never the other partner;
consents, only their own user. docs/safety.md explains the feature.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework import serializers
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from engagement.api.audit import AuditedListMixin
from engagement.api.audit import record_therapist_reads
from engagement.api.base import CallerListViewSet
from engagement.api.base import CallerViewMixin
from engagement.api.base import caller
from engagement.api.base import command
from engagement.api.base import found
from engagement.api.base import put_answer
from engagement.api.base import replaces
from engagement.api.base import validated
from engagement.api.conditional import ConditionalListMixin
from engagement.api.conditional import conditional
from engagement.api.filters import SafetyAlertFilter
from engagement.api.permissions import members_prefetch
from engagement.api.permissions import require_partner
from engagement.api.permissions import role_of
from engagement.api.serializers.safety import ConsentSerializer
from engagement.api.serializers.safety import SafeContactSerializer
from engagement.api.serializers.safety import SafetyAlertSerializer
from engagement.api.serializers.safety import safe_contact_data
from engagement.models import Consent
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.selectors.visibility import couples_visible_to
from engagement.selectors.visibility import couples_with_role
from engagement.services.safety import consent_record
from engagement.services.safety import safe_contact_put
from engagement.services.safety import safety_alert_acknowledge

_ALERT_EXAMPLE = {
    "id": "2f6d0b8e-7c1a-4e5b-9d3c-8a7b6c5d4e3f",
    "couple": "0b9e6a52-3f1d-4e8a-9c7b-2d1e0f9a8b7c",
    "partner": "93c2d1e0-6b5a-4f3e-8d2c-1b0a9f8e7d6c",
    "date": "2026-11-23",
    "created_at": "2026-11-23T21:40:00.000Z",
    "retracted_at": None,
    "acknowledged_by": None,
    "acknowledged_at": None,
}


def safety_alerts_visible_to(user: User) -> QuerySet[SafetyAlert]:
    """The alerts of the couples in which the user is an active therapist (SPEC section 1)."""
    return SafetyAlert.objects.filter(
        couple_id__in=couples_with_role(user, Membership.Role.THERAPIST).values("id")
    )


class SafetyAlertViewSet(AuditedListMixin, CallerListViewSet[SafetyAlert]):
    """Safety alerts of the caller's couples (therapists); the newest first."""

    serializer_class = SafetyAlertSerializer
    filterset_class = SafetyAlertFilter
    list_ordering = ("-created_at", "id")
    list_audit = ("safety_alert.list", "safety_alert")

    visible_to = staticmethod(safety_alerts_visible_to)

    @extend_schema(
        summary="List the safety alerts of the caller's couples",
        description=(
            "Therapists: an alert for each time a partner's check-in answered `afraid_or_hurt: "
            "true` while the couple had a therapist, whatever the check-in's visibility; "
            "`retracted_at` is set when the answer was edited back or the check-in deleted (the "
            "alert stays). Nothing of the check-in itself. Partners and anyone else: an empty "
            "list. Newest first; filters `couple` and `acknowledged`."
        ),
        examples=[OpenApiExample("An alert waiting", value=_ALERT_EXAMPLE)],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @command(
        SafetyAlertSerializer,
        summary="Acknowledge a safety alert",
        description=(
            "A therapist of the couple says they have seen it: it is not sent again after 24 "
            "hours. The first acknowledgement stands; doing it again changes nothing."
        ),
    )
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()
        alert = safety_alert_acknowledge(alert=alert, by=caller(request))
        return Response(SafetyAlertSerializer(alert).data)


PARTNER_PARAMETER = OpenApiParameter(
    "partner",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="Therapists: the partner whose safe contact to read (required for them). "
    "Partners read their own and may leave it out.",
)


class SafeContactView(APIView):
    """`/couples/{id}/safe-contact/`: a partner's own safe contact in that couple."""

    def _couple(self, request: Request, pk: str) -> Couple:
        visible = couples_visible_to(caller(request)).prefetch_related(members_prefetch())
        return found(visible.filter(pk=pk).first())

    def _partner_param(self, request: Request) -> str | None:
        values = request.query_params.getlist("partner")
        if len(values) > 1:
            raise ValidationError(
                {"partner": [serializers.ErrorDetail("Give partner once.", code="multiple_values")]}
            )
        if not values:
            return None
        try:
            return str(serializers.UUIDField().run_validation(values[0]))
        except ValidationError as exc:
            raise ValidationError({"partner": exc.detail}) from None

    @extend_schema(
        summary="Read a safe contact",
        description=(
            "A partner reads their own. A therapist of the couple reads a partner's with "
            "`?partner=` (the safety alert's email links here). Never the other partner's: a "
            "partner naming anyone but themselves gets 404. Keys not given are null."
        ),
        parameters=[PARTNER_PARAMETER],
        responses={200: SafeContactSerializer},
    )
    def get(self, request: Request, pk: str) -> Response:
        user = caller(request)
        couple = self._couple(request, pk)
        role = role_of(user, couple)
        partner_id = self._partner_param(request)
        if role == Membership.Role.THERAPIST:
            if partner_id is None:
                raise ValidationError(
                    {
                        "partner": [
                            serializers.ErrorDetail("Therapists name the partner.", code="required")
                        ]
                    }
                )
            partners = {
                str(m.user_id)
                for m in couple.memberships.all()
                if m.role == Membership.Role.PARTNER and m.left_at is None
            }
            if partner_id not in partners:
                raise NotFound()
            contact = SafeContact.objects.filter(couple=couple, partner_id=UUID(partner_id)).first()
            if contact is not None:
                record_therapist_reads(
                    request,
                    action="safe_contact.read",
                    object_type="safe_contact",
                    objects=[contact],
                )
        else:
            if partner_id is not None and partner_id != str(user.pk):
                raise NotFound()
            contact = SafeContact.objects.filter(couple=couple, partner=user).first()
        return conditional(request, Response(safe_contact_data(contact)))

    @replaces(
        SafeContactSerializer,
        SafeContactSerializer,
        summary="Set the caller's safe contact",
        description=(
            "Partners only: how a therapist may reach them safely after a safety alert, when "
            "their inbox or phone may be shared. Every key optional; PUT replaces the whole "
            "contact (a key left out is cleared). 201 when created, 200 when replaced. Never "
            "shown to the other partner nor in any digest."
        ),
        examples=[
            OpenApiExample(
                "A work phone, mornings",
                value={
                    "phone": "+34 600 000 000",
                    "email": None,
                    "times": "Weekdays 9 to 12, at work",
                    "voicemail_ok": False,
                },
            )
        ],
    )
    def put(self, request: Request, pk: str) -> Response:
        user = caller(request)
        couple = self._couple(request, pk)
        require_partner(user, couple, "Only partners set a safe contact.")
        data = validated(SafeContactSerializer, request)
        values = {k: v for k, v in data.items() if k != "voicemail_ok"}
        contact, created = safe_contact_put(
            couple=couple,
            partner=user,
            **{k: (v or "") for k, v in values.items()},
            voicemail_ok=data.get("voicemail_ok"),
        )
        return put_answer(safe_contact_data(contact), created=created)


class ConsentView(
    CallerViewMixin, ConditionalListMixin, mixins.ListModelMixin, GenericAPIView[Consent]
):
    """`/me/consents/`: the caller's acceptances of the data rules, newest first."""

    serializer_class = ConsentSerializer
    list_ordering = ("-accepted_at", "id")
    supports_sync = False
    ordering = ("-accepted_at", "id")

    def visible_to(self, user: User) -> QuerySet[Consent]:
        return Consent.objects.filter(user=user)

    @extend_schema(summary="List the caller's acceptances of the data rules")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Record that the caller accepted a version of the data rules",
        description=(
            "The apps show the data rules (who reads what; that a safety answer always reaches "
            "the therapist) and record each acceptance: `{document, version}` → 201 with "
            "`accepted_at`. Earlier acceptances stay, as history."
        ),
        responses={201: ConsentSerializer},
        examples=[
            OpenApiExample(
                "The data rules, version 2",
                request_only=True,
                value={"document": "data-rules", "version": "2"},
            )
        ],
    )
    def post(self, request: Request) -> Response:
        consent = consent_record(user=caller(request), **validated(ConsentSerializer, request))
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)
