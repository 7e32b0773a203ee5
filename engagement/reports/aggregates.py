"""Rows of a chunk of couples turned into scoring inputs, one SQL query per kind of row."""

# SPEC 6 and docs/reports.md, "How it is computed": whatever the number of couples in a
# chunk, aggregation runs ten queries (couples, memberships, status changes, attendance,
# check-ins, commitments, away periods, session feedback, safety alerts, goals). Everything
# else happens in Python over those rows:
#
# - Check-in dates and commitment due dates are already local dates, so SQL groups them by
#   week (TruncWeek, a Monday on SQLite and PostgreSQL alike).
# - Sessions start at a UTC instant: their few attendance rows are fetched in the UTC
#   envelope of the weeks and put in weeks in each couple's own timezone, so a week is always
#   Monday 00:00 to Monday 00:00 local time, DST or not (the local date comes from SQL on
#   PostgreSQL, AT TIME ZONE; from Python on SQLite, which knows no time zones).
# - Weeks during which the couple was paused or ended and weeks without any partner are absent
#   from the history: no figures, no report (scoring.py). Weeks before the couple's creation
#   week are present from the earliest one holding any of its sessions, commitments or
#   check-ins (SPEC 5, onboarding history), found by subqueries of the couples' query.
# - Each partner's shared counts (joint sessions, `couple` check-ins and commitments) come
#   from the same queries, for the shared balance of SPEC 5.6.
# - v1.1 (SPEC 5.1): away days are the distinct days of a week inside a partner's away periods
#   (and, for the shared balance, inside their `couple` ones); feedback counts in the local week
#   its session started in; unsafe days are the dates of the partner's safety alerts, retracted
#   or not (an alert exists only for an answer given while the couple had a therapist, so an
#   answer given with no therapist stays with its author, SPEC 1); a partner's goal at the end
#   of a week is their latest row set before the week's local end.

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from functools import lru_cache
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Aggregate
from django.db.models import Count
from django.db.models import DateField
from django.db.models import F
from django.db.models import Func
from django.db.models import Min
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.db.models import Sum
from django.db.models.functions import Cast
from django.db.models.functions import TruncWeek

from engagement.models import Attendance
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Membership
from engagement.models import TherapySession
from engagement.models import Visibility
from engagement.models.away import AwayPeriod
from engagement.models.checkins import SCALES
from engagement.models.feedback import FEEDBACK_ITEMS
from engagement.models.feedback import SessionFeedback
from engagement.models.goals import Goal
from engagement.models.safety import SafetyAlert
from engagement.reports.scoring import SELF_REPORT_VISIBILITIES
from engagement.reports.scoring import CoupleWeekInput
from engagement.reports.scoring import GoalAtEnd
from engagement.reports.scoring import PartnerWeekInput
from engagement.reports.scoring import RatingTally
from engagement.reports.scoring import SelfReportRatings
from engagement.reports.scoring import SessionFeedbackScore
from engagement.reports.weeks import WEEK
from engagement.reports.weeks import LocalWeek
from engagement.reports.weeks import lookback
from engagement.reports.weeks import monday_of
from engagement.selectors.partnerships import Partnership
from engagement.selectors.partnerships import PartnerSpan
from engagement.selectors.partnerships import partnerships_of

ATTENDED = frozenset({Attendance.Status.ATTENDED, Attendance.Status.LATE})
# A week touched by either status at any moment gets no report (SPEC 5, section 2).
NOT_REPORTED_STATUSES = frozenset({Couple.Status.PAUSED, Couple.Status.ENDED})
NO_SELF_REPORTS = SelfReportRatings()


# --- what one chunk of couples looks like -----------------------------------------------


@dataclass(slots=True)
class _Tenure:
    joined_at: datetime
    left_at: datetime | None

    def overlaps(self, week: LocalWeek) -> bool:
        return self.joined_at < week.ends_at and (
            self.left_at is None or self.left_at > week.starts_at
        )


@dataclass(slots=True)
class _Partner:
    user_id: UUID
    tenures: list[_Tenure] = field(default_factory=list)
    slot: int | None = None  # of the active membership; former partners have none
    id: str = field(init=False)  # the user id as scoring names partners

    def __post_init__(self) -> None:
        self.id = str(self.user_id)

    def order(self) -> tuple[int, datetime, str]:
        """The couple lists its partners by slot; former partners follow, by joining."""
        return (self.slot or 3, self.first_joined_at, self.id)

    @property
    def first_joined_at(self) -> datetime:
        return min(t.joined_at for t in self.tenures)

    def joined_before(self, moment: datetime) -> bool:
        return any(t.joined_at < moment for t in self.tenures)

    def present_at_end(self, week: LocalWeek) -> bool:
        return any(
            t.joined_at < week.ends_at and (t.left_at is None or t.left_at >= week.ends_at)
            for t in self.tenures
        )


@dataclass(slots=True)
class _Couple:
    id: UUID
    zone: ZoneInfo
    timezone: str
    checkin_target: int
    created_at: datetime
    status: str
    weeks: dict[date, LocalWeek] = field(default_factory=dict)
    partners: list[_Partner] = field(default_factory=list)
    status_changes: list[tuple[datetime, str]] = field(default_factory=list)
    # The partners of every week, when they do not depend on the week (see partners_of).
    steady_partners: list[_Partner] | None = None
    # The Monday of the earliest week holding any session, commitment or check-in.
    first_data_week: date | None = None
    partnerships: list[Partnership] = field(default_factory=list)
    # Goal rows (set_at, partner id, the goal as scoring reads it), oldest first (goal_at_end).
    goals: list[tuple[datetime, UUID, GoalAtEnd]] = field(default_factory=list)

    def goals_at_end(self, week: LocalWeek, partners: Iterable[UUID]) -> tuple[GoalAtEnd, ...]:
        """Each partner's latest goal set before the week's local end (SPEC 5.4)."""
        latest: dict[UUID, GoalAtEnd] = {}
        for set_at, partner_id, goal in self.goals:
            if set_at >= week.ends_at:
                break
            latest[partner_id] = goal
        found = [latest.get(pid) for pid in partners]
        return tuple(goal for goal in found if goal is not None)

    def add_goal(self, set_at: datetime, partner_id: UUID, goal: str) -> None:
        """A goal row, read in order of setting; built once for every week it is the latest."""
        at_end = GoalAtEnd(str(partner_id), goal, set_at.astimezone(self.zone).date())
        self.goals.append((set_at, partner_id, at_end))

    def partnership_of(self, week: LocalWeek) -> int | None:
        """The index of the partnership the whole week lies in, None across a change."""
        for index, partnership in enumerate(self.partnerships):
            if partnership.covers(week.starts_at, week.ends_at):
                return index
        return None

    def touched_by_pause(self, week: LocalWeek) -> bool:
        """Whether the couple was paused or ended at any moment of the week."""
        if not self.status_changes:
            # No history recorded: the current status is all we know.
            return self.status in NOT_REPORTED_STATUSES
        status_at_start: str | None = None
        for changed_at, status in self.status_changes:  # ordered by changed_at
            if changed_at <= week.starts_at:
                status_at_start = status
            elif changed_at < week.ends_at:
                if status in NOT_REPORTED_STATUSES:
                    return True
            else:
                break
        return status_at_start in NOT_REPORTED_STATUSES

    def partners_of(self, week: LocalWeek) -> list[_Partner]:
        """The partners a week reports on, in the order the couple lists them.

        Partners who were members at some moment of the week; then, while a place is free,
        partners who joined later (data from before joining counts, SPEC 5.1). A partner who
        left before the week began is not part of it.
        """
        if self.steady_partners is None and self._partners_are_steady():
            self.steady_partners = sorted(self.partners, key=_Partner.order)
        if self.steady_partners is not None:
            return list(self.steady_partners)
        present = [p for p in self.partners if any(t.overlaps(week) for t in p.tenures)]
        # A partner left and another joined within the week: keep who was there at its end.
        present.sort(key=lambda p: not p.present_at_end(week))
        chosen = present[:2]
        later = [
            p
            for p in self.partners
            if p not in chosen and all(t.joined_at >= week.ends_at for t in p.tenures)
        ]
        chosen += later[: 2 - len(chosen)]
        return sorted(chosen, key=_Partner.order)

    def _partners_are_steady(self) -> bool:
        # At most two partners, each a member once and still one: each either overlaps the
        # week or joined after it, and a place is free for them, so every week has them all.
        return len(self.partners) <= 2 and all(
            len(p.tenures) == 1 and p.tenures[0].left_at is None for p in self.partners
        )

    def reported_partners(self, week: LocalWeek) -> list[_Partner]:
        """The partners of a week that belongs to the couple's history, or [] for a week that
        does not (docs/reports.md, missing weeks)."""
        if self.touched_by_pause(week):
            return []
        if week.ends_at <= self.created_at and (
            self.first_data_week is None or week.start < self.first_data_week
        ):
            # Before the creation week, only from the earliest week holding data (SPEC 5).
            return []
        return self.partners_of(week)


@dataclass(slots=True)
class _PartnerTally:
    attended: int = 0
    missed: int = 0
    ratings: list[int] = field(default_factory=list)
    joint_attended: int = 0
    joint_missed: int = 0
    checkin_days: int = 0
    shared_checkin_days: int = 0
    shared_kept: int = 0
    shared_missed: int = 0
    shared_unreported: int = 0
    self_reports: SelfReportRatings = NO_SELF_REPORTS
    kept: int = 0
    commitments_missed: int = 0
    unreported: int = 0
    renewals_of_missed: int = 0
    away_days: set[date] = field(default_factory=set)
    shared_away_days: set[date] = field(default_factory=set)
    unsafe_dates: set[date] = field(default_factory=set)
    feedback: list[SessionFeedbackScore] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CoupleHistory:
    """A couple's weeks as scoring reads them; weeks that are absent have no entry."""

    couple_id: UUID
    timezone: str
    weeks: Mapping[date, CoupleWeekInput]

    def history_for(self, week_start: date) -> list[CoupleWeekInput] | None:
        """The weeks w-5 .. w that are present, or None when week w itself is absent."""
        if week_start not in self.weeks:
            return None
        return [self.weeks[w] for w in lookback(week_start) if w in self.weeks]


def _first(model: type[CheckIn | Commitment | TherapySession], column: str) -> Subquery:
    return Subquery(
        model.objects.filter(couple_id=OuterRef("pk"))
        .order_by()
        .values("couple_id")
        .annotate(first=Min(column))
        .values("first")[:1]
    )


def with_first_data(couples: QuerySet[Couple]) -> QuerySet[Couple]:
    """The couples with the date of their first check-in and commitment and the start of
    their first session (``first_checkin``, ``first_due``, ``first_session``)."""
    return couples.annotate(
        first_checkin=_first(CheckIn, "date"),
        first_due=_first(Commitment, "due_on"),
        first_session=_first(TherapySession, "starts_at"),
    )


def first_data_week(
    zone: ZoneInfo,
    first_checkin: date | None,
    first_due: date | None,
    first_session: datetime | None,
) -> date | None:
    """The Monday of the earliest local week holding any of the couple's records."""
    days = [d for d in (first_checkin, first_due) if d is not None]
    if first_session is not None:
        days.append(first_session.astimezone(zone).date())
    return monday_of(min(days)) if days else None


def _load_couples(
    couple_weeks: Mapping[UUID, Collection[date]], *, with_lookback: bool = True
) -> dict[UUID, _Couple]:
    """The couples, each with the local weeks it needs: w-5 .. w of every requested w."""
    couples: dict[UUID, _Couple] = {}

    # The stubs cannot see the annotations of with_first_data.
    rows = with_first_data(Couple.objects.filter(id__in=list(couple_weeks))).values_list(  # type: ignore[misc]
        "id",
        "timezone",
        "checkin_target_per_week",
        "created_at",
        "status",
        "first_checkin",
        "first_due",
        "first_session",
    )
    for couple_id, timezone_name, target, created_at, status, *firsts in rows:
        zone = ZoneInfo(timezone_name)
        couple = _Couple(couple_id, zone, timezone_name, target, created_at, status)
        couple.first_data_week = first_data_week(zone, *firsts)
        for week_start in couple_weeks[couple_id]:
            starts = lookback(monday_of(week_start)) if with_lookback else [week_start]
            for start in starts:
                couple.weeks.setdefault(start, LocalWeek.of(zone, start))
        couples[couple_id] = couple
    return couples


def _load_members(couples: Mapping[UUID, _Couple]) -> None:
    partners: dict[tuple[UUID, UUID], _Partner] = {}
    rows = (
        Membership.objects.filter(couple_id__in=list(couples), role=Membership.Role.PARTNER)
        .order_by("joined_at", "id")
        .values_list("couple_id", "user_id", "joined_at", "left_at", "partner_slot")
    )
    for couple_id, user_id, joined_at, left_at, slot in rows:
        partner = partners.get((couple_id, user_id))
        if partner is None:
            partner = partners[(couple_id, user_id)] = _Partner(user_id)
            couples[couple_id].partners.append(partner)
        partner.tenures.append(_Tenure(joined_at, left_at))
        if left_at is None:
            partner.slot = slot
    for couple in couples.values():
        couple.partnerships = partnerships_of(
            PartnerSpan(p.user_id, t.joined_at, t.left_at)
            for p in couple.partners
            for t in p.tenures
        )


def _load_status_changes(couples: Mapping[UUID, _Couple], until: datetime) -> None:
    rows = (
        CoupleStatusChange.objects.filter(couple_id__in=list(couples), changed_at__lt=until)
        .order_by("changed_at", "id")
        .values_list("couple_id", "changed_at", "status")
    )
    for couple_id, changed_at, status in rows:
        couples[couple_id].status_changes.append((changed_at, status))


def _envelope(couples: Iterable[_Couple]) -> tuple[date, date, datetime, datetime]:
    """The smallest date range and UTC range that hold every week of every couple."""
    weeks = [week for couple in couples for week in couple.weeks.values()]
    return (
        min(w.start for w in weeks),
        max(w.start for w in weeks) + WEEK,
        min(w.starts_at for w in weeks),
        max(w.ends_at for w in weeks),
    )


def couple_histories(
    couple_weeks: Mapping[UUID, Collection[date]], *, now: datetime
) -> dict[UUID, CoupleHistory]:
    """The history w-5 .. w of every requested week of every couple, in ten queries.

    ``couple_weeks`` maps couple ids to the Mondays to be reported; ``now`` decides which
    open commitments are unreported (their week has ended, SPEC 5.1). Unknown couples are
    left out of the answer.
    """
    couples = _load_couples(couple_weeks)
    if not any(couple.weeks for couple in couples.values()):
        return {
            couple.id: CoupleHistory(couple.id, couple.timezone, {}) for couple in couples.values()
        }
    first_day, end_day, first_instant, end_instant = _envelope(couples.values())
    _load_members(couples)
    _load_status_changes(couples, end_instant)

    # The partners of each week that is present, in the couple's order, with their tallies.
    partners_by_week: dict[tuple[UUID, date], dict[UUID, tuple[_Partner, _PartnerTally]]] = {}
    for couple in couples.values():
        for start, week in couple.weeks.items():
            partners = couple.reported_partners(week)
            if partners:
                partners_by_week[(couple.id, start)] = {
                    p.user_id: (p, _PartnerTally()) for p in partners
                }

    def tally(couple_id: UUID, week_start: date, partner_id: UUID) -> _PartnerTally | None:
        week = partners_by_week.get((couple_id, week_start))
        found = None if week is None else week.get(partner_id)
        return None if found is None else found[1]

    ids = list(couples)
    # The entries (attendance, feedback) on the chunk's sessions within the envelope. Only
    # partners' entries can count: naming them lets PostgreSQL read the chunk's few attendance
    # rows by index instead of hashing the whole table against the sessions.
    session_entries = Q(
        session__couple_id__in=ids,
        session__starts_at__gte=first_instant,
        session__starts_at__lt=end_instant,
        partner_id__in=list({p.user_id for couple in couples.values() for p in couple.partners}),
    )
    for couple_id, partner_id, status, rating, starts_at, kind in (
        Attendance.objects.filter(session_entries, session__status=TherapySession.Status.COMPLETED)
        .order_by()
        .values_list(
            "session__couple_id",
            "partner_id",
            "status",
            "participation",
            _session_start(),
            "session__kind",
        )
    ):
        # The start in the couple's own timezone decides the week (SPEC 5.1).
        week_start = monday_of(_local_day(starts_at, couples[couple_id].zone))
        t = tally(couple_id, week_start, partner_id)
        if t is None:
            continue
        joint = kind == TherapySession.Kind.JOINT
        if status in ATTENDED:
            t.attended += 1
            t.joint_attended += joint
            if rating is not None:
                t.ratings.append(rating)
        elif status == Attendance.Status.ABSENT:
            t.missed += 1
            t.joint_missed += joint

    # Private check-ins count as days (SPEC section 1); only therapist-readable ones enter
    # a sum or a count of ratings (the allow-list of scoring.py).
    shared = Q(visibility__in=sorted(SELF_REPORT_VISIBILITIES))
    scale_aggregates: dict[str, Aggregate] = {}
    for scale in SCALES:
        scale_aggregates[f"{scale}_total"] = Sum(scale, filter=shared)
        scale_aggregates[f"{scale}_count"] = Count(scale, filter=shared)
    for couple_id, author_id, week_start, days, shared_days, *scale_sums in (
        CheckIn.objects.filter(couple_id__in=ids, date__gte=first_day, date__lt=end_day)
        .annotate(week=_week_of("date"))
        .order_by()
        .values("couple_id", "author_id", "week")
        .annotate(
            days=Count("id"),
            shared_days=Count("id", filter=Q(visibility=Visibility.COUPLE)),
            **scale_aggregates,
        )
        .values_list("couple_id", "author_id", "week", "days", "shared_days", *scale_aggregates)
    ):
        t = tally(couple_id, week_start, author_id)
        if t is None:
            continue
        t.checkin_days += days
        t.shared_checkin_days += shared_days
        t.self_reports = SelfReportRatings(
            **{
                scale: _rating_tally(total or 0, count)
                for scale, total, count in zip(
                    SCALES, scale_sums[::2], scale_sums[1::2], strict=True
                )
            }
        )

    missed = Commitment.Status.MISSED
    # The status of the commitment each one renews, looked up by primary key for the rows
    # that need it (a join would let PostgreSQL hash the whole table for every chunk).
    renewed_from_status = Subquery(
        Commitment.objects.filter(pk=OuterRef("renewed_from_id")).order_by().values("status")[:1]
    )
    for couple_id, owner_id, week_start, status, visibility, n, renewals_of_missed in (
        Commitment.objects.filter(couple_id__in=ids, due_on__gte=first_day, due_on__lt=end_day)
        .exclude(status=Commitment.Status.RELEASED)
        .annotate(week=_week_of("due_on"), renewed_from_status=renewed_from_status)
        .order_by()
        .values("couple_id", "owner_id", "week", "status", "visibility")
        .annotate(
            n=Count("id"),
            # A promise made again and broken again (SPEC 5.4), whenever the first was due.
            # Conditions in this order: the lookup runs only for missed renewals.
            renewals_of_missed=Count(
                "id",
                filter=Q(status=missed)
                & Q(renewed_from__isnull=False)
                & Q(renewed_from_status=missed),
            ),
        )
        .values_list(
            "couple_id", "owner_id", "week", "status", "visibility", "n", "renewals_of_missed"
        )
    ):
        t = tally(couple_id, week_start, owner_id)
        if t is None:
            continue
        is_shared = visibility == Commitment.Visibility.COUPLE
        if status == Commitment.Status.KEPT:
            t.kept += n
            t.shared_kept += n if is_shared else 0
        elif status == missed:
            t.commitments_missed += n
            t.shared_missed += n if is_shared else 0
            t.renewals_of_missed += renewals_of_missed
        elif couples[couple_id].weeks[week_start].ends_at <= now:
            # Still open once the week has ended: a forgotten tap, not a broken promise.
            t.unreported += n
            t.shared_unreported += n if is_shared else 0

    _load_v11_rows(couples, tally, ids, session_entries, first_day, end_day, end_instant)

    return {
        couple.id: CoupleHistory(
            couple.id,
            couple.timezone,
            {
                start: _week_input(couple, start, partners_by_week[(couple.id, start)])
                for start in sorted(couple.weeks)
                if (couple.id, start) in partners_by_week
            },
        )
        for couple in couples.values()
    }


def _load_v11_rows(
    couples: Mapping[UUID, _Couple],
    tally: Callable[[UUID, date, UUID], _PartnerTally | None],
    ids: list[UUID],
    session_entries: Q,
    first_day: date,
    end_day: date,
    end_instant: datetime,
) -> None:
    """Away days, session feedback, unsafe days and goals (SPEC 5.1, v1.1), one query each."""
    for couple_id, partner_id, starts_on, ends_on, visibility in (
        AwayPeriod.objects.filter(couple_id__in=ids, starts_on__lt=end_day, ends_on__gte=first_day)
        .order_by()
        .values_list("couple_id", "partner_id", "starts_on", "ends_on", "visibility")
    ):
        shared = visibility == AwayPeriod.Visibility.COUPLE
        # Periods are short (28 days at most): walk the days inside the envelope. Sets, so
        # overlapping periods count a day once.
        day = max(starts_on, first_day)
        last = min(ends_on, end_day - dt.timedelta(days=1))
        while day <= last:
            t = tally(couple_id, monday_of(day), partner_id)
            if t is not None:
                t.away_days.add(day)
                if shared:
                    t.shared_away_days.add(day)
            day += dt.timedelta(days=1)

    for couple_id, partner_id, session_id, starts_at, *items in (
        SessionFeedback.objects.filter(session_entries)
        .order_by()
        .values_list(
            "session__couple_id",
            "partner_id",
            "session_id",
            "session__starts_at",
            *FEEDBACK_ITEMS,
        )
    ):
        local = starts_at.astimezone(couples[couple_id].zone).date()
        t = tally(couple_id, monday_of(local), partner_id)
        if t is not None:
            t.feedback.append(SessionFeedbackScore(str(session_id), starts_at, local, sum(items)))

    for couple_id, partner_id, day in (
        SafetyAlert.objects.filter(couple_id__in=ids, date__gte=first_day, date__lt=end_day)
        .order_by()
        .values_list("couple_id", "partner_id", "date")
    ):
        t = tally(couple_id, monday_of(day), partner_id)
        if t is not None:
            t.unsafe_dates.add(day)

    for couple_id, set_at, partner_id, goal in (
        Goal.objects.filter(couple_id__in=ids, set_at__lt=end_instant)
        .order_by("set_at", "id")
        .values_list("couple_id", "set_at", "partner_id", "goal")
    ):
        couples[couple_id].add_goal(set_at, partner_id, goal)


class _LocalDate(Func):
    """The local date of an instant in the time zone a column names (PostgreSQL)."""

    arg_joiner = " AT TIME ZONE "
    template = "(%(expressions)s)::date"
    output_field = DateField()


def _session_start() -> F | _LocalDate:
    """What an attendance row says of its session's start: on PostgreSQL the local date itself
    (no timestamp to parse and convert row by row), elsewhere the UTC instant (SQLite knows no
    time zones), which _local_day turns into the same date."""
    if connection.vendor == "postgresql":
        return _LocalDate("session__starts_at", "session__couple__timezone")
    return F("session__starts_at")


def _local_day(start: date, zone: ZoneInfo) -> date:
    """The local date of a value of _session_start."""
    return start.astimezone(zone).date() if isinstance(start, datetime) else start


def _week_of(date_field: str) -> Cast:
    """The Monday of a date column's week, as a date (TruncWeek alone is a timestamp on
    PostgreSQL, parsed and converted row by row)."""
    return Cast(TruncWeek(date_field), DateField())


@lru_cache(maxsize=1024)
def _rating_tally(total: int, count: int) -> RatingTally:
    # Tallies are small pairs of integers, frozen: one instance of each is enough.
    return RatingTally(total=total, count=count)


def _week_input(
    couple: _Couple, start: date, partners: Mapping[UUID, tuple[_Partner, _PartnerTally]]
) -> CoupleWeekInput:
    week = couple.weeks[start]
    return CoupleWeekInput(
        week_start=start,
        checkin_target=couple.checkin_target,
        # The dict keeps the couple's order of partners (reported_partners).
        partners=tuple(_partner_input(p, week, t) for p, t in partners.values()),
        partnership=couple.partnership_of(week),
        goals=couple.goals_at_end(week, partners),
    )


def _partner_input(partner: _Partner, week: LocalWeek, t: _PartnerTally) -> PartnerWeekInput:
    return PartnerWeekInput(
        partner=partner.id,
        sessions_attended=t.attended,
        sessions_missed=t.missed,
        # Sorted, so the input does not depend on the order rows came back in.
        participation_ratings=tuple(sorted(t.ratings)),
        checkin_days=t.checkin_days,
        joined_before_week_end=partner.joined_before(week.ends_at),
        commitments_kept=t.kept,
        commitments_missed=t.commitments_missed,
        commitments_unreported=t.unreported,
        missed_renewals_of_missed=t.renewals_of_missed,
        self_reports=t.self_reports,
        joint_attended=t.joint_attended,
        joint_missed=t.joint_missed,
        shared_checkin_days=t.shared_checkin_days,
        shared_commitments_kept=t.shared_kept,
        shared_commitments_missed=t.shared_missed,
        shared_commitments_unreported=t.shared_unreported,
        away_days=len(t.away_days),
        shared_away_days=len(t.shared_away_days),
        unsafe_dates=tuple(sorted(t.unsafe_dates)),
        # Sorted, so the input does not depend on the order rows came back in.
        feedback=tuple(sorted(t.feedback, key=lambda f: (f.starts_at, f.session))),
    )


def present_weeks(couple_weeks: Mapping[UUID, Collection[date]]) -> dict[UUID, set[date]]:
    """Which of the requested weeks get a report at all, in three queries (for planning)."""
    couples = _load_couples(couple_weeks, with_lookback=False)
    weeks = [week for couple in couples.values() for week in couple.weeks.values()]
    if not weeks:
        return {}
    _load_members(couples)
    _load_status_changes(couples, max(week.ends_at for week in weeks))
    return {
        couple.id: {start for start, week in couple.weeks.items() if couple.reported_partners(week)}
        for couple in couples.values()
    }
