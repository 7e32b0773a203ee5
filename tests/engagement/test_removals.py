"""Removals through the API: what a caller can no longer see, for mobile sync."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from engagement.models import Removal
from tests.conftest import ClientFor
from tests.conftest import World
from tests.errors import errors
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory
from tests.factories import make_couple
from tests.timestamps import api_timestamp

pytestmark = pytest.mark.django_db

REMOVALS = "/api/v1/removals/"


def _iso(moment: Any) -> str:
    return api_timestamp(moment)


def test_a_caller_reads_only_their_own_removals_oldest_first(
    world: World, client_for: ClientFor
) -> None:
    now = timezone.now()
    mine = [
        Removal.objects.create(
            user=world.partner,
            type="session",
            object_id=f"00000000-0000-4000-8000-00000000000{n}",
            removed_at=now - timedelta(minutes=n),
        )
        for n in range(3)
    ]
    Removal.objects.create(
        user=world.other_partner,
        type="checkin",
        object_id="00000000-0000-4000-8000-0000000000ff",
        removed_at=now,
    )
    response = client_for(world.partner).get(REMOVALS)
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"type": "session", "id": str(removal.object_id), "removed_at": _iso(removal.removed_at)}
        for removal in reversed(mine)
    ]


def test_since_is_inclusive_and_needs_an_offset(world: World, client_for: ClientFor) -> None:
    at = timezone.now().replace(microsecond=0)
    Removal.objects.create(
        user=world.partner,
        type="session",
        object_id="00000000-0000-4000-8000-000000000001",
        removed_at=at - timedelta(seconds=1),
    )
    edge = Removal.objects.create(
        user=world.partner,
        type="commitment",
        object_id="00000000-0000-4000-8000-000000000002",
        removed_at=at,
    )
    client = client_for(world.partner)
    since = client.get(REMOVALS, {"since": _iso(at)})
    assert [r["id"] for r in since.json()["results"]] == [str(edge.object_id)]
    naive = client.get(REMOVALS, {"since": at.replace(tzinfo=None).isoformat()})
    assert naive.status_code == 400
    assert errors(naive) == [("since", "naive")]
    garbage = client.get(REMOVALS, {"since": "last week"})
    assert garbage.status_code == 400
    assert errors(garbage) == [("since", "invalid")]


def test_removals_are_paginated_by_cursor(world: World, client_for: ClientFor) -> None:
    now = timezone.now()
    for n in range(5):
        Removal.objects.create(
            user=world.partner,
            type="checkin",
            object_id=f"00000000-0000-4000-8000-00000000000{n}",
            removed_at=now - timedelta(minutes=5 - n),
        )
    client = client_for(world.partner)
    page = client.get(REMOVALS, {"page_size": 2}).json()
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert seen == [f"00000000-0000-4000-8000-00000000000{n}" for n in range(5)]


def test_removals_need_a_signed_in_caller(client_for: ClientFor) -> None:
    assert client_for(None).get(REMOVALS).status_code == 401


def test_a_phone_that_syncs_drops_what_its_owner_can_no_longer_see(
    world: World, client_for: ClientFor
) -> None:
    """The documented sync: apply removals since the last sync, then the updated lists."""
    partner = client_for(world.partner)
    other = client_for(world.other_partner)
    therapist = client_for(world.therapist)
    with time_machine.travel(timezone.now() - timedelta(minutes=10), tick=False):
        session = TherapySessionFactory.create(couple=world.couple)
        commitment = CommitmentFactory.create(
            couple=world.couple, owner=world.other_partner, visibility="couple"
        )
        today = timezone.now().date()
        checkin = CheckInFactory.create(
            couple=world.couple, author=world.other_partner, date=today, visibility="couple"
        )
    last_sync = timezone.now()

    therapist.delete(f"/api/v1/sessions/{session.pk}/")
    other.patch(f"/api/v1/commitments/{commitment.pk}/", {"visibility": "therapist"}, format="json")
    other.put(
        f"/api/v1/checkins/{today}/",
        {"couple": str(world.couple.pk), "visibility": "private", "mood": 4},
        format="json",
    )

    removed = partner.get(REMOVALS, {"since": _iso(last_sync)}).json()["results"]
    assert {(r["type"], r["id"]) for r in removed} == {
        ("session", str(session.pk)),
        ("commitment", str(commitment.pk)),
        ("checkin", str(checkin.pk)),
    }
    since = {"updated_since": _iso(last_sync)}
    for path in ("/api/v1/sessions/", "/api/v1/commitments/", "/api/v1/checkins/"):
        assert partner.get(path, since).json()["results"] == []
    # The therapist lost the session, and the check-in once it went private.
    therapist_removed = therapist.get(REMOVALS, {"since": _iso(last_sync)}).json()["results"]
    assert {r["type"] for r in therapist_removed} == {"session", "checkin"}


def test_a_check_in_shown_again_comes_back_through_updated_since(
    world: World, client_for: ClientFor
) -> None:
    other = client_for(world.other_partner)
    path = f"/api/v1/checkins/{timezone.now().date()}/"
    body = {"couple": str(world.couple.pk), "mood": 2}
    start = timezone.now()
    other.put(path, {**body, "visibility": "couple"}, format="json")
    other.put(path, {**body, "visibility": "private"}, format="json")
    other.put(path, {**body, "visibility": "couple"}, format="json")
    partner = client_for(world.partner)
    assert len(partner.get(REMOVALS, {"since": _iso(start)}).json()["results"]) == 1
    back = partner.get("/api/v1/checkins/", {"updated_since": _iso(start)}).json()["results"]
    assert len(back) == 1
    assert back[0]["visibility"] == "couple"


def test_when_a_partner_leaves_the_other_loses_what_they_shared_for_later_dates(
    client_for: ClientFor,
) -> None:
    """The partnership ends when one leaves: what the leaver shared for dates after it is no
    longer the other partner's to read (SPEC section 1, membership periods)."""
    with time_machine.travel("2026-11-04T09:00:00Z", tick=False) as clock:
        couple, stayer, leaver, therapist = make_couple()
        today = timezone.now().date()
        kept_today = CheckInFactory.create(couple=couple, author=leaver, date=today)
        tomorrow = CheckInFactory.create(
            couple=couple, author=leaver, date=today + timedelta(days=1)
        )
        next_month = CommitmentFactory.create(
            couple=couple, owner=leaver, due_on=today + timedelta(days=30)
        )
        own = CommitmentFactory.create(
            couple=couple, owner=stayer, due_on=today + timedelta(days=30)
        )
        clock.shift(timedelta(hours=1))
        response = client_for(leaver).post(f"/api/v1/couples/{couple.pk}/leave/")
        assert response.status_code == 204
        removals = client_for(stayer).get(REMOVALS).json()["results"]
        assert {(r["type"], r["id"]) for r in removals} == {
            ("checkin", str(tomorrow.pk)),
            ("commitment", str(next_month.pk)),
        }
        checkins = client_for(stayer).get("/api/v1/checkins/").json()["results"]
        assert [c["id"] for c in checkins] == [str(kept_today.pk)]
        commitments = client_for(stayer).get("/api/v1/commitments/").json()["results"]
        assert [c["id"] for c in commitments] == [str(own.pk)]
        # The therapist reads the couple's whole history: nothing is removed for them.
        assert client_for(therapist).get(REMOVALS).json()["results"] == []
