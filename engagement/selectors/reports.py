"""Which weekly reports a user may read, and how each reads for them: full for therapists, the
partner view for partners (SPEC 1 and 5.6).

In one place so the reports API, the pipeline (which keeps each reader's revision and
timestamps), digests and the account export shape reports the same way. A partner reads their
own figures without `participation` and with their own score computed without it; the other
partner's entry with every figure null; no less engaged partner, flags or recommendations; and
the couple's *shared* balance (from shared inputs only) when the balance is shared. Their own
`unsafe_days` is null too (safety answers are never shown back, SPEC 1). A safety hold changes
nothing a partner reads; therapists read a report of a couple on hold with every
recommendation but `screen_individually` withheld (SPEC 5.5, a presentation rule: the stored
report keeps them). Partners read only weeks lying entirely in a partnership
they belong to, and weeks before the couple's creation week only from the earliest one holding
a record they may read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Case
from django.db.models import F
from django.db.models import Min
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.db.models import When
from django.db.models.functions import Coalesce

from accounts.models import User
from config.api.fields import utc_timestamp
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import ReportReaderState
from engagement.models import TherapySession
from engagement.models import Visibility
from engagement.models import WeeklyReport
from engagement.reports.scoring import SAFETY_RECOMMENDATIONS
from engagement.selectors.partnerships import Partnership
from engagement.selectors.partnerships import partnerships_by_couple
from engagement.selectors.partnerships import partnerships_with
from engagement.selectors.partnerships import week_readable
from engagement.selectors.visibility import role_in_couple
from engagement.selectors.visibility import roles_by_couple

FULL = "full"
PARTNER = "partner"
THERAPISTS = ReportReaderState.THERAPISTS
# The methodology whose stored reports hold the shared balance; an older report's partner
# view shows no balance until it is recomputed (SPEC section 2).
SHARED_BALANCE_FROM = "v1.1"
# Keys of a rendered view that are the reader's own values, left out of its hash.
READER_VALUES = ("revision", "computed_at", "updated_at")


def _utc(value: dt.datetime) -> str:
    return str(utc_timestamp(value))


# --- whether the balance is shared -------------------------------------------------------------


@dataclass(frozen=True)
class Sharing:
    """What decides whether a couple's partners see its shared balance (SPEC 5.6), and the
    couple's safety hold (which changes only what its therapists read, SPEC 5.5)."""

    partners_see_balance: bool
    active_partners: frozenset[UUID]
    consenting: frozenset[UUID]  # active partners with `shares_balance`
    safety_hold: bool = False

    def shared_with(self, report_partners: Iterable[UUID], viewer_id: UUID) -> bool:
        """`partners_see_balance` on, the viewer one of the report's two partners, both still
        active and consenting. A safety hold plays no part: it changes nothing partners read."""
        partners = set(report_partners)
        return (
            self.partners_see_balance
            and len(partners) == 2
            and viewer_id in partners
            and partners <= self.consenting
        )


def sharing_of(couple: Couple) -> Sharing:
    """The couple's sharing, from its prefetched memberships when a list has them."""
    prefetched = getattr(couple, "_prefetched_objects_cache", {}).get("memberships")
    if prefetched is not None:
        rows = [
            (m.user_id, m.shares_balance)
            for m in prefetched
            if m.role == Membership.Role.PARTNER and m.left_at is None
        ]
    else:
        rows = list(
            Membership.objects.filter(
                couple=couple, role=Membership.Role.PARTNER, left_at__isnull=True
            ).values_list("user_id", "shares_balance")
        )
    return Sharing(
        couple.partners_see_balance,
        frozenset(user_id for user_id, _ in rows),
        frozenset(user_id for user_id, shares in rows if shares),
        couple.safety_hold,
    )


def sharings_by_couple(couple_ids: Iterable[UUID]) -> dict[UUID, Sharing]:
    """The sharing of each couple, in two queries."""
    ids = list(set(couple_ids))
    see: dict[UUID, bool] = {}
    hold: dict[UUID, bool] = {}
    for couple_id, partners_see_balance, safety_hold in Couple.objects.filter(
        id__in=ids
    ).values_list("id", "partners_see_balance", "safety_hold"):
        see[couple_id] = partners_see_balance
        hold[couple_id] = safety_hold
    active: dict[UUID, set[UUID]] = {cid: set() for cid in ids}
    consenting: dict[UUID, set[UUID]] = {cid: set() for cid in ids}
    for couple_id, user_id, shares in Membership.objects.filter(
        couple_id__in=ids, role=Membership.Role.PARTNER, left_at__isnull=True
    ).values_list("couple_id", "user_id", "shares_balance"):
        active[couple_id].add(user_id)
        if shares:
            consenting[couple_id].add(user_id)
    return {
        cid: Sharing(
            bool(see.get(cid)),
            frozenset(active[cid]),
            frozenset(consenting[cid]),
            bool(hold.get(cid)),
        )
        for cid in ids
    }


def report_partner_ids(report: WeeklyReport) -> list[UUID]:
    return [UUID(str(entry["partner"])) for entry in report.partners]


# --- the two views ---------------------------------------------------------------------------


def _blank_figures(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: (value if key == "partner" else None) for key, value in entry.items()}


def _common(report: WeeklyReport, view: str) -> dict[str, Any]:
    return {
        # None for the week so far, computed on request and never stored (SPEC section 4).
        "id": None if report.id is None else str(report.id),
        "couple": str(report.couple_id),
        "week_start": report.week_start.isoformat(),
        "methodology": report.methodology,
        "view": view,
    }


# Shown to therapists while the couple is on a safety hold (SPEC 5.5).
HOLD_RECOMMENDATIONS = frozenset(SAFETY_RECOMMENDATIONS)


def full_body(report: WeeklyReport, *, safety_hold: bool = False) -> dict[str, Any]:
    """The therapists' view, without the reader's own values (revision, timestamps).

    While the couple is on a safety hold, every recommendation but `screen_individually` is
    withheld, as under a safety signal (SPEC 5.5); the stored report keeps them."""
    recommendations = list(report.recommendations)
    if safety_hold:
        recommendations = [r for r in recommendations if r.get("code") in HOLD_RECOMMENDATIONS]
    return {
        **_common(report, FULL),
        "balance": report.balance,
        "gap": report.gap,
        "gap_trend": report.gap_trend,
        "less_engaged_partner": (
            str(report.less_engaged_partner_id) if report.less_engaged_partner_id else None
        ),
        "partners": [dict(entry) for entry in report.partners],
        "flags": list(report.flags),
        "recommendations": recommendations,
        "shared_balance": report.shared_balance,
        "shared_gap": report.shared_gap,
        "shared_gap_trend": report.shared_gap_trend,
    }


def partner_body(report: WeeklyReport, viewer_id: UUID, *, shared: bool) -> dict[str, Any]:
    """A partner's view (SPEC 5.6), without the reader's own values (revision, timestamps).

    Built from the report's stored fields one by one, never by removing from the full view, so
    a field added to reports later stays out of the partner view until someone decides.
    """
    own_id = str(viewer_id)
    own_scores = {
        str(view.get("partner")): view.get("engagement_score_without_participation")
        for view in report.partner_views or []
    }
    partners = []
    for entry in report.partners:
        if str(entry.get("partner")) == own_id:
            own = dict(entry)
            # Participation is the therapist's rating, never shown back, not even one's own;
            # the own score leaves it out (SPEC 1, "Aggregates").
            own["participation"] = None
            # Safety answers are never shown back, not even to their author (SPEC 1, 5.6).
            if "unsafe_days" in own:
                own["unsafe_days"] = None
            own["engagement_score"] = own_scores.get(own_id)
            partners.append(own)
        else:
            partners.append(_blank_figures(entry))
    show = shared and report.methodology == SHARED_BALANCE_FROM
    return {
        **_common(report, PARTNER),
        "balance": report.shared_balance if show else None,
        "gap": report.shared_gap if show else None,
        "gap_trend": report.shared_gap_trend if show else None,
        "less_engaged_partner": None,
        "partners": partners,
        "flags": [],
        "recommendations": [],
        "shared_balance": None,
        "shared_gap": None,
        "shared_gap_trend": None,
    }


def view_hash(body: Mapping[str, Any]) -> str:
    """A fingerprint of what a reader sees of a report, their own values left out."""
    content = {key: value for key, value in body.items() if key not in READER_VALUES}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def reader_bodies(report: WeeklyReport, sharing: Sharing) -> dict[str, dict[str, Any]]:
    """Every reader's view of a report: the therapists', and each of its partners'."""
    partners = report_partner_ids(report)
    bodies = {THERAPISTS: full_body(report, safety_hold=sharing.safety_hold)}
    for partner_id in partners:
        bodies[str(partner_id)] = partner_body(
            report, partner_id, shared=sharing.shared_with(partners, partner_id)
        )
    return bodies


def report_for_viewer(
    report: WeeklyReport,
    viewer: User,
    *,
    role: str | None = None,
    sharing: Sharing | None = None,
) -> dict[str, Any]:
    """The report as `viewer` may read it, with the viewer's own revision and timestamps.

    `role` (the viewer's active role in the couple) and `sharing` may be passed in when the
    caller already knows them. Anyone who is not a therapist of the couple gets the partner
    view, so a mistake fails closed.
    """
    if role is None:
        role = role_in_couple(viewer, report.couple_id)
    if role == Membership.Role.THERAPIST:
        hold = report.couple.safety_hold if sharing is None else sharing.safety_hold
        body = full_body(report, safety_hold=hold)
    else:
        if sharing is None:
            sharing = sharing_of(report.couple)
        shared = sharing.shared_with(report_partner_ids(report), viewer.pk)
        body = partner_body(report, viewer.pk, shared=shared)
    # The reader's own values, annotated by reports_readable_by; else the row's (the week so
    # far, a report read outside the API).
    revision = getattr(report, "reader_revision", report.revision)
    computed_at = getattr(report, "reader_computed_at", None) or report.computed_at
    updated_at = getattr(report, "reader_updated_at", None) or report.updated_at or computed_at
    return {
        **{key: body[key] for key in ("id", "couple", "week_start", "methodology", "view")},
        "revision": revision,
        "computed_at": _utc(computed_at),
        "updated_at": _utc(updated_at),
        **{
            key: value
            for key, value in body.items()
            if key not in ("id", "couple", "week_start", "methodology", "view")
        },
    }


# --- which reports a user may read ---------------------------------------------------------------


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def readable_week_range(
    partnership: Partnership, timezone: str
) -> tuple[dt.date | None, dt.date | None]:
    """The first and last Mondays (None: no limit) of the weeks lying entirely in the
    partnership, Monday 00:00 to Monday 00:00 local time (partnerships.week_readable)."""
    zone = ZoneInfo(timezone)
    first = None
    if partnership.start is not None:
        local = partnership.start.astimezone(zone)
        day = local.date()
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        if midnight < partnership.start:
            day += dt.timedelta(days=1)
        first = day + dt.timedelta(days=(7 - day.weekday()) % 7)
    last = None
    if partnership.end is not None:
        # The week holding the end is cut by it; the one before ends at or before it.
        last = monday_of(partnership.end.astimezone(zone).date()) - dt.timedelta(weeks=1)
    return first, last


@dataclass(frozen=True)
class ReadableWeeks:
    """The weeks of one couple one partner may read: those lying entirely in a partnership of
    theirs (`ranges` of Mondays, None for no limit), and none before `floor` (the creation
    week, or the earliest week holding a record they may read when that is earlier)."""

    ranges: tuple[tuple[dt.date | None, dt.date | None], ...]
    floor: dt.date

    def __contains__(self, week: object) -> bool:
        if not isinstance(week, dt.date) or week < self.floor:
            return False
        return any(
            (first is None or week >= first) and (last is None or week <= last)
            for first, last in self.ranges
        )

    def condition(self, couple_id: UUID) -> Q:
        """The same weeks as a filter on reports."""
        condition = Q(pk__in=[])
        for first, last in self.ranges:
            weeks = Q(couple_id=couple_id, week_start__gte=max(self.floor, first or self.floor))
            if last is not None:
                weeks &= Q(week_start__lte=last)
            condition |= weeks
        return condition


@dataclass
class _Firsts:
    """The earliest records of a couple: shared ones, and each partner's own."""

    shared: dt.date | None = None
    own: dict[UUID, dt.date] = field(default_factory=dict)

    def add_shared(self, day: dt.date | None) -> None:
        if day is not None and (self.shared is None or day < self.shared):
            self.shared = day

    def add_own(self, user_id: UUID | None, day: dt.date | None) -> None:
        if user_id is None or day is None:
            return
        if user_id not in self.own or day < self.own[user_id]:
            self.own[user_id] = day

    def for_partner(self, user_id: UUID) -> dt.date | None:
        days = [d for d in (self.shared, self.own.get(user_id)) if d is not None]
        return min(days) if days else None


def _first_records(couples: Mapping[UUID, str]) -> dict[UUID, _Firsts]:
    """For each couple, the date of its earliest record every partner may read (`couple`
    check-ins and commitments, joint sessions) and of each partner's earliest own record, in
    three grouped queries."""
    ids = list(couples)
    firsts = {couple_id: _Firsts() for couple_id in ids}
    # Check-ins by their date, commitments by their due date: each its author's, and shared
    # when `couple`.
    dated: tuple[tuple[type[CheckIn | Commitment], str, str, Q], ...] = (
        (CheckIn, "author_id", "date", Q(visibility=Visibility.COUPLE)),
        (Commitment, "owner_id", "due_on", Q(visibility=Commitment.Visibility.COUPLE)),
    )
    for model, author_field, date_field, shared_rule in dated:
        for couple_id, author_id, own, shared in (
            model.objects.filter(couple_id__in=ids)
            .order_by()
            .values("couple_id", author_field)
            .annotate(own=Min(date_field), shared=Min(date_field, filter=shared_rule))
            .values_list("couple_id", author_field, "own", "shared")
        ):
            firsts[couple_id].add_own(author_id, own)
            firsts[couple_id].add_shared(shared)
    for couple_id, kind, focus_partner_id, starts_at in (
        TherapySession.objects.filter(couple_id__in=ids)
        .order_by()
        .values("couple_id", "kind", "focus_partner_id")
        .annotate(first=Min("starts_at"))
        .values_list("couple_id", "kind", "focus_partner_id", "first")
    ):
        day = starts_at.astimezone(ZoneInfo(couples[couple_id])).date()
        if kind == TherapySession.Kind.JOINT:
            firsts[couple_id].add_shared(day)
        else:
            firsts[couple_id].add_own(focus_partner_id, day)
    return firsts


def readable_weeks(
    couples: Mapping[UUID, tuple[str, dt.datetime]],
    partnerships: Mapping[UUID, list[Partnership]],
) -> dict[tuple[UUID, UUID], ReadableWeeks]:
    """For each couple (timezone, created_at) and each partner who ever belonged to it, the
    weeks they may read of its reports (SPEC 1 "Membership periods", SPEC 5), in three queries.

    Weeks before the creation week only from the earliest one holding a record the partner
    may read: whether a report exists must not tell them of a record they cannot read.
    """
    firsts = _first_records({cid: tz for cid, (tz, _) in couples.items()})
    found: dict[tuple[UUID, UUID], ReadableWeeks] = {}
    for couple_id, (timezone, created_at) in couples.items():
        floor = monday_of(created_at.astimezone(ZoneInfo(timezone)).date())
        couple_partnerships = partnerships.get(couple_id, [])
        members = {user_id for p in couple_partnerships for user_id in p.partners}
        for user_id in members:
            earliest = firsts[couple_id].for_partner(user_id)
            partner_floor = floor if earliest is None else min(floor, monday_of(earliest))
            ranges = tuple(
                readable_week_range(p, timezone)
                for p in partnerships_with(couple_partnerships, user_id)
            )
            found[(couple_id, user_id)] = ReadableWeeks(ranges, partner_floor)
    return found


def _partner_condition(user: User, couple_ids: list[UUID]) -> Q:
    """The weeks a partner may read in each of their couples (SPEC 1 and 5)."""
    condition = Q(pk__in=[])
    if not couple_ids:
        return condition
    couples = {
        couple_id: (timezone, created_at)
        for couple_id, timezone, created_at in Couple.objects.filter(id__in=couple_ids).values_list(
            "id", "timezone", "created_at"
        )
    }
    weeks = readable_weeks(couples, partnerships_by_couple(couples))
    for couple_id in couples:
        readable = weeks.get((couple_id, user.pk))
        if readable is not None:
            condition |= readable.condition(couple_id)
    return condition


def week_readable_by(user: User, couple: Couple, week_start: dt.date) -> bool:
    """Whether the user may read the couple's report of that week, when they may read the
    couple: therapists always; partners for a week lying entirely in a partnership of theirs
    (the week so far, which is never before the creation week)."""
    if role_in_couple(user, couple.pk) == Membership.Role.THERAPIST:
        return True
    partnerships = partnerships_by_couple([couple.pk])[couple.pk]
    return week_readable(partnerships, user.pk, week_start, couple.timezone)


def _reader_value(field: str, key: str) -> Subquery:
    return Subquery(
        ReportReaderState.objects.filter(report=OuterRef("pk"), reader_key=key).values(field)[:1]
    )


def reports_readable_by(user: User) -> QuerySet[WeeklyReport]:
    """The reports the user may read, each annotated with the user's own `reader_revision`,
    `reader_computed_at` and `reader_updated_at` (SPEC 1, "Derived changes stay invisible").

    Therapists read every report of their couples; partners the weeks of their partnerships
    (see the module docstring). A constant number of queries, whatever the couples.
    """
    roles = roles_by_couple(user)
    therapist_couples = [cid for cid, role in roles.items() if role == Membership.Role.THERAPIST]
    partner_couples = [cid for cid, role in roles.items() if role == Membership.Role.PARTNER]
    reports = WeeklyReport.objects.filter(
        Q(couple_id__in=therapist_couples) | _partner_condition(user, partner_couples)
    )
    own_key = str(user.pk)
    annotations = {}
    for name, column in (
        ("reader_revision", "revision"),
        ("reader_computed_at", "computed_at"),
        ("reader_updated_at", "updated_at"),
    ):
        value: Any = _reader_value(column, own_key)
        if therapist_couples:
            value = Case(
                When(couple_id__in=therapist_couples, then=_reader_value(column, THERAPISTS)),
                default=value,
            )
        # A report not yet recomputed since reader values exist reads with its own.
        annotations[name] = Coalesce(value, F(column))
    return reports.annotate(**annotations)
