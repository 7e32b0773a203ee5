"""When a digest is due: each user's send time, the week it summarises, and who may get one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Exists
from django.db.models import OuterRef
from django.db.models import QuerySet

from accounts.models import User
from engagement import chunks
from engagement.models import Couple
from engagement.models import Membership
from engagement.reports.weeks import WEEK
from engagement.reports.weeks import last_completed_week
from engagement.reports.weeks import local_midnight

# A report that is late is waited for this long after the digest's send time (or after the
# week ended in a couple's timezone, if later); then the digest is skipped, the reason kept.
REPORT_WAIT = dt.timedelta(hours=24)
# Upper bound of that deadline after the send time: timezones lie at most 26 h apart.
LATEST_DEADLINE = dt.timedelta(hours=26) + REPORT_WAIT


def week_end(week_start: dt.date, tz_name: str) -> dt.datetime:
    """The instant a week ends in a timezone: the next Monday 00:00 there."""
    return local_midnight(ZoneInfo(tz_name), week_start + WEEK)


def send_time(week_start: dt.date, user: User) -> dt.datetime:
    """When the digest of a week goes out: the user's weekday and hour in the week after it.

    With Monday 08:00 (the default) that is the first send time after the week has ended, so
    the week summarised is the latest completed one in the user's timezone.
    """
    day = week_start + WEEK + dt.timedelta(days=user.digest_weekday)
    return dt.datetime.combine(day, dt.time(user.digest_hour), tzinfo=ZoneInfo(user.timezone))


def scheduled_week(now: dt.datetime, user: User) -> dt.date:
    """The latest week whose digest send time has passed at ``now``."""
    week = last_completed_week(user.timezone, now)
    if send_time(week, user) > now:
        week -= WEEK
    return week


def digest_week(
    now: dt.datetime, user: User, week: dt.date | None, *, on_schedule: bool
) -> dt.date:
    """The week a digest summarises: the one asked for; else the schedule's, or (sending now,
    whatever the send time) the latest completed week in the user's timezone."""
    if week is not None:
        return week
    return scheduled_week(now, user) if on_schedule else last_completed_week(user.timezone, now)


def report_deadline(
    send_at: dt.datetime, week_start: dt.date, tz_names: Iterable[str]
) -> dt.datetime:
    """How long a digest waits for its reports: 24 h after the send time, or after the week
    ended in the couple's timezone when that is later (a couple far to the west)."""
    ends = [week_end(week_start, tz) for tz in tz_names]
    return max([send_at, *ends]) + REPORT_WAIT


def _active_membership(role: str | None = None) -> QuerySet[Membership]:
    memberships = Membership.objects.filter(
        user=OuterRef("pk"), left_at__isnull=True, couple__status=Couple.Status.ACTIVE
    )
    return memberships if role is None else memberships.filter(role=role)


def eligible_users() -> QuerySet[User]:
    """Who may receive a digest at all (SPEC section 6): digest on, a verified address, an
    account neither deactivated nor erased, and an active couple to write about.

    Annotated with ``is_partner_somewhere`` and ``is_therapist_somewhere`` (in an active couple).
    """
    return (
        User.objects.filter(
            is_active=True,
            erased_at__isnull=True,
            email_verified_at__isnull=False,
            weekly_digest=True,
        )
        .annotate(
            is_partner_somewhere=Exists(_active_membership(Membership.Role.PARTNER)),
            is_therapist_somewhere=Exists(_active_membership(Membership.Role.THERAPIST)),
        )
        .filter(Exists(_active_membership()))
        .order_by("id")
    )


def user_pages(
    chunk_size: int, user_ids: Sequence[UUID | str] | None = None
) -> Iterator[list[User]]:
    """Eligible users in pages of ``chunk_size``, by id (keyset: one query per page)."""
    return chunks.user_pages(eligible_users(), chunk_size, user_ids)
