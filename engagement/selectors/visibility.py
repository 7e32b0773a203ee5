"""The visibility rules of SPEC section 1, in one place.

Every endpoint, and the reports, digests, export and admin, ask these functions what a user
may see. Only active memberships (not left) give access. Anything outside what they return is
answered 404 by the API, never 403, so ids cannot be probed.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet

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
    """Invitations of the couples the user belongs to (who may join is every member's business)."""
    return Invitation.objects.filter(couple_id__in=_couple_ids(user))


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
