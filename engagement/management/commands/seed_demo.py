"""`manage.py seed_demo`: a therapist and couples that show each pattern; idempotent."""

# Each demo couple gets eight weeks of history ending with its last completed week (in its
# own timezone): sessions with attendance and participation, commitments kept, missed and
# renewed, check-ins of every visibility with notes; and, where the pattern needs them,
# session feedback (a split alliance), goals (a goal mismatch) and an away period. Feedback,
# goals and away periods are written as rows (their services live with their API). Then their
# reports are computed, so `make run` shows real reports at once. Running it again changes
# nothing, unless a new week has ended since: then the demo couples' history is written again,
# ending with it.

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.models import AwayPeriod
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Goal
from engagement.models import Membership
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from engagement.models.feedback import FEEDBACK_ITEMS
from engagement.reports.pipeline import compute_reports
from engagement.reports.weeks import LocalWeek
from engagement.reports.weeks import last_completed_week
from engagement.services.checkins import checkin_upsert
from engagement.services.commitments import commitment_create
from engagement.services.commitments import commitment_renew
from engagement.services.commitments import commitment_resolve
from engagement.services.sessions import AttendanceEntry
from engagement.services.sessions import attendance_record
from engagement.services.sessions import session_create

DEMO_PASSWORD = "duet-demo-password"  # noqa: S105 - printed on purpose: demo accounts only
HISTORY_WEEKS = 8


@dataclass(frozen=True)
class DemoCouple:
    name: str
    pattern: str
    timezone: str
    partners: tuple[tuple[str, str], tuple[str, str]]


DEMO_COUPLES = (
    DemoCouple("A & B", "balanced", "Europe/Berlin", (("ana", "Ana"), ("ben", "Ben"))),
    DemoCouple("C & D", "leaning", "America/Chicago", (("cleo", "Cleo"), ("dev", "Dev"))),
    DemoCouple("E & F", "one_sided", "Asia/Tokyo", (("emi", "Emi"), ("finn", "Finn"))),
    DemoCouple("G & H", "rising_resentment", "UTC", (("gil", "Gil"), ("hana", "Hana"))),
    DemoCouple("I & J", "broken_promises", "America/Los_Angeles", (("ivy", "Ivy"), ("jay", "Jay"))),
    DemoCouple("K & L", "split_alliance", "Europe/Madrid", (("kai", "Kai"), ("lena", "Lena"))),
    DemoCouple("M & N", "goal_mismatch", "Europe/London", (("mo", "Mo"), ("nia", "Nia"))),
)


# --- what each partner does in a week -------------------------------------------------------


@dataclass(frozen=True)
class DayCheckin:
    day: int  # 0 = Monday
    visibility: str
    ratings: dict[str, int]
    note: str = ""


@dataclass(frozen=True)
class PartnerWeek:
    attendance: tuple[str, int | None]  # the joint session on Tuesday: status, participation
    checkins: tuple[DayCheckin, ...] = ()
    # Promises due on Thursday, by how they end; "renewed-missed" re-makes last week's
    # missed promise and misses it again (SPEC 5.4).
    commitments: tuple[str, ...] = ()


# A partner's session feedback: understood, helpful, spoke freely, coming back (0-10 each; the
# order of FEEDBACK_ITEMS).
Feedback = tuple[int, int, int, int]


@dataclass(frozen=True)
class WeekPlan:
    first: PartnerWeek
    second: PartnerWeek
    individual: dict[int, tuple[str, int | None]] = field(default_factory=dict)  # slot: entry
    # Each partner's feedback on the joint session, None for none (SPEC 2, alliance).
    feedback: tuple[Feedback | None, Feedback | None] = (None, None)
    # A goal each partner sets on Wednesday of the week, None for none (a history, SPEC 2).
    goals: tuple[str | None, str | None] = (None, None)
    # Days (0 = Monday) a partner is away, with the period's visibility (SPEC 5.2).
    away: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # slot: (from, to, vis)


NOTES = (
    "Long day, but we talked at dinner.",
    "Did the listening exercise; it felt awkward and then good.",
    "Tired. Not much to say.",
    "Argued about money again.",
)
PRIVATE_NOTE = "Not ready to share this yet."


def _checkins(
    days: int, *, private_on: int | None = None, **ratings: int
) -> tuple[DayCheckin, ...]:
    """Check-ins on the first `days` days of the week, shared with the therapist or the couple,
    one of them private when `private_on` is a day."""
    entries = []
    for day in range(days):
        if day == private_on:
            entries.append(DayCheckin(day, "private", {"mood": 2, "wellbeing": 2}, PRIVATE_NOTE))
        else:
            visibility = "couple" if day % 2 else "therapist"
            entries.append(DayCheckin(day, visibility, dict(ratings), NOTES[day % len(NOTES)]))
    return tuple(entries)


def _engaged(**ratings: int) -> PartnerWeek:
    defaults = {"mood": 4, "effort": 4, "connection": 4, "resentment": 1, "wellbeing": 4}
    return PartnerWeek(
        ("attended", 3), _checkins(5, private_on=4, **{**defaults, **ratings}), ("kept",)
    )


def week_plan(pattern: str, age: int) -> WeekPlan:
    """What the couple does in the week `age` weeks before its last completed one."""
    if pattern == "balanced":
        second = PartnerWeek(
            ("attended", 2),
            _checkins(4, mood=4, effort=3, connection=4, resentment=1, wellbeing=4),
            ("kept",) if age != 5 else ("kept", "released"),
        )
        # Ben travels for work two weeks ago, Friday to Sunday, and says so to Ana.
        away = {1: (4, 6, "couple")} if age == 2 else {}
        return WeekPlan(_engaged(), second, away=away)
    if pattern == "leaning":
        # Dev comes, engages a little, checks in twice and keeps one promise out of two.
        second = PartnerWeek(
            ("late" if age % 3 == 0 else "attended", 2),
            _checkins(2, mood=3, effort=2, connection=3, resentment=2, wellbeing=3),
            ("kept", "missed"),
        )
        return WeekPlan(_engaged(), second)
    if pattern == "one_sided":
        # Finn drifts away; Emi carries the work and, lately, wears down.
        emi = _engaged(wellbeing=2 if age <= 1 else 4, resentment=3 if age <= 1 else 2)
        if age >= 4:
            finn = PartnerWeek(("attended", 1), _checkins(1, mood=3, wellbeing=3), ("kept",))
        elif age == 3:
            finn = PartnerWeek(("attended", 1), (), ("missed",))
        elif age == 2:
            finn = PartnerWeek(("absent", None), _checkins(1, mood=2, wellbeing=3), ("missed",))
        else:
            finn = PartnerWeek(("absent", None), (), ("missed",))
        return WeekPlan(emi, finn, individual={1: ("attended", 3)} if age == 2 else {})
    if pattern == "rising_resentment":
        resentment = 5 if age == 0 else 4 if age == 1 else 1 + age % 2
        gil = _engaged(resentment=resentment, connection=2 if age <= 1 else 4)
        return WeekPlan(gil, _engaged(effort=3))
    if pattern == "broken_promises":
        ivy = PartnerWeek(
            ("attended", 2), _checkins(4, mood=4, effort=4, resentment=2, wellbeing=4), ("kept",)
        )
        if age >= 4:
            promises: tuple[str, ...] = ("kept",) if age % 2 == 0 else ("missed",)
        else:
            promises = ("renewed-missed",) if age < 3 else ("missed",)
        jay = PartnerWeek(
            ("attended", 3), _checkins(4, mood=3, effort=3, resentment=2, wellbeing=3), promises
        )
        return WeekPlan(ivy, jay)
    if pattern == "split_alliance":
        # Both take part, but lately Lena feels less heard in joint sessions than Kai does.
        kai: Feedback = (10, 9, 9, 10)  # 0.95
        lena: Feedback = (8, 7, 7, 7) if age <= 2 else (9, 9, 9, 9)  # 0.725, earlier 0.9
        return WeekPlan(_engaged(), _engaged(effort=3), feedback=(kai, lena))
    if pattern == "goal_mismatch":
        # Mo wants to work on it; Nia, unsure at first, now wants to decide (a mixed agenda).
        goals: tuple[str | None, str | None] = (None, None)
        if age == 7:
            goals = ("work_on_it", "unsure")
        elif age == 2:
            goals = (None, "decide")
        return WeekPlan(_engaged(), _engaged(effort=3), goals=goals)
    raise ValueError(f"unknown demo pattern {pattern!r}")


# --- writing it down ----------------------------------------------------------------------------


def _demo_user(handle: str, name: str, *, therapist: bool = False) -> User:
    email = f"{handle}@demo.duet.local"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email,
            DEMO_PASSWORD,
            display_name=name,
            is_therapist=therapist,
            email_verified_at=timezone.now(),
        )
    return user


def _history_is_current(couple: Couple, last_week: LocalWeek) -> bool:
    return TherapySession.objects.filter(
        couple=couple, starts_at__gte=last_week.starts_at, starts_at__lt=last_week.ends_at
    ).exists()


def _backdate(couple: Couple, since: dt.datetime) -> None:
    """The couple, its first status and its members existed from the history's first week:
    weeks before a couple existed get no report (docs/reports.md)."""
    Couple.objects.filter(pk=couple.pk, created_at__gt=since).update(created_at=since)
    first_status = couple.status_changes.order_by("changed_at").first()
    if first_status is None:
        CoupleStatusChange.objects.create(couple=couple, status=couple.status, changed_at=since)
    elif first_status.changed_at > since:
        CoupleStatusChange.objects.filter(pk=first_status.pk).update(changed_at=since)
    couple.memberships.filter(joined_at__gt=since).update(joined_at=since)
    couple.refresh_from_db()


def _write_history(
    couple: Couple, pattern: str, therapist: User, partners: list[User], weeks: list[LocalWeek]
) -> None:
    """Replace the couple's history with `len(weeks)` weeks of the pattern, through the services."""
    zone = ZoneInfo(couple.timezone)
    for model in (WeeklyReport, CheckIn, TherapySession, Goal, AwayPeriod):
        model.objects.filter(couple=couple).delete()
    Commitment.objects.filter(couple=couple).delete()
    last_missed: dict[int, Commitment] = {}
    for index, week in enumerate(weeks):  # oldest first: a renewal re-makes an earlier promise
        plan = week_plan(pattern, len(weeks) - 1 - index)
        monday = week.start
        tuesday_evening = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(18), zone)
        joint = session_create(
            couple=couple,
            created_by=therapist,
            kind=TherapySession.Kind.JOINT,
            focus_partner_id=None,
            starts_at=tuesday_evening,
            therapist_notes="Worked on listening without interrupting.",
        )
        attendance_record(
            session=joint,
            entries=[
                AttendanceEntry(partner.pk, *entry.attendance)
                for partner, entry in zip(partners, (plan.first, plan.second), strict=True)
            ],
        )
        for partner, items in zip(partners, plan.feedback, strict=True):
            if items is not None:
                SessionFeedback.objects.create(
                    session=joint, partner=partner, **dict(zip(FEEDBACK_ITEMS, items, strict=True))
                )
        wednesday_noon = dt.datetime.combine(monday + dt.timedelta(days=2), dt.time(12), zone)
        for partner, value in zip(partners, plan.goals, strict=True):
            if value is not None:
                Goal.objects.create(
                    couple=couple, partner=partner, goal=value, set_at=wednesday_noon
                )
        for slot, (first_day, last_day, visibility) in plan.away.items():
            AwayPeriod.objects.create(
                couple=couple,
                partner=partners[slot],
                starts_on=monday + dt.timedelta(days=first_day),
                ends_on=monday + dt.timedelta(days=last_day),
                reason="travel",
                visibility=visibility,
                shared_at=timezone.now() if visibility == "couple" else None,
            )
        for slot, (status, rating) in plan.individual.items():
            individual = session_create(
                couple=couple,
                created_by=therapist,
                kind=TherapySession.Kind.INDIVIDUAL,
                focus_partner_id=partners[slot].pk,
                starts_at=tuesday_evening + dt.timedelta(days=2),
            )
            attendance_record(
                session=individual, entries=[AttendanceEntry(partners[slot].pk, status, rating)]
            )
        for slot, (partner, entry) in enumerate(
            zip(partners, (plan.first, plan.second), strict=True)
        ):
            for day in entry.checkins:
                checkin_upsert(
                    couple=couple,
                    author=partner,
                    date=monday + dt.timedelta(days=day.day),
                    visibility=day.visibility,
                    ratings=day.ratings,
                    note=day.note,
                )
            for n, outcome in enumerate(entry.commitments):
                due_on = monday + dt.timedelta(days=3)
                previous = last_missed.get(slot)
                if outcome == "renewed-missed" and previous is not None:
                    promise = commitment_renew(
                        commitment=previous, created_by=partner, due_on=due_on
                    )
                    outcome = "missed"
                else:
                    promise = commitment_create(
                        couple=couple,
                        owner_id=partner.pk,
                        created_by=therapist,
                        title=("Plan a walk together", "Ask about their day", "Share one worry")[
                            n % 3
                        ],
                        due_on=due_on,
                        visibility="couple" if n % 2 == 0 else "therapist",
                    )
                    outcome = "missed" if outcome == "renewed-missed" else outcome
                commitment_resolve(commitment=promise, status=outcome)
                if outcome == "missed":
                    last_missed[slot] = promise
    # Something for the week under way: a promise still open.
    commitment_create(
        couple=couple,
        owner_id=partners[1].pk,
        created_by=therapist,
        title="Cook dinner together",
        due_on=weeks[-1].start + dt.timedelta(days=10),
        visibility="couple",
    )


class Command(BaseCommand):
    help = "Load demo accounts and couples, eight weeks of history and their reports (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        therapist = _demo_user("therapist", "Dr. Rivera", therapist=True)
        rows = [("therapist", therapist.email, "all couples")]
        targets: dict[Any, list[dt.date]] = {}
        rewritten = 0
        for demo in DEMO_COUPLES:
            couple = Couple.objects.filter(name=demo.name, memberships__user=therapist).first()
            if couple is None:
                couple = Couple.objects.create(
                    name=demo.name, timezone=demo.timezone, partners_see_balance=False
                )
                CoupleStatusChange.objects.create(couple=couple, status=couple.status)
                Membership.objects.create(couple=couple, user=therapist, role="therapist")
            partners = []
            for slot, (handle, name) in enumerate(demo.partners, start=1):
                partner = _demo_user(handle, name)
                Membership.objects.get_or_create(
                    couple=couple,
                    user=partner,
                    left_at=None,
                    defaults={"role": "partner", "partner_slot": slot},
                )
                partners.append(partner)
                rows.append(("partner", partner.email, f"{demo.name} ({demo.pattern})"))
            zone = ZoneInfo(couple.timezone)
            last = last_completed_week(couple.timezone, now)
            weeks = [
                LocalWeek.of(zone, last - dt.timedelta(weeks=n))
                for n in range(HISTORY_WEEKS - 1, -1, -1)
            ]
            if not _history_is_current(couple, weeks[-1]):
                _backdate(couple, weeks[0].starts_at)
                _write_history(couple, demo.pattern, therapist, partners, weeks)
                rewritten += 1
            targets[couple.pk] = [week.start for week in weeks]
        summary = compute_reports(targets, now=now)

        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for role, email, where in rows:
            self.stdout.write(f"  {role:<9} {email:<32} {where}")
        self.stdout.write(
            f"History: {rewritten} couple(s) given {HISTORY_WEEKS} weeks ending last week; "
            f"reports: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged."
        )
