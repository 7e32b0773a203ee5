"""Who reads which check-in, over random worlds (issue 20): the visibility querysets give
exactly the rows, and the reader's own timestamps, of a plainly written reference of SPEC
section 1, for every user of the world and every couple.

A world, from a seed: a few couples in different timezones; partners who join late, leave,
come back; therapists added later (one of them a partner in another couple), some of whom
left; check-ins of every visibility by everyone who was ever a partner, over dates before,
during and after each partnership, some widened after they were written (`shared_at`).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from rest_framework.test import APIClient

from accounts.authentication import issue_tokens
from accounts.models import User
from engagement.models import CheckIn
from engagement.models import Couple
from engagement.models import Membership
from engagement.selectors.partnerships import PartnerSpan
from engagement.selectors.partnerships import local_midnight
from engagement.selectors.partnerships import partnerships_of
from engagement.selectors.visibility import checkin_page_of_couple
from engagement.selectors.visibility import checkins_of_couple_visible_to
from engagement.selectors.visibility import checkins_visible_to
from engagement.selectors.visibility import reach_of
from tests.engagement.test_checkin_list import _by_model_instances
from tests.engagement.test_checkin_list import _from_rows
from tests.factories import CoupleFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
TIMEZONES = ["UTC", "Europe/Paris", "America/Santiago", "Pacific/Auckland", "Asia/Kolkata"]
SEEDS = range(24)


@dataclass
class World:
    users: list[User]
    couples: list[Couple]


def _moment(rng: random.Random, couple: Couple, low: int, high: int) -> dt.datetime:
    """An instant `low`..`high` hours after BASE; now and then exactly a local midnight."""
    moment = BASE + dt.timedelta(hours=rng.randint(low, high), minutes=rng.choice([0, 0, 17]))
    if rng.random() < 0.25:
        day = moment.astimezone(dt.UTC).date()
        moment = local_midnight(day, couple.timezone).astimezone(dt.UTC)
    return moment


def _partner_spans(rng: random.Random, couple: Couple, pool: list[User]) -> list[dict[str, Any]]:
    """Two slots, each a sequence of partners (gaps between them); at most one membership a
    user at a time in the couple, the last occupant of a slot maybe still there."""
    spans: list[dict[str, Any]] = []
    for slot in (1, 2):
        if rng.random() < 0.15:
            continue  # a couple of one partner
        t = rng.randint(0, 300) if rng.random() < 0.5 else 0
        for _ in range(rng.randint(1, 3)):
            user = rng.choice(pool)
            joined = _moment(rng, couple, t, t + 48)
            left = None
            if rng.random() < 0.55:
                left = _moment(rng, couple, t + 200, t + 1200)
                if left <= joined:
                    left = joined + dt.timedelta(hours=rng.randint(1, 600))
            clash = any(
                s["user"] == user
                and (s["left"] is None or s["left"] > joined)
                and (left is None or left > s["joined"])
                for s in spans
            )
            if not clash:
                spans.append({"user": user, "joined": joined, "left": left, "slot": slot})
            if left is None:
                break
            t = int((left - BASE).total_seconds() // 3600) + rng.randint(0, 200)
    return spans


def make_world(seed: int) -> World:
    rng = random.Random(seed)
    users: list[User] = [UserFactory.create() for _ in range(7)]
    couples: list[Couple] = [
        CoupleFactory.create(timezone=rng.choice(TIMEZONES)) for _ in range(rng.randint(2, 3))
    ]
    checkins: list[CheckIn] = []
    stamps: list[tuple[dt.datetime, dt.datetime, dt.datetime | None]] = []
    for couple in couples:
        spans = _partner_spans(rng, couple, users[:5])
        partners = {s["user"].pk for s in spans}
        Membership.objects.bulk_create(
            Membership(
                couple=couple,
                user=s["user"],
                role="partner",
                partner_slot=s["slot"],
                joined_at=s["joined"],
                left_at=s["left"],
            )
            for s in spans
        )
        # Therapists, joined late; users[5:] are therapists only, the others may be partners
        # elsewhere (a partner of one couple, therapist of another).
        for user in rng.sample(users, 3):
            if user.pk in partners or rng.random() < 0.4:
                continue
            joined = _moment(rng, couple, 0, 1500)
            left = joined + dt.timedelta(hours=300) if rng.random() < 0.25 else None
            Membership.objects.create(
                couple=couple, user=user, role="therapist", joined_at=joined, left_at=left
            )
        authors = {s["user"] for s in spans}
        if rng.random() < 0.3:
            authors.add(rng.choice(users))  # rows of someone no longer (or never) among them
        for author in authors:
            for day in rng.sample(range(-10, 110), 25):
                created = BASE + dt.timedelta(days=day, hours=rng.randint(-30, 40))
                shared = rng.choice(
                    [None, None, created + dt.timedelta(hours=rng.randint(-5, 400))]
                )
                checkins.append(
                    CheckIn(
                        couple=couple,
                        author=author,
                        date=(BASE + dt.timedelta(days=day)).date(),
                        mood=3,
                        visibility=rng.choice(["private", "therapist", "couple"]),
                    )
                )
                stamps.append((created, created + dt.timedelta(hours=rng.randint(0, 50)), shared))
    CheckIn.objects.bulk_create(checkins)
    for checkin, (created, updated, shared) in zip(checkins, stamps, strict=True):
        CheckIn.objects.filter(pk=checkin.pk).update(
            created_at=created, updated_at=updated, shared_at=shared
        )
    return World(users=users, couples=couples)


# --- the reference: SPEC section 1, written plainly ----------------------------------------------

Row = tuple[UUID, dt.datetime, dt.datetime]


def reference(user: User, couple: Couple) -> set[Row]:
    """The check-ins of `couple` that `user` reads, with their reader's created_at and
    updated_at, decided one row at a time."""
    mine = Membership.objects.filter(couple=couple, user=user, left_at__isnull=True).first()
    if mine is None:
        return set()
    spans = [
        PartnerSpan(m.user_id, m.joined_at, m.left_at)
        for m in Membership.objects.filter(couple=couple, role="partner")
    ]
    partnerships = partnerships_of(spans)
    seen: set[Row] = set()
    for checkin in CheckIn.objects.filter(couple=couple):
        if mine.role == "therapist":
            if checkin.visibility in ("therapist", "couple"):
                seen.add((checkin.pk, checkin.created_at, checkin.updated_at))
            continue
        if checkin.author_id == user.pk:
            seen.add((checkin.pk, checkin.created_at, checkin.updated_at))
            continue
        if checkin.visibility != "couple":
            continue
        # The other partner's `couple` check-in: dated in a partnership both belong to (the
        # partnership in force when that day begins in the couple's timezone).
        day_begins = local_midnight(checkin.date, couple.timezone)
        if any(
            p.contains(day_begins) and {user.pk, checkin.author_id} <= p.partners
            for p in partnerships
        ):
            shared_at = checkin.shared_at or checkin.created_at
            seen.add((checkin.pk, max(checkin.created_at, shared_at), checkin.updated_at))
    return seen


def _rows(queryset: Any) -> set[Row]:
    return set(queryset.values_list("id", "reader_created_at", "reader_updated_at"))


@pytest.mark.parametrize("seed", SEEDS)
def test_every_reader_reads_exactly_what_spec_lets_them_in_random_worlds(seed: int) -> None:
    world = make_world(seed)
    readers = 0
    for user in world.users:
        everything: set[Row] = set()
        reach = reach_of(user)
        for couple in world.couples:
            expected = reference(user, couple)
            everything |= expected
            readers += bool(expected)
            # The list of one couple, as `?couple=` asks it: the full rule filtered, and the
            # rule built for that couple alone.
            assert _rows(checkins_visible_to(user).filter(couple_id=couple.pk)) == expected
            assert _rows(checkins_of_couple_visible_to(user, couple.pk)) == expected
            assert _rows(checkins_of_couple_visible_to(user, couple.pk, reach)) == expected
            # The page read through SQL compiled once per shape of reach (the shapes repeat
            # from reader to reader and world to world): the same rows, in order.
            columns, order = ("id", "reader_created_at", "reader_updated_at"), ("-date", "id")
            page = checkin_page_of_couple(user, couple.pk, columns, order, 1_000)
            assert set(page) == expected
            assert len(page) == len(expected)
            ordered = checkins_visible_to(user).filter(couple_id=couple.pk).order_by(*order)
            assert checkin_page_of_couple(user, couple.pk, columns, order, 9) == list(
                ordered.values_list(*columns)[:9]
            )
        assert _rows(checkins_visible_to(user)) == everything
    assert readers  # the world is not empty: someone reads something


@pytest.mark.parametrize("seed", range(6))
def test_the_list_of_one_couple_answers_what_the_filtered_list_answered(seed: int) -> None:
    """`?couple=` (and `page_size`) alone takes the list's narrowed path; every reader's pages
    are byte for byte, ETag included, what DRF's generic list over the whole rule, the filters
    and CheckInSerializer answers (tests/engagement/test_checkin_list.py)."""
    world = make_world(seed)
    answered = 0
    for user in world.users:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
        for couple in world.couples:
            for params in ({"couple": str(couple.pk)}, {"couple": couple.pk.hex, "page_size": 7}):
                status, body, etag = _from_rows(client, params)
                assert (status, body, etag) == _by_model_instances(user, params)
                answered += status == 200 and json.loads(body)["results"] != []
    assert answered
