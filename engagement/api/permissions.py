"""Who may change what in a couple (SPEC section 1): checks a view makes before calling a service.

Reading is settled earlier, by the selectors: a view only ever finds objects the caller may see,
and answers 404 for the rest. These checks come after, for an object the caller can see but may
not change, and answer 403.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from rest_framework.exceptions import PermissionDenied

from accounts.models import User
from engagement.models import Couple, Membership

Role = Membership.Role


def members_prefetch() -> Prefetch[str, QuerySet[Membership], str]:
    """Every membership of a couple (current and former) with its user, in one query per list."""
    return Prefetch(
        "memberships",
        queryset=Membership.objects.select_related("user").order_by("joined_at", "id"),
    )


def _active_memberships(couple: Couple) -> list[Membership]:
    # Use the prefetched memberships when the view loaded them; otherwise ask the database.
    cache = getattr(couple, "_prefetched_objects_cache", {})
    if "memberships" in cache:
        return [m for m in cache["memberships"] if m.left_at is None]
    return list(couple.memberships.filter(left_at__isnull=True))


def role_of(user: User, couple: Couple) -> str | None:
    """The user's active role in the couple (`partner`, `therapist`), or None."""
    for membership in _active_memberships(couple):
        if membership.user_id == user.pk:
            return membership.role
    return None


def has_therapist(couple: Couple) -> bool:
    """Whether the couple has an active therapist; without one, partners run the couple."""
    return any(m.role == Role.THERAPIST for m in _active_memberships(couple))


def may_manage(user: User, couple: Couple) -> bool:
    """Therapists of the couple; its partners too while the couple has no therapist
    (sessions, attendance, invitations: SPEC section 1)."""
    role = role_of(user, couple)
    return role == Role.THERAPIST or (role == Role.PARTNER and not has_therapist(couple))


def may_remove_members(user: User, couple: Couple) -> bool:
    """Who may ask to remove a member at all: therapists; partners while the couple has no
    therapist, and then only the person who joined through their partner invitation within
    7 days (checked by `couple_remove_member`, under the couple's lock)."""
    return may_manage(user, couple)


def may_approve_invitations(user: User, couple: Couple) -> bool:
    """Approving a therapist invitation sent by a partner is the other partners' part (SPEC
    section 1); which invitation, and not one's own, is checked by `invitation_approve`."""
    return role_of(user, couple) == Role.PARTNER


def may_change_settings(user: User, couple: Couple) -> bool:
    """Couple settings: as `may_manage`, and never a partner while a safety hold is on."""
    if role_of(user, couple) == Role.THERAPIST:
        return True
    return may_manage(user, couple) and not couple.safety_hold


def require_therapist(user: User, couple: Couple, detail: str) -> None:
    if role_of(user, couple) != Role.THERAPIST:
        raise PermissionDenied(detail)


def require_partner(user: User, couple: Couple, detail: str) -> None:
    if role_of(user, couple) != Role.PARTNER:
        raise PermissionDenied(detail)


def require_manager(user: User, couple: Couple, detail: str) -> None:
    if not may_manage(user, couple):
        raise PermissionDenied(detail)


def require_settings_manager(user: User, couple: Couple) -> None:
    # One message whatever the reason: partners never learn that a safety hold is on.
    if not may_change_settings(user, couple):
        raise PermissionDenied("Couple settings are managed by the couple's therapist.")
