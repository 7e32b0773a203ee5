"""Writes on session feedback: a partner who attended gives theirs, once, replaceable (SPEC 2).

Feedback lives in its own table and touches nothing of the session: the session's clocks and
ETags, which both partners read, never move with it (SPEC section 1, "Derived changes").
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.exceptions import FeedbackWindowClosed
from engagement.exceptions import NotAttended
from engagement.models import Attendance
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.models.feedback import FEEDBACK_ITEMS
from engagement.reports.staleness import local_date
from engagement.reports.staleness import mark_stale
from engagement.services.couples import ensure_not_ended
from engagement.services.edits import assign

ATTENDED = (Attendance.Status.ATTENDED, Attendance.Status.LATE)


def feedback_deadline(*, session: TherapySession, attendance: Attendance) -> datetime:
    """FEEDBACK_WINDOW_DAYS after the later of the session's start and the attendance entry
    being recorded (a session logged after the fact still gets its full window)."""
    opened = max(session.starts_at, attendance.recorded_at)
    return opened + timedelta(days=settings.FEEDBACK_WINDOW_DAYS)


@transaction.atomic
def feedback_put(
    *,
    session: TherapySession,
    partner: User,
    understood: int,
    helpful: int,
    spoke_freely: int,
    coming_back: int,
    comment: str = "",
) -> tuple[SessionFeedback, bool]:
    """Create the partner's feedback on the session, or replace it whole (PUT).

    Returns (feedback, created). The same values again write nothing.
    """
    ensure_not_ended(session.couple)
    attendance = (
        Attendance.objects.select_for_update().filter(session=session, partner=partner).first()
    )
    if attendance is None or attendance.status not in ATTENDED:
        raise NotAttended()
    if timezone.now() > feedback_deadline(session=session, attendance=attendance):
        raise FeedbackWindowClosed()
    values: dict[str, object] = {
        "understood": understood,
        "helpful": helpful,
        "spoke_freely": spoke_freely,
        "coming_back": coming_back,
        "comment": comment,
    }
    assert set(values) == {*FEEDBACK_ITEMS, "comment"}
    day = local_date(session.couple.timezone, session.starts_at)
    feedback = SessionFeedback.objects.filter(session=session, partner=partner).first()
    if feedback is None:
        try:
            with transaction.atomic():
                created = SessionFeedback.objects.create(session=session, partner=partner, **values)
        except IntegrityError:
            # Two PUTs raced (the attendance lock makes this rare) and the other one won.
            feedback = SessionFeedback.objects.get(session=session, partner=partner)
        else:
            # SPEC 5.7: feedback given after its week's report changes the alliance figures.
            mark_stale(couple_id=session.couple_id, dates=[day])
            return created, True
    changed = [name for name, value in values.items() if getattr(feedback, name) != value]
    if not changed:
        return feedback, False
    assign(feedback, values, changed)
    feedback.save(update_fields=[*changed, "updated_at"])
    mark_stale(couple_id=session.couple_id, dates=[day])
    return feedback, False
