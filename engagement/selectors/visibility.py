"""The visibility rules of SPEC section 1, in one place.

Every endpoint, and the reports, digests, export and admin, ask these functions what a user
may see. Only active memberships (not left) give access. Anything outside what they return is
answered 404 by the API, never 403, so ids cannot be probed.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from engagement.models import (
    CheckIn,
    Commitment,
    Couple,
    Invitation,
    Membership,
    TherapySession,
    Visibility,
    WeeklyReport,
)

Role = Membership.Role


def active_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, left_at__isnull=True)


def _couple_ids(user: User, role: str | None = None) -> QuerySet[Membership, UUID]:
    memberships = active_memberships(user)
    if role is not None:
        memberships = memberships.filter(role=role)
    return memberships.values("couple_id")  # type: ignore[return-value]


def role_in_couple(user: User, couple_id: UUID) -> str | None:
    """The user's active role in the couple, or None when they are not a member."""
    return (
        active_memberships(user).filter(couple_id=couple_id).values_list("role", flat=True).first()
    )


def couples_visible_to(user: User) -> QuerySet[Couple]:
    """Couples in which the user holds an active membership, as partner or therapist."""
    return Couple.objects.filter(id__in=_couple_ids(user))


def couples_with_role(user: User, role: str) -> QuerySet[Couple]:
    return Couple.objects.filter(id__in=_couple_ids(user, role))


def invitations_visible_to(user: User) -> QuerySet[Invitation]:
    """Therapists see all invitations of their couples; a partner those they sent, and the
    therapist invitations another partner sent while they were a partner (those carry
    `approvals`: each partner must approve them, SPEC section 1). Whom one partner invited is
    not the other's to read, nor is what a former partnership asked for."""
    partner_couples = _couple_ids(user, Role.PARTNER)
    asked_during_membership = Exists(
        active_memberships(user).filter(
            couple_id=OuterRef("couple_id"),
            role=Role.PARTNER,
            joined_at__lte=OuterRef("created_at"),
        )
    )
    return Invitation.objects.filter(
        Q(couple_id__in=_couple_ids(user, Role.THERAPIST))
        | Q(couple_id__in=partner_couples, invited_by=user)
        | Q(asked_during_membership, approvals__isnull=False)
    )


def sessions_visible_to(user: User) -> QuerySet[TherapySession]:
    """Joint sessions of the user's couples; individual ones only to their focus partner and
    the couple's therapists (a safe space needs no audience)."""
    return TherapySession.objects.filter(
        Q(couple_id__in=_couple_ids(user, Role.THERAPIST))
        | Q(
            couple_id__in=_couple_ids(user, Role.PARTNER),
            kind=TherapySession.Kind.JOINT,
        )
        | Q(couple_id__in=_couple_ids(user, Role.PARTNER), focus_partner=user)
    )


def commitments_visible_to(user: User) -> QuerySet[Commitment]:
    """Therapists see all commitments of their couples; partners the couple-visible ones and
    their own of any visibility."""
    return Commitment.objects.filter(
        Q(couple_id__in=_couple_ids(user, Role.THERAPIST))
        | Q(
            couple_id__in=_couple_ids(user, Role.PARTNER),
            visibility=Commitment.Visibility.COUPLE,
        )
        | Q(couple_id__in=_couple_ids(user, Role.PARTNER), owner=user)
    )


def checkins_visible_to(user: User) -> QuerySet[CheckIn]:
    """Own check-ins (all of them, in couples the user still belongs to); the other partner's
    `couple` ones; for therapists, `therapist` and `couple` ones, never `private`."""
    return CheckIn.objects.filter(
        Q(couple_id__in=_couple_ids(user, Role.PARTNER), author=user)
        | Q(couple_id__in=_couple_ids(user, Role.PARTNER), visibility=Visibility.COUPLE)
        | Q(
            couple_id__in=_couple_ids(user, Role.THERAPIST),
            visibility__in=[Visibility.THERAPIST, Visibility.COUPLE],
        )
    )


def reports_visible_to(user: User) -> QuerySet[WeeklyReport]:
    """Reports of the user's couples; the view (full or partner) depends on the role."""
    return WeeklyReport.objects.filter(couple_id__in=_couple_ids(user))


def reads_full_report(user: User, couple_id: UUID) -> bool:
    """Only therapists read the full comparison (SPEC 5.6)."""
    return role_in_couple(user, couple_id) == Role.THERAPIST


# --- Sessions, commitments and check-ins: roles in bulk, and who sees one object ---------------
# The audience functions restate the querysets above for a single object (or a hypothetical
# visibility), so that a deletion or a narrowing can tell exactly who just lost sight of it.


def roles_by_couple(user: User) -> dict[UUID, str]:
    """The user's active role in each of their couples, in one query (for list serializers)."""
    return dict(active_memberships(user).values_list("couple_id", "role"))


def active_partner_ids(couple_id: UUID) -> set[UUID]:
    return set(
        Membership.objects.filter(
            couple_id=couple_id, role=Role.PARTNER, left_at__isnull=True
        ).values_list("user_id", flat=True)
    )


def _members_by_role(couple_id: UUID) -> tuple[set[UUID], set[UUID]]:
    partners: set[UUID] = set()
    therapists: set[UUID] = set()
    for user_id, role in Membership.objects.filter(
        couple_id=couple_id, left_at__isnull=True
    ).values_list("user_id", "role"):
        (therapists if role == Role.THERAPIST else partners).add(user_id)
    return partners, therapists


def session_audience(*, couple_id: UUID, kind: str, focus_partner_id: UUID | None) -> set[UUID]:
    """Who sees a session: as `sessions_visible_to`, for one session."""
    partners, therapists = _members_by_role(couple_id)
    if kind == TherapySession.Kind.JOINT:
        return partners | therapists
    return therapists | {user_id for user_id in partners if user_id == focus_partner_id}


def commitment_audience(*, couple_id: UUID, owner_id: UUID, visibility: str) -> set[UUID]:
    """Who sees a commitment with this visibility: as `commitments_visible_to`."""
    partners, therapists = _members_by_role(couple_id)
    if visibility == Commitment.Visibility.COUPLE:
        return partners | therapists
    return therapists | ({owner_id} & partners)


def checkin_audience(*, couple_id: UUID, author_id: UUID, visibility: str) -> set[UUID]:
    """Who sees a check-in with this visibility: as `checkins_visible_to`."""
    partners, therapists = _members_by_role(couple_id)
    audience = {author_id} & partners
    if visibility == Visibility.COUPLE:
        audience |= partners
    if visibility in (Visibility.THERAPIST, Visibility.COUPLE):
        audience |= therapists
    return audience
