"""Writes on therapy sessions and their attendance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict
from typing import Unpack
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.models import Attendance
from engagement.models import Couple
from engagement.models import Removal
from engagement.models import TherapySession
from engagement.reports.staleness import local_date
from engagement.reports.staleness import mark_stale
from engagement.selectors.visibility import session_audience
from engagement.services.couples import ensure_not_ended
from engagement.services.edits import assign
from engagement.services.edits import changed_fields
from engagement.services.edits import lock_record
from engagement.services.removals import removals_record


@dataclass(frozen=True)
class AttendanceEntry:
    """One expected partner's attendance as recorded: status and (therapists only) rating."""

    partner_id: UUID
    status: str
    participation: int | None


@transaction.atomic
def session_create(
    *,
    couple: Couple,
    created_by: User,
    kind: str,
    focus_partner_id: UUID | None,
    starts_at: datetime,
    duration_minutes: int = 50,
    status: str = TherapySession.Status.SCHEDULED,
    therapist_notes: str = "",
) -> TherapySession:
    """Schedule a session, or log one after the fact (past sessions are allowed)."""
    ensure_not_ended(couple)
    return TherapySession.objects.create(
        couple=couple,
        created_by=created_by,
        kind=kind,
        focus_partner_id=focus_partner_id,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        status=status,
        therapist_notes=therapist_notes,
    )


class SessionChanges(TypedDict, total=False):
    """What a session edit may change (None: unchanged); `kind` and `focus_partner` never do."""

    starts_at: datetime | None
    duration_minutes: int | None
    status: str | None
    therapist_notes: str | None


@transaction.atomic
def session_update(*, session: TherapySession, **changes: Unpack[SessionChanges]) -> TherapySession:
    """Change what may change (SessionChanges)."""
    session = lock_record(session)
    before = session_audience(session)
    changed = changed_fields(session, changes)
    if not changed:
        return session
    was_completed, started_at = session.status == TherapySession.Status.COMPLETED, session.starts_at
    assign(session, changes, changed)
    # Notes alone move only the therapists' `updated_at` (TherapySession.PARTNER_HIDDEN_FIELDS).
    session.save(update_fields=[*changed, "updated_at"])
    if "starts_at" in changed:
        # A joint session moved out of a partnership leaves that partnership's partners.
        removals_record(
            type=Removal.Type.SESSION, object_id=session.pk, lost=before - session_audience(session)
        )
    # SPEC 5.7: moving or cancelling a completed session changes the reports of its old and
    # new weeks.
    if was_completed or session.status == TherapySession.Status.COMPLETED:
        tz = session.couple.timezone
        mark_stale(
            couple_id=session.couple_id,
            dates=[local_date(tz, started_at), local_date(tz, session.starts_at)],
        )
    return session


@transaction.atomic
def session_delete(*, session: TherapySession) -> None:
    """Delete a session; everyone who could see it gets a removal for their sync."""
    session = lock_record(session)
    audience = session_audience(session)
    removals_record(type=Removal.Type.SESSION, object_id=session.pk, lost=audience)
    # SPEC 5.7: a deleted completed session changes its week's report.
    if session.status == TherapySession.Status.COMPLETED:
        mark_stale(
            couple_id=session.couple_id,
            dates=[local_date(session.couple.timezone, session.starts_at)],
        )
    session.delete()


@transaction.atomic
def attendance_record(
    *, session: TherapySession, entries: Sequence[AttendanceEntry]
) -> TherapySession:
    """Record (or re-record) attendance for the given partners and mark the session completed.

    Entries of partners not given are left as they are: a partner without a therapist records
    only their own attendance, never the other's.
    """
    session = lock_record(session)
    now = timezone.now()
    existing = {entry.partner_id: entry for entry in session.attendance.all()}
    # What partners read (statuses, the session's status) and what only therapists read
    # (participation ratings) move different clocks (SPEC section 1).
    changed = session.status != TherapySession.Status.COMPLETED
    rated = False
    for entry in entries:
        row = existing.get(entry.partner_id)
        if row is None:
            Attendance.objects.create(
                session=session,
                partner_id=entry.partner_id,
                status=entry.status,
                participation=entry.participation,
                recorded_at=now,
            )
            changed = True
        elif (row.status, row.participation) != (entry.status, entry.participation):
            changed = changed or row.status != entry.status
            rated = rated or row.participation != entry.participation
            row.status = entry.status
            row.participation = entry.participation
            row.recorded_at = now
            row.save(update_fields=["status", "participation", "recorded_at"])
    if not changed and not rated:
        # A retried PUT changes nothing, not even updated_at.
        return session
    if changed:
        session.status = TherapySession.Status.COMPLETED
        # Both clocks move with a status, so sync clients refetch the session.
        session.save(update_fields=["status", "updated_at"])
    else:
        # Only ratings changed: the therapists' clock moves, the partners' stays.
        session.updated_at = now
        TherapySession.objects.filter(pk=session.pk).update(updated_at=now)
    # SPEC 5.7: attendance recorded after a report makes the report of its week stale.
    mark_stale(
        couple_id=session.couple_id,
        dates=[local_date(session.couple.timezone, session.starts_at)],
    )
    return session
