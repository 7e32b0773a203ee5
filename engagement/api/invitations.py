"""Invitations API: list, issue (the token shown once), approve, accept by token, revoke.

Who may invite: the couple's therapists, and its partners while it has no therapist (SPEC
section 1); other members get 403. Throttled per inviter (`invite_user`, 429 with
Retry-After); past the per-address limit (`invite_email`) the invitation is still created, and
only its email is not sent, with the same answer (the inviter shares the link).
"""

from __future__ import annotations

import hashlib
from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from accounts.models import normalize_email
from accounts.throttling import CountingThrottle
from engagement.api.base import VisibleViewSet
from engagement.api.base import command
from engagement.api.base import validated
from engagement.api.filters import InvitationFilter
from engagement.api.idempotency import idempotent
from engagement.api.permissions import may_approve_invitations
from engagement.api.permissions import may_invite
from engagement.api.permissions import members_prefetch
from engagement.api.permissions import require
from engagement.api.serializers.couples import CoupleSerializer
from engagement.api.serializers.invitations import InvitationAcceptSerializer
from engagement.api.serializers.invitations import InvitationCreatedSerializer
from engagement.api.serializers.invitations import InvitationCreateSerializer
from engagement.api.serializers.invitations import InvitationSerializer
from engagement.invitations.emails import invitation_url
from engagement.models import Invitation
from engagement.selectors.visibility import couples_visible_to
from engagement.selectors.visibility import invitations_visible_to
from engagement.services.invitations import invitation_accept
from engagement.services.invitations import invitation_approve
from engagement.services.invitations import invitation_create
from engagement.services.invitations import invitation_revoke

MAY_NOT_INVITE = "Invitations for this couple are sent by its therapist."


class InviteUserThrottle(CountingThrottle):
    """Invitations sent per inviter."""

    scope = "invite_user"

    def identity(self, request: Request, view: Any) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None


class InviteEmailThrottle(CountingThrottle):
    """Invitation emails sent per invited address, keyed on a hash (the cache never holds
    addresses). Asked only for invitations about to be created, so no one can use up an
    address's quota with requests that were refused anyway; past it, no email goes out."""

    scope = "invite_email"

    def __init__(self, email: str) -> None:
        super().__init__()
        self.email = email

    def identity(self, request: Request, view: Any) -> str | None:
        return hashlib.sha256(normalize_email(self.email).encode()).hexdigest()


@extend_schema_view(
    list=extend_schema(
        summary="Invitations of the caller's couples",
        description=(
            "A partner lists the invitations they sent, and the therapist invitations another "
            "partner sent, which wait for their approval; therapists list all of their "
            "couples'. Newest first (`-created_at`, `id`); with `updated_since`, by "
            "(`updated_at`, `id`) ascending, for sync. Expiry does not change `updated_at`."
        ),
    ),
    retrieve=extend_schema(
        summary="An invitation", description="With an ETag (If-None-Match → 304)."
    ),
)
class InvitationViewSet(VisibleViewSet[Invitation]):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    list_ordering = ("-created_at", "id")

    visible_to = staticmethod(invitations_visible_to)

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = list(super().get_throttles())
        if self.action == "create":
            throttles.append(InviteUserThrottle())
        return throttles

    @extend_schema(
        summary="Invite someone to a couple",
        description=(
            "Therapists of the couple; its partners while it has no therapist (else 403). "
            "A couple the caller cannot see: 400 `does_not_exist` on `couple`. The token and "
            "link are in this answer only (a replay answers them null) and go by email once "
            "the invitation is stored, unless the invited address already received its share "
            "of invitations: then no email goes out and the answer is the same (share the "
            "link). 409: the couple ended (`invalid_transition`), a partner invitation to a "
            "couple with two partners (`partner_limit`), or the caller already holds 5 pending "
            "invitations to this couple (`pending_limit`). A therapist invitation sent by a "
            "partner carries `approvals` and needs every other active partner's approval. "
            "Expires after 7 days."
        ),
        request=InvitationCreateSerializer,
        responses={201: InvitationCreatedSerializer},
    )
    @idempotent(replay_body=lambda body: {**body, "token": None, "url": None})
    def create(self, request: Request) -> Response:
        data = validated(InvitationCreateSerializer, request)
        require(may_invite(self.caller, data["couple"]), MAY_NOT_INVITE)
        email_throttle = InviteEmailThrottle(data["email"])
        issued = invitation_create(
            couple=data["couple"],
            invited_by=self.caller,
            email=data["email"],
            role=data["role"],
            may_email=lambda: email_throttle.allow_request(request, self),
        )
        body = {
            **InvitationSerializer(issued.invitation).data,
            "token": issued.token,
            "url": invitation_url(issued.token),
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Accept an invitation",
        description=(
            "Any signed-in user holding the token (the invited address need not match). "
            "Answers the couple joined. Unknown token: 400 on `token`. Used by someone else, "
            "revoked, expired, the couple ended, or its inviter no longer a member allowed to "
            "send it (a partner, once a therapist joined): 409 `invalid_transition`; accepting "
            "again by the same user answers 200. A therapist invitation and the caller is not "
            "a therapist: 403. Already a member: 409 `conflict`. A current or former member "
            "in the other role (a partner never becomes the couple's therapist): 409 "
            "`role_conflict`. A therapist invitation sent by a partner that another active "
            "partner has not approved yet: 409 `approval_pending`. Two partners already: 409 "
            "`partner_limit`. When a therapist joins, the pending invitations partners sent "
            "are revoked."
        ),
        request=InvitationAcceptSerializer,
        responses={200: CoupleSerializer},
    )
    @action(detail=False, methods=["post"])
    def accept(self, request: Request) -> Response:
        token = validated(InvitationAcceptSerializer, request)["token"]
        # The token is the capability: it is looked up among all invitations, not only
        # those of the caller's couples (they belong to none of them yet).
        couple = invitation_accept(token=token, user=self.caller)
        joined = couples_visible_to(self.caller).prefetch_related(members_prefetch())
        answer = CoupleSerializer(joined.get(pk=couple.pk), context={"request": request})
        return Response(answer.data)

    @command(
        InvitationSerializer,
        summary="Approve a therapist invitation sent by another partner",
        description=(
            "The couple's other active partners (SPEC section 1: nobody brings a therapist "
            "into the other partner's data alone). Answers the invitation, its `approvals` "
            "holding the caller; approving again changes nothing. Its inviter, or a therapist: "
            "403. An invitation that needs no approval (sent by a therapist, or a partner "
            "invitation): 409 `approval_not_needed`. Not pending any more (accepted, revoked, "
            "expired) or the couple ended: 409 `invalid_transition`."
        ),
    )
    def approve(self, request: Request, pk: str | None = None) -> Response:
        invitation = self.get_object()
        require(
            may_approve_invitations(self.caller, invitation.couple),
            "Only the couple's partners approve a therapist invitation.",
        )
        approved = invitation_approve(invitation=invitation, partner=self.caller)
        return Response(InvitationSerializer(approved).data)

    @command(
        InvitationSerializer,
        summary="Revoke an invitation",
        description=(
            "Those who may invite (else 403). Revoking again answers 200 and changes nothing; "
            "an accepted invitation: 409 `invalid_transition`."
        ),
    )
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        invitation = self.get_object()
        require(may_invite(self.caller, invitation.couple), "Only those who may invite can revoke.")
        return Response(InvitationSerializer(invitation_revoke(invitation=invitation)).data)
