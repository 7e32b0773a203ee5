"""Who may change what in a couple (SPEC section 1): named predicates a view asks before calling
a service, always the same way: `require(may_<do>(user, thing), "why not")`.

Reading is settled earlier, by the selectors: a view only ever finds objects the caller may see,
and answers 404 for the rest. These checks come after, for an object the caller can see but may
not change, and answer 403. The services keep only their own invariants (a couple's state, the
7-day window of a removal, whose approval an invitation still needs), checked under their locks.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.db.models import QuerySet
from rest_framework.exceptions import PermissionDenied

from accounts.models import User
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import TherapySession

Role = Membership.Role


def members_prefetch() -> Prefetch[str, QuerySet[Membership], str]:
    """Every membership of a couple (current and former) with its user, in one query per list."""
    return Prefetch(
        "memberships",
        queryset=Membership.objects.select_related("user").order_by("joined_at", "id"),
    )


def _active_memberships(couple: Couple) -> list[Membership]:
    # Use the prefetched memberships when the view loaded them; otherwise ask the database once
    # per couple object, however many predicates a view asks before its write.
    cache = getattr(couple, "_prefetched_objects_cache", {})
    if "memberships" in cache:
        return [m for m in cache["memberships"] if m.left_at is None]
    asked: list[Membership] | None = couple.__dict__.get("_permission_memberships")
    if asked is None:
        asked = list(couple.memberships.filter(left_at__isnull=True))
        couple.__dict__["_permission_memberships"] = asked
    return asked


def role_of(user: User, couple: Couple) -> str | None:
    """The user's active role in the couple (`partner`, `therapist`), or None."""
    for membership in _active_memberships(couple):
        if membership.user_id == user.pk:
            return membership.role
    return None


def has_therapist(couple: Couple) -> bool:
    """Whether the couple has an active therapist; without one, partners run the couple."""
    return any(m.role == Role.THERAPIST for m in _active_memberships(couple))


def require(allowed: bool, detail: str) -> None:
    """403 with `detail` unless a predicate allowed it."""
    if not allowed:
        raise PermissionDenied(detail)


# --- Couples ---


def may_manage(user: User, couple: Couple) -> bool:
    """Therapists of the couple; its partners too while the couple has no therapist
    (sessions, attendance, invitations: SPEC section 1)."""
    role = role_of(user, couple)
    return role == Role.THERAPIST or (role == Role.PARTNER and not has_therapist(couple))


# One message whatever the reason: partners never learn that a safety hold is on.
SETTINGS_DENIED = "Couple settings are managed by the couple's therapist."


def may_change_settings(user: User, couple: Couple) -> bool:
    """Couple settings: as `may_manage`, and never a partner while a safety hold is on."""
    if role_of(user, couple) == Role.THERAPIST:
        return True
    return may_manage(user, couple) and not couple.safety_hold


def may_set_safety_hold(user: User, couple: Couple) -> bool:
    """Only therapists place or lift a safety hold (a partner's `safety_hold` is ignored)."""
    return role_of(user, couple) == Role.THERAPIST


def may_share_balance(user: User, couple: Couple) -> bool:
    """Consenting to see the couple's balance is each partner's own choice."""
    return role_of(user, couple) == Role.PARTNER


def may_remove_members(user: User, couple: Couple) -> bool:
    """Who may ask to remove a member at all: therapists; partners while the couple has no
    therapist, and then only the person who joined through their partner invitation within
    7 days (checked by `couple_remove_member`, under the couple's lock)."""
    return may_manage(user, couple)


# --- Invitations ---


def may_invite(user: User, couple: Couple) -> bool:
    """Inviting, and revoking an invitation: as `may_manage`."""
    return may_manage(user, couple)


def may_approve_invitations(user: User, couple: Couple) -> bool:
    """Approving a therapist invitation sent by a partner is the other partners' part (SPEC
    section 1); which invitation, and not one's own, is checked by `invitation_approve`."""
    return role_of(user, couple) == Role.PARTNER


# --- Sessions ---


def may_manage_session(user: User, session: TherapySession) -> bool:
    """Editing or deleting a session: as `may_manage` for its couple, and an individual session
    only by a therapist (`may_manage_individual_sessions`)."""
    return may_manage(user, session.couple) and (
        session.kind != TherapySession.Kind.INDIVIDUAL
        or may_manage_individual_sessions(user, session.couple)
    )


def may_manage_individual_sessions(user: User, couple: Couple) -> bool:
    """Individual sessions are the therapist's: a partner never schedules or edits one."""
    return role_of(user, couple) == Role.THERAPIST


def may_write_session_notes(user: User, couple: Couple) -> bool:
    """Therapist notes are the therapist's alone (SPEC section 1)."""
    return role_of(user, couple) == Role.THERAPIST


def may_record_attendance(user: User, couple: Couple) -> bool:
    """The couple's therapists; its partners (their own entry, never a rating) while it has no
    therapist. Which entries and ratings is the serializer's, by the recorder's role."""
    return may_manage(user, couple)


# --- Commitments ---


def may_commit_for(user: User, couple: Couple, owner_id: object) -> bool:
    """A therapist makes commitments for either partner; a partner for themselves only."""
    return role_of(user, couple) == Role.THERAPIST or owner_id == user.pk


def may_change_commitment(user: User, commitment: Commitment) -> bool:
    """Its owner and the couple's therapists edit, resolve and renew a commitment."""
    return role_of(user, commitment.couple) == Role.THERAPIST or commitment.owner_id == user.pk


def may_widen_commitment(user: User, commitment: Commitment) -> bool:
    """Showing a promise to the other partner (`therapist` → `couple`) is its owner's choice,
    not the therapist's."""
    return commitment.owner_id == user.pk


# --- Check-ins and reports ---


def may_check_in(user: User, couple: Couple) -> bool:
    """A check-in is a partner's own: therapists see the couple but never write one."""
    return role_of(user, couple) == Role.PARTNER


def may_recompute_reports(user: User, couple: Couple) -> bool:
    """Recomputing a week is the couple's therapists'."""
    return role_of(user, couple) == Role.THERAPIST


def may_read_caseload(user: User) -> bool:
    """The caseload is the therapists'."""
    return user.is_therapist


# Kept while branches written against them merge: prefer `require(may_<do>(...), detail)`.


def require_therapist(user: User, couple: Couple, detail: str) -> None:
    require(role_of(user, couple) == Role.THERAPIST, detail)


def require_partner(user: User, couple: Couple, detail: str) -> None:
    require(role_of(user, couple) == Role.PARTNER, detail)


def require_manager(user: User, couple: Couple, detail: str) -> None:
    require(may_manage(user, couple), detail)


def require_settings_manager(user: User, couple: Couple) -> None:
    require(may_change_settings(user, couple), SETTINGS_DENIED)
