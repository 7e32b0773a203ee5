"""Realistic synthetic couples for benchmarks: each pattern of SPEC section 5, several timezones.

Every partner sets a goal when the couple starts and gives feedback on each joint session
they attend; a few couples show a split alliance or a goal mismatch (SPEC 5.4).

About 4 check-ins per partner per week, one joint session per week and 1-3 commitments per
partner per week, deterministic for a given seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import User
from engagement.models import Attendance
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import Goal
from engagement.models import Membership
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.synthetic.bulk import write_rows

TIMEZONES = (
    "UTC",
    "Europe/Berlin",
    "America/Chicago",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "America/Los_Angeles",
)
EMAIL_DOMAIN = "synthetic.duet.local"
COUPLES_PER_THERAPIST = 50
PASSWORD = "synthetic-password"  # noqa: S105 - benchmark accounts only


@dataclass(frozen=True)
class PartnerProfile:
    """How one partner tends to behave, week after week."""

    attend: float  # chance of attending a session
    participation: tuple[int, ...]  # ratings to draw from
    checkin_days: tuple[int, int]  # inclusive range per week
    keep: float  # chance a due commitment is kept
    miss: float  # chance it is missed (the rest stay open or are released)
    resentment: tuple[float, float]  # level in the first week, change per week
    wellbeing: tuple[float, float]
    # Session feedback on each attended joint session: every item (0-10) at this level, so
    # alliance = item / 10.
    feedback_item: int = 8
    goal: str = "work_on_it"  # set when the couple starts


ENGAGED = PartnerProfile(0.95, (2, 3, 3), (4, 6), 0.85, 0.10, (2.0, 0.0), (3.8, 0.0))
HALFWAY = PartnerProfile(0.8, (1, 2, 2), (2, 4), 0.55, 0.35, (2.2, 0.0), (3.3, 0.0))
RELUCTANT = PartnerProfile(0.3, (0, 1, 1), (0, 1), 0.15, 0.70, (2.5, 0.0), (3.0, 0.0))
CARRYING = PartnerProfile(0.95, (3,), (5, 7), 0.9, 0.05, (2.0, 0.2), (3.5, -0.15))
PROMISE_BREAKER = PartnerProfile(0.7, (1, 2), (2, 3), 0.2, 0.75, (2.0, 0.0), (3.2, 0.0))
# Takes part, but feels less heard in joint sessions (a split alliance with an ENGAGED partner).
UNHEARD = PartnerProfile(0.9, (2, 2, 3), (3, 5), 0.8, 0.15, (2.0, 0.0), (3.6, 0.0), feedback_item=6)
# Engaged, and wants to decide whether to stay (a goal mismatch with an ENGAGED partner).
DECIDING = PartnerProfile(
    0.9, (2, 3), (3, 5), 0.8, 0.15, (2.2, 0.0), (3.4, 0.0), feedback_item=7, goal="decide"
)

PATTERNS: tuple[tuple[str, float, tuple[PartnerProfile, PartnerProfile]], ...] = (
    ("balanced", 0.30, (ENGAGED, ENGAGED)),
    ("leaning", 0.20, (ENGAGED, HALFWAY)),
    ("one_sided", 0.20, (CARRYING, RELUCTANT)),
    ("resentful", 0.10, (CARRYING, HALFWAY)),
    ("broken_promises", 0.10, (ENGAGED, PROMISE_BREAKER)),
    ("split_alliance", 0.05, (ENGAGED, UNHEARD)),
    ("goal_mismatch", 0.05, (ENGAGED, DECIDING)),
)


@dataclass
class Batch:
    """Rows of one batch of couples, table by table, in foreign-key order."""

    users: list[dict[str, Any]] = field(default_factory=list)
    couples: list[dict[str, Any]] = field(default_factory=list)
    status_changes: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    attendance: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    checkins: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    goals: list[dict[str, Any]] = field(default_factory=list)

    def write(self) -> int:
        # Renewals point at commitments written earlier in the same list: keep list order.
        return sum(
            write_rows(model, rows)
            for model, rows in (
                (User, self.users),
                (Couple, self.couples),
                (CoupleStatusChange, self.status_changes),
                (Membership, self.memberships),
                (TherapySession, self.sessions),
                (Attendance, self.attendance),
                (Commitment, self.commitments),
                (CheckIn, self.checkins),
                (SessionFeedback, self.feedback),
                (Goal, self.goals),
            )
        )


def _clamp_rating(value: float) -> int:
    return max(1, min(5, round(value)))


class SyntheticWorld:
    """Generates couples in batches; `weeks` completed weeks ending before `today`."""

    def __init__(self, *, couples: int, weeks: int, seed: int, today: date | None = None) -> None:
        self.total = couples
        self.weeks = weeks
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        self.seed = seed
        today = today or timezone.now().date()
        this_monday = today - timedelta(days=today.weekday())
        self.week_starts = [this_monday - timedelta(weeks=weeks - i) for i in range(weeks)]
        self.password = make_password(PASSWORD)
        self.now = timezone.now()
        self.therapist: dict[str, Any] | None = None

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _user(self, batch: Batch, email: str, name: str, *, therapist: bool, tz: str) -> uuid.UUID:
        user_id = self._uuid()
        batch.users.append(
            {
                "id": user_id,
                "password": self.password,
                "email": email,
                "display_name": name,
                "timezone": tz,
                "is_therapist": therapist,
                "email_verified_at": self.now,
                "date_joined": self.now - timedelta(weeks=self.weeks + 1),
            }
        )
        return user_id

    def _pattern(self) -> tuple[str, tuple[PartnerProfile, PartnerProfile]]:
        roll = self.rng.random()
        for name, share, profiles in PATTERNS:
            if roll < share:
                return name, profiles
            roll -= share
        return PATTERNS[0][0], PATTERNS[0][2]

    def batches(self, size: int) -> Iterator[Batch]:
        therapist_id: uuid.UUID | None = None
        for start in range(0, self.total, size):
            batch = Batch()
            for index in range(start, min(start + size, self.total)):
                if index % COUPLES_PER_THERAPIST == 0:
                    therapist_id = self._user(
                        batch,
                        f"therapist-{self.seed}-{index // COUPLES_PER_THERAPIST}@{EMAIL_DOMAIN}",
                        f"Therapist {index // COUPLES_PER_THERAPIST}",
                        therapist=True,
                        tz="UTC",
                    )
                assert therapist_id is not None
                self._couple(batch, index, therapist_id)
            yield batch

    def _couple(self, batch: Batch, index: int, therapist_id: uuid.UUID) -> None:
        rng = self.rng
        tz_name = TIMEZONES[index % len(TIMEZONES)]
        tz = ZoneInfo(tz_name)
        pattern, profiles = self._pattern()
        couple_id = self._uuid()
        created = datetime.combine(self.week_starts[0], time(9), tz) - timedelta(days=7)
        batch.couples.append(
            {
                "id": couple_id,
                "name": f"syn-{index} ({pattern})",
                "timezone": tz_name,
                "partners_see_balance": False,
                "created_at": created,
            }
        )
        batch.status_changes.append(
            {"couple_id": couple_id, "status": "active", "changed_at": created}
        )
        batch.memberships.append(
            {
                "id": self._uuid(),
                "couple_id": couple_id,
                "user_id": therapist_id,
                "role": "therapist",
                "joined_at": created,
            }
        )
        partners: list[uuid.UUID] = []
        for slot in (1, 2):
            partner_id = self._user(
                batch,
                f"partner-{self.seed}-{index}-{slot}@{EMAIL_DOMAIN}",
                f"Partner {index}-{slot}",
                therapist=False,
                tz=tz_name,
            )
            partners.append(partner_id)
            batch.goals.append(
                {
                    "id": uuid.uuid5(couple_id, f"goal-{partner_id}"),
                    "couple_id": couple_id,
                    "partner_id": partner_id,
                    "goal": profiles[slot - 1].goal,
                    "set_at": created,
                }
            )
            batch.memberships.append(
                {
                    "id": self._uuid(),
                    "couple_id": couple_id,
                    "user_id": partner_id,
                    "role": "partner",
                    "partner_slot": slot,
                    "joined_at": created,
                }
            )
        last_missed: dict[uuid.UUID, uuid.UUID] = {}
        for week_index, monday in enumerate(self.week_starts):
            self._session(batch, couple_id, partners, profiles, monday, tz)
            for partner_id, profile in zip(partners, profiles, strict=True):
                self._commitments(
                    batch, couple_id, partner_id, therapist_id, profile, monday, last_missed
                )
                self._checkins(batch, couple_id, partner_id, profile, monday, week_index)
        del rng

    def _session(
        self,
        batch: Batch,
        couple_id: uuid.UUID,
        partners: list[uuid.UUID],
        profiles: tuple[PartnerProfile, PartnerProfile],
        monday: date,
        tz: ZoneInfo,
    ) -> None:
        rng = self.rng
        session_id = self._uuid()
        day = monday + timedelta(days=rng.randrange(7))
        starts_at = datetime.combine(day, time(rng.choice((9, 12, 18, 20))), tz)
        batch.sessions.append(
            {
                "id": session_id,
                "couple_id": couple_id,
                "kind": "joint",
                "starts_at": starts_at,
                "status": "completed",
                "therapist_notes": "Synthetic session.",
            }
        )
        for partner_id, profile in zip(partners, profiles, strict=True):
            attended = rng.random() < profile.attend
            status = ("late" if rng.random() < 0.1 else "attended") if attended else "absent"
            batch.attendance.append(
                {
                    "id": self._uuid(),
                    "session_id": session_id,
                    "partner_id": partner_id,
                    "status": status,
                    "participation": rng.choice(profile.participation) if attended else None,
                    "recorded_at": starts_at + timedelta(hours=1),
                }
            )
            if attended:
                item = profile.feedback_item
                batch.feedback.append(
                    {
                        "id": uuid.uuid5(session_id, str(partner_id)),
                        "session_id": session_id,
                        "partner_id": partner_id,
                        "understood": item,
                        "helpful": item,
                        "spoke_freely": item,
                        "coming_back": item,
                        "submitted_at": starts_at + timedelta(hours=2),
                        "updated_at": starts_at + timedelta(hours=2),
                    }
                )

    def _commitments(
        self,
        batch: Batch,
        couple_id: uuid.UUID,
        owner: uuid.UUID,
        therapist_id: uuid.UUID,
        profile: PartnerProfile,
        monday: date,
        last_missed: dict[uuid.UUID, uuid.UUID],
    ) -> None:
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            status = "kept" if roll < profile.keep else "missed"
            if roll >= profile.keep + profile.miss:
                status = rng.choice(("open", "released"))
            commitment_id = self._uuid()
            due = monday + timedelta(days=rng.randrange(7))
            renewed_from = last_missed.pop(owner, None) if rng.random() < 0.5 else None
            batch.commitments.append(
                {
                    "id": commitment_id,
                    "couple_id": couple_id,
                    "owner_id": owner,
                    "created_by_id": therapist_id,
                    "title": "Synthetic homework",
                    "due_on": due,
                    "status": status,
                    "resolved_at": None if status == "open" else self.now,
                    "renewed_from_id": renewed_from,
                    "visibility": "couple" if rng.random() < 0.8 else "therapist",
                }
            )
            if status == "missed":
                last_missed[owner] = commitment_id

    def _checkins(
        self,
        batch: Batch,
        couple_id: uuid.UUID,
        author: uuid.UUID,
        profile: PartnerProfile,
        monday: date,
        week_index: int,
    ) -> None:
        rng = self.rng
        days = rng.randint(*profile.checkin_days)
        resentment = profile.resentment[0] + profile.resentment[1] * week_index
        wellbeing = profile.wellbeing[0] + profile.wellbeing[1] * week_index
        jitter: Callable[[float], int] = lambda level: _clamp_rating(level + rng.gauss(0, 0.6))  # noqa: E731
        for offset in sorted(rng.sample(range(7), min(days, 7))):
            roll = rng.random()
            visibility = "private" if roll < 0.2 else "therapist" if roll < 0.6 else "couple"
            batch.checkins.append(
                {
                    "id": self._uuid(),
                    "couple_id": couple_id,
                    "author_id": author,
                    "date": monday + timedelta(days=offset),
                    "mood": jitter(3.5),
                    "effort": jitter(3.5),
                    "connection": jitter(3.2),
                    "resentment": jitter(resentment),
                    "wellbeing": jitter(wellbeing),
                    "note": "",
                    "visibility": visibility,
                }
            )
