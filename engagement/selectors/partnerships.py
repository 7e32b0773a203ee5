"""Membership periods as partnerships (SPEC v1.1 section 1, "Membership periods").

A couple's *partnership* is a span of time with the same partners. The couple's first partners
(the first two to join, or the only one) form the first partnership, which reaches back before
the couple's creation, so that history logged at onboarding belongs to them. From the first time
a partner leaves, every change of partners (a leave, or a join) begins a new partnership.

A partner reads the other partner's shared records only when they fall in a partnership both
belong to; reports only of weeks that lie entirely in a partnership the viewer belongs to. This
module is pure (no queries): callers pass the couple's partner memberships, read once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class PartnerSpan:
    """One partner membership: who, and from when until when (None: still there)."""

    user_id: UUID
    joined_at: dt.datetime
    left_at: dt.datetime | None


@dataclass(frozen=True)
class Partnership:
    """A span of time with the same partners; `start` None reaches back without limit."""

    start: dt.datetime | None
    end: dt.datetime | None
    partners: frozenset[UUID]

    def contains(self, moment: dt.datetime) -> bool:
        return (self.start is None or self.start <= moment) and (
            self.end is None or moment < self.end
        )

    def covers(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether [start, end) lies entirely inside this partnership."""
        return (self.start is None or self.start <= start) and (self.end is None or end <= self.end)


def _active_at(spans: Sequence[PartnerSpan], moment: dt.datetime) -> frozenset[UUID]:
    return frozenset(
        span.user_id
        for span in spans
        if span.joined_at <= moment and (span.left_at is None or span.left_at > moment)
    )


def partnerships_of(spans: Iterable[PartnerSpan]) -> list[Partnership]:
    """The couple's partnerships in time order, from its partner memberships."""
    ordered = sorted(spans, key=lambda span: (span.joined_at, str(span.user_id)))
    if not ordered:
        return []
    first_leave = min((s.left_at for s in ordered if s.left_at is not None), default=None)
    first_partners = [
        s.user_id for s in ordered if first_leave is None or s.joined_at < first_leave
    ]
    first = frozenset(first_partners[:2])
    boundaries = sorted(
        {s.joined_at for s in ordered} | {s.left_at for s in ordered if s.left_at is not None}
    )
    result: list[Partnership] = []
    current_start: dt.datetime | None = None
    current: frozenset[UUID] | None = first
    for moment in boundaries:
        if first_leave is None or moment < first_leave:
            continue  # Joins before anyone left complete the first partnership.
        members = _active_at(ordered, moment)
        if members == current:
            continue
        if current:
            result.append(Partnership(current_start, moment, current))
        current_start, current = moment, members
    if current:
        result.append(Partnership(current_start, None, current))
    return result


def shared_partnerships(
    partnerships: Iterable[Partnership], viewer_id: UUID, other_id: UUID
) -> list[Partnership]:
    """The partnerships both users belong to (the viewer's own records: all of theirs)."""
    return [p for p in partnerships if viewer_id in p.partners and other_id in p.partners]


def partnerships_with(partnerships: Iterable[Partnership], viewer_id: UUID) -> list[Partnership]:
    return [p for p in partnerships if viewer_id in p.partners]


def local_midnight(day: dt.date, timezone: str) -> dt.datetime:
    """The instant a local date begins in the couple's timezone (aware, UTC-comparable)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(timezone))


def date_bounds(partnership: Partnership, timezone: str) -> tuple[dt.date | None, dt.date | None]:
    """The local dates of a partnership, half-open [first, last): a date belongs to the
    partnership in force when that day begins in the couple's timezone."""
    zone = ZoneInfo(timezone)

    def first_date_on_or_after(moment: dt.datetime) -> dt.date:
        local = moment.astimezone(zone)
        day = local.date()
        return day if local_midnight(day, timezone) >= moment else day + dt.timedelta(days=1)

    start = None if partnership.start is None else first_date_on_or_after(partnership.start)
    end = None if partnership.end is None else first_date_on_or_after(partnership.end)
    return start, end


def date_in(partnerships: Iterable[Partnership], day: dt.date, timezone: str) -> bool:
    moment = local_midnight(day, timezone)
    return any(p.contains(moment) for p in partnerships)


def week_readable(
    partnerships: Iterable[Partnership], viewer_id: UUID, week_start: dt.date, timezone: str
) -> bool:
    """Whether the week (Monday 00:00 to the next Monday 00:00, local) lies entirely inside a
    partnership the viewer belongs to (a week across a change of partners is the therapist's)."""
    start = local_midnight(week_start, timezone)
    end = local_midnight(week_start + dt.timedelta(days=7), timezone)
    return any(p.covers(start, end) for p in partnerships_with(partnerships, viewer_id))


def partnerships_by_couple(couple_ids: Iterable[UUID]) -> dict[UUID, list[Partnership]]:
    """Every given couple's partnerships, from its partner memberships read in one query."""
    from engagement.models import Membership

    spans: dict[UUID, list[PartnerSpan]] = {couple_id: [] for couple_id in couple_ids}
    rows = Membership.objects.filter(
        couple_id__in=list(spans), role=Membership.Role.PARTNER
    ).values_list("couple_id", "user_id", "joined_at", "left_at")
    for couple_id, user_id, joined_at, left_at in rows:
        spans[couple_id].append(PartnerSpan(user_id, joined_at, left_at))
    return {couple_id: partnerships_of(couple_spans) for couple_id, couple_spans in spans.items()}
