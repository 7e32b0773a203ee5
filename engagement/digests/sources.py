"""What a chunk of digests summarises, loaded with a fixed number of queries per chunk."""

# Six queries whatever the number of users in the chunk: their couples, those couples' active
# memberships with members' names (prefetched onto each couple, which is also where the
# partner view reads the balance consents from, engagement/selectors/reports.py), their
# partnerships (every partner membership, engagement/selectors/partnerships.py), the reports
# of weeks w-7 .. w, the joint sessions of the coming week and the recipients' own open
# `couple` commitments.

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from engagement.reports.weeks import WEEK
from engagement.selectors.partnerships import Partnership
from engagement.selectors.partnerships import partnerships_by_couple

# The partner digest charts the recipient's own last eight weeks.
CHART_WEEKS = 8
UPCOMING = dt.timedelta(days=7)
Role = Membership.Role


# What a digest reads of a member: the membership whole and, of the user, who they are, their
# name (the other partner's, in the partner digest) and their timezone (the recipient's coming
# week). The recipients' own rows come with the chunk; a user row is wide, and a chunk reads
# some 700 of them (issue 20).
_MEMBER_FIELDS = (
    *(field.name for field in Membership._meta.concrete_fields),
    "user__display_name",
    "user__timezone",
)


@dataclass
class DigestSources:
    """Rows behind the digests of one chunk of users, indexed for composing them."""

    now: dt.datetime
    memberships: list[Membership]
    reports: dict[tuple[UUID, dt.date], WeeklyReport]
    sessions: dict[UUID, list[TherapySession]]
    commitments: dict[tuple[UUID, UUID], list[Commitment]]
    partnerships: dict[UUID, list[Partnership]] = field(default_factory=dict)
    _by_user: dict[UUID, list[Membership]] = field(default_factory=dict)
    _by_couple: dict[UUID, list[Membership]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for membership in self.memberships:
            self._by_user.setdefault(membership.user_id, []).append(membership)
            self._by_couple.setdefault(membership.couple_id, []).append(membership)

    @classmethod
    def load(
        cls, *, user_ids: Collection[UUID], weeks: Collection[dt.date], now: dt.datetime
    ) -> DigestSources:
        ids = set(user_ids)
        couples = Couple.objects.filter(
            id__in=Membership.objects.filter(user_id__in=list(ids), left_at__isnull=True).values(
                "couple_id"
            )
        ).exclude(status=Couple.Status.ENDED)
        active_members = (
            Membership.objects.filter(left_at__isnull=True)
            .select_related("user")
            .only(*_MEMBER_FIELDS)
            .order_by("joined_at", "id")
        )
        memberships = [
            membership
            for couple in couples.prefetch_related(Prefetch("memberships", active_members))
            for membership in couple.memberships.all()
        ]
        couple_ids = {m.couple_id for m in memberships}
        partner_couple_ids = {
            m.couple_id for m in memberships if m.role == Role.PARTNER and m.user_id in ids
        }
        reports: dict[tuple[UUID, dt.date], WeeklyReport] = {}
        if weeks:
            for report in WeeklyReport.objects.filter(
                couple_id__in=couple_ids,
                week_start__gte=min(weeks) - (CHART_WEEKS - 1) * WEEK,
                week_start__lte=max(weeks),
            ):
                reports[(report.couple_id, report.week_start)] = report
        # The partner digest shows joint sessions only: an inbox may be shared (SPEC 7).
        sessions: dict[UUID, list[TherapySession]] = defaultdict(list)
        for session in TherapySession.objects.filter(
            kind=TherapySession.Kind.JOINT,
            couple_id__in=partner_couple_ids,
            status=TherapySession.Status.SCHEDULED,
            starts_at__gte=now,
            starts_at__lt=now + UPCOMING,
        ).order_by("starts_at", "id"):
            sessions[session.couple_id].append(session)
        commitments: dict[tuple[UUID, UUID], list[Commitment]] = defaultdict(list)
        # Due dates are local to each couple: fetch a day either side, trim per couple later.
        for commitment in Commitment.objects.filter(
            couple_id__in=partner_couple_ids,
            owner_id__in=list(ids),
            status=Commitment.Status.OPEN,
            visibility=Commitment.Visibility.COUPLE,
            due_on__gte=(now - dt.timedelta(days=1)).date(),
            due_on__lte=(now + UPCOMING + dt.timedelta(days=1)).date(),
        ).order_by("due_on", "id"):
            commitments[(commitment.couple_id, commitment.owner_id)].append(commitment)
        partnerships = partnerships_by_couple(partner_couple_ids)
        return cls(now, memberships, reports, dict(sessions), dict(commitments), partnerships)

    def seats(self, user_id: UUID, role: str) -> list[Membership]:
        """The user's active memberships in this role, couples not ended, by couple name."""
        seats = [m for m in self._by_user.get(user_id, []) if m.role == role]
        return sorted(seats, key=lambda m: (m.couple.name.casefold(), str(m.couple_id)))

    def other_partners(self, couple_id: UUID, user_id: UUID) -> list[Membership]:
        return [
            m
            for m in self._by_couple.get(couple_id, [])
            if m.role == Role.PARTNER and m.user_id != user_id
        ]

    def report(self, couple_id: UUID, week_start: dt.date) -> WeeklyReport | None:
        return self.reports.get((couple_id, week_start))

    def partnerships_of(self, couple_id: UUID) -> list[Partnership]:
        return self.partnerships.get(couple_id, [])

    def upcoming_joint_sessions(self, couple_id: UUID) -> list[TherapySession]:
        """The couple's joint sessions of the coming week: both partners may read them."""
        return list(self.sessions.get(couple_id, []))

    def upcoming_commitments(self, couple: Couple, user_id: UUID) -> list[Commitment]:
        """The partner's own open `couple` commitments due in the coming seven local days. Only
        their own: the other partner's promises are theirs, and a digest never keeps score."""
        today = self.now.astimezone(ZoneInfo(couple.timezone)).date()
        return [
            c
            for c in self.commitments.get((couple.id, user_id), [])
            if today <= c.due_on < today + UPCOMING
        ]
