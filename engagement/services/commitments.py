"""Writes on commitments: create, edit, resolve (keep, miss, release) and renew."""

from __future__ import annotations

from datetime import date
from typing import TypedDict
from typing import Unpack
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.exceptions import InvalidTransition
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Removal
from engagement.models.sharing import sharing
from engagement.reports.staleness import mark_stale
from engagement.selectors.visibility import commitment_audience
from engagement.services.couples import ensure_not_ended
from engagement.services.edits import assign
from engagement.services.edits import changed_fields
from engagement.services.edits import lock_record
from engagement.services.removals import removals_record

Status = Commitment.Status

RESOLUTIONS = (Status.KEPT, Status.MISSED, Status.RELEASED)


@transaction.atomic
def commitment_create(
    *,
    couple: Couple,
    owner_id: UUID,
    created_by: User,
    title: str,
    due_on: date,
    visibility: str,
    details: str = "",
    renewed_from: Commitment | None = None,
) -> Commitment:
    """A new open commitment (past due dates allowed: homework recorded after the fact)."""
    ensure_not_ended(couple)
    commitment = Commitment.objects.create(
        couple=couple,
        owner_id=owner_id,
        created_by=created_by,
        title=title,
        details=details,
        due_on=due_on,
        renewed_from=renewed_from,
        **sharing(visibility),
    )
    # SPEC 5.7: one due in a week already reported counts there (as unreported while open).
    mark_stale(couple_id=couple.pk, dates=[due_on])
    return commitment


class CommitmentChanges(TypedDict, total=False):
    """What a commitment edit may change (None: unchanged)."""

    title: str | None
    details: str | None
    due_on: date | None
    visibility: str | None


@transaction.atomic
def commitment_update(
    *, commitment: Commitment, **changes: Unpack[CommitmentChanges]
) -> Commitment:
    """Edit what may change (CommitmentChanges); whoever loses sight of it gets a removal."""
    commitment = lock_record(commitment)
    changed = changed_fields(commitment, changes)
    if not changed:
        return commitment
    # A new due date can move it into or out of a partnership (SPEC 1, membership periods).
    resharing = "visibility" in changed or "due_on" in changed
    before = commitment_audience(commitment) if resharing else set()
    was_due_on = commitment.due_on
    assign(commitment, changes, changed)
    if "visibility" in changed:
        commitment.visibility_changed()
        changed.append("shared_at")
    commitment.save(update_fields=[*changed, "updated_at"])
    if resharing:
        removals_record(
            type=Removal.Type.COMMITMENT,
            object_id=commitment.pk,
            lost=before - commitment_audience(commitment),
        )
    if "visibility" in changed:
        # Its renewals' `renewed_from` reads as null to whoever cannot read this one: for them
        # the renewals changed too.
        Commitment.objects.filter(renewed_from=commitment).update(updated_at=commitment.updated_at)
    # SPEC 5.7: a commitment moved to another due date changes two weeks' reports.
    if "due_on" in changed:
        mark_stale(couple_id=commitment.couple_id, dates=[was_due_on, commitment.due_on])
    return commitment


@transaction.atomic
def commitment_resolve(*, commitment: Commitment, status: str) -> Commitment:
    """Keep, miss or release an open commitment; the same resolution again changes nothing."""
    if status not in RESOLUTIONS:
        raise ValueError(f"Not a resolution: {status}")
    commitment = lock_record(commitment)
    if commitment.status == status:
        return commitment
    if commitment.status != Status.OPEN:
        raise InvalidTransition(f"This commitment is already {commitment.status}.")
    commitment.status = status
    commitment.resolved_at = timezone.now()
    commitment.save(update_fields=["status", "resolved_at", "updated_at"])
    # SPEC 5.7: a commitment resolved after its week's report makes that report stale.
    mark_stale(couple_id=commitment.couple_id, dates=[commitment.due_on])
    return commitment


@transaction.atomic
def commitment_renew(
    *, commitment: Commitment, created_by: User, due_on: date, title: str | None = None
) -> Commitment:
    """Make the promise again: a new open commitment with `renewed_from`, whatever the
    original's status (SPEC section 2). Owner, couple, details and visibility carry over."""
    return commitment_create(
        couple=commitment.couple,
        owner_id=commitment.owner_id,
        created_by=created_by,
        title=title or commitment.title,
        details=commitment.details,
        due_on=due_on,
        visibility=commitment.visibility,
        renewed_from=commitment,
    )
