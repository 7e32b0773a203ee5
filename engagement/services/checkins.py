"""Writes on check-ins: one per partner, couple and local date, created or replaced by PUT."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.models import CheckIn
from engagement.models import Couple
from engagement.models import Removal
from engagement.models.checkins import SCALES
from engagement.models.sharing import shared_at
from engagement.reports.staleness import mark_stale
from engagement.selectors.visibility import checkin_audience
from engagement.services.couples import ensure_not_ended
from engagement.services.edits import assign
from engagement.services.removals import removals_record
from engagement.services.safety import safety_alerts_retract
from engagement.services.safety import safety_answer_recorded


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


# A PUT that leaves `afraid_or_hurt` out keeps the stored answer.
UNCHANGED = _Unchanged.UNCHANGED


def checkin_date_window(*, couple: Couple) -> tuple[date, date]:
    """The dates a check-in may carry: today - CHECKIN_BACKFILL_DAYS to today + 1, with today
    the couple's local date (a couple in Auckland is a day ahead of one in UTC)."""
    today = timezone.now().astimezone(ZoneInfo(couple.timezone)).date()
    return today - timedelta(days=settings.CHECKIN_BACKFILL_DAYS), today + timedelta(days=1)


@transaction.atomic
def checkin_upsert(
    *,
    couple: Couple,
    author: User,
    date: date,
    visibility: str,
    ratings: Mapping[str, int | None],
    note: str = "",
    afraid_or_hurt: bool | _Unchanged | None = UNCHANGED,
) -> tuple[CheckIn, bool]:
    """Create the author's check-in for that couple and date, or replace it whole (PUT).

    `ratings` are keyed by the names in `SCALES`; a scale left out is null. Returns (check-in,
    created). Replacing with the same values writes nothing, so a retried PUT leaves
    `updated_at` and the answer unchanged.

    `afraid_or_hurt` is write-only, so an app cannot send back what it cannot read: left out
    (UNCHANGED) it keeps its stored value. Changed alone, it moves nothing any reader observes
    (no `updated_at`, no removal, no stale report but through its alert): SPEC section 1.
    """
    unknown = set(ratings) - set(SCALES)
    if unknown:
        raise ValueError(f"Not a check-in scale: {', '.join(sorted(unknown))}.")
    ensure_not_ended(couple)
    values: dict[str, object] = {
        "visibility": visibility,
        **{scale: ratings.get(scale) for scale in SCALES},
        "note": note,
    }
    lookup = {"couple": couple, "author": author, "date": date}
    checkin = CheckIn.objects.select_for_update().filter(**lookup).first()
    if checkin is None:
        try:
            with transaction.atomic():
                answer = None if isinstance(afraid_or_hurt, _Unchanged) else afraid_or_hurt
                created = CheckIn.objects.create(
                    **lookup, **values, afraid_or_hurt=answer, shared_at=shared_at(visibility)
                )
                # SPEC 5.7: a check-in written after its week's report makes it stale.
                mark_stale(couple_id=couple.pk, dates=[date])
                safety_answer_recorded(checkin=created, before=None, after=created.afraid_or_hurt)
                return created, True
        except IntegrityError:
            # Two PUTs for the same day raced and the other one inserted first: replace it.
            checkin = CheckIn.objects.select_for_update().filter(**lookup).first()
            if checkin is None:
                raise
    if not isinstance(afraid_or_hurt, _Unchanged) and afraid_or_hurt != checkin.afraid_or_hurt:
        _answer_safety_question(checkin, afraid_or_hurt)
    changed = [name for name, value in values.items() if getattr(checkin, name) != value]
    if not changed:
        return checkin, False
    before = checkin_audience(checkin) if "visibility" in changed else set()
    assign(checkin, values, changed)
    if "visibility" in changed:
        checkin.visibility_changed()
        changed.append("shared_at")
    checkin.save(update_fields=[*changed, "updated_at"])
    if "visibility" in changed:
        # couple → therapist: the other partner loses it; → private: the therapists too.
        removals_record(
            type=Removal.Type.CHECKIN, object_id=checkin.pk, lost=before - checkin_audience(checkin)
        )
    # SPEC 5.7: a check-in written after its week's report makes that report stale (a note
    # alone never reaches a report).
    if set(changed) - {"note"}:
        mark_stale(couple_id=checkin.couple_id, dates=[checkin.date])
    return checkin, False


def _answer_safety_question(checkin: CheckIn, answer: bool | None) -> None:
    """Store the answer without touching `updated_at` (an UPDATE of that column alone), then
    raise or retract its alert."""
    before = checkin.afraid_or_hurt
    CheckIn.objects.filter(pk=checkin.pk).update(afraid_or_hurt=answer)
    checkin.afraid_or_hurt = answer
    safety_answer_recorded(checkin=checkin, before=before, after=answer)


@transaction.atomic
def checkin_delete(*, checkin: CheckIn) -> None:
    """Delete a check-in; everyone who could see it (its author included) gets a removal."""
    ensure_not_ended(checkin.couple)
    removals_record(type=Removal.Type.CHECKIN, object_id=checkin.pk, lost=checkin_audience(checkin))
    # Its alerts stay, retracted, with their dates; their `checkin` becomes null.
    safety_alerts_retract(checkin=checkin)
    # SPEC 5.7: a deleted check-in changes its week's report.
    mark_stale(couple_id=checkin.couple_id, dates=[checkin.date])
    checkin.delete()
