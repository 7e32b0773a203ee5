"""Writes on invitations: issue one (token emailed after commit), accept it, revoke it.

The raw token exists only in the create response and the email; the database keeps its
SHA-256. Accepting locks the couple's row, so that two people accepting at the same instant
queue up for the last partner slot; the unique (couple, partner_slot) constraint backs it up.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied, ValidationError

from accounts.models import User, normalize_email
from engagement.invitations import tasks
from engagement.models import Couple, Invitation, Membership
from engagement.services.couples import (
    Conflict,
    InvalidTransition,
    PartnerLimitReached,
    ensure_not_ended,
    free_partner_slot,
    lock_couple,
)

Role = Membership.Role
INVITATION_LIFETIME = timedelta(days=7)
MAX_PENDING_PER_COUPLE = 10


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its raw token, which is never stored."""

    invitation: Invitation
    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pending_invitations(couple: Couple) -> int:
    return Invitation.objects.filter(
        couple=couple, status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
    ).count()


@transaction.atomic
def invitation_create(
    *, couple: Couple, invited_by: User, email: str, role: str
) -> IssuedInvitation:
    """Issue an invitation and email its link once the transaction commits."""
    couple = lock_couple(couple.pk)  # the pending count below stays true until we commit
    ensure_not_ended(couple)
    if role == Role.PARTNER and free_partner_slot(couple) is None:
        raise PartnerLimitReached("This couple already has two partners; no one else can join.")
    if pending_invitations(couple) >= MAX_PENDING_PER_COUPLE:
        raise Conflict(
            f"A couple holds at most {MAX_PENDING_PER_COUPLE} pending invitations; "
            "revoke one before sending another."
        )
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        couple=couple,
        email=normalize_email(email),
        role=role,
        invited_by=invited_by,
        token_hash=hash_token(token),
        expires_at=now + INVITATION_LIFETIME,
        created_at=now,
    )
    invitation_id = str(invitation.pk)
    transaction.on_commit(lambda: tasks.send_invitation.delay(invitation_id, token))
    return IssuedInvitation(invitation=invitation, token=token)


def _refuse_unusable(invitation: Invitation, user: User) -> bool:
    """Raise for an invitation that cannot be accepted; True when this user already did."""
    if invitation.status == Invitation.Status.ACCEPTED:
        still_member = Membership.objects.filter(
            couple_id=invitation.couple_id, user=user, left_at__isnull=True
        ).exists()
        if invitation.accepted_by_id == user.pk and still_member:
            return True  # a retry after a lost answer
        raise InvalidTransition("This invitation was already used.")
    if invitation.status == Invitation.Status.REVOKED:
        raise InvalidTransition("This invitation was revoked.")
    if invitation.effective_status == Invitation.Status.EXPIRED:
        raise InvalidTransition("This invitation has expired; ask for a new one.")
    return False


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Couple:
    """Join the couple of the invitation behind `token`; the invitation's email need not
    match the user's (people use several addresses)."""
    found = Invitation.objects.filter(token_hash=hash_token(token)).values("pk", "couple_id")
    first = found.first()
    if first is None:
        raise ValidationError({"token": ["This invitation link is not valid."]}, code="invalid")
    # Couple first, then invitation: the same order as ending a couple (which revokes its
    # invitations), so the two never wait on each other.
    couple = lock_couple(first["couple_id"])
    invitation = Invitation.objects.select_for_update().get(pk=first["pk"])
    if _refuse_unusable(invitation, user):
        return couple
    ensure_not_ended(couple)
    if invitation.role == Role.THERAPIST and not user.is_therapist:
        raise PermissionDenied("Only a therapist account can accept a therapist invitation.")
    if Membership.objects.filter(couple=couple, user=user, left_at__isnull=True).exists():
        raise Conflict("You are already a member of this couple.")
    slot = None
    if invitation.role == Role.PARTNER:
        slot = free_partner_slot(couple)
        if slot is None:
            raise PartnerLimitReached()
    try:
        with transaction.atomic():
            Membership.objects.create(
                couple=couple, user=user, role=invitation.role, partner_slot=slot
            )
    except IntegrityError as exc:
        # Only reachable if the row lock was bypassed; the constraint still holds the line.
        raise PartnerLimitReached() from exc
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_by = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "accepted_at", "updated_at"])
    couple.save(update_fields=["updated_at"])  # its member lists changed
    invitation_id = str(invitation.pk)
    transaction.on_commit(lambda: tasks.notify_inviter_of_acceptance.delay(invitation_id))
    if invitation.role == Role.THERAPIST:
        transaction.on_commit(lambda: tasks.notify_partners_of_therapist.delay(invitation_id))
    return couple


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Revoke; again is a no-op, and an accepted invitation cannot be taken back."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvalidTransition("This invitation was already accepted.")
    if invitation.status != Invitation.Status.REVOKED:
        invitation.status = Invitation.Status.REVOKED
        invitation.save(update_fields=["status", "updated_at"])
    return invitation
