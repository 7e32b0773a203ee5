"""Writes on couples: create, change settings, leave, remove a member, consent to the balance.

Who may call each one is checked by the API before (engagement/api/permissions.py); these
functions keep the couple's own invariants: an ended couple is read-only, at most two partners.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError

from accounts.models import User
from engagement.exceptions import Conflict
from engagement.exceptions import InvalidTransition
from engagement.exceptions import LastTherapistOnHold
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import Removal
from engagement.reports.reader_views import report_views_refresh
from engagement.selectors.reports import reports_readable_by
from engagement.selectors.visibility import away_visible_to
from engagement.selectors.visibility import checkins_visible_to
from engagement.selectors.visibility import commitments_visible_to
from engagement.selectors.visibility import invitations_visible_to
from engagement.selectors.visibility import sessions_visible_to

Role = Membership.Role
PARTNER_SLOTS = (1, 2)


class CoupleChanges(TypedDict, total=False):
    name: str
    timezone: str
    checkin_target_per_week: int
    partners_see_balance: bool
    status: str
    safety_hold: bool


ENDED_DETAIL = "This couple has ended; it is read-only."


def lock_couple(couple_id: UUID) -> Couple:
    """The couple's row, locked until the transaction ends: writes that depend on its
    memberships (a free partner slot, the pending invitations) queue up behind each other."""
    return Couple.objects.select_for_update().get(pk=couple_id)


def lock_partner_seat(couple: Couple, partner: User) -> None:
    """The partner's active membership, locked until the transaction ends: two writes by the
    same partner (an away period's overlap check, a goal's history row) run one after the other.
    409 `conflict` when they left the couple in the meantime."""
    seat = (
        Membership.objects.select_for_update()
        .filter(couple=couple, user=partner, role=Membership.Role.PARTNER, left_at__isnull=True)
        .first()
    )
    if seat is None:
        raise Conflict("You are no longer a partner of this couple.")


def ensure_not_ended(couple: Couple) -> None:
    if couple.status == Couple.Status.ENDED:
        raise InvalidTransition(ENDED_DETAIL)


def free_partner_slot(couple: Couple) -> int | None:
    """A partner slot no active partner holds, or None when the couple has two partners."""
    taken = set(
        Membership.objects.filter(
            couple=couple, left_at__isnull=True, partner_slot__isnull=False
        ).values_list("partner_slot", flat=True)
    )
    return next((slot for slot in PARTNER_SLOTS if slot not in taken), None)


def _record_status(couple: Couple) -> None:
    CoupleStatusChange.objects.create(couple=couple, status=couple.status)


def _revoke_pending_invitations(couple: Couple) -> None:
    # An ended couple takes no one in: outstanding tokens stop working at once.
    Invitation.objects.filter(couple=couple, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED, updated_at=timezone.now()
    )


def revoke_invitations_sent_by(*, couple: Couple, user_ids: set[UUID]) -> int:
    """Revoke the pending invitations these members sent to the couple: their membership
    ended, or they no longer run it (a therapist joined). SPEC section 1, "Invitations and
    membership ends"."""
    if not user_ids:
        return 0
    return Invitation.objects.filter(
        couple=couple, invited_by_id__in=user_ids, status=Invitation.Status.PENDING
    ).update(status=Invitation.Status.REVOKED, updated_at=timezone.now())


@transaction.atomic
def couple_create(
    *,
    creator: User,
    name: str = "",
    timezone_name: str | None = None,
    checkin_target_per_week: int = 4,
    partners_see_balance: bool | None = None,
    safety_hold: bool = False,
) -> Couple:
    """A new couple that its creator joins: as therapist if `is_therapist`, else as partner."""
    if safety_hold and not creator.is_therapist:
        raise PermissionDenied("Only a therapist can put a couple on safety hold.")
    if partners_see_balance is None:
        # The balance is the therapist's to share (SPEC section 2): off when a therapist creates.
        partners_see_balance = not creator.is_therapist
    couple = Couple.objects.create(
        name=name,
        timezone=timezone_name or creator.timezone,
        checkin_target_per_week=checkin_target_per_week,
        partners_see_balance=partners_see_balance,
        safety_hold=safety_hold,
    )
    _record_status(couple)
    if creator.is_therapist:
        Membership.objects.create(couple=couple, user=creator, role=Role.THERAPIST)
    else:
        Membership.objects.create(couple=couple, user=creator, role=Role.PARTNER, partner_slot=1)
    return couple


@transaction.atomic
def couple_update(*, couple: Couple, changes: CoupleChanges) -> Couple:
    """Change settings; a status change is recorded, and `ended` is final."""
    couple = lock_couple(couple.pk)
    ensure_not_ended(couple)
    old_status = couple.status
    changed: list[str] = []
    for field, value in changes.items():
        if getattr(couple, field) != value:
            setattr(couple, field, value)
            changed.append(field)
    if changed:
        couple.save(update_fields=[*changed, "updated_at"])
    if "partners_see_balance" in changed or "safety_hold" in changed:
        # What partners read of every report changed: their report values move (SPEC 1). A
        # hold changes only the therapists' view (recommendations withheld, SPEC 5.5): only
        # their values move.
        report_views_refresh(couple_ids=[couple.pk])
    if couple.status != old_status:
        _record_status(couple)
        if couple.status == Couple.Status.ENDED:
            _revoke_pending_invitations(couple)
    return couple


def _removals_for(user: User, couple: Couple) -> list[Removal]:
    """Everything of this couple the user sees now and will not once their membership ends,
    so that their apps can drop it on the next sync (GET /removals/)."""
    now = timezone.now()
    rows = [Removal(user=user, type=Removal.Type.COUPLE, object_id=couple.pk, removed_at=now)]
    for kind, visible in (
        (Removal.Type.INVITATION, invitations_visible_to(user)),
        (Removal.Type.SESSION, sessions_visible_to(user)),
        (Removal.Type.COMMITMENT, commitments_visible_to(user)),
        (Removal.Type.CHECKIN, checkins_visible_to(user)),
        (Removal.Type.AWAY, away_visible_to(user)),
        # The reports the user reads (engagement/selectors/reports.py), not every report of
        # the couple: a removal must not tell of a report they never could read.
        (Removal.Type.REPORT, reports_readable_by(user)),
    ):
        ids = visible.filter(couple_id=couple.pk).values_list("id", flat=True)
        rows.extend(Removal(user=user, type=kind, object_id=pk, removed_at=now) for pk in ids)
    return rows


def _shared_rows(couple: Couple, user: User) -> set[tuple[str, UUID]]:
    """The sessions, commitments, check-ins and away periods of this couple the user reads now."""
    rows: set[tuple[str, UUID]] = set()
    for kind, visible in (
        (Removal.Type.SESSION, sessions_visible_to(user)),
        (Removal.Type.COMMITMENT, commitments_visible_to(user)),
        (Removal.Type.CHECKIN, checkins_visible_to(user)),
        (Removal.Type.AWAY, away_visible_to(user)),
    ):
        rows.update(
            (kind, pk) for pk in visible.filter(couple_id=couple.pk).values_list("id", flat=True)
        )
    return rows


def _others_read(couple: Couple, leaving: User) -> dict[User, set[tuple[str, UUID]]]:
    others = User.objects.filter(
        memberships__couple=couple, memberships__left_at__isnull=True
    ).exclude(pk=leaving.pk)
    return {other: _shared_rows(couple, other) for other in others}


def _removals_for_the_others(couple: Couple, before: dict[User, set[tuple[str, UUID]]]) -> None:
    """A partner who leaves ends a partnership: the other partner stops reading what the leaver
    shared for later dates (a commitment due next month), SPEC section 1."""
    now = timezone.now()
    Removal.objects.bulk_create(
        Removal(user=other, type=kind, object_id=pk, removed_at=now)
        for other, rows in before.items()
        for kind, pk in rows - _shared_rows(couple, other)
    )


def _end_membership(*, couple: Couple, user: User) -> bool:
    """End the user's active membership; False when they had none (left in the meantime)."""
    membership = (
        Membership.objects.select_for_update()
        .filter(couple=couple, user=user, left_at__isnull=True)
        .first()
    )
    if membership is None:
        return False
    Removal.objects.bulk_create(_removals_for(user, couple), batch_size=500)
    # What they sent must not outlive their place: no spare invitation lets them back in.
    revoke_invitations_sent_by(couple=couple, user_ids={user.pk})
    others_before = _others_read(couple, user) if membership.role == Role.PARTNER else {}
    membership.left_at = timezone.now()
    membership.partner_slot = None  # the slot is free for the next partner to accept
    membership.save(update_fields=["left_at", "partner_slot"])
    _removals_for_the_others(couple, others_before)
    if membership.role == Role.PARTNER:
        # The remaining partner no longer sees a shared balance: their report values move.
        report_views_refresh(couple_ids=[couple.pk])
    ends = couple.status != Couple.Status.ENDED and not (
        Membership.objects.filter(couple=couple, left_at__isnull=True).exists()
    )
    if ends:
        # No one is left to see or change it: end it so no report or digest is made for it.
        couple.status = Couple.Status.ENDED
    # Saved either way: its member lists changed, and the others' apps sync by `updated_at`.
    couple.save(update_fields=["status", "updated_at"])
    if ends:
        _record_status(couple)
        _revoke_pending_invitations(couple)
    return True


UNDO_JOINING_WINDOW = timedelta(days=7)


def _refuse_last_therapist_on_hold(couple: Couple, membership: Membership) -> None:
    """SPEC section 1, "Safety hold": the couple's last therapist stays while it is on (an
    ended couple treats no one: its members may still leave it, to clear their lists)."""
    if membership.role != Role.THERAPIST or not couple.safety_hold:
        return
    if couple.status == Couple.Status.ENDED:
        return
    others = Membership.objects.filter(
        couple=couple, role=Role.THERAPIST, left_at__isnull=True
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise LastTherapistOnHold()


def _active_membership(couple: Couple, user: User) -> Membership | None:
    return Membership.objects.filter(couple=couple, user=user, left_at__isnull=True).first()


def _undoes_own_invitation(*, couple: Couple, remover: User, member: Membership) -> bool:
    """The one removal a partner may make (SPEC section 1, section 4 `remove-member`): in a
    couple with no therapist, the partner who sent a partner invitation takes out the member
    who accepted it, within 7 days of that acceptance (a wrong person joined)."""
    has_therapist = Membership.objects.filter(
        couple=couple, role=Role.THERAPIST, left_at__isnull=True
    ).exists()
    if has_therapist or member.role != Role.PARTNER:
        return False
    return Invitation.objects.filter(
        couple=couple,
        role=Role.PARTNER,
        status=Invitation.Status.ACCEPTED,
        invited_by=remover,
        accepted_by_id=member.user_id,
        # This membership's own joining, not an earlier one of the same person.
        accepted_at__gte=member.joined_at,
        accepted_at__gt=timezone.now() - UNDO_JOINING_WINDOW,
    ).exists()


@transaction.atomic
def couple_leave(*, couple: Couple, user: User) -> None:
    """The user leaves; allowed in an ended couple too, so that it can leave their list."""
    couple = lock_couple(couple.pk)
    membership = _active_membership(couple, user)
    if membership is not None:
        _refuse_last_therapist_on_hold(couple, membership)
    if not _end_membership(couple=couple, user=user):
        # A second, concurrent leave: the couple is out of the caller's reach by now.
        raise NotFound()


@transaction.atomic
def couple_remove_member(*, couple: Couple, user: User, remover: User) -> None:
    """Take a member out of the couple: a therapist anyone, a partner only the person who
    joined through their partner invitation within the last 7 days (SPEC section 4)."""
    couple = lock_couple(couple.pk)
    remover_membership = _active_membership(couple, remover)
    membership = _active_membership(couple, user)
    if membership is None:
        raise ValidationError(
            {"user": ["This user is not a member of the couple."]}, code="does_not_exist"
        )
    is_therapist = remover_membership is not None and remover_membership.role == Role.THERAPIST
    if not is_therapist and not _undoes_own_invitation(
        couple=couple, remover=remover, member=membership
    ):
        raise PermissionDenied(
            "Only the couple's therapist can remove members; a partner only the person who "
            "accepted their invitation, within 7 days, while the couple has no therapist."
        )
    ensure_not_ended(couple)
    _refuse_last_therapist_on_hold(couple, membership)
    _end_membership(couple=couple, user=user)


@transaction.atomic
def couple_share_balance(*, couple: Couple, partner: User, share: bool) -> Couple:
    """A partner gives or withdraws their consent to see the couple's balance (SPEC 5.6)."""
    couple = lock_couple(couple.pk)
    ensure_not_ended(couple)
    updated = Membership.objects.filter(
        couple=couple, user=partner, role=Role.PARTNER, left_at__isnull=True
    ).update(shares_balance=share)
    if not updated:
        raise PermissionDenied("Only a partner of the couple can share the balance.")
    # Consent given or withdrawn: the reports whose partner view moved show it (SPEC 1).
    report_views_refresh(couple_ids=[couple.pk])
    # Other members' cached copies of the couple must see the change on their next sync.
    couple.save(update_fields=["updated_at"])
    return couple
