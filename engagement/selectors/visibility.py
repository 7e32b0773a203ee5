"""The visibility rules of SPEC section 1, in one place.

Every endpoint, and the reports, digests, export and admin, ask these functions what a user
may see. Only active memberships (not left) give access, and a partner reads the other
partner's records only within the partnerships both belong to (membership periods,
engagement/selectors/partnerships.py). Anything outside what they return is
answered 404 by the API, never 403, so ids cannot be probed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import cast
from uuid import UUID

from django.db.models import BooleanField
from django.db.models import Case
from django.db.models import DateTimeField
from django.db.models import Exists
from django.db.models import F
from django.db.models import Model
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Value
from django.db.models import When
from django.db.models.functions import Coalesce
from django.db.models.functions import Greatest

from accounts.models import User
from engagement.models import Attendance
from engagement.models import AwayPeriod
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import TherapySession
from engagement.models import Visibility
from engagement.models import WeeklyReport
from engagement.selectors.compiled import CompiledRead
from engagement.selectors.compiled import CompiledShapes
from engagement.selectors.partnerships import Partnership
from engagement.selectors.partnerships import PartnerSpan
from engagement.selectors.partnerships import date_bounds
from engagement.selectors.partnerships import partnerships_by_couple
from engagement.selectors.partnerships import partnerships_of
from engagement.selectors.partnerships import partnerships_with

Role = Membership.Role


def active_memberships(user: User | UUID) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, left_at__isnull=True)


def _couple_ids(user: User | UUID, role: str | None = None) -> QuerySet[Membership, UUID]:
    memberships = active_memberships(user)
    if role is not None:
        memberships = memberships.filter(role=role)
    return memberships.values("couple_id")  # type: ignore[return-value]


def role_in_couple(user: User, couple_id: UUID) -> str | None:
    """The user's active role in the couple, or None when they are not a member."""
    return (
        active_memberships(user).filter(couple_id=couple_id).values_list("role", flat=True).first()
    )


def couples_visible_to(user: User) -> QuerySet[Couple]:
    """Couples in which the user holds an active membership, as partner or therapist;
    annotated with `reader_updated_at`, the caller's `updated_at` (a therapist-only change such
    as the safety hold moves only the therapists' value)."""
    return Couple.objects.filter(id__in=_couple_ids(user)).annotate(
        reader_updated_at=Case(
            When(id__in=_couple_ids(user, Role.THERAPIST), then=F("updated_at")),
            default=F("partner_updated_at"),
            output_field=DateTimeField(),
        )
    )


def couples_with_role(user: User, role: str) -> QuerySet[Couple]:
    return Couple.objects.filter(id__in=_couple_ids(user, role))


def invitations_visible_to(user: User) -> QuerySet[Invitation]:
    """Therapists see all invitations of their couples; a partner those they sent, and the
    therapist invitations another partner sent while they were a partner (those carry
    `approvals`: each partner must approve them, SPEC section 1). Whom one partner invited is
    not the other's to read, nor is what a former partnership asked for."""
    partner_couples = _couple_ids(user, Role.PARTNER)
    asked_during_membership = Exists(
        active_memberships(user).filter(
            couple_id=OuterRef("couple_id"),
            role=Role.PARTNER,
            joined_at__lte=OuterRef("created_at"),
        )
    )
    return Invitation.objects.filter(
        Q(couple_id__in=_couple_ids(user, Role.THERAPIST))
        | Q(couple_id__in=partner_couples, invited_by=user)
        | Q(asked_during_membership, approvals__isnull=False)
    )


def sessions_visible_to(user: User, reach: Reach | None = None) -> QuerySet[TherapySession]:
    """Therapists: every session of their couples. Partners: their own individual sessions
    (never the other partner's: a safe space needs no audience), and joint sessions that start
    within a partnership they belong to or in which they have an attendance entry.

    Annotated with `reader_updated_at`, the caller's `updated_at` (SPEC section 1)."""
    reach = reach or reach_of(user)
    return TherapySession.objects.filter(_session_rule(reach)).annotate(
        reader_updated_at=_reader_clock(reach, "couple_id")
    )


def commitments_visible_to(user: User, reach: Reach | None = None) -> QuerySet[Commitment]:
    """Therapists: every commitment of their couples. Partners: their own of any visibility, and
    the other partner's `couple` ones due within a partnership both belong to.

    Annotated with the caller's `reader_created_at` and `reader_updated_at`, and with
    `renewed_from_readable` (a reference the caller cannot follow reads as null)."""
    reach = reach or reach_of(user)
    readable_origin = Commitment.objects.filter(
        _commitment_rule(reach), pk=OuterRef("renewed_from_id")
    )
    return Commitment.objects.filter(_commitment_rule(reach)).annotate(
        reader_created_at=_reader_created_at(reach, "owner_id"),
        reader_updated_at=F("updated_at"),
        renewed_from_readable=Exists(readable_origin),
    )


def checkins_visible_to(user: User, reach: Reach | None = None) -> QuerySet[CheckIn]:
    """Partners: their own (all of them, in couples they still belong to) and the other
    partner's `couple` ones dated within a partnership both belong to. Therapists: `therapist`
    and `couple` ones, never `private`.

    Annotated with the caller's `reader_created_at` and `reader_updated_at`."""
    reach = reach or reach_of(user)
    return CheckIn.objects.filter(_checkin_rule(reach)).annotate(
        reader_created_at=_reader_created_at(reach, "author_id"),
        reader_updated_at=F("updated_at"),
    )


def checkins_of_couple_visible_to(
    user: User, couple_id: UUID, reach: Reach | None = None
) -> QuerySet[CheckIn]:
    """`checkins_visible_to(user).filter(couple_id=couple_id)`, built from the caller's reach in
    that couple alone (the check-in list's `?couple=`, issue 20): every term of the rule and of
    `reader_created_at` names its couples, so the other couples' terms can only match rows
    this filter leaves out. The same rows, the same annotations (tests/engagement/selectors/
    test_checkin_worlds.py compares both with SPEC's rule written plainly, over random worlds)."""
    terms = _rule_terms((reach or reach_of(user)).narrowed_to(couple_id))
    return _checkins_of_couple(terms, couple_id)


def _checkins_of_couple(terms: RuleTerms, couple_id: UUID) -> QuerySet[CheckIn]:
    return (
        CheckIn.objects.filter(couple_id=couple_id)
        .filter(_checkin_rule(terms))
        .annotate(
            reader_created_at=_reader_created_at(terms, "author_id"),
            reader_updated_at=F("updated_at"),
        )
    )


# A page of one couple's check-ins: (therapist of it, partner of it, for each shared
# partnership (how many other partners, a first date, an end date), columns, order, size).
CheckInPageShape = tuple[
    bool, bool, tuple[tuple[int, bool, bool], ...], tuple[str, ...], tuple[str, ...], int
]


def _checkin_page_build(shape: Hashable) -> Callable[..., QuerySet[CheckIn]]:
    therapist, partner, spans, columns, ordering, size = cast(CheckInPageShape, shape)

    def build(user_id: UUID, couple_id: UUID, *values: Any) -> QuerySet[CheckIn]:
        given = iter(values)
        shared = []
        for others, has_first, has_end in spans:
            partners = tuple(next(given) for _ in range(others))
            first = next(given) if has_first else None
            end = next(given) if has_end else None
            shared.append((couple_id, partners, first, end))
        terms = RuleTerms(
            user_id=user_id,
            therapist_of=[couple_id] if therapist else [],
            partner_of=[couple_id] if partner else [],
            shared=shared,
        )
        rows = _checkins_of_couple(terms, couple_id).order_by(*ordering)
        return rows.values_list(*columns)[:size]

    return build


# The page's SQL is the same for every reader of one shape: compiled once per shape.
_CHECKIN_PAGES = CompiledShapes(_checkin_page_build)


def checkin_page_of_couple(
    user: User, couple_id: UUID, columns: Sequence[str], ordering: Sequence[str], size: int
) -> list[tuple[Any, ...]]:
    """The first `size` rows (`columns`, in `ordering`) of `checkins_of_couple_visible_to`,
    from SQL compiled once per shape of the caller's reach in the couple (issue 20): what
    decides the query's terms is the shape, which the values fill in, in order."""
    terms = _rule_terms(reach_of(user).narrowed_to(couple_id))
    if not terms.therapist_of and not terms.partner_of:
        return []  # no membership: nothing to read
    values: list[UUID | dt.date] = [terms.user_id, couple_id]
    spans = []
    for shared_couple, others, first, end in terms.shared:
        if shared_couple != couple_id:  # (a reach narrowed to the couple holds no other)
            raise ValueError("A partnership of another couple.")
        spans.append((len(others), first is not None, end is not None))
        values.extend(others)
        values.extend(bound for bound in (first, end) if bound is not None)
    shape: CheckInPageShape = (
        bool(terms.therapist_of),
        bool(terms.partner_of),
        tuple(spans),
        tuple(columns),
        tuple(ordering),
        size,
    )
    return _CHECKIN_PAGES.rows(shape, values)


def away_visible_to(user: User, reach: Reach | None = None) -> QuerySet[AwayPeriod]:
    """Therapists: every away period of their couples. Partners: their own (both visibilities,
    in couples they still belong to) and the other partner's `couple` ones that start within a
    partnership both belong to.

    Annotated with the caller's `reader_created_at` and `reader_updated_at`."""
    reach = reach or reach_of(user)
    return AwayPeriod.objects.filter(_away_rule(reach)).annotate(
        reader_created_at=_reader_created_at(reach, "partner_id"),
        reader_updated_at=F("updated_at"),
    )


def reports_visible_to(user: User) -> QuerySet[WeeklyReport]:
    """Reports of the user's couples; the view (full or partner) depends on the role."""
    return WeeklyReport.objects.filter(couple_id__in=_couple_ids(user))


def reads_full_report(user: User, couple_id: UUID) -> bool:
    """Only therapists read the full comparison (SPEC 5.6)."""
    return role_in_couple(user, couple_id) == Role.THERAPIST


# --- Who reads what: one rule per resource, for a user's querysets and an object's audience ----
# Each `_*_rule(reach)` is the whole definition of what the user of `reach` may read. The
# querysets above filter by it; the audiences below ask the database, for one object, which of
# the couple's members the same rule lets in. Removals, digests and erasure use the audiences,
# so "who lost sight" can never disagree with "who could see" (tests/engagement/selectors/
# test_audiences.py checks both ways).


@dataclass(frozen=True)
class Reach:
    """What a user's active memberships open: the couples they are therapist of, and for each
    couple they are a partner of, its partnerships and timezone (SPEC section 1)."""

    user_id: UUID
    therapist_of: frozenset[UUID]
    partner_of: Mapping[UUID, tuple[Sequence[Partnership], str]]

    def narrowed_to(self, couple_id: UUID) -> Reach:
        """The reach as far as one couple goes."""
        partner_of = self.partner_of.get(couple_id)
        return Reach(
            user_id=self.user_id,
            therapist_of=self.therapist_of & {couple_id},
            partner_of={} if partner_of is None else {couple_id: partner_of},
        )

    def role(self, couple_id: UUID) -> str | None:
        if couple_id in self.therapist_of:
            return Role.THERAPIST
        return Role.PARTNER if couple_id in self.partner_of else None


def _reach_rows(user_id: UUID) -> QuerySet[Membership, tuple[Any, ...]]:
    return Membership.objects.filter(
        Q(user=user_id, left_at__isnull=True) | Q(role=Role.PARTNER),
        couple_id__in=_couple_ids(user_id),
    ).values_list("couple_id", "user_id", "role", "joined_at", "left_at", "couple__timezone")


# Every engagement request reads its caller's reach: compiled once (engagement/selectors/
# compiled.py), as its SQL is the same for every user.
_REACH_ROWS = CompiledRead(_reach_rows)


def reach_of(user: User) -> Reach:
    """The user's reach, in one query: their active memberships and, for the couples they are
    a partner of, every partner membership (current and former) that shapes its partnerships."""
    rows = _REACH_ROWS.rows(user.pk)
    therapist_of: set[UUID] = set()
    timezones: dict[UUID, str] = {}
    spans: dict[UUID, list[PartnerSpan]] = {}
    for couple_id, user_id, role, joined_at, left_at, tz in rows:
        if user_id == user.pk and left_at is None:
            if role == Role.THERAPIST:
                therapist_of.add(couple_id)
            else:
                timezones[couple_id] = tz
        if role == Role.PARTNER:
            spans.setdefault(couple_id, []).append(PartnerSpan(user_id, joined_at, left_at))
    return Reach(
        user_id=user.pk,
        therapist_of=frozenset(therapist_of),
        partner_of={c: (partnerships_of(spans[c]), tz) for c, tz in timezones.items()},
    )


def _reaches_in_couple(couple_id: UUID) -> list[Reach]:
    """Every active member's reach, as far as this couple goes (two queries)."""
    members = list(
        Membership.objects.filter(couple_id=couple_id, left_at__isnull=True).values_list(
            "user_id", "role", "couple__timezone"
        )
    )
    partnerships = partnerships_by_couple([couple_id])[couple_id]
    return [
        Reach(
            user_id=user_id,
            therapist_of=frozenset({couple_id} if role == Role.THERAPIST else ()),
            partner_of={couple_id: (partnerships, tz)} if role == Role.PARTNER else {},
        )
        for user_id, role, tz in members
    ]


def _in_range(field: str, start: object, end: object) -> Q:
    """`start <= field < end`, either bound None for no limit."""
    bounds: dict[str, object] = {}
    if start is not None:
        bounds[f"{field}__gte"] = start
    if end is not None:
        bounds[f"{field}__lt"] = end
    return Q(**bounds)


def _shared_spans(reach: Reach) -> Iterator[tuple[UUID, Partnership, frozenset[UUID], str]]:
    """(couple, partnership, the other partners in it, timezone) for every partnership of the
    user's couples that the user belongs to."""
    for couple_id, (partnerships, tz) in reach.partner_of.items():
        for partnership in partnerships_with(partnerships, reach.user_id):
            yield couple_id, partnership, partnership.partners - {reach.user_id}, tz


_NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class RuleTerms:
    """What a reader's rule is built from, as plain values: the couples they are therapist of,
    those they are a partner of, and for each partnership they shared with others (couple, the
    other partners, its first local date and the date it ended, either None for no limit)."""

    user_id: UUID
    therapist_of: Sequence[UUID]
    partner_of: Sequence[UUID]
    shared: Sequence[tuple[UUID, Sequence[UUID], dt.date | None, dt.date | None]]


def _rule_terms(reach: Reach) -> RuleTerms:
    shared = []
    for couple_id, partnership, others, tz in _shared_spans(reach):
        if others:
            first, end = date_bounds(partnership, tz)
            shared.append((couple_id, tuple(others), first, end))
    return RuleTerms(
        user_id=reach.user_id,
        therapist_of=list(reach.therapist_of),
        partner_of=list(reach.partner_of),
        shared=shared,
    )


def _own_or_shared_rule(
    reach: Reach | RuleTerms,
    owner: str,
    shared: str,
    date_field: str,
    *,
    therapist_reads: list[str] | None = None,
) -> Q:
    """The rows of the couples the reader is a therapist of (only those whose visibility is in
    `therapist_reads`, when given), the reader's own rows (`owner` is the reader) in their
    partner couples, and the other partners' rows whose visibility is `shared` and whose
    `date_field` falls within a span the reader shared the couple with them."""
    terms = _rule_terms(reach) if isinstance(reach, Reach) else reach
    rule = Q(couple_id__in=list(terms.partner_of), **{owner: terms.user_id})
    if terms.therapist_of:  # (left out when it matches nothing: less for Django to build)
        therapist = Q(couple_id__in=list(terms.therapist_of))
        if therapist_reads is not None:
            therapist &= Q(visibility__in=therapist_reads)
        rule = therapist | rule
    for couple_id, others, first, end in terms.shared:
        rule |= Q(
            couple_id=couple_id, **{f"{owner}__in": list(others)}, visibility=shared
        ) & _in_range(date_field, first, end)
    return rule


def _checkin_rule(reach: Reach | RuleTerms) -> Q:
    return _own_or_shared_rule(
        reach,
        "author_id",
        Visibility.COUPLE,
        "date",
        therapist_reads=[Visibility.THERAPIST, Visibility.COUPLE],
    )


def _commitment_rule(reach: Reach) -> Q:
    return _own_or_shared_rule(reach, "owner_id", Commitment.Visibility.COUPLE, "due_on")


def _away_rule(reach: Reach) -> Q:
    return _own_or_shared_rule(reach, "partner_id", AwayPeriod.Visibility.COUPLE, "starts_on")


def _session_rule(reach: Reach) -> Q:
    partner_couples = list(reach.partner_of)
    rule = Q(couple_id__in=list(reach.therapist_of)) | Q(
        couple_id__in=partner_couples, focus_partner_id=reach.user_id
    )
    if partner_couples:
        attended = Attendance.objects.filter(session=OuterRef("pk"), partner_id=reach.user_id)
        rule |= Q(couple_id__in=partner_couples, kind=TherapySession.Kind.JOINT) & Q(
            Exists(attended)
        )
    for couple_id, partnership, _, _ in _shared_spans(reach):
        rule |= Q(couple_id=couple_id, kind=TherapySession.Kind.JOINT) & _in_range(
            "starts_at", partnership.start, partnership.end
        )
    return rule


def _reader_clock(reach: Reach, couple_field: str) -> Case:
    """The caller's `updated_at`: the therapists' clock in their couples, else the partners'."""
    return Case(
        When(**{f"{couple_field}__in": list(reach.therapist_of)}, then=F("updated_at")),
        default=F("partner_updated_at"),
        output_field=DateTimeField(),
    )


def _reader_created_at(reach: Reach | RuleTerms, author_field: str) -> Case:
    """The caller's `created_at`: a partner reading the other partner's record reads the moment
    it was shared with them (SPEC section 1, a reader who gains access)."""
    whens = [When(**{author_field: reach.user_id}, then=F("created_at"))]
    if reach.therapist_of:  # (left out when it matches nothing, as in `_own_or_shared_rule`)
        whens.insert(0, When(couple_id__in=list(reach.therapist_of), then=F("created_at")))
    return Case(
        *whens,
        # Never before it was written (a record shared at creation: the same moment).
        default=Greatest(F("created_at"), Coalesce(F("shared_at"), F("created_at"))),
        output_field=DateTimeField(),
    )


def _audience(
    model: type[Model], obj: Model, couple_id: UUID, rule: Callable[[Reach], Q]
) -> set[UUID]:
    """The active members of the couple whose rule lets them read `obj`, in three queries."""
    reaches = _reaches_in_couple(couple_id)
    if not reaches:
        return set()
    checks = {
        f"reader_{index}": Case(
            When(rule(reach), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
        for index, reach in enumerate(reaches)
    }
    row = model._default_manager.filter(pk=obj.pk).annotate(**checks).values(*checks).first()
    if row is None:
        return set()
    return {reach.user_id for index, reach in enumerate(reaches) if row[f"reader_{index}"]}


def session_audience(session: TherapySession) -> set[UUID]:
    """Who reads this session now: exactly the users whose `sessions_visible_to` holds it."""
    return _audience(TherapySession, session, session.couple_id, _session_rule)


def commitment_audience(commitment: Commitment) -> set[UUID]:
    """Who reads this commitment now (as stored): as `commitments_visible_to`."""
    return _audience(Commitment, commitment, commitment.couple_id, _commitment_rule)


def checkin_audience(checkin: CheckIn) -> set[UUID]:
    """Who reads this check-in now (as stored): as `checkins_visible_to`."""
    return _audience(CheckIn, checkin, checkin.couple_id, _checkin_rule)


def away_audience(away: AwayPeriod) -> set[UUID]:
    """Who reads this away period now (as stored): as `away_visible_to`."""
    return _audience(AwayPeriod, away, away.couple_id, _away_rule)


# --- Roles in bulk ------------------------------------------------------------------------------


def roles_by_couple(user: User) -> dict[UUID, str]:
    """The user's active role in each of their couples, in one query (for list serializers)."""
    return dict(active_memberships(user).values_list("couple_id", "role"))


def active_partner_ids(couple_id: UUID) -> set[UUID]:
    return set(
        Membership.objects.filter(
            couple_id=couple_id, role=Role.PARTNER, left_at__isnull=True
        ).values_list("user_id", flat=True)
    )
