"""Writes on goals: each PUT of a partner's goal appends to the couple's history (SPEC 2)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.models import Couple
from engagement.models import Goal
from engagement.reports.staleness import mark_stale_for_goal
from engagement.services.couples import ensure_not_ended
from engagement.services.couples import lock_partner_seat


def current_goal(*, couple: Couple, partner: User) -> Goal | None:
    """The partner's latest goal in the couple, or None."""
    return Goal.objects.filter(couple=couple, partner=partner).order_by("-set_at", "-id").first()


@transaction.atomic
def goal_set(*, couple: Couple, partner: User, goal: str, note: str = "") -> tuple[Goal, bool]:
    """Set the partner's goal: a new history row, unless it says what the current one says.

    Returns (current goal, whether the partner had none before). Runs under a lock on the
    partner's membership, so two PUTs racing append in order and a retry appends nothing.
    """
    ensure_not_ended(couple)
    lock_partner_seat(couple, partner)
    current = current_goal(couple=couple, partner=partner)
    if current is not None and (current.goal, current.note) == (goal, note):
        return current, False
    now = timezone.now()
    row = Goal.objects.create(couple=couple, partner=partner, goal=goal, note=note, set_at=now)
    # SPEC 5.7: a goal stays the partner's latest at the end of every later week, so the
    # goal-mismatch flag of its week and of every week after it may change.
    mark_stale_for_goal(couple_id=couple.pk, timezone_name=couple.timezone, set_at=now)
    return row, current is None
