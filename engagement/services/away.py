"""Writes on away periods: a partner's own, created, edited and deleted by them (SPEC section 2).

A period lasts at most MAX_AWAY_DAYS and never overlaps the author's other periods in that
couple. The check runs under a lock on the author's membership row, so two requests racing to
record overlapping periods queue up and the second sees the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from datetime import timedelta
from typing import TypedDict
from typing import Unpack
from uuid import UUID

from django.db import transaction
from rest_framework import serializers

from accounts.models import User
from engagement.models import AwayPeriod
from engagement.models import Couple
from engagement.models import Removal
from engagement.models.away import MAX_AWAY_DAYS
from engagement.models.sharing import sharing
from engagement.reports.staleness import mark_stale
from engagement.selectors.visibility import away_audience
from engagement.services.couples import ensure_not_ended
from engagement.services.couples import lock_partner_seat
from engagement.services.edits import assign
from engagement.services.edits import changed_fields
from engagement.services.removals import removals_record


def away_days(starts_on: date, ends_on: date) -> Iterator[date]:
    """Every date of a period, both ends included."""
    for offset in range((ends_on - starts_on).days + 1):
        yield starts_on + timedelta(days=offset)


def _invalid(field: str, message: str, code: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [serializers.ErrorDetail(message, code=code)]})


def _check_span(
    *, couple: Couple, author: User, starts_on: date, ends_on: date, exclude: UUID | None
) -> None:
    if ends_on < starts_on:
        raise _invalid("ends_on", "An away period ends on or after the day it starts.", "invalid")
    if (ends_on - starts_on).days + 1 > MAX_AWAY_DAYS:
        raise _invalid("ends_on", f"An away period lasts at most {MAX_AWAY_DAYS} days.", "too_long")
    others = AwayPeriod.objects.filter(
        couple=couple, partner=author, starts_on__lte=ends_on, ends_on__gte=starts_on
    )
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise _invalid(
            "starts_on", "This overlaps another of your away periods in this couple.", "overlap"
        )


@transaction.atomic
def away_create(
    *,
    couple: Couple,
    author: User,
    starts_on: date,
    ends_on: date,
    visibility: str,
    reason: str = "",
) -> AwayPeriod:
    """A new away period of the author's."""
    ensure_not_ended(couple)
    lock_partner_seat(couple, author)
    _check_span(couple=couple, author=author, starts_on=starts_on, ends_on=ends_on, exclude=None)
    away = AwayPeriod.objects.create(
        couple=couple,
        partner=author,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        **sharing(visibility),
    )
    # SPEC 5.7: the check-in target of every week it covers changes.
    mark_stale(couple_id=couple.pk, dates=away_days(starts_on, ends_on))
    return away


class AwayChanges(TypedDict, total=False):
    """What an away period edit may change (None: unchanged)."""

    starts_on: date | None
    ends_on: date | None
    reason: str | None
    visibility: str | None


@transaction.atomic
def away_update(*, away: AwayPeriod, **changes: Unpack[AwayChanges]) -> AwayPeriod:
    """Edit what may change (AwayChanges); whoever loses sight of it gets a removal."""
    couple = away.couple
    ensure_not_ended(couple)
    lock_partner_seat(couple, away.partner)
    away = AwayPeriod.objects.select_for_update().get(pk=away.pk)
    changed = changed_fields(away, changes)
    if not changed:
        return away
    was = (away.starts_on, away.ends_on)
    new_start = changes.get("starts_on") or away.starts_on
    new_end = changes.get("ends_on") or away.ends_on
    _check_span(
        couple=couple, author=away.partner, starts_on=new_start, ends_on=new_end, exclude=away.pk
    )
    # A new start can move it into or out of a partnership (SPEC 1, membership periods).
    resharing = "visibility" in changed or "starts_on" in changed
    before = away_audience(away) if resharing else set()
    assign(away, changes, changed)
    update_fields = [*changed, "updated_at"]
    if "visibility" in changed:
        away.visibility_changed()
        update_fields.append("shared_at")
    away.save(update_fields=update_fields)
    if resharing:
        removals_record(
            type=Removal.Type.AWAY, object_id=away.pk, lost=before - away_audience(away)
        )
    # SPEC 5.7: every date it covered before and covers now. (Visibility changes the shared
    # balance; a reason changes nothing a report reads, but marking costs one UPDATE.)
    mark_stale(
        couple_id=couple.pk,
        dates=[*away_days(*was), *away_days(away.starts_on, away.ends_on)],
    )
    return away


@transaction.atomic
def away_delete(*, away: AwayPeriod) -> None:
    """Delete an away period; everyone who could see it (its author included) gets a removal."""
    ensure_not_ended(away.couple)
    removals_record(type=Removal.Type.AWAY, object_id=away.pk, lost=away_audience(away))
    mark_stale(couple_id=away.couple_id, dates=away_days(away.starts_on, away.ends_on))
    away.delete()
