"""Writes on invitations: issue one (token emailed after commit), approve, accept, revoke.

The raw token exists only in the create response and the email; the database keeps its
SHA-256. Accepting locks the couple's row, so that two people accepting at the same instant
queue up for the last partner slot; the unique (couple, partner_slot) constraint backs it up.

The rules of SPEC section 1 ("Roles", "Invitations and membership ends"): an invitation is only
as good as its inviter, an active member still allowed to send it (partners only while the couple
has no therapist); a therapist invitation sent by a partner waits for every other active
partner's approval; a user holds one role in a couple, for good; an inviter holds at most
`MAX_PENDING_PER_INVITER` pending invitations per couple.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError

from accounts.models import User
from accounts.models import normalize_email
from accounts.tokens import token_hash
from config.api.fields import utc_timestamp
from engagement.exceptions import ApprovalNotNeeded
from engagement.exceptions import ApprovalPending
from engagement.exceptions import Conflict
from engagement.exceptions import InvalidTransition
from engagement.exceptions import PartnerLimitReached
from engagement.exceptions import PendingLimitReached
from engagement.exceptions import RoleConflict
from engagement.invitations import tasks
from engagement.models import Couple
from engagement.models import Invitation
from engagement.models import Membership
from engagement.services.couples import ensure_not_ended
from engagement.services.couples import free_partner_slot
from engagement.services.couples import lock_couple
from engagement.services.couples import revoke_invitations_sent_by

Role = Membership.Role
INVITATION_LIFETIME = timedelta(days=7)
MAX_PENDING_PER_INVITER = 5
REVOKED_DETAIL = "This invitation was revoked."


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its raw token, which is never stored."""

    invitation: Invitation
    token: str


def pending_invitations_of(*, couple: Couple, inviter: User) -> int:
    """The inviter's own pending invitations to the couple: the limit counts per inviter, so
    one member learns nothing of another's and cannot use them up (SPEC section 1)."""
    return Invitation.objects.filter(
        couple=couple,
        invited_by=inviter,
        status=Invitation.Status.PENDING,
        expires_at__gt=timezone.now(),
    ).count()


def _active_roles(couple: Couple) -> dict[UUID, str]:
    """user id → role of every active member of the couple."""
    return dict(
        Membership.objects.filter(couple=couple, left_at__isnull=True).values_list(
            "user_id", "role"
        )
    )


@transaction.atomic
def invitation_create(
    *,
    couple: Couple,
    invited_by: User,
    email: str,
    role: str,
    may_email: Callable[[], bool] = lambda: True,
) -> IssuedInvitation:
    """Issue an invitation and email its link once the transaction commits.

    `may_email` is asked once every check has passed (the per-address throttle: past its
    limit the invitation is still created, without a mail, and the inviter shares the link).
    The answer is the same either way, so the inviter learns nothing about the address.
    """
    couple = lock_couple(couple.pk)  # the pending count below stays true until we commit
    ensure_not_ended(couple)
    if role == Role.PARTNER and free_partner_slot(couple) is None:
        raise PartnerLimitReached("This couple already has two partners; no one else can join.")
    if pending_invitations_of(couple=couple, inviter=invited_by) >= MAX_PENDING_PER_INVITER:
        raise PendingLimitReached(MAX_PENDING_PER_INVITER)
    inviter_role = _active_roles(couple).get(invited_by.pk)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        couple=couple,
        email=normalize_email(email),
        role=role,
        invited_by=invited_by,
        token_hash=token_hash(token),
        expires_at=now + INVITATION_LIFETIME,
        created_at=now,
        # Nobody brings a therapist into the other partner's data alone (SPEC section 1).
        approvals=[] if role == Role.THERAPIST and inviter_role == Role.PARTNER else None,
    )
    if may_email():
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
        raise InvalidTransition(REVOKED_DETAIL)
    if invitation.effective_status == Invitation.Status.EXPIRED:
        raise InvalidTransition("This invitation has expired; ask for a new one.")
    return False


def _inviter_may_still_send(invitation: Invitation, roles: dict[UUID, str]) -> bool:
    """An invitation is only as good as its inviter: an active member still allowed to send
    it (a therapist; a partner only while the couple has no therapist)."""
    if invitation.invited_by_id is None:
        return False
    inviter_role = roles.get(invitation.invited_by_id)
    if inviter_role == Role.THERAPIST:
        return True
    return inviter_role == Role.PARTNER and Role.THERAPIST not in roles.values()


def _missing_approvals(invitation: Invitation, roles: dict[UUID, str]) -> set[str]:
    """Active partners other than the inviter who have not approved it yet."""
    if not invitation.needs_approval:
        return set()
    others = {
        str(user_id)
        for user_id, role in roles.items()
        if role == Role.PARTNER and user_id != invitation.invited_by_id
    }
    return others - invitation.approved_by


def _refuse_second_role(invitation: Invitation, user: User) -> None:
    """A user holds one role in a couple, for good: a current or former partner never becomes
    its therapist, nor a former therapist its partner (SPEC section 1)."""
    other_role = (
        Membership.objects.filter(couple_id=invitation.couple_id, user=user)
        .exclude(role=invitation.role)
        .exists()
    )
    if other_role:
        raise RoleConflict()


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Couple:
    """Join the couple of the invitation behind `token`; the invitation's email need not
    match the user's (people use several addresses)."""
    found = Invitation.objects.filter(token_hash=token_hash(token)).values("pk", "couple_id")
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
    roles = _active_roles(couple)
    if not _inviter_may_still_send(invitation, roles):
        # Revoked when the inviter left or a therapist joined; this is the backstop, and it
        # answers exactly as a revoked invitation does (the holder learns nothing more).
        raise InvalidTransition(REVOKED_DETAIL)
    if invitation.role == Role.THERAPIST and not user.is_therapist:
        raise PermissionDenied("Only a therapist account can accept a therapist invitation.")
    if user.pk in roles:
        raise Conflict("You are already a member of this couple.")
    _refuse_second_role(invitation, user)
    if _missing_approvals(invitation, roles):
        raise ApprovalPending()
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
    if invitation.role == Role.THERAPIST:
        # Partners run the couple only while it has no therapist: what they sent stops here.
        partners = {user_id for user_id, role in roles.items() if role == Role.PARTNER}
        revoke_invitations_sent_by(couple=couple, user_ids=partners)
    else:
        # A therapist invitation sent by a partner asked the partners of its time; a new
        # partnership begins (SPEC section 1, "Membership periods"), so the inviter asks
        # again, the newcomer included, rather than the newcomer inheriting the old request.
        Invitation.objects.filter(
            couple=couple, status=Invitation.Status.PENDING, approvals__isnull=False
        ).update(status=Invitation.Status.REVOKED, updated_at=timezone.now())
    couple.save(update_fields=["updated_at"])  # its member lists changed
    invitation_id = str(invitation.pk)
    transaction.on_commit(lambda: tasks.notify_inviter_of_acceptance.delay(invitation_id))
    if invitation.role == Role.THERAPIST:
        transaction.on_commit(lambda: tasks.notify_partners_of_therapist.delay(invitation_id))
    return couple


@transaction.atomic
def invitation_approve(*, invitation: Invitation, partner: User) -> Invitation:
    """Another active partner approves a therapist invitation sent by a partner; approving
    again changes nothing. Who may call it is checked here, under the couple's lock."""
    couple = lock_couple(invitation.couple_id)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    roles = _active_roles(couple)
    if roles.get(partner.pk) != Role.PARTNER:
        raise PermissionDenied("Only the couple's partners approve a therapist invitation.")
    if not invitation.needs_approval:
        raise ApprovalNotNeeded()
    if invitation.invited_by_id == partner.pk:
        raise PermissionDenied("Another partner of the couple approves your invitation.")
    ensure_not_ended(couple)
    if invitation.effective_status != Invitation.Status.PENDING:
        raise InvalidTransition(f"This invitation is {invitation.effective_status}.")
    if str(partner.pk) not in invitation.approved_by:
        entry = {"partner": str(partner.pk), "approved_at": utc_timestamp(timezone.now())}
        invitation.approvals = [*(invitation.approvals or []), entry]
        invitation.save(update_fields=["approvals", "updated_at"])
    return invitation


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
