"""One definition of readers: `*_audience(obj)` holds exactly the users whose `*_visible_to`
holds `obj`, in a world mixing every case SPEC section 1 names (membership periods included)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Model
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from engagement.models import Attendance
from engagement.models import AwayPeriod
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import Removal
from engagement.models import TherapySession
from engagement.selectors.visibility import away_audience
from engagement.selectors.visibility import away_visible_to
from engagement.selectors.visibility import checkin_audience
from engagement.selectors.visibility import checkins_visible_to
from engagement.selectors.visibility import commitment_audience
from engagement.selectors.visibility import commitments_visible_to
from engagement.selectors.visibility import session_audience
from engagement.selectors.visibility import sessions_visible_to
from engagement.services.away import away_delete
from engagement.services.checkins import checkin_delete
from engagement.services.commitments import commitment_update
from engagement.services.sessions import session_delete
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import CoupleFactory
from tests.factories import TherapistFactory
from tests.factories import TherapySessionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class Mixed:
    users: dict[str, User]
    couples: dict[str, Couple]


def _join(couple: Couple, user: User, role: str, at: dt.datetime, **fields: Any) -> Membership:
    slot = fields.pop("partner_slot", None)
    return Membership.objects.create(
        couple=couple, user=user, role=role, joined_at=at, partner_slot=slot, **fields
    )


def _mixed_world() -> Mixed:
    """Couple `home` (Europe/Berlin): first partners Ana and Rob with therapist Tess; Rob leaves,
    Tom (a second therapist) comes after the partners, Nina joins later. Ana is also the
    therapist of couple `away` (Cleo and Dan). Olga belongs to nothing."""
    now = timezone.now()
    day = dt.timedelta(days=1)
    ana = TherapistFactory.create(display_name="Ana")
    users = {
        "ana": ana,
        "rob": UserFactory.create(display_name="Rob"),
        "nina": UserFactory.create(display_name="Nina"),
        "tess": TherapistFactory.create(display_name="Tess"),
        "tom": TherapistFactory.create(display_name="Tom"),
        "cleo": UserFactory.create(display_name="Cleo"),
        "dan": UserFactory.create(display_name="Dan"),
        "olga": UserFactory.create(display_name="Olga"),
    }
    home = CoupleFactory.create(timezone="Europe/Berlin", created_at=now - 30 * day)
    away = CoupleFactory.create(timezone="Pacific/Auckland", created_at=now - 30 * day)
    _join(home, ana, "partner", now - 30 * day, partner_slot=1)
    _join(home, users["rob"], "partner", now - 30 * day, left_at=now - 20 * day)
    _join(home, users["tess"], "therapist", now - 30 * day)
    _join(home, users["tom"], "therapist", now - 15 * day)
    _join(home, users["nina"], "partner", now - 10 * day, partner_slot=2)
    _join(away, users["cleo"], "partner", now - 30 * day, partner_slot=1)
    _join(away, users["dan"], "partner", now - 30 * day, partner_slot=2)
    _join(away, ana, "therapist", now - 30 * day)

    today = now.date()
    offsets = (-40, -25, -15, -5, 0, 1)
    for couple, authors in ((home, ("ana", "rob", "nina")), (away, ("cleo", "dan"))):
        for name in authors:
            for offset in offsets:
                for visibility in ("private", "therapist", "couple"):
                    # One check-in per author and date: the visibility cycles over the dates.
                    if (
                        offsets.index(offset) + ("private", "therapist", "couple").index(visibility)
                    ) % 3:
                        continue
                    CheckInFactory.create(
                        couple=couple,
                        author=users[name],
                        date=today + dt.timedelta(days=offset),
                        visibility=visibility,
                    )
                for visibility in ("couple", "therapist"):
                    CommitmentFactory.create(
                        couple=couple,
                        owner=users[name],
                        due_on=today + dt.timedelta(days=offset),
                        visibility=visibility,
                    )
                # One away period per author and start, its visibility alternating.
                AwayPeriod.objects.create(
                    couple=couple,
                    partner=users[name],
                    starts_on=today + dt.timedelta(days=offset),
                    ends_on=today + dt.timedelta(days=offset),
                    visibility=("couple", "therapist")[offsets.index(offset) % 2],
                )
            TherapySessionFactory.create(
                couple=couple,
                kind="individual",
                focus_partner=users[name],
                starts_at=now - 12 * day,
            )
        for offset in offsets:
            TherapySessionFactory.create(couple=couple, kind="joint", starts_at=now + offset * day)
    # Nina was recorded at a joint session from before she joined (an attendance entry opens it).
    early = TherapySession.objects.get(couple=home, kind="joint", starts_at=now - 25 * day)
    Attendance.objects.create(session=early, partner=users["nina"], status="attended")
    return Mixed(users=users, couples={"home": home, "away": away})


Resource = tuple[type[Model], Callable[[User], QuerySet[Any]], Callable[[Any], set[Any]]]
RESOURCES: dict[str, Resource] = {
    "session": (TherapySession, sessions_visible_to, session_audience),
    "commitment": (Commitment, commitments_visible_to, commitment_audience),
    "checkin": (CheckIn, checkins_visible_to, checkin_audience),
    "away": (AwayPeriod, away_visible_to, away_audience),
}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_audience_holds_exactly_who_the_queryset_shows_it_to(resource: str) -> None:
    world = _mixed_world()
    model, visible_to, audience = RESOURCES[resource]
    visible = {
        name: set(visible_to(user).values_list("pk", flat=True))
        for name, user in world.users.items()
    }
    mismatches = []
    for obj in model._default_manager.all():
        readers = audience(obj)
        for name, user in world.users.items():
            if (user.pk in readers) != (obj.pk in visible[name]):
                mismatches.append((str(obj), name, user.pk in readers))
    assert mismatches == []
    # The world is not trivial: every user sees something different.
    assert len({frozenset(ids) for ids in visible.values()}) >= 6


def test_the_mixed_world_applies_membership_periods() -> None:
    world = _mixed_world()
    users = world.users
    nina_reads = checkins_visible_to(users["nina"])
    assert not nina_reads.filter(author=users["rob"]).exists()
    # Ana's own shared check-ins dated before Nina came are not Nina's to read.
    today = timezone.now().date()
    ana_shared = CheckIn.objects.filter(author=users["ana"], visibility="couple")
    assert set(nina_reads.filter(author=users["ana"]).values_list("pk", flat=True)) == set(
        ana_shared.filter(date__gt=today - dt.timedelta(days=10)).values_list("pk", flat=True)
    )
    # Ana keeps what Rob shared with her; Rob, gone, reads nothing of the couple.
    assert checkins_visible_to(users["ana"]).filter(author=users["rob"]).exists()
    assert not checkins_visible_to(users["rob"]).exists()
    # Tom, added after the partners, reads the couple's whole history except private rows.
    tom_reads = checkins_visible_to(users["tom"])
    assert set(tom_reads.values_list("visibility", flat=True)) == {"therapist", "couple"}
    assert tom_reads.filter(author=users["rob"]).exists()


def _lose(resource: str, obj: Any) -> None:
    """Take the object out of sight: delete a session or a check-in, narrow a commitment."""
    if resource == "session":
        session_delete(session=obj)
    elif resource == "checkin":
        checkin_delete(checkin=obj)
    elif resource == "away":
        away_delete(away=obj)
    else:
        commitment_update(commitment=obj, visibility="therapist")


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_removals_go_to_exactly_those_who_lose_sight(resource: str) -> None:
    world = _mixed_world()
    model, _, audience = RESOURCES[resource]
    objects = model._default_manager.filter(couple=world.couples["home"])
    if resource == "commitment":
        objects = objects.filter(visibility="couple")
    for obj in list(objects):
        readers, pk = audience(obj), obj.pk
        _lose(resource, obj)
        still = audience(obj) if resource == "commitment" else set()
        removed = set(Removal.objects.filter(object_id=pk).values_list("user_id", flat=True))
        assert removed == readers - still, (str(obj), readers, still)
