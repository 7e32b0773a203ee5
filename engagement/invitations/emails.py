"""Send the invitation emails (built by config.emails): names escaped, neutral subjects.

Subjects never mention therapy: a shared inbox shows them to whoever looks.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.utils import dateformat

from accounts.models import User
from config.emails import build
from config.emails import frontend_url
from engagement.models import Invitation
from engagement.models import Membership
from engagement.services.couples import UNDO_JOINING_WINDOW

Role = Membership.Role


def invitation_url(token: str) -> str:
    """The link the invitee follows: the apps' page, which posts the token to accept."""
    return frontend_url("/invite", token=token)


def _send(template: str, to: str, context: dict[str, Any], language: str) -> None:
    """One message per recipient, so that no one sees another's address; in `language`, the
    recipient's (SPEC 7), or the inviter's for an address with no account yet."""
    build(template, to=to, context=context, language=language).send()


def _reachable(user: User | None) -> bool:
    return user is not None and user.is_active and user.erased_at is None


def _is_active_member(user: User, invitation: Invitation) -> bool:
    return Membership.objects.filter(
        couple_id=invitation.couple_id, user=user, left_at__isnull=True
    ).exists()


def send_invitation_email(*, invitation_id: str, token: str) -> bool:
    """The link to the invited address; nothing when the invitation was revoked meanwhile."""
    invitation = Invitation.objects.select_related("invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.effective_status != Invitation.Status.PENDING:
        return False
    inviter = invitation.invited_by
    _send(
        "invitation",
        invitation.email,
        {
            "inviter_name": inviter.display_name if inviter else "",
            "as_therapist": invitation.role == Role.THERAPIST,
            "url": invitation_url(token),
            "expires_at": invitation.expires_at,
        },
        _invitee_language(invitation),
    )
    return True


def _invitee_language(invitation: Invitation) -> str:
    """The language of the account the address belongs to; for an address with no account
    (or none that may be told anything), the inviter's: they likely share it."""
    invitee = User.objects.filter(email__iexact=invitation.email).first()
    if _reachable(invitee):
        assert invitee is not None
        return invitee.language
    inviter = invitation.invited_by
    return inviter.language if inviter is not None else "en"


def _undo_promise(invitation: Invitation, inviter: User) -> dict[str, Any]:
    """What the inviter may do about whoever joined, exactly as remove-member allows it (SPEC
    section 1): a therapist may remove any member; the partner who sent a partner invitation
    may remove its acceptor within 7 days, while the couple has no therapist; a partner whose
    therapist invitation was accepted cannot remove a therapist, and is not told otherwise."""
    roles = dict(
        Membership.objects.filter(couple_id=invitation.couple_id, left_at__isnull=True).values_list(
            "user_id", "role"
        )
    )
    if roles.get(inviter.pk) == Role.THERAPIST:
        return {"undo": "therapist"}
    if invitation.role == Role.PARTNER and Role.THERAPIST not in roles.values():
        assert invitation.accepted_at is not None
        until = (invitation.accepted_at + UNDO_JOINING_WINDOW).astimezone(
            ZoneInfo(inviter.timezone or "UTC")
        )
        return {
            "undo": "partner",
            "undo_until": f"{until.day} {dateformat.format(until, 'F Y, H:i')} "
            f"({inviter.timezone or 'UTC'})",
        }
    return {"undo": ""}


def send_acceptance_email(*, invitation_id: str) -> bool:
    """Tell the inviter who accepted (the account may differ from the invited address), as
    long as the inviter still belongs to the couple: a former member learns nothing new."""
    invitation = (
        Invitation.objects.select_related("invited_by", "accepted_by")
        .filter(pk=invitation_id, status=Invitation.Status.ACCEPTED)
        .first()
    )
    if invitation is None or invitation.accepted_by is None:
        return False
    inviter = invitation.invited_by
    if inviter is None or not _reachable(inviter) or not _is_active_member(inviter, invitation):
        return False
    _send(
        "invitation-accepted",
        inviter.email,
        {
            "inviter_name": inviter.display_name,
            "member_name": invitation.accepted_by.display_name,
            "member_email": invitation.accepted_by.email,
            "invited_email": invitation.email,
            "as_therapist": invitation.role == Role.THERAPIST,
            **_undo_promise(invitation, inviter),
        },
        inviter.language,
    )
    return True


def send_therapist_joined_emails(*, invitation_id: str) -> int:
    """Both partners learn when a therapist joins their couple (SPEC section 1). A partner who
    sent the invitation already heard it from the acceptance email and gets no second one."""
    invitation = (
        Invitation.objects.select_related("accepted_by")
        .filter(pk=invitation_id, status=Invitation.Status.ACCEPTED, role=Role.THERAPIST)
        .first()
    )
    if invitation is None or invitation.accepted_by is None:
        return 0
    partners = Membership.objects.filter(
        couple_id=invitation.couple_id, role=Role.PARTNER, left_at__isnull=True
    ).select_related("user")
    if invitation.invited_by_id is not None:
        partners = partners.exclude(user_id=invitation.invited_by_id)
    sent = 0
    for membership in partners:
        if not _reachable(membership.user):
            continue
        _send(
            "therapist-joined",
            membership.user.email,
            {
                "partner_name": membership.user.display_name,
                "therapist_name": invitation.accepted_by.display_name,
            },
            membership.user.language,
        )
        sent += 1
    return sent
