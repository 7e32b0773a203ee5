"""Couples API: list, create, read, change settings, share the balance, leave, remove a member.

Order of answers: 401 without a token; 404 for a couple outside the caller's reach; 403 for
one they see but may not change; 400 for a bad body; 409 for a change its state refuses
(`ended` couples are read-only, except that members may still leave them).
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from engagement.api.base import ReaderViewSet
from engagement.api.base import command
from engagement.api.base import validated
from engagement.api.filters import CoupleFilter
from engagement.api.idempotency import idempotent
from engagement.api.permissions import SETTINGS_DENIED
from engagement.api.permissions import may_change_settings
from engagement.api.permissions import may_remove_members
from engagement.api.permissions import may_set_safety_hold
from engagement.api.permissions import may_share_balance
from engagement.api.permissions import members_prefetch
from engagement.api.permissions import require
from engagement.api.serializers.couples import CoupleCreateSerializer
from engagement.api.serializers.couples import CoupleSerializer
from engagement.api.serializers.couples import CoupleSettingsSerializer
from engagement.api.serializers.couples import RemoveMemberSerializer
from engagement.api.serializers.couples import ShareBalanceSerializer
from engagement.models import Couple
from engagement.selectors.visibility import couples_visible_to
from engagement.services.couples import couple_create
from engagement.services.couples import couple_leave
from engagement.services.couples import couple_remove_member
from engagement.services.couples import couple_share_balance
from engagement.services.couples import couple_update


@extend_schema_view(
    list=extend_schema(
        summary="Couples the caller belongs to",
        description=(
            "Newest first (`-created_at`, `id`); with `updated_since`, by "
            "(`updated_at`, `id`) ascending, for sync."
        ),
    ),
    retrieve=extend_schema(summary="A couple", description="With an ETag (If-None-Match → 304)."),
)
class CoupleViewSet(ReaderViewSet[Couple]):
    serializer_class = CoupleSerializer
    filterset_class = CoupleFilter
    list_ordering = ("-created_at", "id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def visible_to(self, user: User) -> QuerySet[Couple]:
        return couples_visible_to(user).prefetch_related(members_prefetch(), "safe_contacts")

    @extend_schema(
        summary="Create a couple",
        description=(
            "The creator joins it: as therapist if `is_therapist`, else as partner. "
            "`timezone` defaults to the creator's; `partners_see_balance` to true, or false "
            "when a therapist creates it."
        ),
        request=CoupleCreateSerializer,
    )
    @idempotent()
    def create(self, request: Request) -> Response:
        data = validated(CoupleCreateSerializer, request, is_therapist=self.caller.is_therapist)
        couple = couple_create(
            creator=self.caller,
            name=data.get("name", ""),
            timezone_name=data.get("timezone"),
            checkin_target_per_week=data.get("checkin_target_per_week", 4),
            partners_see_balance=data.get("partners_see_balance"),
            safety_hold=data.get("safety_hold", False),
        )
        return self.answer(couple.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a couple's settings",
        description=(
            "Therapists; partners only while the couple has no therapist (and is not held), "
            "else 403. Partners cannot send `safety_hold` (ignored). Setting `status` records "
            "the change; `ended` is final: later writes answer 409 `invalid_transition`."
        ),
        request=CoupleSettingsSerializer,
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        couple = self.get_object()
        require(may_change_settings(self.caller, couple), SETTINGS_DENIED)
        changes = validated(
            CoupleSettingsSerializer, request, is_therapist=may_set_safety_hold(self.caller, couple)
        )
        couple_update(couple=couple, changes=changes)
        return self.answer(couple.pk)

    @extend_schema(
        summary="Consent to see the couple's balance, or withdraw it",
        description="Partners only (403 for therapists). Sets the caller's `shares_balance`.",
        request=ShareBalanceSerializer,
    )
    @action(detail=True, methods=["post"], url_path="share-balance")
    def share_balance(self, request: Request, pk: str | None = None) -> Response:
        couple = self.get_object()
        require(
            may_share_balance(self.caller, couple), "Only partners consent to seeing the balance."
        )
        data = validated(ShareBalanceSerializer, request)
        couple_share_balance(couple=couple, partner=self.caller, share=data["share"])
        return self.answer(couple.pk)

    @command(
        None,
        summary="Leave a couple",
        description=(
            "Ends the caller's membership (a partner's place is freed); they keep appearing "
            "in `former_members`. What they can no longer see is listed by GET /removals/. "
            "Their pending invitations are revoked. The couple's last therapist while it is "
            "on safety hold: 409 `last_therapist_on_hold`."
        ),
    )
    def leave(self, request: Request, pk: str | None = None) -> Response:
        couple_leave(couple=self.get_object(), user=self.caller)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Remove a member from a couple",
        description=(
            "Therapists: any member. In a couple with no therapist, a partner may remove the "
            "person who accepted a partner invitation they sent, within 7 days of the "
            "acceptance (a wrong person joined); any other partner's request answers 403. "
            "`user` must be an active member (else 400 `does_not_exist`). The couple's last "
            "therapist while it is on safety hold: 409 `last_therapist_on_hold`. The removed "
            "member's pending invitations are revoked."
        ),
        request=RemoveMemberSerializer,
        responses={204: None},
    )
    @action(detail=True, methods=["post"], url_path="remove-member")
    def remove_member(self, request: Request, pk: str | None = None) -> Response:
        couple = self.get_object()
        require(
            may_remove_members(self.caller, couple),
            "Only the couple's therapist can remove members.",
        )
        data = validated(RemoveMemberSerializer, request, couple=couple)
        couple_remove_member(couple=couple, user=data["user"], remover=self.caller)
        return Response(status=status.HTTP_204_NO_CONTENT)
